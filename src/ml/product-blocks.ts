/**
 * The blocked matrix products behind cosineDistancesTf, and their sharing between this thread
 * and helper workers. On wasm the products run on one core at XNNPACK's SIMD peak, so at
 * n = 10,000, d = 1280 they are half of the clustering's time; a second worker on a second core
 * halves that part. The helpers compute exactly what this thread would (same kernels, same block
 * shapes, same unit rows), so the matrix does not depend on who computed which block.
 */
import * as tf from '@tensorflow/tfjs';
import { ClusterCancelledError } from '../core/cluster/progress.ts';

/**
 * Similarities of the unit rows s..e−1 with the rows s..n−1 of U (n × d, row-major), as a
 * (e − s) × (n − s) row-major array: element (i − s)(n − s) + (j − s) is row i · row j.
 * - The block is the right operand: the wasm backend packs that one for XNNPACK's kernels, and it
 *   stays in cache while the long left operand streams past (measured ~2× faster than block ×
 *   later rowsᵀ; transposeB = true is slower still, a plain loop there).
 * - Both operands are uploaded from U rather than sliced from one tensor: the wasm backend's
 *   slice copies its whole input out of the heap first (~30 ms per call at n = 10,000).
 * - The product comes back transposed, so the block's pairs are in condensed order: a row per i.
 * - Tensors are disposed by hand rather than by tf.tidy: in the helper worker the same ops inside
 *   a tidy took 1.2 s per 10,000 × 512 block against 0.43 s without (Chromium 156, wasm;
 *   measured, cause not pinned down), and the helper's share shrank to a quarter.
 * Leaves no tensor behind, also when the product fails.
 */
export async function productBlock(U: Float32Array, n: number, d: number, s: number, e: number): Promise<Float32Array> {
  const w = n - s;
  const made: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: T): T => (made.push(t), t);
  try {
    const later = keep(tf.tensor2d(U.subarray(s * d, n * d), [w, d]));
    const block = keep(tf.transpose(keep(tf.tensor2d(U.subarray(s * d, e * d), [e - s, d]))));
    const product = keep(tf.transpose(keep(tf.matMul(later, block))));
    return (await product.data()) as Float32Array;
  } finally {
    tf.dispose(made);
  }
}

/** Computes blocks elsewhere: another worker holding the same unit rows. */
export interface ProductHelper {
  /** productBlock(U, n, d, s, e) on the helper's copy of U. */
  block(s: number, e: number): Promise<Float32Array>;
  /** Called once the matrix is done, failed or cancelled: ends the helper, or leaves that to its owner. */
  close(): void;
}

/**
 * Starts helpers for one matrix, handing each the unit rows: one promise per helper ([] when none
 * should run), which fails if that helper cannot start. The products begin at once; each helper
 * joins when it is ready (its module, the wasm backend and the rows: 0.1–1.2 s after the products
 * began in the cluster-10k runs).
 */
export type ProductHelperStarter = (U: Float32Array, n: number, d: number) => Promise<ProductHelper>[];

/**
 * Computes every block (B rows each from row 0, the last cut at n) once, on this thread and on
 * the helpers as they become ready, and hands each result to `store` as it arrives (on this
 * thread, in arrival order). Each helper has two blocks asked of it at a time, so it never
 * waits for this thread, which is busy with blocks of its own. A helper that fails is dropped
 * and its block is done here instead: helpers can only make the matrix sooner, never wrong.
 * shouldStop is polled before each block this thread starts (ClusterCancelledError).
 */
export async function shareBlocks(
  U: Float32Array,
  n: number,
  d: number,
  B: number,
  helpers: readonly Promise<ProductHelper>[],
  store: (s: number, e: number, sims: Float32Array) => void,
  shouldStop?: () => boolean,
): Promise<{ byHelpers: number }> {
  // Largest first. Helpers take from the front, this thread from the back: its first blocks are
  // then small ones, so its event loop turns often while the helpers start (their replies wait
  // for a turn), and the two ends meet at mid-sized blocks, which keeps the finish even.
  const queue: number[] = [];
  for (let s = 0; s < n - 1; s += B) queue.push(s);
  let stopped = false;
  let byHelpers = 0;

  const helperLoop = async (helper: ProductHelper, alive: { ok: boolean }) => {
    while (alive.ok && !stopped && queue.length > 0) {
      const s = queue.shift()!;
      const e = Math.min(n, s + B);
      let sims: Float32Array;
      try {
        sims = await helper.block(s, e);
        if (sims.length !== (e - s) * (n - s)) throw new Error(`helper returned ${sims.length} values for block ${s}`);
      } catch {
        alive.ok = false;
        queue.unshift(s);
        return;
      }
      if (stopped) return;
      store(s, e, sims);
      byHelpers++;
    }
  };
  const loops = helpers.map((starting) =>
    starting.then(
      (helper) => {
        const alive = { ok: true };
        return Promise.all([helperLoop(helper, alive), helperLoop(helper, alive)]);
      },
      () => {}, // one that cannot start takes no part
    ),
  );

  try {
    // Blocks handed back by a failing helper land in the queue again: drain until none is left.
    for (;;) {
      while (queue.length > 0) {
        if (shouldStop?.()) throw new ClusterCancelledError();
        const s = queue.pop()!;
        const e = Math.min(n, s + B);
        store(s, e, await productBlock(U, n, d, s, e));
        // A macrotask turn, so that the helpers' answers (messages) are taken in and their
        // next blocks asked for; awaiting the product alone only runs microtasks.
        if (loops.length > 0) await new Promise((resolve) => setTimeout(resolve, 0));
      }
      await Promise.all(loops);
      if (queue.length === 0) break;
    }
  } finally {
    stopped = true;
  }
  return { byHelpers };
}
