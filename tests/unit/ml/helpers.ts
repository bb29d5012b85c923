/** Node-side plumbing for the ML tests: generated model files, a fetch shim, JPEG decoding. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import jpeg from 'jpeg-js';
import type { FetchLike } from '../../../src/ml/registry.ts';
import { resizeRgba, type Pixels } from '../../../src/ml/pixels.ts';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const PUBLIC_MODELS = join(ROOT, 'public', 'models');
export const IMAGES = join(ROOT, '..', 'shared', 'data', 'neardup', 'images');
/** The package's own wasm binaries; in the app Vite serves these same files from our origin. */
export const WASM_DIR = join(ROOT, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist') + '/';

/** Runs the (idempotent) model build so the tests work on a fresh checkout too. */
export function buildModels(out?: string): string {
  const args = [join(ROOT, 'scripts', 'models', 'build-models.mjs'), ...(out ? ['--out', out] : [])];
  return execFileSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
}

/**
 * A stand-in for the page's fetch: `/models/<path>` is read from `dir/<path>`, the way Vite
 * serves public/models/. Anything else is a 404. Records every URL asked for.
 */
export function fileFetch(dir: string = PUBLIC_MODELS, prefix = '/models/'): FetchLike & { urls: string[] } {
  const urls: string[] = [];
  const fn = async (url: string) => {
    urls.push(url);
    if (!url.startsWith(prefix)) return { ok: false, status: 404, arrayBuffer: async () => new ArrayBuffer(0) };
    try {
      const buf = await readFile(join(dir, url.slice(prefix.length)));
      const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
      return { ok: true, status: 200, arrayBuffer: async () => ab };
    } catch {
      return { ok: false, status: 404, arrayBuffer: async () => new ArrayBuffer(0) };
    }
  };
  return Object.assign(fn, { urls });
}

/** Decodes one of the shared near-duplicate JPEGs to RGBA. */
export function decodeImage(name: string): Pixels {
  const img = jpeg.decode(readFileSync(join(IMAGES, name)), { useTArray: true, formatAsRGBA: true });
  return { data: img.data, width: img.width, height: img.height };
}

/** Decodes and resizes to the model's input, as the worker's createImageBitmap resize would. */
export function loadForModel(name: string, size: number): Pixels {
  return resizeRgba(decodeImage(name), size);
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

/** Row i of an n×dim matrix. */
export const row = (m: Float32Array, i: number, dim: number) => m.subarray(i * dim, (i + 1) * dim);
