/**
 * The helper workers (products.worker.ts) that share the cluster worker's matrix products when
 * its backend is wasm: one core each, so on a 2-core laptop the products take about half the
 * time. A GPU backend gets none (one GPU does not go faster with two callers).
 */
import { wrap } from 'comlink';
import type { ProductHelper, ProductHelperStarter } from '../../ml/product-blocks.ts';
import type { ProductsWorkerApi } from './products.worker.ts';

/**
 * Below this many multiply-adds (n²d/2, ~0.15 s of products on one core) a matrix is done alone:
 * a helper was ready 0.1–1.2 s after the products began at n = 10,000 (cluster-10k runs), so it
 * would join a smaller matrix after the work is over.
 */
export const HELPERS_FROM_WORK = 2e9;
/**
 * Each helper holds the rows twice (its JS copy and its wasm heap) plus a block's product: by
 * that arithmetic ~150 MB at 10,000 × 1280 (the tab's whole peak there was 1.3 GB with one).
 */
export const MAX_HELPERS = 3;

/** How many helpers a matrix of n × d rows gets on this machine (override: tests and benchmarks). */
export function helperCount(n: number, d: number, override?: number): number {
  if (typeof Worker === 'undefined') return 0;
  if (override !== undefined) return Math.max(0, Math.floor(override));
  if ((n * n * d) / 2 < HELPERS_FROM_WORK) return 0;
  const cores = globalThis.navigator?.hardwareConcurrency ?? 1;
  return Math.max(0, Math.min(MAX_HELPERS, cores - 1));
}

export interface ProductHelperPool {
  /** For cosineDistancesTf's `helpers`: the pool's workers, for matrices that merit them. */
  starter: ProductHelperStarter;
  /** Ends every worker of the pool. */
  close(): void;
}

/**
 * `count` helper workers, started now, for the matrices of one load. Each matrix worth it
 * (helperCount(n, d, override) > 0) gets the first that many of them. A worker that fails (an
 * error event, or the close) fails every call on it, and the products go on without it.
 */
export function productHelperPool(count: number, override?: number): ProductHelperPool {
  const workers = Array.from({ length: count }, () => {
    const worker = new Worker(new URL('./products.worker.ts', import.meta.url), { type: 'module' });
    const remote = wrap<ProductsWorkerApi>(worker);
    // comlink waits forever on a worker that died: every call races this instead.
    let fail: (reason: unknown) => void = () => {};
    const failed = new Promise<never>((_, reject) => (fail = reject));
    failed.catch(() => {});
    worker.addEventListener('error', (e) => fail(new Error(`products worker: ${e.message ?? 'failed'}`)));
    return { worker, remote, failed, fail };
  });
  return {
    starter: (U, n, d) =>
      workers.slice(0, helperCount(n, d, override)).map(async ({ remote, failed }): Promise<ProductHelper> => {
        // The rows are copied, not transferred: the cluster worker still needs them. A view into
        // a larger scratch array would be cloned with all of its buffer: send just the rows.
        const rows = U.byteOffset === 0 && U.byteLength === U.buffer.byteLength ? U : U.slice();
        await Promise.race([remote.rows(rows, n, d), failed]);
        // The pool outlives one matrix: the load's end closes it.
        return { block: (s, e) => Promise.race([remote.block(s, e), failed]), close: () => {} };
      }),
    close: () => {
      for (const w of workers) {
        w.worker.terminate();
        w.fail(new Error('products worker closed'));
      }
    },
  };
}
