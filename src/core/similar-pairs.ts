/**
 * All pairs of embeddings whose cosine similarity reaches a bar: the embedding side of
 * near-duplicate detection (the hash side is pairs.ts). Unlike the clustering, nothing is kept
 * per pair but the hits, so memory is O(n·d + hits) and n is limited only by time (n²d/2).
 *
 * Rows are L2-normalised once into float32 (half the bytes of float64 to stream through the
 * cache; the rounding, ~6e-8 relative, is far below any useful bar) and every dot product is
 * summed in float64, in coordinate order, so the blocked loops below return exactly what the
 * naive double loop over the same normalised rows returns.
 */
import { ClusterCancelledError, POLL_WORK, type ProgressOptions } from './cluster/progress.ts';

export interface SimilarPair {
  /** Row indices, a < b. */
  a: number;
  b: number;
  /** cos(a, b) of the normalised rows, clipped to [−1, 1]. */
  similarity: number;
}

export interface SimilarPairsOptions extends ProgressOptions {
  /**
   * Throws RangeError once more pairs than this are found: a bar set too low on 20k images could
   * otherwise fill the tab's memory with hundreds of millions of pairs. Default unlimited.
   */
  maxPairs?: number;
}

/**
 * Rows scaled to unit length in float32 (norm taken in float64; zero rows stay zero). Throws on
 * non-finite values, which would make every comparison false.
 */
export function unitRowsF32(X: ArrayLike<number>, n: number, d: number): Float32Array {
  if (X.length !== n * d) throw new RangeError(`unitRowsF32: ${X.length} values, expected ${n}×${d}`);
  const U = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    let ss = 0;
    for (let q = 0; q < d; q++) ss += X[o + q] * X[o + q];
    if (!Number.isFinite(ss)) throw new RangeError(`unitRowsF32: row ${i} has a non-finite value`);
    if (ss === 0) continue;
    const norm = Math.sqrt(ss);
    for (let q = 0; q < d; q++) U[o + q] = X[o + q] / norm;
  }
  return U;
}

// Blocking: a tile of IB rows × JB columns keeps its running sums in S (IB·JB·8 = 128 KiB) across
// KB-wide coordinate slices (the two slices, 2·128·256·4 = 256 KiB, stay in L2), and a 4 × 2
// register tile feeds 8 multiply-adds from 6 loads, as in cluster/cosine.ts. Diagonal tiles are
// computed whole and the pairs below the diagonal ignored; that wastes under 1/(n/IB) of the work.
const IB = 128;
const JB = 128;
const KB = 256;

/** Pairs a < b of rows of X (n × d) with cosine similarity ≥ minSimilarity, sorted by a, then b. */
export function similarPairs(
  vectors: ArrayLike<number>,
  n: number,
  d: number,
  minSimilarity: number,
  options: SimilarPairsOptions = {},
): SimilarPair[] {
  if (Number.isNaN(minSimilarity)) throw new RangeError('similarPairs: minSimilarity is NaN');
  const U = unitRowsF32(vectors, n, d);
  const { shouldStop, onProgress } = options;
  const maxPairs = options.maxPairs ?? Infinity;
  const total = (n * (n - 1)) / 2;
  const out: SimilarPair[] = [];
  const S = new Float64Array(IB * JB);
  let done = 0;
  let work = 0;

  for (let i0 = 0; i0 < n; i0 += IB) {
    const i1 = Math.min(n, i0 + IB);
    for (let j0 = i0; j0 < n; j0 += JB) {
      const j1 = Math.min(n, j0 + JB);
      const rows = i1 - i0;
      const cols = j1 - j0;
      S.fill(0, 0, IB * cols);
      for (let k0 = 0; k0 < d; k0 += KB) {
        accumulateBlock(U, S, d, i0, rows, j0, cols, k0, Math.min(d, k0 + KB));
      }
      for (let r = 0; r < rows; r++) {
        const i = i0 + r;
        const row = r * cols;
        for (let c = Math.max(0, i + 1 - j0); c < cols; c++) {
          const raw = S[row + c];
          const s = raw > 1 ? 1 : raw < -1 ? -1 : raw;
          if (s >= minSimilarity) {
            if (out.length >= maxPairs) throw new RangeError(`similarPairs: more than ${maxPairs} pairs at similarity ≥ ${minSimilarity}`);
            out.push({ a: i, b: j0 + c, similarity: s });
          }
        }
      }
      done += i0 === j0 ? (rows * (rows - 1)) / 2 : rows * cols;
      work += rows * cols * Math.max(1, d);
      if (work >= POLL_WORK) {
        work = 0;
        if (shouldStop?.()) throw new ClusterCancelledError();
        onProgress?.(done, total);
      }
    }
  }
  onProgress?.(total, total);
  // Within a row block, each column block emits its rows in turn, so a row's pairs are spread over
  // several runs; hits are few next to the n²/2 dot products, so one sort is cheap.
  return out.sort((p, q) => p.a - q.a || p.b - q.b);
}

