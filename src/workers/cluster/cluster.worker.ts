import { expose, transfer } from 'comlink';
import {
  clusterClasses,
  semanticCut,
  validateClasses,
  type ClusterClassesOptions,
  type SemanticClassInput,
  type SemanticClassModel,
  type SemanticCut,
  type SemanticCutOptions,
  type SemanticModel,
} from '../../core/semantic.ts';
import type { BackendName } from '../../ml/backend.ts';
import type { SharedBlocks } from '../../ml/distances.ts';
import { helperCount, productHelperPool, type ProductHelperPool } from './product-helpers.ts';
import type { SimilarPairArrays } from '../../ml/similar-pairs-tf.ts';
import { keepCount } from '../../core/cluster/index.ts';
import {
  clusterFromEdges,
  coversK,
  cutForest,
  forestClustering,
  GiantComponentError,
  linkageBelow,
  rowNormsOf,
  type EdgeList,
  type ForestLinkage,
} from '../../core/cluster/components.ts';

export interface ClusterLoadInput {
  dim: number;
  classes: SemanticClassInput[];
  /**
   * Distances from float32 matrix products on a tfjs backend (src/ml/distances.ts), the smallest
   * of them recomputed in float64, instead of the float64 loops: ~4× faster at 10,000 × 1280 on
   * wasm. Partitions equal the exact path's for every k ≥ the class's `exactFromK` in the result
   * (in practice far below any keep fraction a dedup uses); for fewer clusters the float32
   * distances may reorder merges closer than ~1e-6. Off by default.
   */
  fast?: boolean;
  /** Backend for the fast path; by default chooseBackend's order (hardware GPU, then wasm). */
  backend?: BackendName;
  /**
   * Helper workers sharing the fast path's products (product-helpers.ts); by default one per
   * spare core (at most 3) on wasm for matrices worth it, none on a GPU. Tests set it.
   */
  productWorkers?: number;
  /** Rows per matrix product on the fast path (default defaultBlockRows in ml/distances.ts). */
  blockRows?: number;
  /** The large-class path's limits (defaults below); tests lower them to run it on small classes. */
  large?: LargeClassOptions;
}

/**
 * From this class size on, a class gets no full merge tree. The tree is built from the condensed
 * float64 distance matrix, 4n² bytes: 576 MB at 12,000 (1.6 GB at 20,000, 10 GB at 50,000), about
 * the most one allocation can safely take in a tab that also holds the vectors and tfjs. Larger
 * classes get a forest (core/cluster/components.ts): the same merges up to a threshold, from the
 * pairs closer than it, in O(edges + n) memory, grown when a cut needs more (see LargeClass).
 */
export const LARGE_CLASS_FROM = 12_000;

/**
 * Pairs kept by a large class's first search, per item: enough for the merges of keep ≥ 0.5 on
 * the sets tried, and only 16 bytes each (20 MB at 20,000 items), so most classes need one search.
 */
export const LARGE_EDGES_PER_ITEM = 64;

/**
 * Most pairs a large class's search may keep. A search holds up to 2× this while scanning plus a
 * sorted copy (about 56 bytes per allowed pair at the peak, ~470 MB here, and 134 MB kept after):
 * no more than the matrix of a class just below LARGE_CLASS_FROM, so no class is allowed more
 * memory than the full path would use.
 */
export const LARGE_MAX_EDGES = 1 << 23;

/**
 * Keep fractions the load tries to cover with its first search, in order: the slider's usual range
 * then cuts with no further work; a cut below what the load covered extends the forest then.
 */
const LARGE_COVER_ON_LOAD = [0.5, 0.7, 0.8, 0.9, 0.95];

/**
 * How far above a distance cut a search for it reaches: the edge list promises pairs strictly
 * below its bound, and the cut needs those at the threshold too.
 */
const HEIGHT_MARGIN = 1e-6;

export interface LargeClassOptions {
  /** Classes of at least this many items take the forest path (default LARGE_CLASS_FROM; at least 2). */
  from?: number;
  /** First search's pairs per item (default LARGE_EDGES_PER_ITEM). */
  edgesPerItem?: number;
  /** Most pairs one search keeps (default LARGE_MAX_EDGES); a cut needing more fails with a message. */
  maxEdges?: number;
  /** Largest component clustered (default LARGE_MAX_COMPONENT). */
  maxComponent?: number;
}

/**
 * Largest connected component (of the graph of pairs within the forest's t) a large class's forest
 * clusters with a matrix of its own: just below LARGE_CLASS_FROM, so that no component gets a
 * larger matrix than a small class does (576 MB), and a cut reaching a larger one fails with a
 * message instead. components.ts's own default (8,192) would refuse deep cuts sooner for no gain.
 */
