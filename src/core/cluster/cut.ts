/**
 * Flat clusters from a linkage matrix Z (scipy layout, rows sorted by height — as completeLinkage
 * and scipy produce), without recomputing anything: moving the "keep" slider re-cuts in O(n α(n)).
 *
 * `cutToK` applies the first n − k merges, so exactly k clusters remain. That is what
 * scikit-learn's AgglomerativeClustering(n_clusters=k) returns (its `_hc_cut` undoes the k − 1
 * last merges). scipy's `fcluster(Z, k, 'maxclust')` agrees whenever merge heights are distinct;
 * with tied heights it picks a height threshold and may return fewer than k clusters.
 *
 * Labels are canonical: clusters are numbered 0, 1, … in order of their smallest member, so two
 * partitions are equal exactly when their label arrays are equal.
 */
import { compressingFind } from './union-find.ts';

/** Checks Z's shape against n; returns the number of merges. */
function merges(Z: Float64Array, n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`cut: bad n ${n}`);
  const m = Math.max(0, n - 1);
  if (Z.length !== 4 * m) throw new RangeError(`cut: Z has ${Z.length / 4} rows, expected ${m}`);
  return m;
}

/** Labels after applying the first `applied` merges of Z (union-find on the leaves). */
function applyMerges(Z: Float64Array, n: number, applied: number): Int32Array {
  const parent = new Int32Array(n);
  for (let i = 0; i < n; i++) parent[i] = i;
  // A leaf of each cluster id (ids ≥ n are merges), so rows naming merged clusters can be
  // resolved to the union-find without materialising members.
  const leafOf = new Int32Array(2 * n - 1);
  for (let i = 0; i < n; i++) leafOf[i] = i;
  const find = compressingFind(parent);
  for (let r = 0; r < applied; r++) {
    const a = Z[4 * r];
    const b = Z[4 * r + 1];
    if (!(Number.isInteger(a) && Number.isInteger(b) && a >= 0 && b >= 0 && a < n + r && b < n + r)) {
      throw new RangeError(`cut: row ${r} of Z names clusters ${a}, ${b} that do not exist yet`);
    }
    const la = leafOf[a];
    const ra = find(la);
    const rb = find(leafOf[b]);
    // Union by index: the smaller root wins. Paths stay short because find compresses them.
    if (ra < rb) parent[rb] = ra;
    else parent[ra] = rb;
    leafOf[n + r] = la;
  }
  // Canonical numbering: clusters in order of their smallest member.
  const labels = new Int32Array(n);
  const labelOfRoot = new Int32Array(n).fill(-1);
  let next = 0;
  for (let i = 0; i < n; i++) {
    const root = find(i);
    if (labelOfRoot[root] < 0) labelOfRoot[root] = next++;
    labels[i] = labelOfRoot[root];
  }
  return labels;
}

/** Exactly k clusters (1 ≤ k ≤ n): the partition after the first n − k merges. */
export function cutToK(Z: Float64Array, n: number, k: number): Int32Array {
  merges(Z, n);
  if (n === 0) return new Int32Array(0);
  if (!Number.isInteger(k) || k < 1 || k > n) throw new RangeError(`cutToK: k = ${k} outside [1, ${n}]`);
  return applyMerges(Z, n, n - k);
}

/**
 * Clusters formed by every merge at height ≤ t (scipy's fcluster(Z, t, 'distance')). For complete
 * linkage every pair inside a cluster is then at distance ≤ t.
 */
export function cutAtHeight(Z: Float64Array, n: number, t: number): Int32Array {
  return applyMerges(Z, n, mergesAtOrBelow(Z, n, t));
}

/** Number of merges at height ≤ t (a prefix of Z, whose heights are sorted). */
export function mergesAtOrBelow(Z: Float64Array, n: number, t: number): number {
  const m = merges(Z, n);
  let lo = 0;
  let hi = m;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (Z[4 * mid + 2] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Heights t for which cutAtHeight gives exactly k clusters: lo ≤ t < hi (lo is the last applied
 * merge's height, 0 when none; hi the next one's, Infinity when k = 1). Empty (lo ≥ hi) when
 * tied heights make k unreachable by a height cut.
 */
export function heightWindow(Z: Float64Array, n: number, k: number): [number, number] {
  merges(Z, n);
  if (!Number.isInteger(k) || k < 1 || k > n) throw new RangeError(`heightWindow: k = ${k} outside [1, ${n}]`);
  const r = n - k; // merges applied
  return [r > 0 ? Z[4 * (r - 1) + 2] : 0, r < n - 1 ? Z[4 * r + 2] : Infinity];
}

/** Renumbers any labelling canonically (clusters in order of their smallest member). */
export function canonicalLabels(labels: ArrayLike<number>): Int32Array {
  const out = new Int32Array(labels.length);
  const seen = new Map<number, number>();
  for (let i = 0; i < labels.length; i++) {
    let c = seen.get(labels[i]);
    if (c === undefined) {
      c = seen.size;
      seen.set(labels[i], c);
    }
    out[i] = c;
  }
  return out;
}

/** Number of clusters in a canonical labelling (max label + 1). */
export function clusterCount(labels: Int32Array): number {
  let k = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] + 1 > k) k = labels[i] + 1;
  return k;
}
