/**
 * Semantic redundancy groups (Birodkar et al. 2019, §3.2) on top of src/core/cluster: each class
 * is clustered once (complete linkage on cosine distances, the expensive O(n²d) step), and every
 * later cut — a keep fraction or a distance threshold — only replays merges and measures the
 * members of each cluster against its keeper, O(n·d), so a slider can follow it.
 *
 * Distances to the keeper are computed exactly as cluster/cosine.ts computes the matrix the
 * linkage saw (float64 rows divided by their norm, one sequential dot product, 1 − dot clipped to
 * [0, 2]), so they are bit-identical to it: a threshold cut's promise "every member within t"
 * holds for the reported numbers too, not just up to rounding.
 */
import { ClusterCancelledError } from './cluster/progress.ts';
import { clusterClass, condensedSize, cosineDistancesNormalized, keepCount, normalizeRows, type ClassClustering, type ClusterCut, type ClusterStage } from './cluster/index.ts';
import { Scratch } from './cluster/scratch.ts';
import type { Group } from './groups.ts';

export interface SemanticClassInput {
  label: string;
  /** File ids in the run, one per row of `vectors`. */
  ids: number[];
  /** ids.length × d embeddings, row-major. */
  vectors: Float32Array;
}

export interface SemanticClassModel {
  label: string;
  ids: readonly number[];
  n: number;
  vectors: Float32Array;
  /** ‖row‖ in float64, taken as normalizeRows takes it, so keeper distances match the linkage's. */
  norms: Float64Array;
  /** null for n ≤ 1: nothing to merge. */
  clustering: ClassClustering | null;
}

export interface SemanticModel {
  dim: number;
  classes: SemanticClassModel[];
}

export interface ClusterClassesOptions {
  /** Polled every few milliseconds of work; returning true throws ClusterCancelledError. */
  shouldStop?: () => boolean;
  /**
   * doneItems counts the items of finished classes plus the current class's share of its own work
   * (distances weigh d per pair, the linkage LINKAGE_WEIGHT per pair), rounded down, so the bar
   * moves evenly whatever the class sizes. `label` and `stage` name what is running now.
   */
  onProgress?: (doneItems: number, totalItems: number, label: string, stage: ClusterStage) => void;
}

/**
 * Linkage work per pair relative to one multiply-add of the distances (the NN-chain rescans a
 * row per chain step and the Lance–Williams update touches one per merge; about 3–4n² reads in
 * all, each dearer than a streamed multiply-add). Only shapes the progress bar.
 */
const LINKAGE_WEIGHT = 8;

export type SemanticCutOptions = { keep: number; keepByClass?: Record<string, number> } | { threshold: number };

/** Picks the kept file of a cluster of size > 1; must return one of `members`. */
export type KeeperOf = (cluster: { label: string; members: readonly number[]; representative: number }) => number;

export interface CutStats {
  /** Files. */
  n: number;
  /** Clusters = files kept. */
  k: number;
  /** n − k. */
  removed: number;
  /** Clusters of more than one file (the groups). */
  groupsOver1: number;
  /**
   * The paper's Table 1 "average dissimilarity to the retained sample": for each cluster of size
   * > 1, the mean cosine distance of its non-kept members to its kept member; then the plain mean
   * of those per-cluster means over the clusters (every group weighs the same, whatever its
   * size). null when there is no such cluster.
   */
  meanDissimilarity: number | null;
  /** Largest cosine distance of any removed file to its keeper; null when nothing is removed. */
  maxDissimilarity: number | null;
}

export interface ClassStat extends CutStats {
  label: string;
  /** Clusters per size, sizes ascending, size 1 included (the paper's Figure 4, per class). */
  sizeHistogram: SizeCount[];
}

export interface SizeCount {
  size: number;
  count: number;
}

export interface SemanticCut {
  /** Clusters of size > 1, kind 'semantic', ids 1-based: largest first, then by keeper id. */
  groups: Group[];
  /** One per class, in model order. */
  classStats: ClassStat[];
  /** Over all classes: clusters per size, ascending, size 1 included. */
  sizeHistogram: SizeCount[];
  /** All classes together; meanDissimilarity averages over every group of every class (Table 1's dataset row). */
  overall: CutStats;
}

/** Mean of the n rows (float64; zeros when n = 0). */
export function meanRow(vectors: ArrayLike<number>, n: number, d: number): Float64Array {
  if (vectors.length !== n * d) throw new RangeError(`meanRow: ${vectors.length} values, expected ${n}×${d}`);
  const mean = new Float64Array(d);
  if (n === 0) return mean;
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let q = 0; q < d; q++) mean[q] += vectors[o + q];
  }
  for (let q = 0; q < d; q++) mean[q] /= n;
  return mean;
}