export const LARGE_MAX_COMPONENT = LARGE_CLASS_FROM - 1;

/** How a large class's forest stands (after a load or a cut). */
export interface LargeClassInfo {
  n: number;
  /** Merges at heights ≤ t are held: every keep cut needing at most `merges` merges is exact. */
  t: number;
  merges: number;
  /** Every pair closer than this is in the edge list, which holds `edges` pairs. */
  below: number;
  edges: number;
  components: number;
  largestComponent: number;
  /** Edge searches so far (the costly O(n²d) step): 1 after the load unless a cut needed more. */
  searches: number;
  edgesMs: number;
  linkageMs: number;
  /** Keep cuts only: the cut falls inside a run of equal heights (see cutForest). */
  tiedAtCut?: boolean;
}

export interface ClusterLoadResult {
  ms: number;
  /** Where the distances were computed: 'float64' (exact JS path) or 'tfjs-<backend>'. */
  distances: string;
  /**
   * Per class label, the smallest k from which on every cut (to k clusters, or at a height whose
   * cut has at least k) is certainly the exact path's: 1 on the exact path, n where nothing is.
   * 1 for large classes too (their forest is exact up to ties between distinct vectors).
   */
  exactFromK: Record<string, number>;
  /** Classes that took the forest path, by label; absent when none did. */
  forests?: Record<string, LargeClassInfo>;
  /** Fast path: how the products were shared out, summed over the classes (helpers: the most any had). */
  products?: SharedBlocks;
  /** Fast path: wall time of the distance matrices (products and refinement), all classes. */
  distancesMs?: number;
}

export interface ClusterLoadProgress {
  /** Items of finished classes plus the running class's share (see clusterClasses). */
  done: number;
  total: number;
  /** The class being clustered. */
  label: string;
}

export type ClusterCutResult = SemanticCut & {
  /** Time spent cutting in the worker, without the trip to and from it. */
  ms: number;
  /** The large classes' forests after this cut (grown when it needed more); absent when there are none. */
  forests?: Record<string, LargeClassInfo>;
};

/**
 * A cut that needs more of a large class's merges than its forest holds extends it first (another
 * edge search: as slow as the load's), reporting as the load does over the classes it extends.
 */
export type ClusterCutProgress = ClusterLoadProgress;

/** One class too large for a distance matrix, cut once at a keep fraction (see cutLarge). */
export interface ClusterLargeInput {
  dim: number;
  label?: string;
  /** File ids, one per row of `vectors`. */
  ids: number[];
  vectors: Float32Array;
  keep: number;
  /** Backend for the products; by default chooseBackend's order. */
  backend?: BackendName;
  /** Pairs kept from the products (default 32·n); quadrupled, twice at most, when they do not cover the cut. */
  maxEdges?: number;
  /** Largest component clustered exactly (default DEFAULT_MAX_COMPONENT in components.ts). */
  maxComponent?: number;
}

export interface ClusterLargeProgress {
  stage: 'edges' | 'linkage';
  done: number;
  total: number;
}

export type ClusterLargeResult = ClusterCutResult & {
  large: {
    n: number;
    k: number;
    backend: string;
    /** The threshold whose graph's components were clustered. */
    t: number;
    /** Every pair closer than this was found (the edge list's bound). */
    below: number;
    edges: number;
    edgesBelowT: number;
    refined: number;
    components: number;
    largestComponent: number;
    mergesBelowT: number;
    /** The cut falls inside a run of equal heights (see cutForest). */
    tiedAtCut: boolean;
    /** Edge searches run (more than one when the first did not cover the cut). */
    searches: number;
    edgesMs: number;
    linkageMs: number;
  };
};

/** Embedding rows whose pairs at or above a cosine similarity are wanted (see similarPairs). */
export interface ClusterSimilarPairsInput {
  /** n × dim, row-major; transferred by the client. */
  vectors: Float32Array;
  n: number;
  dim: number;
  minSimilarity: number;
  /** As core's similarPairs: more pairs than this throw a RangeError. Default unlimited. */
  maxPairs?: number;
  /** Backend for the products; by default chooseBackend's order. */
  backend?: BackendName;
}

export interface ClusterSimilarPairsProgress {
  /** Pairs of rows compared so far, of n(n − 1)/2. */
  done: number;
  total: number;
}

/** The pairs, sorted by a then b, exactly as core's similarPairs returns them. */
export type ClusterSimilarPairsResult = SimilarPairArrays & {
  ms: number;
  /** 'tfjs-<backend>' for the products, 'float64' when only the JS loops were fit (cpu or float16 webgl). */
  path: string;
};

