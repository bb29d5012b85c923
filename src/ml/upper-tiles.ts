/**
 * The upper triangle of U·Uᵀ for n unit rows, one tile at a time: `blockRows` rows against
 * `chunkRows` later rows, each tile a tfjs product read back and disposed before the next, so no
 * tensor larger than a tile ever exists (n² floats would not fit for the sizes this serves).
 * Used by the threshold-edge search (clustering) and the similar-pair search (near mode).
 */
import * as tf from '@tensorflow/tfjs';
import { ClusterCancelledError } from '../core/cluster/progress.ts';

export interface Tile {
  /** sims[(j − c)·rows + (i − s)] = row i · row j, for i in [s, e), j in [c, ce). */
  sims: Float32Array;
  s: number;
  e: number;
  c: number;
  ce: number;
  rows: number;
}

export interface TileOptions {
  blockRows?: number;
  chunkRows?: number;
  /** Polled before each tile; true throws ClusterCancelledError. */
  shouldStop?: () => boolean;
}

/** Calls `visit` for every tile holding a pair i < j; `afterBlock` once per block of rows [s, e). */
export async function forEachUpperTile(U: Float32Array, n: number, d: number, options: TileOptions, visit: (tile: Tile) => void, afterBlock?: (s: number, e: number) => void): Promise<void> {
  const B = Math.max(1, Math.floor(options.blockRows ?? 512));
  const C = Math.max(1, Math.floor(options.chunkRows ?? 4096));
  for (let s = 0; s < n - 1; s += B) {
    const e = Math.min(n, s + B);
    const rows = e - s;
    const blockT = tf.tidy(() => tf.transpose(tf.tensor2d(U.subarray(s * d, e * d), [rows, d])));
    try {
      // Later rows from s on, the block's own rows included (pairs with j ≤ i are the visitor's to skip).
      for (let c = s; c < n; c += C) {
        if (options.shouldStop?.()) throw new ClusterCancelledError();
        const ce = Math.min(n, c + C);
        const product = tf.tidy(() => tf.matMul(tf.tensor2d(U.subarray(c * d, ce * d), [ce - c, d]), blockT));
        let sims: Float32Array;
        try {
          sims = (await product.data()) as Float32Array;
        } finally {
          product.dispose();
        }
        visit({ sims, s, e, c, ce, rows });
      }
    } finally {
      blockT.dispose();
    }
    afterBlock?.(s, e);
  }
}
