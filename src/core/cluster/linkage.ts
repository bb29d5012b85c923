/**
 * Complete-linkage agglomerative clustering, O(n²) time, on a condensed distance matrix, with
 * output identical to `scipy.cluster.hierarchy.linkage(y, method='complete')` — including how
 * ties are broken, so that the flat clusters agree with scipy and scikit-learn at every k.
 *
 * Algorithm: the nearest-neighbour chain (Murtagh 1983; scipy's `_hierarchy.nn_chain`). Complete
 * linkage is reducible — merging i and j never brings the union closer to any k than the nearer
 * of i and j was — so following nearest neighbours from any cluster must end at a pair of
 * reciprocal nearest neighbours, and merging that pair is always correct. Each merge costs one
 * O(n) Lance–Williams update, d(k, i∪j) = max(d(k, i), d(k, j)), done in place in the condensed
 * matrix; each chain step is one O(n) scan; the chain grows at most 3n times in total.
 *
 * Scipy compatibility — the details that decide ties (read off scipy's Cython, reproduced here):
 * 1. Clusters live in "slots" 0..n−1. Merging slots x < y stores the union in slot y and frees
 *    slot x. (Slot s therefore always holds the cluster containing point s.)
 * 2. An empty chain restarts at the lowest occupied slot.
 * 3. The nearest neighbour of the chain's top x starts as the previous chain element at its
 *    current distance; a scan in increasing slot order replaces it only on a strictly smaller
 *    distance (so: previous element first, then the lowest slot among equal distances).
 * 4. Merges are recorded in the order they happen as (x, y, height, size) with slots x < y; the
 *    list is then stably sorted by height, and cluster ids are assigned in that sorted order:
 *    leaves are 0..n−1, the i-th merge creates n+i, and each row names its two children as
 *    (smaller id, larger id) — scipy's `label()`, a union-find over the sorted rows.
 * With distinct distances none of this matters (the hierarchy is unique); with ties (duplicate
 * images give many exact zeros) it decides which of several valid dendrograms comes out.
 *
 * The result Z is a Float64Array of (n−1) rows × 4, row-major, exactly scipy's linkage matrix:
 * [a, b, height, size]. Heights are non-decreasing (complete linkage is monotone).
 */
import { condensedRowStart, condensedSize } from './cosine.ts';
import { ClusterCancelledError, POLL_WORK, type ProgressOptions } from './progress.ts';
import { compressingFind } from './union-find.ts';

export interface LinkageOptions extends ProgressOptions {
  /**
   * Work on the caller's matrix instead of a copy. The Lance–Williams updates overwrite it, so
   * it is garbage afterwards; saves n(n−1)/2 · 8 bytes (100 MB at n = 5,000).
   */
  inPlace?: boolean;
}