/**
 * Progress crosses to the page as a message per call, and the clustering polls every few
 * milliseconds: this many ms between two reports keeps the page's queue short.
 */
const PROGRESS_EVERY_MS = 100;
/**
 * A report also passes when the bar has moved this fraction of the total since the last one: on
 * a fast machine a whole class can finish inside one interval, and a bar that jumps from class to
 * class hides where the time goes. Fifty steps at most keep the queue short all the same.
 */
const PROGRESS_EVERY_FRACTION = 0.02;

let model: SemanticModel | null = null;
/** The load in progress (never rejects), which cuts wait for. */
let loading: Promise<unknown> = Promise.resolve();
/** The cut in progress (never rejects): a cut may await an edge search, and two must not grow one forest at once. */
let cutting: Promise<unknown> = Promise.resolve();
/** The loaded model's large classes, by label. */
let largeClasses = new Map<string, LargeClass>();

/**
 * The tfjs side is loaded on the first load that needs it (fast, or with a large class), so the
 * exact path never downloads tfjs,
 * and the backend is chosen once per worker (tfjs cannot switch cleanly while tensors live; the
 * client starts a fresh worker per load anyway).
 */
let tfjsPath: Promise<{ backend: BackendName; float32: boolean; cluster: typeof import('../../ml/distances.ts').clusterClassesTf }> | null =
  null;
function loadTfjsPath(preferred?: BackendName) {
  tfjsPath ??= (async () => {
    const [tf, { chooseBackend }, { clusterClassesTf }] = await Promise.all([
      import('@tensorflow/tfjs'),
      import('../../ml/backend.ts'),
      import('../../ml/distances.ts'),
    ]);
    const backend = await chooseBackend(preferred);
    // The refinement's guarantee assumes IEEE float32 products; webgl on some GPUs renders to
    // float16 textures, which it does not cover.
    const float32 = backend !== 'webgl' || tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED');
    return { backend, float32, cluster: clusterClassesTf };
  })();
  return tfjsPath;
}

/**
 * A throttled progress reporter (see PROGRESS_EVERY_MS and PROGRESS_EVERY_FRACTION); the last
 * report (done = total) always passes.
 */
function throttle<P extends { done: number; total: number }>(onProgress?: (p: P) => void): ((p: P) => void) | undefined {
  if (!onProgress) return undefined;
  const due = progressGate();
  return (p) => {
    if (due(p.done, p.total)) void onProgress(p);
  };
}

/** Whether a report at done/total should pass now; it records the pass when it says yes. */
function progressGate(): (done: number, total: number) => boolean {
  let lastAt = -Infinity;
  let lastDone = -Infinity;
  return (done, total) => {
    const now = performance.now();
    const moved = total > 0 && done - lastDone >= PROGRESS_EVERY_FRACTION * total;
    if (done < total && now - lastAt < PROGRESS_EVERY_MS && !moved) return false;
    lastAt = now;
    lastDone = done;
    return true;
  };
}

async function load(input: ClusterLoadInput, onProgress?: (p: ClusterLoadProgress) => void): Promise<ClusterLoadResult> {
  const started = performance.now();
  model = null; // frees the old model before the new one's matrices are allocated
  largeClasses = new Map();
  const report = throttle(onProgress);
  const limits = largeLimits(input.large);
  // Small and large classes are clustered apart; labels and ids must be unique across both.
  validateClasses(input.classes, input.dim);
  // Helpers start loading now, beside this worker's own tfjs start (closed unused if no wasm runs).
  const largestSmall = input.classes.reduce((most, c) => (c.ids.length < limits.from ? Math.max(most, c.ids.length) : most), 0);
  const wantsWasm = input.fast && (input.backend === undefined || input.backend === 'wasm');
  const helpers = wantsWasm ? helperCount(largestSmall, input.dim, input.productWorkers) : 0;
  const pool = helpers > 0 ? productHelperPool(helpers, input.productWorkers) : null;
  try {
    return await loadClasses(input, limits, report, pool, started);
  } finally {
    pool?.close();
  }
}

