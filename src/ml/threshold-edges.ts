/**
 * The pairs of rows closer than a threshold, found with blocked float32 matrix products on the
 * active tfjs backend and then recomputed in float64 exactly as core/cluster/cosine.ts computes
 * distances, in O(edges + n·d) memory: the input of core/cluster/components.ts for classes whose
 * full distance matrix does not fit (n = 50,000: 10 GB in float64).
 *
 * The threshold is found on the way: pairs are kept while their float32 distance is below the
 * current bound, and when more than 2·maxEdges are held the bound drops to the (maxEdges + 1)-th
 * smallest, so memory stays bounded whatever the data and the bound ends where about maxEdges
 * pairs are below it. The float32 distances are off by at most float32ErrorBound(d) (see
 * distances.ts), so every pair whose exact distance is below bound − that is among those held;
 * they alone are refined, and the list promises exactly them (EdgeList.below).
 *
 * Products are tiles of `blockRows` rows × `chunkRows` later rows, both uploaded per tile: no
 * tensor larger than a tile lives on the backend (the wasm backend copies a whole input out of its
 * heap to slice it, and a 50,000 × 1280 operand is 256 MB).
 */
import { rowNormsOf, type EdgeList } from '../core/cluster/components.ts';
import { ClusterCancelledError, type ProgressOptions } from '../core/cluster/progress.ts';
import { float32ErrorBound } from './distances.ts';
import { forEachUpperTile } from './upper-tiles.ts';

export interface ThresholdEdgeOptions extends ProgressOptions {
  /** At most this many pairs are returned (default 32·n); up to 2× it are held while scanning. */
  maxEdges?: number;
  /** Only pairs closer than this (float64 distance) are wanted (default 1: orthogonal). */
  below?: number;
  /** Rows of the block operand (default 512, as distances.ts). */
  blockRows?: number;
  /** Later rows per product (default 4,096: a 21 MB operand at d = 1280). */
  chunkRows?: number;
}

export interface ThresholdEdges extends EdgeList {
  /** Pairs that passed the float32 filter and were recomputed in float64. */
  refined: number;
  /** Times the bound was lowered while scanning. */
  compactions: number;
}

/** Growable pair buffer with the current float32-side bound. */
class PairBuffer {
  i: Int32Array;
  j: Int32Array;
  d: Float64Array;
  count = 0;
  compactions = 0;
  constructor(
    readonly keep: number,
    public bound: number,
  ) {
    const capacity = 2 * keep + 1;
    this.i = new Int32Array(capacity);
    this.j = new Int32Array(capacity);
    this.d = new Float64Array(capacity);
  }
  push(i: number, j: number, v: number): void {
    if (this.count === this.i.length) this.compact();
    if (!(v < this.bound)) return; // the bound may just have dropped below v
    this.i[this.count] = i;
    this.j[this.count] = j;
    this.d[this.count++] = v;
  }
  /** Lowers the bound to the (keep + 1)-th smallest distance held and drops the pairs at or above it. */
  compact(): void {
    const sorted = this.d.slice(0, this.count).sort();
    // More than maxEdges pairs at the very smallest distance (a huge group of identical rows):
    // no bound keeps them within the budget, and dropping them all would leave nothing to cluster.
    if (sorted[this.keep] === sorted[0]) {
      throw new RangeError(`thresholdEdgesTf: more than ${this.keep} pairs at distance ${sorted[0]}; raise maxEdges`);
    }
    this.bound = sorted[this.keep];
    let w = 0;
    for (let r = 0; r < this.count; r++) {
      if (this.d[r] < this.bound) {
        this.i[w] = this.i[r];
        this.j[w] = this.j[r];
        this.d[w++] = this.d[r];
      }
    }
    this.count = w;
    this.compactions++;
  }
}

/**
 * Every pair (i < j) of rows of X (n × d, row-major) whose cosine distance, computed as cosine.ts
 * does, is below the returned `below` (≤ options.below), with that distance. Runs on whatever
 * backend is active and leaves no tensor behind, also when cancelled or when a product fails.
 * The bound assumes IEEE float32 products (wasm, cpu, webgpu, float32 webgl).
 */
