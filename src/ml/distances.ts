/**
 * The condensed cosine-distance matrix (same layout and definition as core/cluster/cosine.ts) from
 * blocked float32 matrix products on the active tfjs backend: XNNPACK SIMD kernels on wasm, the GPU
 * on webgpu/webgl. It is the fast path of the clustering worker: on one core the wasm products run
 * at ~14 G multiply-adds/s against ~1.6 G for the float64 JS loops, and the O(n²d) distances are
 * what dominates at n = 10,000, d = 1280 (there: ~5.5 s instead of ~36 s).
 *
 * Precision. Rows are normalised in float64 (as cosine.ts does), rounded to float32, and the dot
 * products accumulate in float32: a distance is off by up to ~1.6e-6 at d = 1280 (measured; the
 * guaranteed bound, float32ErrorBound, is ~7.7e-5). That reorders merges whose heights are closer
 * than that, which is harmless for well-separated data and ruinous for near-duplicates, whose
 * distances are themselves ~1e-6–1e-4 (measured: groups of vectors 1% apart, every keep fraction
 * cut differently). Hence the refinement: the smallest distances, up to `refinePairs` of them, are
 * recomputed exactly as cosine.ts computes them (bit for bit). Every merge of the linkage below
 * `exactBelow` (see RefinedRange) is then the float64 path's own, and so is the partition for
 * every k from n − (merges below it) up. A dedup keeps most items, so its cuts are made of the
 * merges low in the tree: those are the ones this makes exact (keep ≥ 0.5 on every set tried).
 */
import { condensedRowStart, condensedSize, normalizeRows } from '../core/cluster/cosine.ts';
import { mergesAtOrBelow } from '../core/cluster/cut.ts';
import { Scratch } from '../core/cluster/scratch.ts';
import { ClusterCancelledError, type ProgressOptions } from '../core/cluster/progress.ts';
import { shareBlocks, type ProductHelperStarter } from './product-blocks.ts';
import { clusterClassesWith, type ClusterClassesOptions, type SemanticClassInput, type SemanticModel } from '../core/semantic.ts';

export interface TfDistanceOptions extends ProgressOptions {
  /**
   * Rows per matrix product (see defaultBlockRows). Each step holds a block × (n − start) product
   * twice on the backend and once here, and a cancel waits for the step in progress.
   */
  blockRows?: number;
  /**
   * At most this many of the smallest distances (about, above ~4,100 items, where the threshold
   * comes from a sample) are recomputed in float64 (default defaultRefinePairs(n); 0: none). Each
   * costs one d-long dot product in JS: ~1 µs at d = 1280, plus ~0.3 s per 50 M pairs of scanning.
   */
  refinePairs?: number;
  /** Told which distances are exact once the matrix is done. */
  onRefined?: (range: RefinedRange) => void;
  /**
   * Starts workers that take a share of the products (see product-blocks.ts); called once per
   * matrix that has more than one block, and the helpers it gives are closed when it is done.
   */
  helpers?: ProductHelperStarter;
  /** Told how the blocks were shared once the products are done. */
  onShared?: (shared: SharedBlocks) => void;
  /**
   * Where the unit rows and the matrix are made (core/cluster/scratch.ts): the result is then a
   * view that the next call with the same scratch overwrites. Default: fresh arrays.
   */
  scratch?: Scratch;
}

export interface SharedBlocks {
  /** Helper workers that were ready before the products were done. */
  helpers: number;
  blocks: number;
  /** Blocks the helpers computed; the rest were computed on the calling thread. */
  byHelpers: number;
  /** Wall time of the products, the helpers' start included. */
  ms: number;
  /** When the first helper was ready, from the products' start (null: none was). */
  firstHelperMs: number | null;
}