/** load() once its input is checked: the small classes, then the large ones. */
async function loadClasses(
  input: ClusterLoadInput,
  limits: LargeLimits,
  report: ((p: ClusterLoadProgress) => void) | undefined,
  pool: ProductHelperPool | null,
  started: number,
): Promise<ClusterLoadResult> {
  const small = input.classes.filter((c) => c.ids.length < limits.from);
  const large = input.classes.filter((c) => c.ids.length >= limits.from);
  const totalItems = input.classes.reduce((sum, c) => sum + c.ids.length, 0);
  const smallItems = small.reduce((sum, c) => sum + c.ids.length, 0);
  // Small classes first, their bar scaled to the whole load; then the large ones.
  const options: ClusterClassesOptions = {
    onProgress: report && ((done, _total, label) => report({ done, total: totalItems, label })),
  };
  const tfjs = input.fast || large.length > 0 ? await loadTfjsPath(input.backend) : null;
  if (tfjs?.backend !== 'wasm') pool?.close(); // a GPU does its products alone
  let smallModel: SemanticModel;
  let distances = 'float64';
  let exactFromK: Record<string, number>;
  let products: SharedBlocks | undefined;
  let distancesMs: number | undefined;
  // tfjs's cpu backend multiplies in plain JS float32: slower than the float64 loops and less
  // exact, so when nothing better started (or only a float16 webgl) the exact path runs instead.
  if (input.fast && tfjs && tfjs.backend !== 'cpu' && tfjs.float32) {
    const result = await tfjs.cluster(small, input.dim, {
      ...options,
      blockRows: input.blockRows,
      helpers: tfjs.backend === 'wasm' ? pool?.starter : undefined,
      onShared: (shared) => {
        products = {
          helpers: Math.max(products?.helpers ?? 0, shared.helpers),
          blocks: (products?.blocks ?? 0) + shared.blocks,
          byHelpers: (products?.byHelpers ?? 0) + shared.byHelpers,
          ms: (products?.ms ?? 0) + shared.ms,
          firstHelperMs: products?.firstHelperMs ?? shared.firstHelperMs,
        };
      },
    });
    smallModel = result.model;
    exactFromK = result.exactFromK;
    distancesMs = result.distancesMs;
    pool?.close(); // the large classes' pair search does not use them: free their rows now
    distances = `tfjs-${tfjs.backend}`;
  } else {
    smallModel = clusterClasses(small, input.dim, options);
    exactFromK = Object.fromEntries(smallModel.classes.map((c) => [c.label, 1]));
  }
  const byLabel = new Map(smallModel.classes.map((c) => [c.label, c]));
  const info: Record<string, LargeClassInfo> = {};
  if (large.length > 0) {
    // The edge bound assumes IEEE float32 products (see threshold-edges.ts); the cpu backend's are
    // (slow, but there is no other way to these classes short of the matrix they cannot have).
    if (!tfjs!.float32) {
      throw new Error(
        `class ${JSON.stringify(large[0].label)} has ${large[0].ids.length.toLocaleString('en')} images, too many for a full merge tree, and its close pairs can only be found exactly on a float32 backend; this WebGL renders to float16: choose wasm or webgpu`,
      );
    }
    let itemsBefore = smallItems;
    for (const c of large) {
      const n = c.ids.length;
      const share: Share | undefined = report && ((f) => report({ done: Math.min(totalItems, Math.floor(itemsBefore + n * f)), total: totalItems, label: c.label }));
      const cls = await loadLarge(c, input.dim, limits, share);
      largeClasses.set(c.label, cls);
      byLabel.set(c.label, cls.model);
      exactFromK[c.label] = 1;
      info[c.label] = largeInfo(cls);
      itemsBefore += n;
      report?.({ done: itemsBefore, total: totalItems, label: c.label });
    }
  }
  // Model order is input order, as the full path gives it (classStats follow it).
  model = { dim: input.dim, classes: input.classes.map((c) => byLabel.get(c.label)!) };
  return {
    ms: performance.now() - started,
    distances: large.length > 0 && distances === 'float64' ? `float64 + tfjs-${tfjs!.backend} pairs` : distances,
    exactFromK,
    ...(large.length > 0 ? { forests: info } : {}),
    ...(products ? { products } : {}),
    ...(distancesMs !== undefined ? { distancesMs } : {}),
  };
}


type LargeLimits = Required<LargeClassOptions>;

function largeLimits(options: LargeClassOptions = {}): LargeLimits {
  return {
    from: Math.max(2, Math.floor(options.from ?? LARGE_CLASS_FROM)),
    edgesPerItem: Math.max(1, options.edgesPerItem ?? LARGE_EDGES_PER_ITEM),
    maxEdges: Math.max(1, Math.floor(options.maxEdges ?? LARGE_MAX_EDGES)),
    maxComponent: options.maxComponent ?? LARGE_MAX_COMPONENT,
  };
}

