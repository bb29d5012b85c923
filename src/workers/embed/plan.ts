/**
 * How an embedding run is shared out: pure bookkeeping, no workers, so it is tested in Node.
 *
 * On wasm (and cpu) a model call uses one core, and embedding runs after hashing, when every core
 * is free: one worker per core embeds about that many times faster (MobileNetV2 at 224 px is
 * ~48 ms of CPU per image). A GPU backend is one device; more workers would only queue on it.
 */
export const MAX_EMBED_WORKERS = 4;

/**
 * Below this many images per worker (~2.5 s of work at ~50 ms each), starting one more is not
 * worth it: a worker's start, the wasm backend and the model (0.2–0.3 s of loading here) and a
 * wasm memory that stays until the call ends.
 */
export const MIN_IMAGES_PER_WORKER = 48;

/** Images per call to one worker: small enough that workers finish close together. */
export const CHUNK = 32;

/**
 * Each wasm worker holds its own model and a wasm memory that never shrinks: ~150 MB more for the
 * renderer per worker at 224 px, model batch 4 (bench/semantic-run: 426 → 572 MB peak with a
 * second). One worker per 2 GB of `navigator.deviceMemory` (which Chromium reports as 0.25–8)
 * keeps a small laptop on one or two.
 */
export const GIB_PER_WORKER = 2;

export function embedWorkerCount(backend: string, toEmbed: number, cores: number, memoryGiB?: number): number {
  if (backend !== 'wasm' && backend !== 'cpu') return 1;
  const byWork = Math.floor(toEmbed / MIN_IMAGES_PER_WORKER);
  const byMemory = memoryGiB && memoryGiB > 0 ? Math.floor(memoryGiB / GIB_PER_WORKER) : Infinity;
  return Math.max(1, Math.min(MAX_EMBED_WORKERS, Math.floor(cores) || 1, byWork, byMemory));
}

/**
 * The distinct contents of a file list, first file of each standing for its copies: `rows` of a
 * content are every file index that carries it.
 */
export interface DistinctContents<F> {
  order: string[];
  rows: Map<string, number[]>;
  first: Map<string, F>;
}

export function distinctContents<F>(files: readonly { sha256: string; file: F }[]): DistinctContents<F> {
  const order: string[] = [];
  const rows = new Map<string, number[]>();
  const first = new Map<string, F>();
  files.forEach(({ sha256, file }, i) => {
    const list = rows.get(sha256);
    if (list) {
      list.push(i);
      return;
    }
    rows.set(sha256, [i]);
    first.set(sha256, file);
    order.push(sha256);
  });
  return { order, rows, first };
}

/** Consecutive slices of `size` (the last may be shorter). */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  if (!(size >= 1)) throw new RangeError(`chunk size ${size}`);
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}
