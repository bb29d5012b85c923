/**
 * Complete linkage cut to k clusters without the full distance matrix, for classes too large for
 * it (n = 50,000 needs 10 GB in float64).
 *
 * Why it is exact: a complete-linkage cluster formed at height h has every pair of its members
 * within h of each other, so all of them lie in one connected component of the graph "cosine
 * distance ≤ t" for any t ≥ h; two clusters in different components are more than t apart and
 * merge only above t. Hence the merges of the full dendrogram at heights ≤ t are exactly the
 * merges ≤ t of complete linkage run on each component separately, and when there are at least
 * n − k of them they contain the cut to k clusters. A component's pairs above t are unknown; they
 * are set to FAR (> any cosine distance), which changes nothing at or below t: a cluster pair is
 * ≤ t apart only if all its member pairs are, and those are the real numbers.
 *
 * Ties. With distinct distances the merges ≤ t are unique, so the partition is the full run's
 * whatever the order of work. Tie-breaking is where this can differ from the full NN-chain (the
 * full run enters a component through whichever member its chain reaches first, and orders tied
 * heights of different components by when it happened to meet them): exact duplicates are covered
 * (a group of identical rows merges within itself before anything else and is interchangeable
 * inside), a cut that falls inside a run of equal heights is reported (`tiedAtCut`), and exactly
 * equal distances between different non-duplicate vectors are not covered — the same caveat as
 * src/ml/distances.ts's refinement. Each component keeps its members in increasing index order,
 * so its slots are scanned in the full run's relative order and the common cases break alike.
 *
 * Memory is O(edges + n + largest component²): a component's condensed matrix is the only
 * quadratic object, and `maxComponent` caps it.
 */
import { condensedRowStart, condensedSize } from './cosine.ts';
import { completeLinkage } from './linkage.ts';
import { ClusterCancelledError, type ProgressOptions } from './progress.ts';
import { representatives } from './representatives.ts';
import { compressingFind } from './union-find.ts';
import { keepCount, type ClassClustering, type ClusterCut } from './index.ts';

/** Stands for "more than t": above every cosine distance (≤ 2), finite so the linkage accepts it. */
const FAR = 4;

/**
 * Pairs (i < j) with their cosine distance, in float64 as cosine.ts computes them. The list holds
 * every pair at distance < `below` and no other; order does not matter.
 */
export interface EdgeList {
  i: Int32Array;
  j: Int32Array;
  d: Float64Array;
  count: number;
  below: number;
}

export interface Components {
  /** Component of each item, numbered 0, 1, … in order of smallest member. */
  component: Int32Array;
  count: number;
  sizes: Int32Array;
  largest: number;
}

/** Raised when a component at the chosen t would need a condensed matrix over the cap. */
export class GiantComponentError extends Error {
  constructor(
    readonly size: number,
    readonly t: number,
    readonly cap: number,
  ) {
    super(`a component of ${size} items at t = ${t} exceeds the cap of ${cap} (its matrix would not fit)`);
    this.name = 'GiantComponentError';
  }
}

/** Connected components of the graph of edges with d ≤ t. */
export function thresholdComponents(n: number, edges: EdgeList, t: number): Components {
  const parent = new Int32Array(n);
  for (let v = 0; v < n; v++) parent[v] = v;
  const find = compressingFind(parent);
  for (let e = 0; e < edges.count; e++) {
    if (!(edges.d[e] <= t)) continue;
    const a = find(edges.i[e]);
    const b = find(edges.j[e]);
    if (a < b) parent[b] = a;
    else if (b < a) parent[a] = b;
  }
  const component = new Int32Array(n);
  const idOfRoot = new Int32Array(n).fill(-1);
  let count = 0;
  for (let v = 0; v < n; v++) {
    const r = find(v);
    if (idOfRoot[r] < 0) idOfRoot[r] = count++;
    component[v] = idOfRoot[r];
  }
  const sizes = new Int32Array(count);
  let largest = 0;
  for (let v = 0; v < n; v++) largest = Math.max(largest, ++sizes[component[v]]);
  return { component, count, sizes, largest };
}

/**
 * The merges of the full complete-linkage dendrogram at heights ≤ t, in the order of its sorted
 * linkage matrix (ties: by component, then by the component's own order). Each merge is given by
 * one leaf of either side, which is all a cut needs.
 */
