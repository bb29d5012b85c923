import { defineConfig, type Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { readFileSync } from 'node:fs';
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

export default defineConfig({
  plugins: [svelte(), cspMeta()],
  define: { __APP_VERSION__: JSON.stringify(version) },
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: true },
  server: { headers },
  preview: { headers },
});