export interface RefinedRange {
  /** Distances below this were recomputed in float64 (it is above 2 when all of them were). */
  threshold: number;
  /** How many were. */
  pairs: number;
  /**
   * Every merge of the complete linkage with height ≤ this equals the float64 path's (threshold
   * − float32ErrorBound(d)): each pair truly closer than that was refined, and every pair that was
   * not is, in both matrices, farther than that, so the merges below it see the same numbers.
   * Ties among exact duplicates break the same way as well (identical rows give identical float32
   * products, so the chain reaches a group of duplicates through the same member); exactly equal
   * float64 distances between different vectors are not covered. −Infinity when nothing was
   * refined, Infinity when everything was.
   */
  exactBelow: number;
}

/**
 * 512 rows (or n if fewer). On wasm at n = 10,000, d = 1280 the time per matrix was flat from 256
 * to 1,536 rows (5.2–5.5 s of CPU, ~90% of it in the products): fewer rows mean more uploads of
 * the long left operand, more rows a larger packed block and more wasted diagonal work. GPU
 * backends would rather have fewer, larger products; 512 does not starve them at n in the
 * thousands.
 */
export function defaultBlockRows(n: number): number {
  return Math.max(1, Math.min(n, 512));
}

/**
 * 16 pairs per item: 0.37 s at n = 10,000, d = 1280 (measured; the products take 5.3 s). Complete
 * linkage cuts at keep ≥ 0.5 merge each item about once, through pairs among its nearest
 * neighbours, and 16 per item covered that on every set tried: MobileNetV2 embeddings of 2,800
 * CIFAR images exact from keep 0.49 (8 per item: 0.6), Gaussian blobs from 0.04–0.09, groups of
 * near-duplicates from 0.09, the 10,000-item benchmark from 0.04. Classes of up to 33 items are
 * refined completely.
 */
export function defaultRefinePairs(n: number): number {
  return 16 * n;
}

/**
 * A guaranteed bound, with a 1e-9 margin, on |float32-product distance − float64 distance| for
 * rows of length d: Higham's γ_d for a float32 dot product of vectors with ‖a‖‖b‖ ≤ 1, in any
 * summation order, plus the rounding of both rows to float32; the margin covers the float64
 * path's own rounding (~d·2⁻⁵³) and keeps the comparisons at exactBelow strict. It assumes IEEE
 * float32 arithmetic: true of wasm, cpu and webgpu, and of webgl only where it renders to float32.
 */
export function float32ErrorBound(d: number): number {
  const u = 2 ** -24;
  return (d * u) / (1 - d * u) + 2.01 * u + 1e-9;
}

/**
 * 1 − cos of every pair of rows of X (n × d, row-major), condensed, in a Float64Array so that
 * completeLinkage takes it as it is. Runs on whatever backend is active (chooseBackend picks it);
 * leaves no tensor behind, also when cancelled or when a product fails.
 */