export interface ForestLinkage {
  n: number;
  t: number;
  count: number;
  left: Int32Array;
  right: Int32Array;
  heights: Float64Array;
  components: number;
  largestComponent: number;
  /** Edges (pairs ≤ t) the components were built from. */
  edges: number;
}

export interface ForestOptions extends ProgressOptions {
  /** Largest component clustered (default 8,192: a 268 MB condensed matrix); above it GiantComponentError. */
  maxComponent?: number;
}

export const DEFAULT_MAX_COMPONENT = 8192;

/** Complete linkage inside each component of the t-graph; merges ≤ t (see ForestLinkage). */
export function linkageBelow(n: number, edges: EdgeList, t: number, options: ForestOptions = {}): ForestLinkage {
  if (!(t < edges.below)) throw new RangeError(`linkageBelow: t = ${t} is not below the edge list's bound ${edges.below}`);
  const cap = options.maxComponent ?? DEFAULT_MAX_COMPONENT;
  const { shouldStop, onProgress } = options;
  const comps = thresholdComponents(n, edges, t);
  if (comps.largest > cap) throw new GiantComponentError(comps.largest, t, cap);

  // Members by component, increasing index within each (counting sort), and each item's slot.
  const start = new Int32Array(comps.count + 1);
  for (let v = 0; v < n; v++) start[comps.component[v] + 1]++;
  for (let c = 0; c < comps.count; c++) start[c + 1] += start[c];
  const members = new Int32Array(n);
  const slot = new Int32Array(n);
  {
    const fill = start.slice(0, comps.count);
    for (let v = 0; v < n; v++) {
      const c = comps.component[v];
      slot[v] = fill[c] - start[c];
      members[fill[c]++] = v;
    }
  }
  // Edges ≤ t by component (counting sort again), so each matrix is filled from its own.
  const edgeStart = new Int32Array(comps.count + 1);
  let used = 0;
  for (let e = 0; e < edges.count; e++) {
    if (edges.d[e] <= t) {
      edgeStart[comps.component[edges.i[e]] + 1]++;
      used++;
    }
  }
  for (let c = 0; c < comps.count; c++) edgeStart[c + 1] += edgeStart[c];
  const byComponent = new Int32Array(used);
  {
    const fill = edgeStart.slice(0, comps.count);
    for (let e = 0; e < edges.count; e++) if (edges.d[e] <= t) byComponent[fill[comps.component[edges.i[e]]]++] = e;
  }

  // One buffer for the largest matrix, reused: every component's matrix is a prefix of it.
  const buffer = new Float64Array(condensedSize(comps.largest));
  const leafOf = new Int32Array(Math.max(1, 2 * comps.largest - 1));
  const maxMerges = n - comps.count;
  const rawLeft = new Int32Array(maxMerges);
  const rawRight = new Int32Array(maxMerges);
  const rawHeight = new Float64Array(maxMerges);
  let count = 0;
  let pairsDone = 0;
  let pairsTotal = 0;
  for (let c = 0; c < comps.count; c++) pairsTotal += condensedSize(comps.sizes[c]);

  for (let c = 0; c < comps.count; c++) {
    const m = comps.sizes[c];
    if (m < 2) continue;
    if (shouldStop?.()) throw new ClusterCancelledError();
    const D = buffer.subarray(0, condensedSize(m));
    D.fill(FAR);
    for (let p = edgeStart[c]; p < edgeStart[c + 1]; p++) {
      const e = byComponent[p];
      // Slots keep the items' order, so i < j gives slot(i) < slot(j).
      D[condensedRowStart(m, slot[edges.i[e]]) + slot[edges.j[e]]] = edges.d[e];
    }
    const Z = completeLinkage(D, m, { inPlace: true });
    const base = start[c];
    for (let s = 0; s < m; s++) leafOf[s] = s;
    for (let r = 0; r < m - 1; r++) {
      const h = Z[4 * r + 2];
      if (!(h <= t)) break; // rows are sorted by height: the rest are above t
      const a = leafOf[Z[4 * r]];
      leafOf[m + r] = a;
      rawLeft[count] = members[base + a];
      rawRight[count] = members[base + leafOf[Z[4 * r + 1]]];
      rawHeight[count] = h;
      count++;
    }
    pairsDone += condensedSize(m);
    onProgress?.(pairsDone, pairsTotal);
  }

  // Stable sort by height; components were visited in order of smallest member.
  const order = Array.from({ length: count }, (_, r) => r);
  order.sort((p, q) => rawHeight[p] - rawHeight[q] || p - q);
  const left = new Int32Array(count);
  const right = new Int32Array(count);
  const heights = new Float64Array(count);
  for (let r = 0; r < count; r++) {
    left[r] = rawLeft[order[r]];
    right[r] = rawRight[order[r]];
    heights[r] = rawHeight[order[r]];
  }
  onProgress?.(pairsTotal, pairsTotal);
  return { n, t, count, left, right, heights, components: comps.count, largestComponent: comps.largest, edges: used };
}