/**
 * A class too large for the full merge tree: its edge list (every pair closer than
 * `edges.below`) and the forest built from it (every merge of the full tree up to `forest.t`),
 * exposed to semanticCut as the model entry's clustering. Both only grow: a cut that needs more
 * merges than the forest holds rebuilds it at a larger t from the edges held, and searches for
 * more edges (4× as many) when those do not reach; forestClustering refuses any cut it does not
 * cover, so a cut is the full tree's or an error, never a guess.
 */
interface LargeClass {
  model: SemanticClassModel;
  dim: number;
  limits: LargeLimits;
  edges: EdgeList;
  /** maxEdges of the last search. */
  maxEdges: number;
  forest: ForestLinkage;
  searches: number;
  edgesMs: number;
  linkageMs: number;
}

/** Progress of one large class's step, as a fraction of its share of the bar. */
type Share = (fraction: number) => void;
/** Of a class's share, the edge search's (O(n²d) products) against the components' linkage. */
const EDGES_SHARE = 0.9;
const edgesShare = (share?: Share): Share | undefined => share && ((f) => share(EDGES_SHARE * f));
/**
 * The linkage's part, after a search. Each try of clusterFromEdges (t doubles until the cut is
 * covered) counts from 0 again: the bar waits at the highest point reached rather than go back.
 */
function linkageShare(share?: Share): ((done: number, total: number) => void) | undefined {
  if (!share) return undefined;
  let best = 0;
  return (done, total) => {
    const f = total > 0 ? done / total : 1;
    if (f < best) return;
    best = f;
    share(EDGES_SHARE + (1 - EDGES_SHARE) * f);
  };
}

async function loadLarge(c: SemanticClassInput, dim: number, limits: LargeLimits, share?: Share): Promise<LargeClass> {
  const n = c.ids.length;
  const norms = rowNormsOf(c.vectors, n, dim);
  const nothing = linkageBelow(n, { i: new Int32Array(0), j: new Int32Array(0), d: new Float64Array(0), count: 0, below: Infinity }, -Infinity);
  const cls: LargeClass = {
    model: { label: c.label, ids: c.ids.slice(), n, vectors: c.vectors, norms, clustering: null },
    dim,
    limits,
    edges: { i: new Int32Array(0), j: new Int32Array(0), d: new Float64Array(0), count: 0, below: -Infinity },
    maxEdges: 0,
    forest: nothing,
    searches: 0,
    edgesMs: 0,
    linkageMs: 0,
  };
  setForest(cls, nothing);
  await search(cls, Math.min(limits.maxEdges, Math.ceil(limits.edgesPerItem * n)), undefined, edgesShare(share));
  // Cover as much of the usual range as these edges allow, without searching again: a component
  // too large, or edges that do not reach, only mean a lower keep needs more work later.
  const onLinkage = linkageShare(share);
  for (const keep of LARGE_COVER_ON_LOAD) {
    const t0 = performance.now();
    try {
      const forest = clusterFromEdges(n, cls.edges, keepCount(n, keep), { maxComponent: limits.maxComponent, onProgress: onLinkage });
      if (forest) {
        setForest(cls, forest);
        break;
      }
    } catch (error) {
      if (!(error instanceof GiantComponentError)) throw error;
    } finally {
      cls.linkageMs += performance.now() - t0;
    }
  }
  share?.(1);
  return cls;
}

function setForest(cls: LargeClass, forest: ForestLinkage): void {
  cls.forest = forest;
  cls.model.clustering = forestClustering(forest, cls.model.vectors, cls.dim);
}

/**
 * Replaces the class's edges with a search keeping up to maxEdges pairs (all below `below`, when
 * given, if they fit). A crowd of identical images can hold more pairs at distance 0 than
 * maxEdges: the search says so, and is run again with more, up to the cap.
 */
async function search(cls: LargeClass, maxEdges: number, below: number | undefined, onFraction?: Share): Promise<void> {
  const { thresholdEdgesTf } = await import('../../ml/threshold-edges.ts');
  const { n, vectors, label } = cls.model;
  const cap = cls.limits.maxEdges;
  for (;;) {
    const t0 = performance.now();
    try {
      const edges = await thresholdEdgesTf(vectors, n, cls.dim, { maxEdges, below, onProgress: onFraction && ((done, total) => onFraction(total > 0 ? done / total : 1)) });
      // A later search keeps more pairs, so its bound is not lower; the guard keeps the lists nested anyway.
      if (edges.below >= cls.edges.below) cls.edges = edges;
      cls.maxEdges = maxEdges;
      return;
    } catch (error) {
      const ties = error instanceof RangeError && /raise maxEdges/.test(error.message);
      if (!ties) throw error;
      if (maxEdges >= cap) {
        throw new Error(
          `class ${JSON.stringify(label)}: more than ${cap.toLocaleString('en')} pairs of identical images, more than a class of ${n.toLocaleString('en')} may hold without a full merge tree`,
        );
      }
      maxEdges = Math.min(cap, 4 * maxEdges);
    } finally {
      cls.searches++;
      cls.edgesMs += performance.now() - t0;
    }
  }
}