/**
 * Rows minus a mean embedding (by default their own). Post-ReLU embeddings all share a large
 * positive component, which squeezes every cosine towards 1; subtracting it spreads them out.
 */
export function centreRows(vectors: Float32Array, n: number, d: number, mean?: Float64Array): Float32Array {
  const m = mean ?? meanRow(vectors, n, d);
  if (vectors.length !== n * d) throw new RangeError(`centreRows: ${vectors.length} values, expected ${n}×${d}`);
  if (m.length !== d) throw new RangeError(`centreRows: mean has ${m.length} values, expected ${d}`);
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let q = 0; q < d; q++) out[o + q] = vectors[o + q] - m[q];
  }
  return out;
}

function rowNorms(X: Float32Array, n: number, d: number, label: string): Float64Array {
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    let ss = 0;
    for (let q = 0; q < d; q++) ss += X[o + q] * X[o + q];
    if (!Number.isFinite(ss)) throw new RangeError(`class ${JSON.stringify(label)}: row ${i} has a non-finite value`);
    norms[i] = Math.sqrt(ss);
  }
  return norms;
}

/**
 * Computes one class's condensed distance matrix (n × n, scipy layout) in place of cosine.ts, e.g. on
 * a tfjs backend; progress and cancellation as ProgressOptions. The linkage consumes the result.
 */
export type ClassDistances = (
  vectors: Float32Array,
  n: number,
  d: number,
  options: { shouldStop?: () => boolean; onProgress?: (done: number, total: number) => void },
) => Promise<Float64Array>;

/** Clusters every class (the expensive step); the model then serves any number of cuts. */
export function clusterClasses(
  classes: readonly SemanticClassInput[],
  d: number,
  options: ClusterClassesOptions = {},
): SemanticModel {
  const plan = planClasses(classes, d, options);
  const out: SemanticClassModel[] = [];
  // One class's matrix is alive at a time: every class reuses the same working arrays.
  const scratch = new Scratch();
  for (const c of classes) {
    const step = plan.begin(c);
    let clustering: ClassClustering | null = null;
    if (step.n > 1) {
      const { shouldStop, onProgress } = step.clusterOptions;
      const D = cosineDistancesNormalized(normalizeRows(c.vectors, step.n, d, scratch.float64('unit rows', step.n * d)), step.n, d, {
        shouldStop,
        onProgress: onProgress && ((done, total) => onProgress(done, total, 'distances')),
        out: scratch.float64('distances', condensedSize(step.n)),
      });
      clustering = clusterClass(c.vectors, step.n, d, { ...step.clusterOptions, distances: D });
    }
    out.push(step.finish(clustering));
  }
  return { dim: d, classes: out };
}

/**
 * clusterClasses with each class's distances from `distances` (awaited one class at a time, so
 * only one matrix is alive at once) instead of cosine.ts; the linkage and everything after it
 * are the same code. Progress weighs the distances as clusterClasses does unless `distanceWeight`
 * says otherwise. Keeper distances in the cuts are still the float64 ones of cosine.ts: if the matrix given here
 * is less precise (float32 products), a threshold cut's members are within t of each other only
 * up to that difference.
 */
export async function clusterClassesWith(
  classes: readonly SemanticClassInput[],
  d: number,
  distances: ClassDistances,
  options: ClusterClassesOptions & {
    /**
     * Progress weight of one pair of `distances`, in the units of the float64 path's (d per pair,
     * LINKAGE_WEIGHT for the linkage); default d. A faster provider passes less, so that the bar
     * does not reach its end with the linkage still to run.
     */
    distanceWeight?: number;
  } = {},
): Promise<SemanticModel> {
  const plan = planClasses(classes, d, options, options.distanceWeight);
  const out: SemanticClassModel[] = [];
  for (const c of classes) {
    const step = plan.begin(c);
    let clustering: ClassClustering | null = null;
    if (step.n > 1) {
      const { shouldStop, onProgress } = step.clusterOptions;
      const D = await distances(c.vectors, step.n, d, {
        shouldStop,
        onProgress: onProgress && ((done, total) => onProgress(done, total, 'distances')),
      });
      clustering = clusterClass(c.vectors, step.n, d, { ...step.clusterOptions, distances: D });
    }
    out.push(step.finish(clustering));
  }
  return { dim: d, classes: out };
}

/**
 * Throws on a bad dimension, a vector count that does not match its ids, or a label or file id
 * that appears twice (across all classes given); returns how many items there are in all.
 */
