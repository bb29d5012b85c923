import { expose, transfer } from 'comlink';
import {
  clusterClasses,
  semanticCut,
  type ClusterClassesOptions,
  type SemanticClassInput,
  type SemanticCut,
  type SemanticCutOptions,
  type SemanticModel,
} from '../../core/semantic.ts';
import type { BackendName } from '../../ml/backend.ts';
import type { SimilarPairArrays } from '../../ml/similar-pairs-tf.ts';
import { keepCount } from '../../core/cluster/index.ts';
import { clusterFromEdges, cutForest, forestClustering, rowNormsOf, type ForestLinkage } from '../../core/cluster/components.ts';

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
}

export interface ClusterLoadResult {
  ms: number;
  /** Where the distances were computed: 'float64' (exact JS path) or 'tfjs-<backend>'. */
  distances: string;
  /**
   * Per class label, the smallest k from which on every cut (to k clusters, or at a height whose
   * cut has at least k) is certainly the exact path's: 1 on the exact path, n where nothing is.
   */
  exactFromK: Record<string, number>;
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
};

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

let model: SemanticModel | null = null;
/** The load in progress (never rejects), which cuts wait for. */
let loading: Promise<unknown> = Promise.resolve();

/**
 * The tfjs side is loaded on the first fast load only, so the exact path never downloads tfjs,
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

async function load(input: ClusterLoadInput, onProgress?: (p: ClusterLoadProgress) => void): Promise<ClusterLoadResult> {
  const started = performance.now();
  model = null; // frees the old model before the new one's matrices are allocated
  let last = -Infinity;
  const options: ClusterClassesOptions = {
    onProgress:
      onProgress &&
      ((done, total, label) => {
        const now = performance.now();
        if (done < total && now - last < PROGRESS_EVERY_MS) return;
        last = now;
        void onProgress({ done, total, label });
      }),
  };
  const tfjs = input.fast ? await loadTfjsPath(input.backend) : null;
  // tfjs's cpu backend multiplies in plain JS float32: slower than the float64 loops and less
  // exact, so when nothing better started (or only a float16 webgl) the exact path runs instead.
  if (tfjs && tfjs.backend !== 'cpu' && tfjs.float32) {
    const result = await tfjs.cluster(input.classes, input.dim, options);
    model = result.model;
    return { ms: performance.now() - started, distances: `tfjs-${tfjs.backend}`, exactFromK: result.exactFromK };
  }
  model = clusterClasses(input.classes, input.dim, options);
  return { ms: performance.now() - started, distances: 'float64', exactFromK: Object.fromEntries(model.classes.map((c) => [c.label, 1])) };
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
   * alone keeps the order there).
   */
  async cut(options: SemanticCutOptions): Promise<ClusterCutResult> {
    await loading;
    if (!model) throw new Error('cut: no model loaded');
    const started = performance.now();
    const result = semanticCut(model, options);
    return { ...result, ms: performance.now() - started };
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
  let last = -Infinity;
  const report = (stage: ClusterLargeProgress['stage']) => (done: number, total: number) => {
    const now = performance.now();
    if (!onProgress || (done < total && now - last < PROGRESS_EVERY_MS)) return;
    last = now;
    void onProgress({ stage, done, total });
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
  let last = -Infinity;
  const report = (done: number, total: number) => {
    const now = performance.now();
    if (!onProgress || (done < total && now - last < PROGRESS_EVERY_MS)) return;
    last = now;
    void onProgress({ done, total });
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
