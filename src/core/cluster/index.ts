/**
 * Per-class semantic deduplication (Birodkar et al. 2019, §3.2): dissimilarity 1 − cos of the
 * embeddings, complete-linkage agglomerative clustering, cut to k = round(keepFraction · n)
 * clusters, keep the member closest to each cluster's centre.
 *
 * The expensive part (distances O(n²d), linkage O(n²)) runs once per class; the result holds only
 * the merge list Z (32·n bytes), so cutting again for another keep fraction costs O(n α(n)) for
 * the labels plus O(n·d) for the representatives — cheap enough to follow a slider.
 */
import { cosineDistances } from './cosine.ts';
import { completeLinkage } from './linkage.ts';
import { cutAtHeight, cutToK } from './cut.ts';
import { representatives } from './representatives.ts';

export { ClusterCancelledError, type ProgressOptions } from './progress.ts';
export { canonicalLabels, clusterCount, cutAtHeight, cutToK, heightWindow, mergesAtOrBelow } from './cut.ts';
export { completeLinkage, mergeHeights } from './linkage.ts';
export { condensedIndex, condensedSize, cosineDistance, cosineDistances, cosineDistancesNormalized, normalizeRows } from './cosine.ts';
export { representatives } from './representatives.ts';
export { parseNpy, writeNpyFloat32, writeNpyFloat64, type NpyArray } from './npy.ts';

export type ClusterStage = 'distances' | 'linkage';

export interface ClusterClassOptions {
  /** Polled every few milliseconds of work; returning true throws ClusterCancelledError. */
  shouldStop?: () => boolean;
  /** Progress within the current stage (distances: pairs done; linkage: merges done). */
  onProgress?: (done: number, total: number, stage: ClusterStage) => void;
  /**
   * The condensed cosine distances of the rows, already computed elsewhere (the tfjs path in
   * src/ml/distances.ts). The linkage overwrites them. Without it they are computed here, in float64.
   */
  distances?: Float64Array;
}

export interface ClusterCut {
  /** Number of clusters. */
  k: number;
  /** Canonical cluster of each item (0..k−1, numbered by smallest member). */
  labels: Int32Array;
  /** The item kept from each cluster, indexed by cluster. */
  representatives: Int32Array;
  /** Members per cluster. */
  sizes: Int32Array;
}

export interface ClassClustering {
  n: number;
  /** scipy-layout linkage matrix, (n−1) × 4 row-major: [a, b, height, size]. */
  Z: Float64Array;
  /** Exactly k clusters (1 ≤ k ≤ n). */
  cut(k: number): ClusterCut;
  /** k = keepCount(n, keepFraction) clusters. */
  cutKeep(keepFraction: number): ClusterCut;
  /** Clusters whose members are all within cosine distance t of each other. */
  cutAtHeight(t: number): ClusterCut;
}

/** Desired subset size: round(keepFraction · n) (halves round up), clamped to [1, n]; 0 if n = 0. */
export function keepCount(n: number, keepFraction: number): number {
  if (n === 0) return 0;
  if (!(keepFraction >= 0 && keepFraction <= 1)) throw new RangeError(`keepFraction ${keepFraction} outside [0, 1]`);
  return Math.min(n, Math.max(1, Math.round(keepFraction * n)));
}

/** Clusters one class's embeddings (n × d, row-major). */
export function clusterClass(
  embeddings: Float32Array | Float64Array,
  n: number,
  d: number,
  options: ClusterClassOptions = {},
): ClassClustering {
  if (embeddings.length !== n * d) throw new RangeError(`clusterClass: ${embeddings.length} values, expected ${n}×${d}`);
  const { shouldStop, onProgress } = options;
  const dists =
    options.distances ??
    cosineDistances(embeddings, n, d, {
      shouldStop,
      onProgress: onProgress && ((done, total) => onProgress(done, total, 'distances')),
    });
  // The distances are not needed after the linkage: let it overwrite them instead of copying.
  const Z = completeLinkage(dists, n, {
    inPlace: true,
    shouldStop,
    onProgress: onProgress && ((done, total) => onProgress(done, total, 'linkage')),
  });

  const describe = (labels: Int32Array): ClusterCut => {
    const reps = representatives(embeddings, n, d, labels);
    const sizes = new Int32Array(reps.length);
    for (let i = 0; i < n; i++) sizes[labels[i]]++;
    return { k: reps.length, labels, representatives: reps, sizes };
  };
  return {
    n,
    Z,
    cut: (k) => describe(cutToK(Z, n, k)),
    cutKeep: (keepFraction) => describe(cutToK(Z, n, keepCount(n, keepFraction))),
    cutAtHeight: (t) => describe(cutAtHeight(Z, n, t)),
  };
}