export async function cosineDistancesTf(
  X: ArrayLike<number>,
  n: number,
  d: number,
  options: TfDistanceOptions = {},
): Promise<Float64Array> {
  if (X.length !== n * d) throw new RangeError(`cosineDistancesTf: ${X.length} values, expected ${n}×${d}`);
  const scratch = options.scratch ?? new Scratch();
  const D = scratch.float64('distances', condensedSize(n));
  const { shouldStop, onProgress, onRefined } = options;
  if (n < 2 || d === 0) {
    // Nothing to multiply: no pair, or zero vectors, which cosine.ts puts at distance 1.
    D.fill(1);
    onRefined?.({ threshold: Infinity, pairs: D.length, exactBelow: Infinity });
    return D;
  }
  const B = Math.max(1, Math.floor(options.blockRows ?? defaultBlockRows(n)));
  const total = condensedSize(n);

  // Normalising in float64 before the rounding to float32 keeps a row's norm within one float32
  // rounding of 1, so the diagonal blocks stay near 0 (the float32 norm of a float32 row would
  // not); the float64 rows are kept for the refinement.
  const U64 = normalizeRows(X, n, d, scratch.float64('unit rows', n * d));
  const U = scratch.float32('unit rows f32', n * d);
  U.set(U64);
  let done = 0;
  const store = (s: number, e: number, sims: Float32Array) => {
    const w = n - s;
    for (let i = s; i < e; i++) {
      const o = (i - s) * w - s; // sims[o + j] is the similarity of i and j
      const from = condensedRowStart(n, i) + i + 1;
      const to = from + (n - i - 1);
      D.set(sims.subarray(o + i + 1, o + n), from);
      // 1 − sim in float64, as cosine.ts finishes its dot products.
      for (let p = from; p < to; p++) {
        const v = 1 - D[p];
        D[p] = v < 0 ? 0 : v > 2 ? 2 : v;
      }
    }
    done += condensedSize(n - s) - condensedSize(n - e);
    onProgress?.(done, total);
  };
  // All rows from s on against the block's rows: the block's share of the upper triangle, plus
  // the lower half of its diagonal square (at most B/(2(n − s)) of the work, wasted).
  const started = performance.now();
  const helpers = options.helpers && n - 1 > B ? options.helpers(U, n, d) : [];
  let joined = 0;
  let firstHelperMs: number | null = null;
  for (const h of helpers) {
    h.then(
      () => {
        joined++;
        firstHelperMs ??= performance.now() - started;
      },
      () => {},
    );
  }
  try {
    const { byHelpers } = await shareBlocks(U, n, d, B, helpers, store, shouldStop);
    options.onShared?.({ helpers: joined, blocks: Math.ceil((n - 1) / B), byHelpers, ms: performance.now() - started, firstHelperMs });
  } finally {
    // Also those still starting: each ends as soon as it is up.
    for (const h of helpers) h.then((helper) => helper.close(), () => {});
  }

  const budget = Math.max(0, Math.floor(options.refinePairs ?? defaultRefinePairs(n)));
  const range = refineSmallest(D, U64, n, d, budget, shouldStop);
  onRefined?.(range);
  onProgress?.(total, total);
  return D;
}

// Bins of the histogram that picks the refinement threshold: 2^16 over [0, 2], 3e-5 wide, so the
// threshold lands within one bin of the budget's exact quantile with one pass over D.
const BINS = 1 << 16;
const BIN_SCALE = BINS / 2;

/**
 * Recomputes in float64 every distance below the largest bin edge that keeps their count within
 * `budget`, exactly as cosine.ts does (sequential sum over k of the float64 unit rows, 1 − sum
 * clipped to [0, 2]), so those entries are bit-identical to the exact path's.
 */
function refineSmallest(
  D: Float64Array,
  U: Float64Array,
  n: number,
  d: number,
  budget: number,
  shouldStop: (() => boolean) | undefined,
): RefinedRange {
  if (budget === 0) return { threshold: 0, pairs: 0, exactBelow: -Infinity };
  let threshold: number;
  if (budget >= D.length) {
    threshold = Infinity;
  } else {
    // A sample of every stride-th entry is plenty for a quantile (one in 8 at n = 10,000, a
    // third of the time of the refinement itself otherwise); its counts stand for stride each,
    // so the budget is met only approximately there. Small matrices are counted in full.
    const stride = D.length > 1 << 23 ? 8 : 1;
    const counts = new Float64Array(BINS);
    for (let p = 0; p < D.length; p += stride) counts[Math.min(BINS - 1, Math.floor(D[p] * BIN_SCALE))] += stride;
    let bin = 0;
    let cumulative = 0;
    while (bin < BINS && cumulative + counts[bin] <= budget) cumulative += counts[bin++];
    threshold = bin === BINS ? Infinity : bin / BIN_SCALE;
  }
  let pairs = 0;
  const hits = new Int32Array(n);
  const dots = new Float64Array(4);
  for (let i = 0; i < n - 1; i++) {
    if ((i & 63) === 0 && shouldStop?.()) throw new ClusterCancelledError();
    const r = condensedRowStart(n, i);
    let count = 0;
    for (let j = i + 1; j < n; j++) if (D[r + j] < threshold) hits[count++] = j;
    // Four pairs at a time: a single running sum waits on the previous addition at every step
    // (~3 µs per pair at d = 1280), four independent ones overlap. Each is still summed in k
    // order, so it stays bit-identical to cosine.ts.
    const a = i * d;
    let h = 0;
    for (; h + 4 <= count; h += 4) {
      dot4(U, d, a, hits[h] * d, hits[h + 1] * d, hits[h + 2] * d, hits[h + 3] * d, dots);
      for (let q = 0; q < 4; q++) D[r + hits[h + q]] = finish(dots[q]);
    }
    for (; h < count; h++) {
      const b = hits[h] * d;
      let sum = 0;
      for (let k = 0; k < d; k++) sum += U[a + k] * U[b + k];
      D[r + hits[h]] = finish(sum);
    }
    pairs += count;
  }
  return { threshold, pairs, exactBelow: threshold === Infinity ? Infinity : threshold - float32ErrorBound(d) };
}

