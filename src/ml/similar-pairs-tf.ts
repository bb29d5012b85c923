/**
 * The embedding pairs of core/similar-pairs.ts — every pair a < b whose cosine similarity reaches
 * a bar — found with blocked float32 matrix products on the active tfjs backend instead of the
 * O(n²d) JS loops, and returned with exactly the similarities those loops return.
 *
 * The products see the same float32 unit rows as the JS path (unitRowsF32), so a float32 product
 * is within float32ErrorBound(d) of the JS path's float64 sum (distances.ts). Every product at or
 * above `bar − that bound` is therefore a candidate that contains all true hits; each candidate is
 * recomputed on the spot as the JS path computes it (float64 sum in coordinate order, clipped to
 * [−1, 1]) and kept when that reaches the bar. Near-duplicate bars (≥ 0.8) leave few candidates,
 * so the refinement costs O(hits·d) next to the n²d/2 of the products.
 *
 * Tiles follow threshold-edges.ts: `blockRows` rows × `chunkRows` later rows, both uploaded per
 * product, so no tensor larger than a tile lives on the backend.
 */
import type { ProgressOptions } from '../core/cluster/progress.ts';
import { similarPairs, unitRowsF32 } from '../core/similar-pairs.ts';
import { float32ErrorBound } from './distances.ts';
import { forEachUpperTile } from './upper-tiles.ts';

/** Pairs as parallel arrays (cheap to transfer between workers), sorted by a, then b. */
export interface SimilarPairArrays {
  a: Int32Array;
  b: Int32Array;
  similarity: Float64Array;
}

export interface SimilarPairsTfOptions extends ProgressOptions {
  /** As core's similarPairs: throws RangeError once more pairs than this reach the bar. */
  maxPairs?: number;
  /** Rows of the block operand (default 512). */
  blockRows?: number;
  /** Later rows per product (default 4,096: a 21 MB operand at d = 1280). */
  chunkRows?: number;
}

/** Core's SimilarPair objects as parallel arrays (the JS path's answer in the same shape). */
export function pairArrays(pairs: readonly { a: number; b: number; similarity: number }[]): SimilarPairArrays {
  const out: SimilarPairArrays = { a: new Int32Array(pairs.length), b: new Int32Array(pairs.length), similarity: new Float64Array(pairs.length) };
  pairs.forEach((p, k) => {
    out.a[k] = p.a;
    out.b[k] = p.b;
    out.similarity[k] = p.similarity;
  });
  return out;
}

/** Growable parallel arrays; rows arrive grouped by block of a, in b-major order within a block. */
class Hits {
  a = new Int32Array(1024);
  b = new Int32Array(1024);
  s = new Float64Array(1024);
  count = 0;
  push(a: number, b: number, s: number): void {
    if (this.count === this.a.length) {
      const grow = <T extends Int32Array | Float64Array>(x: T): T => {
        const y = new (x.constructor as new (n: number) => T)(2 * x.length);
        y.set(x);
        return y;
      };
      this.a = grow(this.a);
      this.b = grow(this.b);
      this.s = grow(this.s);
    }
    this.a[this.count] = a;
    this.b[this.count] = b;
    this.s[this.count++] = s;
  }
}

/**
 * Pairs a < b of rows of X (n × d) with cosine similarity ≥ minSimilarity: the same pairs, in the
 * same order, with bit-identical similarities as core's similarPairs(X, n, d, minSimilarity).
 * Runs on whatever backend is active and leaves no tensor behind, also when cancelled, when a
 * product fails or when maxPairs is passed. Assumes IEEE float32 products (wasm, cpu, webgpu,
 * float32 webgl).
 */
export async function similarPairsTf(
  X: ArrayLike<number>,
  n: number,
  d: number,
  minSimilarity: number,
  options: SimilarPairsTfOptions = {},
): Promise<SimilarPairArrays> {
  if (Number.isNaN(minSimilarity)) throw new RangeError('similarPairs: minSimilarity is NaN');
  const { shouldStop, onProgress } = options;
  // With no coordinates every similarity is 0 and there is nothing to multiply.
  if (d === 0) return pairArrays(similarPairs(X, n, d, minSimilarity, options));
  const maxPairs = options.maxPairs ?? Infinity;
  const U = unitRowsF32(X, n, d);
  // A float32 product below this cannot be a float64 sum at or above the bar.
  const candidateBar = minSimilarity - float32ErrorBound(d);
  const hits = new Hits();
  const total = (n * (n - 1)) / 2;
  let done = 0;
  await forEachUpperTile(U, n, d, { blockRows: options.blockRows, chunkRows: options.chunkRows, shouldStop }, ({ sims, s, e, c, ce, rows }) => {
    for (let j = c; j < ce; j++) {
      const o = (j - c) * rows - s;
      const iEnd = Math.min(e, j);
      if (iEnd > s) done += iEnd - s;
      for (let i = s; i < iEnd; i++) {
        if (!(sims[o + i] >= candidateBar)) continue;
        const sim = exactSimilarity(U, d, i, j);
        if (sim < minSimilarity) continue;
        if (hits.count >= maxPairs) throw new RangeError(`similarPairs: more than ${maxPairs} pairs at similarity ≥ ${minSimilarity}`);
        hits.push(i, j, sim);
      }
    }
    onProgress?.(done, total);
  });
  onProgress?.(total, total);
  return sortedByA(hits, n);
}

/** The JS path's similarity of rows i and j: float64 sum in coordinate order, clipped (similar-pairs.ts). */
function exactSimilarity(U: Float32Array, d: number, i: number, j: number): number {
  let sum = 0;
  for (let q = 0, a = i * d, b = j * d; q < d; q++) sum += U[a + q] * U[b + q];
  return sum > 1 ? 1 : sum < -1 ? -1 : sum;
}

/**
 * Sorted by a, then b. A row's pairs all come from its own block, with b ascending (chunks and
 * rows within a chunk go up), so a stable counting sort on a is enough.
 */
function sortedByA(hits: Hits, n: number): SimilarPairArrays {
  const m = hits.count;
  const start = new Int32Array(n + 1);
  for (let p = 0; p < m; p++) start[hits.a[p] + 1]++;
  for (let i = 0; i < n; i++) start[i + 1] += start[i];
  const out: SimilarPairArrays = { a: new Int32Array(m), b: new Int32Array(m), similarity: new Float64Array(m) };
  for (let p = 0; p < m; p++) {
    const at = start[hits.a[p]]++;
    out.a[at] = hits.a[p];
    out.b[at] = hits.b[p];
    out.similarity[at] = hits.s[p];
  }
  return out;
}
