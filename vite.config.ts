import { defineConfig, type Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { contentSecurityPolicy } from './src/csp.ts';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

// The policy goes out as a header (a <meta> CSP does not reach workers) and as a <meta>, so that a
// copy of dist/ served by any static server still keeps every request on its own origin.
const headers = { 'Content-Security-Policy': contentSecurityPolicy };

function cspMeta(): Plugin {
  return {
    name: 'winnow-csp-meta',
    transformIndexHtml: () => [
      { tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: contentSecurityPolicy }, injectTo: 'head-prepend' },
    ],
  };
}

/** Every file under dir, as '/'-separated paths relative to it, sorted. */
function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) =>
      entry.isDirectory() ? filesUnder(path.join(dir, entry.name), `${prefix}${entry.name}/`) : entry.isFile() ? [`${prefix}${entry.name}`] : [],
    )
    .sort();
}

const SW_FILE = 'sw.js';
const PRECACHE_TOKEN = '__WINNOW_PRECACHE__';

/**
 * Builds src/sw.ts to /sw.js and, once the whole build is on disk (public/ copied, wasm emitted),
 * writes into it the list of files to precache and a version that changes with any byte of them.
 * Source maps stay out: only developers open them, and they would double what a visit downloads.
 */
function serviceWorker(): Plugin {
  let outDir = '';
  return {
    name: 'winnow-service-worker',
    apply: 'build',
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
    },
    buildStart() {
      this.emitFile({ type: 'chunk', id: fileURLToPath(new URL('./src/sw.ts', import.meta.url)), fileName: SW_FILE });
    },
    closeBundle: {
      order: 'post',
      handler() {
        const swPath = path.join(outDir, SW_FILE);
        const code = readFileSync(swPath, 'utf8');
        if (!code.includes(PRECACHE_TOKEN)) throw new Error(`${SW_FILE}: no ${PRECACHE_TOKEN} to fill in`);
        const files = filesUnder(outDir).filter((file) => file !== SW_FILE && !file.endsWith('.map'));
        const version = createHash('sha256');
        for (const file of files) version.update(`${file}\0`).update(readFileSync(path.join(outDir, file))).update('\0');
        // The page itself is cached under the scope URL, which is what a visit navigates to.
        const urls = files.map((file) => (file === 'index.html' ? '' : file.split('/').map(encodeURIComponent).join('/')));
        const precache = JSON.stringify({ version: version.digest('hex').slice(0, 16), files: urls });
        writeFileSync(swPath, code.split(PRECACHE_TOKEN).join(precache));
      },
    },
  };
}

export default defineConfig({
  plugins: [svelte(), cspMeta(), serviceWorker()],
  define: { __APP_VERSION__: JSON.stringify(version) },
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: true },
  server: { headers },
  preview: { headers },
});
