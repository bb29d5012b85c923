import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (where package.json and vite.config.ts live). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Test data shared between projects: `../shared/data` beside the project root, never in the product. */
export const sharedData = path.resolve(repoRoot, '../shared/data');

/**
 * The built app the e2e tests serve: `dist/`, or `$WINNOW_E2E_DIST` (absolute or relative to the root)
 * to point the harness at another build.
 */
export const distDir = path.resolve(repoRoot, process.env.WINNOW_E2E_DIST || 'dist');
