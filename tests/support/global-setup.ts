/**
 * vitest globalSetup for the `e2e` project: serves the BUILT app with Vite's own preview server, so the
 * response headers configured in vite.config.ts (the Content-Security-Policy above all) are the ones the
 * tests see, then hands the URL to the tests as `inject('baseURL')`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { build, preview, type PreviewServer } from 'vite';
import type { TestProject } from 'vitest/node';
import { distDir, repoRoot } from './paths.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Origin-rooted URL of the served app, with a trailing slash: `http://127.0.0.1:PORT/`. */
    baseURL: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const configFile = path.join(repoRoot, 'vite.config.ts');

  // `npm run test:browser` builds first; this covers `vitest run --project e2e` on a fresh checkout.
  if (!existsSync(path.join(distDir, 'index.html'))) {
    console.log(`[e2e] ${path.join(distDir, 'index.html')} is missing; running vite build`);
    await build({ root: repoRoot, configFile, logLevel: 'warn', build: { outDir: distDir, emptyOutDir: true } });
  }

  const server: PreviewServer = await preview({
    root: repoRoot,
    configFile,
    logLevel: 'warn',
    build: { outDir: distDir },
    // port 0: the OS picks a free port, so parallel runs and a developer's own preview never clash.
    preview: { host: '127.0.0.1', port: 0, strictPort: true, open: false },
  });

  const address = server.httpServer.address() as AddressInfo | null;
  if (!address || typeof address === 'string') throw new Error('[e2e] preview server has no TCP address');
  const baseURL = `http://127.0.0.1:${address.port}/`;
  console.log(`[e2e] serving ${distDir} at ${baseURL}`);
  project.provide('baseURL', baseURL);

  return async () => {
    await server.close();
  };
}