export function validateClasses(classes: readonly SemanticClassInput[], d: number): number {
  if (!Number.isInteger(d) || d < 0) throw new RangeError(`clusterClasses: bad dimension ${d}`);
  const labels = new Set<string>();
  const ids = new Set<number>();
  let totalItems = 0;
  for (const c of classes) {
    // Groups, stats and keepByClass are keyed by label, distances by file id: both must be unique.
    if (labels.has(c.label)) throw new RangeError(`clusterClasses: class ${JSON.stringify(c.label)} appears twice`);
    labels.add(c.label);
    if (c.vectors.length !== c.ids.length * d) {
      throw new RangeError(`class ${JSON.stringify(c.label)}: ${c.vectors.length} values, expected ${c.ids.length}×${d}`);
    }
    for (const id of c.ids) {
      if (ids.has(id)) throw new RangeError(`clusterClasses: file id ${id} appears twice`);
      ids.add(id);
    }
    totalItems += c.ids.length;
  }
  return totalItems;
}

/** Validation, and progress bookkeeping across classes, shared by both entry points above. */
function planClasses(
  classes: readonly SemanticClassInput[],
  d: number,
  options: ClusterClassesOptions,
  distanceWeight = Math.max(1, d),
) {
  const totalItems = validateClasses(classes, d);
  const { shouldStop, onProgress } = options;
  let itemsBefore = 0;
  return {
    begin(c: SemanticClassInput) {
      if (shouldStop?.()) throw new ClusterCancelledError();
      const n = c.ids.length;
      const norms = rowNorms(c.vectors, n, d, c.label);
      const pairs = (n * (n - 1)) / 2;
      const distWork = pairs * distanceWeight;
      const classWork = distWork + pairs * LINKAGE_WEIGHT;
      const clusterOptions = {
        shouldStop,
        onProgress:
          onProgress &&
          ((done: number, total: number, stage: ClusterStage) => {
            const work = stage === 'distances' ? (done / total) * distWork : distWork + (done / total) * pairs * LINKAGE_WEIGHT;
            onProgress(Math.min(totalItems, Math.floor(itemsBefore + (n * work) / classWork)), totalItems, c.label, stage);
          }),
      };
      return {
        n,
        clusterOptions,
        finish(clustering: ClassClustering | null): SemanticClassModel {
          itemsBefore += n;
          onProgress?.(itemsBefore, totalItems, c.label, 'linkage');
          return { label: c.label, ids: c.ids.slice(), n, vectors: c.vectors, norms, clustering };
        },
      };
    },
  };
}

/** Validated keep fraction of a class. */
function fractionFor(options: { keep: number; keepByClass?: Record<string, number> }, label: string): number {
  const byClass = options.keepByClass;
  const f = byClass && Object.prototype.hasOwnProperty.call(byClass, label) ? byClass[label] : options.keep;
  if (!(f >= 0 && f <= 1)) throw new RangeError(`keep fraction ${f} for class ${JSON.stringify(label)} outside [0, 1]`);
  return f;
}

function histogram(counts: Map<number, number>): SizeCount[] {
  return [...counts.entries()].sort((a, b) => a[0] - b[0]).map(([size, count]) => ({ size, count }));
}

interface Draft {
  keeper: number;
  members: number[];
  distances: Record<number, number>;
  label: string;
}

/**
 * Groups and statistics for one cut. Keep mode: every class keeps exactly keepCount(n, fraction)
 * files, one per cluster (keepByClass overrides `keep` per label). Threshold mode: clusters whose
 * members are all within cosine distance t of each other. The keeper of a cluster is its
 * representative (member nearest the cluster mean) unless `keeperOf` picks another member.
 */
