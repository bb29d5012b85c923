import { expose } from 'comlink';
import { keepCount } from '../../core/cluster/index.ts';
import { coversK } from '../../core/cluster/components.ts';
import {
  clusterClasses,
  semanticCut,
  validateClasses,
  type ClusterClassesOptions,
  type SemanticCutOptions,
  type SemanticModel,
} from '../../core/semantic.ts';
import type { SharedBlocks } from '../../ml/distances.ts';
import { cutLarge } from './cut-large.ts';
import { findSimilarPairs } from './find-similar-pairs.ts';
import { coverHeight, coverKeep, largeInfo, largeLimits, loadLarge, type LargeClass, type LargeLimits, type Share } from './large-class.ts';
import { helperCount, productHelperPool, type ProductHelperPool } from './product-helpers.ts';
import { throttle } from './progress.ts';
import { loadTfjsPath } from './tfjs-path.ts';
import type {
  ClusterCutProgress,
  ClusterCutResult,
  ClusterLargeInput,
  ClusterLargeProgress,
  ClusterLargeResult,
  ClusterLoadInput,
  ClusterLoadProgress,
  ClusterLoadResult,
  ClusterSimilarPairsInput,
  ClusterSimilarPairsProgress,
  ClusterSimilarPairsResult,
  LargeClassInfo,
} from './types.ts';

let model: SemanticModel | null = null;
/** The load in progress (never rejects), which cuts wait for. */
let loading: Promise<unknown> = Promise.resolve();
/** The cut in progress (never rejects): a cut may await an edge search, and two must not grow one forest at once. */
let cutting: Promise<unknown> = Promise.resolve();
/** The loaded model's large classes, by label. */
let largeClasses = new Map<string, LargeClass>();


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

export type ClusterWorkerApi = typeof api;
expose(api);
