/**
 * What crosses between the page and the cluster worker (cluster.worker.ts): inputs, results and
 * progress of each call, and the large-class limits both sides refer to. Types and constants only,
 * so the page's client imports none of the worker's code.
 */
import type { SemanticClassInput, SemanticCut } from '../../core/semantic.ts';
import type { BackendName } from '../../ml/backend.ts';
import type { SharedBlocks } from '../../ml/distances.ts';
import type { SimilarPairArrays } from '../../ml/similar-pairs-tf.ts';

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