/** Canonical labels after the first `applied` merges of a forest. */
function applyForest(f: ForestLinkage, applied: number): Int32Array {
  const { n } = f;
  const parent = new Int32Array(n);
  for (let v = 0; v < n; v++) parent[v] = v;
  const find = compressingFind(parent);
  for (let r = 0; r < applied; r++) {
    const a = find(f.left[r]);
    const b = find(f.right[r]);
    if (a < b) parent[b] = a;
    else parent[a] = b;
  }
  const labels = new Int32Array(n);
  const labelOfRoot = new Int32Array(n).fill(-1);
  let next = 0;
  for (let v = 0; v < n; v++) {
    const root = find(v);
    if (labelOfRoot[root] < 0) labelOfRoot[root] = next++;
    labels[v] = labelOfRoot[root];
  }
  return labels;
}

export interface ForestCut {
  /** Canonical labels, as cutToK numbers them. */
  labels: Int32Array;
  /** Height of the last merge applied (0 when none). */
  height: number;
  /**
   * The next merge of the full dendrogram has the same height as the last one applied: which of
   * the tied merges are in the cut then depends on the full run's order of work, which this does
   * not reproduce (see the module comment).
   */
  tiedAtCut: boolean;
}

/** Whether the forest holds the first n − k merges, i.e. can cut to k clusters. */
export function coversK(f: ForestLinkage, k: number): boolean {
  return Number.isInteger(k) && k >= 1 && k <= f.n && f.n - k <= f.count;
}

/** Exactly k clusters: cutToK of the full dendrogram (throws when the forest does not cover k). */
export function cutForest(f: ForestLinkage, k: number): ForestCut {
  if (f.n === 0) return { labels: new Int32Array(0), height: 0, tiedAtCut: false };
  if (!coversK(f, k)) throw new RangeError(`cutForest: k = ${k} needs ${f.n - k} merges, the forest has ${f.count} (at t = ${f.t})`);
  const r = f.n - k;
  const height = r > 0 ? f.heights[r - 1] : 0;
  // Merges beyond the forest are above t ≥ height, so only one inside it can tie.
  const tiedAtCut = r > 0 && r < f.count && f.heights[r] === height;
  return { labels: applyForest(f, r), height, tiedAtCut };
}

/** cutAtHeight of the full dendrogram, for h ≤ t. */
export function cutForestAtHeight(f: ForestLinkage, h: number): Int32Array {
  if (!(h <= f.t)) throw new RangeError(`cutForestAtHeight: ${h} is above the forest's t = ${f.t}`);
  let applied = 0;
  while (applied < f.count && f.heights[applied] <= h) applied++;
  return applyForest(f, applied);
}

/**
 * The forest's merges as the first rows of a scipy linkage matrix ([a, b, height, size], cluster
 * ids n + row), which are the full run's first rows when heights ≤ t are distinct.
 */
export function forestZ(f: ForestLinkage): Float64Array {
  const { n } = f;
  const parent = new Int32Array(n);
  for (let v = 0; v < n; v++) parent[v] = v;
  const find = compressingFind(parent);
  const idOf = new Int32Array(n);
  const sizeOf = new Int32Array(n).fill(1);
  for (let v = 0; v < n; v++) idOf[v] = v;
  const Z = new Float64Array(4 * f.count);
  for (let r = 0; r < f.count; r++) {
    const a = find(f.left[r]);
    const b = find(f.right[r]);
    const ia = idOf[a];
    const ib = idOf[b];
    const root = a < b ? a : b;
    parent[a < b ? b : a] = root;
    sizeOf[root] = sizeOf[a] + sizeOf[b];
    idOf[root] = n + r;
    Z[4 * r] = Math.min(ia, ib);
    Z[4 * r + 1] = Math.max(ia, ib);
    Z[4 * r + 2] = f.heights[r];
    Z[4 * r + 3] = sizeOf[root];
  }
  return Z;
}