/** Grows the forest until it holds the merges of the cut to k clusters (see LargeClass). */
async function coverKeep(cls: LargeClass, k: number, keep: number, share?: Share): Promise<void> {
  if (coversK(cls.forest, k)) return;
  const { n, label } = cls.model;
  // The first try uses the edges held (no search, quick): it reports nothing, so that the bar
  // does not run back when a search follows.
  let onLinkage: ((done: number, total: number) => void) | undefined;
  for (;;) {
    const t0 = performance.now();
    let forest: ForestLinkage | null;
    try {
      forest = clusterFromEdges(n, cls.edges, k, { maxComponent: cls.limits.maxComponent, onProgress: onLinkage });
    } catch (error) {
      if (!(error instanceof GiantComponentError)) throw error;
      throw new Error(
        `class ${JSON.stringify(label)} (${n.toLocaleString('en')} images) cannot be cut to keep ${keep} without its full merge tree, which a class this large does not get: ${error.size.toLocaleString('en')} of its images are linked by pairs within cosine distance ${error.t.toPrecision(3)}. Choose a higher keep fraction for this class.`,
      );
    } finally {
      cls.linkageMs += performance.now() - t0;
    }
    if (forest) {
      setForest(cls, forest);
      share?.(1);
      return;
    }
    if (cls.maxEdges >= cls.limits.maxEdges) {
      throw new Error(
        `class ${JSON.stringify(label)} (${n.toLocaleString('en')} images) cannot be cut to keep ${keep}: its ${cls.limits.maxEdges.toLocaleString('en')} closest pairs (every pair closer than ${cls.edges.below.toPrecision(3)}) do not hold the ${(n - k).toLocaleString('en')} merges it needs, and a class this large gets no full merge tree. Choose a higher keep fraction for this class.`,
      );
    }
    await search(cls, Math.min(cls.limits.maxEdges, 4 * cls.maxEdges), undefined, edgesShare(share));
    onLinkage = linkageShare(share);
  }
}

/** Grows the forest until it holds every merge at or below h (a distance cut). */
async function coverHeight(cls: LargeClass, h: number, share?: Share): Promise<void> {
  if (h <= cls.forest.t) return;
  const { n, label } = cls.model;
  while (!(h < cls.edges.below)) {
    if (cls.maxEdges >= cls.limits.maxEdges) {
      throw new Error(
        `class ${JSON.stringify(label)} (${n.toLocaleString('en')} images) has more than ${cls.limits.maxEdges.toLocaleString('en')} pairs within cosine distance ${h}, too many to cut there without its full merge tree, which a class this large does not get. Choose a smaller distance, or cut by keep fraction.`,
      );
    }
    await search(cls, Math.min(cls.limits.maxEdges, 4 * cls.maxEdges), h + HEIGHT_MARGIN, edgesShare(share));
  }
  const t0 = performance.now();
  try {
    setForest(cls, linkageBelow(n, cls.edges, h, { maxComponent: cls.limits.maxComponent, onProgress: linkageShare(share) }));
  } catch (error) {
    if (!(error instanceof GiantComponentError)) throw error;
    throw new Error(
      `class ${JSON.stringify(label)} (${n.toLocaleString('en')} images) cannot be cut at distance ${h} without its full merge tree, which a class this large does not get: ${error.size.toLocaleString('en')} of its images are linked by pairs within that distance. Choose a smaller distance, or cut by keep fraction.`,
    );
  } finally {
    cls.linkageMs += performance.now() - t0;
  }
  share?.(1);
}

function largeInfo(cls: LargeClass, k?: number): LargeClassInfo {
  const f = cls.forest;
  const info: LargeClassInfo = {
    n: f.n,
    t: f.t,
    merges: f.count,
    below: cls.edges.below,
    edges: cls.edges.count,
    components: f.components,
    largestComponent: f.largestComponent,
    searches: cls.searches,
    edgesMs: cls.edgesMs,
    linkageMs: cls.linkageMs,
  };
  if (k !== undefined && coversK(f, k)) info.tiedAtCut = cutForest(f, k).tiedAtCut;
  return info;
}

/** The keep fraction semanticCut will use for a class, or null when it is invalid (semanticCut then says so). */
function keepFractionOf(options: { keep: number; keepByClass?: Record<string, number> }, label: string): number | null {
  const byClass = options.keepByClass;
  const f = byClass && Object.prototype.hasOwnProperty.call(byClass, label) ? byClass[label] : options.keep;
  return f >= 0 && f <= 1 ? f : null;
}

