/**
 * Driving the built app's workers from a page, for tests and benchmarks that feed them data no
 * screen of the app can (synthetic vectors): the worker script straight from dist/, spoken to in
 * comlink's wire format.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';

/**
 * Runs in the page (a string, so no bundler helper leaks into it): one comlink call on a worker,
 * raw values in and out; rejects with the worker's error message.
 */
export const WORKER_CALL = `(function call(worker, method, args, transfer) {
  return new Promise((resolve, reject) => {
    const id = Math.random().toString(36).slice(2);
    const onMessage = (ev) => {
      if (!ev.data || ev.data.id !== id) return;
      worker.removeEventListener('message', onMessage);
      if (ev.data.type === 'HANDLER' && ev.data.name === 'throw') reject(new Error(ev.data.value.value.message || String(ev.data.value.value)));
      else resolve(ev.data.value);
    };
    worker.addEventListener('message', onMessage);
    worker.addEventListener('error', (e) => reject(new Error('worker error: ' + e.message)));
    worker.postMessage({ id, type: 'APPLY', path: [method], argumentList: args.map((value) => ({ type: 'RAW', value })) }, transfer);
  });
})`;

/** The URL path of a built worker script (e.g. 'cluster' → /assets/cluster.worker-<hash>.js), or undefined. */
export function builtWorkerPath(distDir: string, name: string): string | undefined {
  const pattern = new RegExp(`^${name}\\.worker-.*\\.js$`);
  const file = readdirSync(path.join(distDir, 'assets')).find((f) => pattern.test(f));
  return file && `/assets/${file}`;
}