export function semanticCut(model: SemanticModel, options: SemanticCutOptions, keeperOf?: KeeperOf): SemanticCut {
  const byThreshold = 'threshold' in options;
  if (byThreshold && Number.isNaN(options.threshold)) throw new RangeError('semanticCut: threshold is NaN');
  const d = model.dim;
  const drafts: Draft[] = [];
  const classStats: ClassStat[] = [];
  const allSizes = new Map<number, number>();
  const unitKeeper = new Float64Array(d);
  let sumOfMeans = 0;
  let maxAll: number | null = null;
  let nAll = 0;
  let kAll = 0;
  let groupsAll = 0;

  for (const cls of model.classes) {
    const { n, ids, vectors: X, norms, label } = cls;
    const sizes = new Map<number, number>();
    let cut: ClusterCut | null = null;
    if (n > 0) {
      if (byThreshold) cut = cls.clustering ? cls.clustering.cutAtHeight(options.threshold) : trivialCut(n);
      else {
        const k = keepCount(n, fractionFor(options, label));
        cut = cls.clustering ? cls.clustering.cut(k) : trivialCut(n);
      }
    }
    const k = cut?.k ?? 0;
    let groupsOver1 = 0;
    let classSumOfMeans = 0;
    let classMax: number | null = null;
    if (cut) {
      for (let c = 0; c < k; c++) {
        const s = cut.sizes[c];
        sizes.set(s, (sizes.get(s) ?? 0) + 1);
        allSizes.set(s, (allSizes.get(s) ?? 0) + 1);
      }
      const members = membersByCluster(cut.labels, k);
      for (let c = 0; c < k; c++) {
        const start = members.start[c];
        const end = members.start[c + 1];
        if (end - start < 2) continue;
        const positions = Array.from(members.order.subarray(start, end));
        let keeperPos = cut.representatives[c];
        if (keeperOf) {
          const memberIds = positions.map((p) => ids[p]);
          const chosen = keeperOf({ label, members: memberIds, representative: ids[keeperPos] });
          const at = memberIds.indexOf(chosen);
          if (at < 0) throw new RangeError(`keeperOf returned ${chosen}, not a member of its cluster`);
          keeperPos = positions[at];
        }
        unitRow(X, d, keeperPos, norms[keeperPos], unitKeeper);
        const dist = new Map<number, number>();
        let sum = 0;
        for (const p of positions) {
          if (p === keeperPos) continue;
          const v = distanceToUnit(X, d, p, norms[p], unitKeeper);
          dist.set(p, v);
          sum += v;
          if (classMax === null || v > classMax) classMax = v;
        }
        dist.set(keeperPos, 0);
        positions.sort((a, b) =>
          a === keeperPos ? -1 : b === keeperPos ? 1 : dist.get(a)! - dist.get(b)! || ids[a] - ids[b],
        );
        const distances: Record<number, number> = {};
        for (const p of positions) distances[ids[p]] = dist.get(p)!;
        drafts.push({ keeper: ids[keeperPos], members: positions.map((p) => ids[p]), distances, label });
        groupsOver1++;
        classSumOfMeans += sum / (positions.length - 1);
      }
    }
    classStats.push({
      label,
      n,
      k,
      removed: n - k,
      groupsOver1,
      meanDissimilarity: groupsOver1 > 0 ? classSumOfMeans / groupsOver1 : null,
      maxDissimilarity: classMax,
      sizeHistogram: histogram(sizes),
    });
    nAll += n;
    kAll += k;
    groupsAll += groupsOver1;
    sumOfMeans += classSumOfMeans;
    if (classMax !== null && (maxAll === null || classMax > maxAll)) maxAll = classMax;
  }

  drafts.sort((a, b) => b.members.length - a.members.length || a.keeper - b.keeper);
  const groups: Group[] = drafts.map((g, i) => ({
    id: i + 1,
    kind: 'semantic',
    members: g.members,
    keeper: g.keeper,
    distances: g.distances,
    labels: [g.label],
    crossClass: false,
  }));
  return {
    groups,
    classStats,
    sizeHistogram: histogram(allSizes),
    overall: {
      n: nAll,
      k: kAll,
      removed: nAll - kAll,
      groupsOver1: groupsAll,
      meanDissimilarity: groupsAll > 0 ? sumOfMeans / groupsAll : null,
      maxDissimilarity: maxAll,
    },
  };
}

/** The only partition of a class of one file. */
function trivialCut(n: number): ClusterCut {
  if (n !== 1) throw new RangeError(`class of ${n} files has no clustering`);
  return { k: 1, labels: new Int32Array(1), representatives: new Int32Array(1), sizes: Int32Array.of(1) };
}

/** Positions grouped by cluster, increasing within each (counting sort on canonical labels). */
function membersByCluster(labels: Int32Array, k: number): { start: Int32Array; order: Int32Array } {
  const start = new Int32Array(k + 1);
  for (let i = 0; i < labels.length; i++) start[labels[i] + 1]++;
  for (let c = 0; c < k; c++) start[c + 1] += start[c];
  const order = new Int32Array(labels.length);
  const fill = start.slice(0, k);
  for (let i = 0; i < labels.length; i++) order[fill[labels[i]]++] = i;
  return { start, order };
}

/** Row i divided by its norm, as normalizeRows does (a zero row stays zero). */
function unitRow(X: Float32Array, d: number, i: number, norm: number, out: Float64Array): void {
  const o = i * d;
  if (norm === 0) {
    out.fill(0);
    return;
  }
  for (let q = 0; q < d; q++) out[q] = X[o + q] / norm;
}

/** 1 − (row i / ‖row i‖) · unit, clipped to [0, 2]: the same operations, in the same order, as cosine.ts. */
function distanceToUnit(X: Float32Array, d: number, i: number, norm: number, unit: Float64Array): number {
  let s = 0;
  if (norm !== 0) {
    const o = i * d;
    for (let q = 0; q < d; q++) s += (X[o + q] / norm) * unit[q];
  }
  const v = 1 - s;
  return v < 0 ? 0 : v > 2 ? 2 : v;
}