/** Options of clusterFromEdges. */
export interface GrowOptions extends ForestOptions {
  /** Told each t tried (with the merges ≤ t it gave) before the one that covers. */
  onTry?: (t: number, merges: number, largestComponent: number) => void;
}

/**
 * The smallest forest (growing t) whose merges cover the cut to k, or null when even the largest
 * t the edges allow (just below edges.below) does not: the caller then needs more edges. t is
 * tried at the distance of the (n − k)-th, then 2×, 4×, … -th smallest edge: a cut needing r
 * merges needs at least r edges, and doubling bounds the wasted work at about the final try's.
 * Throws GiantComponentError when a component outgrows the cap before the cut is covered.
 */
export function clusterFromEdges(n: number, edges: EdgeList, k: number, options: GrowOptions = {}): ForestLinkage | null {
  if (!Number.isInteger(k) || k < 1 || k > Math.max(1, n)) throw new RangeError(`clusterFromEdges: k = ${k} outside [1, ${n}]`);
  const need = n - k;
  if (need <= 0) return linkageBelow(n, { ...edges, count: 0, below: Infinity }, -Infinity, options);
  if (edges.count < need) return null;
  const sorted = edges.d.slice(0, edges.count).sort();
  for (let c = need; ; c *= 2) {
    const t = sorted[Math.min(c, edges.count) - 1];
    const forest = linkageBelow(n, edges, t, options);
    if (forest.count >= need) return forest;
    options.onTry?.(t, forest.count, forest.largestComponent);
    if (c >= edges.count) return null;
  }
}

/**
 * Every pair of a condensed matrix (scipy layout) below `below`: the edge list of a class small
 * enough for the full matrix, for tests and small inputs.
 */
export function edgesFromCondensed(D: Float64Array, n: number, below: number): EdgeList {
  if (D.length !== condensedSize(n)) throw new RangeError(`edgesFromCondensed: ${D.length} distances for n = ${n}`);
  let count = 0;
  for (let p = 0; p < D.length; p++) if (D[p] < below) count++;
  const out: EdgeList = { i: new Int32Array(count), j: new Int32Array(count), d: new Float64Array(count), count, below };
  let e = 0;
  for (let i = 0; i < n - 1; i++) {
    const r = condensedRowStart(n, i);
    for (let j = i + 1; j < n; j++) {
      const v = D[r + j];
      if (v < below) {
        out.i[e] = i;
        out.j[e] = j;
        out.d[e++] = v;
      }
    }
  }
  return out;
}

/** ‖row‖ in float64, summed as normalizeRows sums it, so x / norm is its unit row bit for bit. */
export function rowNormsOf(X: ArrayLike<number>, n: number, d: number): Float64Array {
  if (X.length !== n * d) throw new RangeError(`rowNormsOf: ${X.length} values, expected ${n}×${d}`);
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    let ss = 0;
    for (let q = 0; q < d; q++) ss += X[o + q] * X[o + q];
    if (!Number.isFinite(ss)) throw new RangeError(`rowNormsOf: row ${i} has a non-finite value`);
    norms[i] = Math.sqrt(ss);
  }
  return norms;
}

/**
 * A ClassClustering over a forest, for code that takes one (semanticCut): cuts to k and at
 * heights it covers are the full run's; others throw. `Z` holds only the forest's rows (forestZ),
 * not the n − 1 of a full linkage matrix.
 */
export function forestClustering(f: ForestLinkage, X: ArrayLike<number>, d: number): ClassClustering {
  const { n } = f;
  const describe = (labels: Int32Array): ClusterCut => {
    const reps = representatives(X, n, d, labels);
    const sizes = new Int32Array(reps.length);
    for (let i = 0; i < n; i++) sizes[labels[i]]++;
    return { k: reps.length, labels, representatives: reps, sizes };
  };
  return {
    n,
    Z: forestZ(f),
    cut: (k) => describe(cutForest(f, k).labels),
    cutKeep: (keepFraction) => describe(cutForest(f, keepCount(n, keepFraction)).labels),
    cutAtHeight: (t) => describe(cutForestAtHeight(f, t)),
  };
}