/**
 * Adds coordinates k0..k1 of every (row, column) dot product of the tile to S (row-major,
 * `cols` wide). Separate and branch-free so V8 optimises it once (see cluster/cosine.ts).
 */
function accumulateBlock(
  U: Float32Array,
  S: Float64Array,
  d: number,
  i0: number,
  rows: number,
  j0: number,
  cols: number,
  k0: number,
  k1: number,
): void {
  const rows4 = rows - (rows & 3);
  const cols2 = cols - (cols & 1);
  let r = 0;
  for (; r < rows4; r += 4) {
    const a0 = (i0 + r) * d;
    const a1 = a0 + d;
    const a2 = a1 + d;
    const a3 = a2 + d;
    const s0 = r * cols;
    const s1 = s0 + cols;
    const s2 = s1 + cols;
    const s3 = s2 + cols;
    let c = 0;
    for (; c < cols2; c += 2) tile(U, S, a0, a1, a2, a3, (j0 + c) * d, d, s0 + c, s1 + c, s2 + c, s3 + c, k0, k1);
    if (c < cols) {
      const b = (j0 + c) * d;
      S[s0 + c] = dot(U, a0, b, k0, k1, S[s0 + c]);
      S[s1 + c] = dot(U, a1, b, k0, k1, S[s1 + c]);
      S[s2 + c] = dot(U, a2, b, k0, k1, S[s2 + c]);
      S[s3 + c] = dot(U, a3, b, k0, k1, S[s3 + c]);
    }
  }
  for (; r < rows; r++) {
    const a = (i0 + r) * d;
    const s = r * cols;
    for (let c = 0; c < cols; c++) S[s + c] = dot(U, a, (j0 + c) * d, k0, k1, S[s + c]);
  }
}

/** 4 rows × 2 adjacent columns (at b0 and b0 + d), running sums at S[s* + 0..1]. */
function tile(
  U: Float32Array,
  S: Float64Array,
  a0: number,
  a1: number,
  a2: number,
  a3: number,
  b0: number,
  d: number,
  s0: number,
  s1: number,
  s2: number,
  s3: number,
  k0: number,
  k1: number,
): void {
  const b1 = b0 + d;
  let x00 = S[s0], x01 = S[s0 + 1];
  let x10 = S[s1], x11 = S[s1 + 1];
  let x20 = S[s2], x21 = S[s2 + 1];
  let x30 = S[s3], x31 = S[s3 + 1];
  for (let k = k0; k < k1; k++) {
    const v = U[b0 + k], w = U[b1 + k];
    const y0 = U[a0 + k], y1 = U[a1 + k], y2 = U[a2 + k], y3 = U[a3 + k];
    x00 += y0 * v; x10 += y1 * v; x20 += y2 * v; x30 += y3 * v;
    x01 += y0 * w; x11 += y1 * w; x21 += y2 * w; x31 += y3 * w;
  }
  S[s0] = x00; S[s0 + 1] = x01;
  S[s1] = x10; S[s1 + 1] = x11;
  S[s2] = x20; S[s2 + 1] = x21;
  S[s3] = x30; S[s3 + 1] = x31;
}

function dot(U: Float32Array, a: number, b: number, k0: number, k1: number, s: number): number {
  for (let k = k0; k < k1; k++) s += U[a + k] * U[b + k];
  return s;
}