async function cut(options: SemanticCutOptions, onProgress?: (p: ClusterCutProgress) => void): Promise<ClusterCutResult> {
  await loading;
  const current = model;
  if (!current) throw new Error('cut: no model loaded');
  const started = performance.now();
  const report = throttle(onProgress);
  // The large classes this cut reaches beyond, with what each needs; the bar spans their items.
  const byThreshold = 'threshold' in options;
  const needs: { cls: LargeClass; k: number; keep: number }[] = [];
  for (const cls of largeClasses.values()) {
    if (byThreshold) {
      if (!Number.isNaN(options.threshold) && options.threshold > cls.forest.t) needs.push({ cls, k: 0, keep: 0 });
      continue;
    }
    const keep = keepFractionOf(options, cls.model.label);
    if (keep === null) continue;
    const k = keepCount(cls.model.n, keep);
    if (!coversK(cls.forest, k)) needs.push({ cls, k, keep });
  }
  const total = needs.reduce((sum, x) => sum + x.cls.model.n, 0);
  let before = 0;
  for (const { cls, k, keep } of needs) {
    const { n, label } = cls.model;
    const share: Share | undefined = report && ((f) => report({ done: Math.min(total, Math.floor(before + n * f)), total, label }));
    if (byThreshold) await coverHeight(cls, options.threshold, share);
    else await coverKeep(cls, k, keep, share);
    before += n;
  }
  const result = semanticCut(current, options);
  if (largeClasses.size === 0) return { ...result, ms: performance.now() - started };
  const forests: Record<string, LargeClassInfo> = {};
  for (const [label, cls] of largeClasses) {
    const keep = byThreshold ? null : keepFractionOf(options, label);
    forests[label] = largeInfo(cls, keep === null ? undefined : keepCount(cls.model.n, keep));
  }
  return { ...result, ms: performance.now() - started, forests };
}

const api = {
  /**
   * Clusters every class (the costly step: O(n²d) per class, minutes at 10,000 images a class),
   * replacing any earlier model. The page cancels by terminating the worker, so there is no
   * cancellation hook here.
   */
  load(input: ClusterLoadInput, onProgress?: (p: ClusterLoadProgress) => void): Promise<ClusterLoadResult> {
    const run = load(input, onProgress);
    loading = run.catch(() => {});
    return run;
  },

  /**
   * One cut of the loaded model: cheap (O(n·d)), meant to follow a slider. A cut asked for while
   * a load runs waits for it: the fast path awaits between blocks, where the worker would
   * otherwise answer the cut from no model (the exact path never yields, so the message queue
   * alone keeps the order there). A cut deeper than a large class's forest holds grows it first
   * (a new edge search when the pairs held do not reach: as slow as the load), with progress;
   * cuts run one at a time, in the order asked.
   */
  cut(options: SemanticCutOptions, onProgress?: (p: ClusterCutProgress) => void): Promise<ClusterCutResult> {
    const run = cutting.then(() => cut(options, onProgress));
    cutting = run.catch(() => {});
    return run;
  },

  /**
   * One class too large for the distance matrix (n = 50,000 at d = 1280 needs 10 GB), cut once at
   * `keep`: the same result shape as cut(), plus how it was found. Leaves load()'s model alone.
   */
  cutLarge(input: ClusterLargeInput, onProgress?: (p: ClusterLargeProgress) => void): Promise<ClusterLargeResult> {
    return cutLarge(input, onProgress);
  },

  /**
   * Every pair of rows with cosine similarity ≥ minSimilarity — near mode's embedding pairs — by
   * blocked tfjs products refined in float64 (ml/similar-pairs-tf.ts): the same pairs and
   * similarities as core's JS loops in a fraction of their O(n²d) time. Returned arrays are
   * transferred.
   */
  similarPairs(input: ClusterSimilarPairsInput, onProgress?: (p: ClusterSimilarPairsProgress) => void): Promise<ClusterSimilarPairsResult> {
    return findSimilarPairs(input, onProgress);
  },
};

/**
 * cutLarge: the pairs closer than a threshold from blocked products, complete linkage inside each
 * connected component of that graph, grown until the cut is covered (core/cluster/components.ts).
 * Memory O(edges + n·d) instead of the n² matrix, the partition the full run gives.
 */