/** Complete linkage of n items from their condensed distance matrix; scipy's Z. */
export function completeLinkage(dists: Float64Array, n: number, options: LinkageOptions = {}): Float64Array {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`completeLinkage: bad n ${n}`);
  if (dists.length !== condensedSize(n)) {
    throw new RangeError(`completeLinkage: ${dists.length} distances, expected n(n−1)/2 = ${condensedSize(n)}`);
  }
  // scipy raises on non-finite distances too; NaN would make every `<` false and the chain loop.
  for (let p = 0; p < dists.length; p++) {
    if (!Number.isFinite(dists[p])) throw new RangeError(`completeLinkage: non-finite distance at ${p}`);
  }
  const Z = new Float64Array(Math.max(0, n - 1) * 4);
  if (n < 2) return Z;
  const D = options.inPlace ? dists : dists.slice();
  const { shouldStop, onProgress } = options;

  const rowStart = new Float64Array(n);
  for (let i = 0; i < n; i++) rowStart[i] = condensedRowStart(n, i);
  const size = new Int32Array(n).fill(1);
  // Occupied slots in increasing order: scanning this list instead of all n slots skips freed
  // ones without changing the scan order (and hence the tie-breaking) of rule 3.
  const active = new Int32Array(n);
  for (let i = 0; i < n; i++) active[i] = i;
  let nActive = n;
  const chain = new Int32Array(n);
  let chainLength = 0;
  // Merges in the order they happen (slot x, slot y, height, size).
  const raw = new Float64Array((n - 1) * 4);
  let work = 0;

  for (let m = 0; m < n - 1; m++) {
    if (chainLength === 0) {
      chain[0] = active[0];
      chainLength = 1;
    }
    let x = 0;
    let y = 0;
    let currentMin = Infinity;
    for (;;) {
      x = chain[chainLength - 1];
      if (chainLength > 1) {
        y = chain[chainLength - 2];
        currentMin = x < y ? D[rowStart[x] + y] : D[rowStart[y] + x];
      } else {
        currentMin = Infinity;
      }
      // Scan the occupied slots in increasing order: first those below x (column x of their
      // rows), then those above x (row x, contiguous).
      let t = 0;
      for (; t < nActive; t++) {
        const i = active[t];
        if (i >= x) break;
        const dist = D[rowStart[i] + x];
        if (dist < currentMin) {
          currentMin = dist;
          y = i;
        }
      }
      const rx = rowStart[x];
      for (; t < nActive; t++) {
        const i = active[t];
        if (i === x) continue;
        const dist = D[rx + i];
        if (dist < currentMin) {
          currentMin = dist;
          y = i;
        }
      }
      work += nActive;
      if (work >= POLL_WORK) {
        work = 0;
        if (shouldStop?.()) throw new ClusterCancelledError();
        onProgress?.(m, n - 1);
      }
      if (chainLength > 1 && y === chain[chainLength - 2]) break;
      chain[chainLength++] = y;
    }

    // x and y are reciprocal nearest neighbours: merge them and pop both off the chain.
    chainLength -= 2;
    if (x > y) {
      const s = x;
      x = y;
      y = s;
    }
    const nx = size[x];
    const ny = size[y];
    raw[4 * m] = x;
    raw[4 * m + 1] = y;
    raw[4 * m + 2] = currentMin;
    raw[4 * m + 3] = nx + ny;
    size[x] = 0;
    size[y] = nx + ny;

    // Lance–Williams for complete linkage: d(i, x∪y) = max(d(i, x), d(i, y)), stored at (i, y).
    const rx = rowStart[x];
    const ry = rowStart[y];
    let t = 0;
    for (; t < nActive; t++) {
      const i = active[t];
      if (i === y) continue;
      if (i === x) continue;
      const ix = i < x ? rowStart[i] + x : rx + i;
      const iy = i < y ? rowStart[i] + y : ry + i;
      const a = D[ix];
      const b = D[iy];
      D[iy] = a > b ? a : b;
    }
    work += nActive;

    // Free slot x, keeping `active` sorted.
    let p = 0;
    while (active[p] !== x) p++;
    active.copyWithin(p, p + 1, nActive);
    nActive--;
  }
  onProgress?.(n - 1, n - 1);
  return sortAndLabel(raw, n);
}

/**
 * Rule 4: stable sort of the raw merges by height, then scipy's `label()`: walk the sorted rows
 * with a union-find whose roots are cluster ids, each row's children being the current roots of
 * its two slots.
 */
function sortAndLabel(raw: Float64Array, n: number): Float64Array {
  const m = n - 1;
  const order = Array.from({ length: m }, (_, i) => i);
  // Array.prototype.sort is stable (ES2019); the index tie-break makes that explicit.
  order.sort((p, q) => raw[4 * p + 2] - raw[4 * q + 2] || p - q);

  const parent = new Int32Array(2 * n - 1);
  for (let i = 0; i < parent.length; i++) parent[i] = i;
  const clusterSize = new Int32Array(2 * n - 1).fill(1);
  const find = compressingFind(parent);

  const Z = new Float64Array(m * 4);
  for (let r = 0; r < m; r++) {
    const o = order[r];
    const ra = find(raw[4 * o]);
    const rb = find(raw[4 * o + 1]);
    const id = n + r;
    parent[ra] = id;
    parent[rb] = id;
    clusterSize[id] = clusterSize[ra] + clusterSize[rb];
    Z[4 * r] = ra < rb ? ra : rb;
    Z[4 * r + 1] = ra < rb ? rb : ra;
    Z[4 * r + 2] = raw[4 * o + 2];
    Z[4 * r + 3] = clusterSize[id];
  }
  return Z;
}

/** Merge heights (column 2 of Z), for inspection and plotting. */
export function mergeHeights(Z: Float64Array): Float64Array {
  const m = Z.length / 4;
  const h = new Float64Array(m);
  for (let r = 0; r < m; r++) h[r] = Z[4 * r + 2];
  return h;
}
