/** Shared helpers for the clustering tests: reference data, a seeded RNG, naive oracles. */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseNpy } from '../../../src/core/cluster/npy.ts';

/** /work/shared/data/reference/cluster, found from this file (tests/unit/cluster → repo root → ../shared). */
export const REF_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../shared/data/reference/cluster');

export interface RefK {
  sklearn_labels: number[];
  scipy_fcluster_labels: number[];
  canonical_labels: number[];
  sklearn_equals_scipy: boolean;
  n_clusters_found: number;
  cut_height_window: [number, number];
  representatives: number[];
  cluster_sizes: number[];
}

export interface RefSet {
  name: string;
  n: number;
  dim: number;
  X: Float32Array;
  Z: Float64Array;
  k: Record<string, RefK>;
}

/**
 * Every set with its three files present. manifest.json is optional (the data README mentions
 * it, but not every copy of the data has it), so the sets are found from the *_labels.json files.
 */
export function refSetNames(): string[] {
  return readdirSync(REF_DIR)
    .filter((f) => f.endsWith('_labels.json'))
    .map((f) => f.slice(0, -'_labels.json'.length))
    .sort();
}

export function loadRefSet(name: string): RefSet {
  const labels = JSON.parse(readFileSync(`${REF_DIR}/${name}_labels.json`, 'utf8'));
  const X = parseNpy(readFileSync(`${REF_DIR}/${name}_X.npy`));
  const Z = parseNpy(readFileSync(`${REF_DIR}/${name}_scipy_Z.npy`));
  if (!(X.data instanceof Float32Array) || !(Z.data instanceof Float64Array)) throw new Error('unexpected dtypes');
  if (X.shape[0] !== labels.n || X.shape[1] !== labels.dim) throw new Error('shape mismatch');
  return { name, n: labels.n, dim: labels.dim, X: X.data, Z: Z.data, k: labels.k };
}

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples (Box–Muller). */
export function gaussian(seed: number, count: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const u = 1 - r();
    const v = r();
    const m = Math.sqrt(-2 * Math.log(u));
    out[i] = m * Math.cos(2 * Math.PI * v);
    if (i + 1 < count) out[i + 1] = m * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/** A few Gaussian blobs, so that clusters exist at several scales. */
export function blobs(seed: number, n: number, d: number, centres: number): Float32Array {
  const c = gaussian(seed, centres * d);
  const noise = gaussian(seed + 1, n * d);
  const r = rng(seed + 2);
  const X = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const which = Math.floor(r() * centres);
    const spread = 0.2 + r();
    for (let q = 0; q < d; q++) X[i * d + q] = c[which * d + q] + spread * noise[i * d + q];
  }
  return X;
}

/** Full n × n distance matrix from a condensed one. */
export function squareForm(D: Float64Array, n: number): Float64Array[] {
  const M = Array.from({ length: n }, () => new Float64Array(n));
  let p = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      M[i][j] = M[j][i] = D[p++];
    }
  }
  return M;
}

/**
 * The oracle: textbook O(n³) complete linkage. Keeps explicit member lists and recomputes each
 * cluster distance as the max over member pairs (no Lance–Williams), merges the globally
 * closest pair each round. Returns the partition after each number of merges: partitions[r] is
 * the canonical labelling after r merges.
 */
export function naiveCompleteLinkage(D: Float64Array, n: number): { heights: number[]; partitions: Int32Array[] } {
  const M = squareForm(D, n);
  let clusters: number[][] = Array.from({ length: n }, (_, i) => [i]);
  const heights: number[] = [];
  const partitions: Int32Array[] = [canonicalOf(clusters, n)];
  while (clusters.length > 1) {
    let best = Infinity;
    let bi = -1;
    let bj = -1;
    for (let a = 0; a < clusters.length; a++) {
      for (let b = a + 1; b < clusters.length; b++) {
        let dmax = -Infinity;
        for (const p of clusters[a]) for (const q of clusters[b]) dmax = Math.max(dmax, M[p][q]);
        if (dmax < best) {
          best = dmax;
          bi = a;
          bj = b;
        }
      }
    }
    const merged = [...clusters[bi], ...clusters[bj]];
    clusters = clusters.filter((_, c) => c !== bi && c !== bj);
    clusters.push(merged);
    heights.push(best);
    partitions.push(canonicalOf(clusters, n));
  }
  return { heights, partitions };
}

function canonicalOf(clusters: number[][], n: number): Int32Array {
  const raw = new Int32Array(n);
  clusters.forEach((members, c) => members.forEach((i) => (raw[i] = c)));
  const out = new Int32Array(n);
  const seen = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    if (!seen.has(raw[i])) seen.set(raw[i], seen.size);
    out[i] = seen.get(raw[i])!;
  }
  return out;
}