async function cutLarge(input: ClusterLargeInput, onProgress?: (p: ClusterLargeProgress) => void): Promise<ClusterLargeResult> {
  const started = performance.now();
  const { dim, ids, vectors, keep } = input;
  const n = ids.length;
  if (vectors.length !== n * dim) throw new RangeError(`cutLarge: ${vectors.length} values, expected ${n}×${dim}`);
  const label = input.label ?? 'class';
  // One gate per stage: each stage's bar runs from 0 to its own total.
  const gates = new Map<ClusterLargeProgress['stage'], ReturnType<typeof progressGate>>();
  const report = (stage: ClusterLargeProgress['stage']) => (done: number, total: number) => {
    if (!onProgress) return;
    if (!gates.has(stage)) gates.set(stage, progressGate());
    if (gates.get(stage)!(done, total)) void onProgress({ stage, done, total });
  };
  const tfjs = await loadTfjsPath(input.backend);
  // The edge bound assumes IEEE float32 products (see threshold-edges.ts).
  if (!tfjs.float32) throw new Error('cutLarge: this webgl backend renders to float16; choose wasm or webgpu');
  const { thresholdEdgesTf } = await import('../../ml/threshold-edges.ts');
  const k = keepCount(n, keep);
  let forest: ForestLinkage | null = null;
  let maxEdges = input.maxEdges ?? 32 * n;
  let edgesMs = 0;
  let linkageMs = 0;
  let searches = 0;
  let found = { below: 0, count: 0, refined: 0 };
  while (n > 1 && !forest && searches < 3) {
    const t0 = performance.now();
    const edges = await thresholdEdgesTf(vectors, n, dim, { maxEdges, onProgress: report('edges') });
    const t1 = performance.now();
    forest = clusterFromEdges(n, edges, k, { maxComponent: input.maxComponent, onProgress: report('linkage') });
    linkageMs += performance.now() - t1;
    edgesMs += t1 - t0;
    found = { below: edges.below, count: edges.count, refined: edges.refined };
    searches++;
    maxEdges *= 4;
  }
  if (n > 1 && !forest) throw new Error(`cutLarge: ${found.count} pairs below ${found.below} do not cover the cut to ${k} clusters`);
  const model: SemanticModel = {
    dim,
    classes: [{ label, ids: ids.slice(), n, vectors, norms: rowNormsOf(vectors, n, dim), clustering: forest && forestClustering(forest, vectors, dim) }],
  };
  const result = semanticCut(model, { keep });
  return {
    ...result,
    ms: performance.now() - started,
    large: {
      n,
      k,
      backend: tfjs.backend,
      t: forest?.t ?? 0,
      below: found.below,
      edges: found.count,
      edgesBelowT: forest?.edges ?? 0,
      refined: found.refined,
      components: forest?.components ?? n,
      largestComponent: forest?.largestComponent ?? n,
      mergesBelowT: forest?.count ?? 0,
      tiedAtCut: forest ? cutForest(forest, k).tiedAtCut : false,
      searches,
      edgesMs,
      linkageMs,
    },
  };
}

async function findSimilarPairs(
  input: ClusterSimilarPairsInput,
  onProgress?: (p: ClusterSimilarPairsProgress) => void,
): Promise<ClusterSimilarPairsResult> {
  const started = performance.now();
  const { vectors, n, dim, minSimilarity, maxPairs } = input;
  if (vectors.length !== n * dim) throw new RangeError(`similarPairs: ${vectors.length} values, expected ${n}×${dim}`);
  const due = progressGate();
  const report = (done: number, total: number) => {
    if (onProgress && due(done, total)) void onProgress({ done, total });
  };
  const tfjs = await loadTfjsPath(input.backend);
  const { similarPairsTf, pairArrays } = await import('../../ml/similar-pairs-tf.ts');
  let pairs: SimilarPairArrays;
  let path: string;
  // As in load(): the cpu backend multiplies in JS float32, slower than the float64 loops, and a
  // float16 webgl breaks the candidate bound, so both run the loops (tfjs is loaded by then anyway).
  if (tfjs.backend !== 'cpu' && tfjs.float32) {
    pairs = await similarPairsTf(vectors, n, dim, minSimilarity, { maxPairs, onProgress: report });
    path = `tfjs-${tfjs.backend}`;
  } else {
    const { similarPairs } = await import('../../core/similar-pairs.ts');
    pairs = pairArrays(similarPairs(vectors, n, dim, minSimilarity, { maxPairs, onProgress: report }));
    path = 'float64';
  }
  const result: ClusterSimilarPairsResult = { ...pairs, ms: performance.now() - started, path };
  return transfer(result, [pairs.a.buffer, pairs.b.buffer, pairs.similarity.buffer] as ArrayBuffer[]);
}

export type ClusterWorkerApi = typeof api;
expose(api);