export interface TfClustering {
  model: SemanticModel;
  /**
   * Per class label, the smallest k from which on every cut is certainly the float64 path's (see
   * RefinedRange.exactBelow): cuts to k' ≥ k clusters, and height cuts that leave at least k.
   * 1 for classes of one file and for classes refined completely.
   */
  exactFromK: Record<string, number>;
  /** Wall time of the distance matrices (products and refinement), all classes together. */
  distancesMs: number;
}

/**
 * clusterClasses with the distances of cosineDistancesTf (default block size and refinement),
 * on the active backend: the clustering worker's fast path, callable from Node as well.
 */
export async function clusterClassesTf(
  classes: readonly SemanticClassInput[],
  d: number,
  options: ClusterClassesOptions & Pick<TfDistanceOptions, 'blockRows' | 'refinePairs' | 'helpers' | 'onShared'> = {},
): Promise<TfClustering> {
  const { blockRows, refinePairs, helpers, onShared, ...rest } = options;
  const exactBelow = new Map<Float32Array, number>();
  let distancesMs = 0;
  // One class's matrix is alive at a time (the linkage consumes it before the next class starts).
  const scratch = new Scratch();
  const model = await clusterClassesWith(
    classes,
    d,
    async (vectors, n, dim, o) => {
      const started = performance.now();
      const D = await cosineDistancesTf(vectors, n, dim, {
        ...o,
        blockRows,
        refinePairs,
        helpers,
        onShared,
        scratch,
        onRefined: (range) => exactBelow.set(vectors, range.exactBelow),
      });
      distancesMs += performance.now() - started;
      return D;
    },
    // Measured at n = 10,000, d = 1280 on wasm: the distances take ~1.4× the linkage's time, which
    // semantic.ts weighs at 8 per pair; the products scale with d.
    { ...rest, distanceWeight: Math.max(1, (11 * d) / 1280) },
  );
  const exactFromK: Record<string, number> = {};
  for (const c of model.classes) {
    const below = exactBelow.get(c.vectors);
    exactFromK[c.label] = c.clustering && below !== undefined ? c.n - mergesAtOrBelow(c.clustering.Z, c.n, below) : 1;
  }
  return { model, exactFromK, distancesMs };
}

/** The dot products of row a with rows b0..b3 (offsets into U), each summed in k order. */
function dot4(U: Float64Array, d: number, a: number, b0: number, b1: number, b2: number, b3: number, out: Float64Array): void {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (let k = 0; k < d; k++) {
    const x = U[a + k];
    s0 += x * U[b0 + k];
    s1 += x * U[b1 + k];
    s2 += x * U[b2 + k];
    s3 += x * U[b3 + k];
  }
  out[0] = s0;
  out[1] = s1;
  out[2] = s2;
  out[3] = s3;
}

/** 1 − dot clipped to [0, 2], as cosine.ts finishes a distance. */
function finish(dot: number): number {
  const v = 1 - dot;
  return v < 0 ? 0 : v > 2 ? 2 : v;
}