export async function thresholdEdgesTf(
  X: Float32Array,
  n: number,
  d: number,
  options: ThresholdEdgeOptions = {},
): Promise<ThresholdEdges> {
  if (X.length !== n * d) throw new RangeError(`thresholdEdgesTf: ${X.length} values, expected ${n}×${d}`);
  const { shouldStop, onProgress } = options;
  const maxEdges = Math.max(1, Math.floor(options.maxEdges ?? 32 * n));
  const wanted = options.below ?? 1;
  const slack = float32ErrorBound(d);
  const norms = rowNormsOf(X, n, d);
  const buffer = new PairBuffer(maxEdges, wanted + slack);

  if (d > 0 && n > 1) {
    // Unit rows in float32 for the products (normalised in float64 first, as distances.ts does).
    const U = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      const norm = norms[i];
      if (norm === 0) continue;
      for (let q = i * d, e = q + d; q < e; q++) U[q] = X[q] / norm;
    }
    const total = (n * (n - 1)) / 2;
    let done = 0;
    await forEachUpperTile(
      U,
      n,
      d,
      { blockRows: options.blockRows, chunkRows: options.chunkRows, shouldStop },
      ({ sims, s, e, c, ce, rows }) => {
        // sims[(j − c)·rows + (i − s)] is the similarity of i and j.
        for (let j = c; j < ce; j++) {
          const o = (j - c) * rows - s;
          const iEnd = Math.min(e, j);
          for (let i = s; i < iEnd; i++) {
            const v = 1 - sims[o + i];
            if (v < buffer.bound) buffer.push(i, j, v < 0 ? 0 : v);
          }
        }
      },
      (s, e) => {
        const rows = e - s;
        done += rows * (n - s) - (rows * (rows + 1)) / 2;
        onProgress?.(done, total);
      },
    );
  }

  if (buffer.count > maxEdges) buffer.compact();
  // Exact pairs below this were all held (see the module comment).
  const below = Math.min(wanted, buffer.bound - slack);
  return refine(X, d, norms, buffer, below, shouldStop);
}

/**
 * Recomputes the held pairs as cosine.ts does — rows divided by their float64 norm, one sum over
 * k in order, 1 − sum clipped to [0, 2] — grouped by i so that each unit row i is built once, and
 * keeps those below `below`.
 */
function refine(
  X: Float32Array,
  d: number,
  norms: Float64Array,
  held: PairBuffer,
  below: number,
  shouldStop: (() => boolean) | undefined,
): ThresholdEdges {
  const n = norms.length;
  const m = held.count;
  const start = new Int32Array(n + 1);
  for (let p = 0; p < m; p++) start[held.i[p] + 1]++;
  for (let i = 0; i < n; i++) start[i + 1] += start[i];
  const byRow = new Int32Array(m);
  const fill = start.slice(0, n);
  for (let p = 0; p < m; p++) byRow[fill[held.i[p]]++] = p;

  const out: ThresholdEdges = { i: new Int32Array(m), j: new Int32Array(m), d: new Float64Array(m), count: 0, below, refined: m, compactions: held.compactions };
  const unit = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    if (start[i] === start[i + 1]) continue;
    if ((i & 255) === 0 && shouldStop?.()) throw new ClusterCancelledError();
    const ni = norms[i];
    if (ni === 0) unit.fill(0);
    else for (let q = 0; q < d; q++) unit[q] = X[i * d + q] / ni;
    for (let p = start[i]; p < start[i + 1]; p++) {
      const j = held.j[byRow[p]];
      const nj = norms[j];
      let s = 0;
      if (nj !== 0) for (let q = 0, o = j * d; q < d; q++) s += unit[q] * (X[o + q] / nj);
      const v = 1 - s;
      const dist = v < 0 ? 0 : v > 2 ? 2 : v;
      if (dist < below) {
        out.i[out.count] = i;
        out.j[out.count] = j;
        out.d[out.count++] = dist;
      }
    }
  }
  return out;
}
