/**
 * Properties on small random inputs (n ≤ 40), against a textbook O(n³) complete linkage
 * (support.ts `naiveCompleteLinkage`) and against the definitions themselves.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ClusterCancelledError, clusterClass, keepCount } from '../../../src/core/cluster/index.ts';
import { condensedIndex, cosineDistance, cosineDistances, normalizeRows } from '../../../src/core/cluster/cosine.ts';
import { completeLinkage } from '../../../src/core/cluster/linkage.ts';
import { clusterCount, cutAtHeight, cutToK } from '../../../src/core/cluster/cut.ts';
import { representatives } from '../../../src/core/cluster/representatives.ts';
import { blobs, gaussian, naiveCompleteLinkage } from './support.ts';

/** Data in general position (seeded Gaussian blobs): all distances distinct, no ties to break. */
const generic = fc
  .record({
    n: fc.integer({ min: 1, max: 40 }),
    d: fc.integer({ min: 2, max: 12 }), // d = 1 is not general position: all vectors are (anti)parallel
    centres: fc.integer({ min: 1, max: 6 }),
    seed: fc.integer({ min: 0, max: 0x7fffffff }),
  })
  .map(({ n, d, centres, seed }) => ({ n, d, X: blobs(seed, n, d, centres) }));

/** Tie-heavy data: tiny integer vectors, so duplicates, zero vectors and equal distances abound. */
const tied = fc
  .record({ n: fc.integer({ min: 1, max: 40 }), d: fc.integer({ min: 1, max: 3 }) })
  .chain(({ n, d }) =>
    fc
      .array(fc.integer({ min: -2, max: 2 }), { minLength: n * d, maxLength: n * d })
      .map((v) => ({ n, d, X: Float32Array.from(v) })),
  );

const anyData = fc.oneof(generic, tied);

/** The naive O(n²·d) distance, straight from the definition (for the distance tests). */
function naiveDistance(X: Float32Array, d: number, i: number, j: number): number {
  return cosineDistance(X.subarray(i * d, (i + 1) * d), X.subarray(j * d, (j + 1) * d));
}

/** Members of each cluster id of Z (leaves for ids < n). */
function membersOfIds(Z: Float64Array, n: number): number[][] {
  const members: number[][] = Array.from({ length: n }, (_, i) => [i]);
  for (let r = 0; r < n - 1; r++) members.push([...members[Z[4 * r]], ...members[Z[4 * r + 1]]]);
  return members;
}

describe('distances', () => {
  test('condensed matrix = pairwise definition; blocked loops change nothing', () => {
    fc.assert(
      fc.property(anyData, ({ n, d, X }) => {
        const D = cosineDistances(X, n, d);
        expect(D.length).toBe((n * (n - 1)) / 2);
        for (let i = 0; i < n; i++) {
          for (let j = i + 1; j < n; j++) {
            const want = naiveDistance(X, d, i, j);
            expect(D[condensedIndex(n, i, j)]).toBe(want);
            expect(D[condensedIndex(n, j, i)]).toBe(want);
          }
        }
      }),
    );
  });

  test('tiles and k-blocks at their edges (n = 137, d = 300): bit-identical to the pairwise loop', () => {
    const n = 137;
    const d = 300; // > one 256-wide k-block; n > one 128-wide column block; n − 1 not a multiple of 4
    const X = gaussian(7, n * d);
    const U = normalizeRows(X, n, d);
    const D = cosineDistances(X, n, d);
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += U[i * d + k] * U[j * d + k];
        expect(D[condensedIndex(n, i, j)]).toBe(Math.min(2, Math.max(0, 1 - s)));
      }
    }
  });

  test('zero vectors are at distance 1 from everything; duplicates at 0; range [0, 2]', () => {
    const X = Float32Array.from([0, 0, 1, 2, 2, 4, -1, -2, 0, 0]);
    const D = cosineDistances(X, 5, 2);
    expect(D[condensedIndex(5, 0, 1)]).toBe(1);
    expect(D[condensedIndex(5, 0, 4)]).toBe(1); // two zero vectors
    // Parallel / opposite: 0 and 2 up to rounding (dot of a unit vector with itself is 1 ± 1 ulp,
    // as in scipy and sklearn).
    expect(D[condensedIndex(5, 1, 2)]).toBeCloseTo(0, 15);
    expect(D[condensedIndex(5, 1, 3)]).toBeCloseTo(2, 15);
    for (const v of D) expect(v >= 0 && v <= 2).toBe(true);
    expect(() => cosineDistances(Float32Array.from([1, NaN]), 1, 2)).toThrow(RangeError);
  });
});

describe('linkage', () => {
  test('NN-chain = naive O(n³) complete linkage: same heights, same partition at every k', () => {
    fc.assert(
      fc.property(generic, ({ n, d, X }) => {
        const D = cosineDistances(X, n, d);
        const Z = completeLinkage(D, n);
        const oracle = naiveCompleteLinkage(D, n);
        // Heights are maxima of entries of D on both sides: exactly equal, not just close.
        expect(Array.from({ length: n - 1 }, (_, r) => Z[4 * r + 2])).toEqual(oracle.heights);
        for (let k = 1; k <= n; k++) expect(cutToK(Z, n, k)).toEqual(oracle.partitions[n - k]);
      }),
      { numRuns: 150 },
    );
  });

  test('any data, ties included: a valid complete-linkage dendrogram', () => {
    fc.assert(
      fc.property(anyData, ({ n, d, X }) => {
        const D = cosineDistances(X, n, d);
        const Z = completeLinkage(D, n);
        expect(Z.length).toBe(4 * Math.max(0, n - 1));
        const members = membersOfIds(Z, n);
        for (let r = 0; r < n - 1; r++) {
          const [a, b, h, size] = [Z[4 * r], Z[4 * r + 1], Z[4 * r + 2], Z[4 * r + 3]];
          // scipy conventions: children (smaller id, larger id), both already formed; sizes add up.
          expect(a).toBeLessThan(b);
          expect(b).toBeLessThan(n + r);
          expect(size).toBe(members[a].length + members[b].length);
          // Heights non-decreasing.
          if (r > 0) expect(h).toBeGreaterThanOrEqual(Z[4 * (r - 1) + 2]);
          // The height is the complete-linkage distance of the two children.
          let dmax = -Infinity;
          for (const p of members[a]) for (const q of members[b]) dmax = Math.max(dmax, D[condensedIndex(n, p, q)]);
          expect(h).toBe(dmax);
        }
        // Every leaf and merge used exactly once.
        const used = new Set<number>();
        for (let r = 0; r < n - 1; r++) used.add(Z[4 * r]).add(Z[4 * r + 1]);
        expect(used.size).toBe(Math.max(0, 2 * n - 2));
      }),
      { numRuns: 200 },
    );
  });
});

describe('cuts', () => {
  test('cutToK gives exactly k canonical clusters, nested as k decreases', () => {
    fc.assert(
      fc.property(anyData, ({ n, d, X }) => {
        const Z = completeLinkage(cosineDistances(X, n, d), n);
        let finer: Int32Array | null = null;
        for (let k = n; k >= 1; k--) {
          const labels = cutToK(Z, n, k);
          expect(clusterCount(labels)).toBe(k);
          // Canonical: the first occurrence of each label is in increasing order.
          let next = 0;
          for (let i = 0; i < n; i++) {
            expect(labels[i]).toBeLessThanOrEqual(next);
            if (labels[i] === next) next++;
          }
          // Nested: items together at k + 1 stay together at k.
          if (finer) for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) if (finer[i] === finer[j]) expect(labels[i]).toBe(labels[j]);
          finer = labels;
        }
      }),
    );
  });

  test('cutAtHeight(t): every pair inside a cluster is within t (complete-linkage guarantee)', () => {
    fc.assert(
      fc.property(anyData, fc.double({ min: 0, max: 2, noNaN: true }), ({ n, d, X }, tRandom) => {
        const D = cosineDistances(X, n, d);
        const Z = completeLinkage(D, n);
        const thresholds = [tRandom, 0, 2, ...Array.from({ length: n - 1 }, (_, r) => Z[4 * r + 2])];
        for (const t of thresholds) {
          const labels = cutAtHeight(Z, n, t);
          for (let i = 0; i < n; i++) {
            for (let j = i + 1; j < n; j++) if (labels[i] === labels[j]) expect(D[condensedIndex(n, i, j)]).toBeLessThanOrEqual(t);
          }
          // And it is the cut after all merges at height ≤ t.
          let applied = 0;
          while (applied < n - 1 && Z[4 * applied + 2] <= t) applied++;
          expect(cutAtHeight(Z, n, t)).toEqual(cutToK(Z, n, n - applied));
        }
      }),
    );
  });
});

describe('representatives', () => {
  test('each is a member of its cluster and closest to its centre (mean of raw vectors)', () => {
    fc.assert(
      fc.property(anyData, fc.nat(), ({ n, d, X }, kSeed) => {
        const Z = completeLinkage(cosineDistances(X, n, d), n);
        const k = 1 + (kSeed % n);
        const labels = cutToK(Z, n, k);
        const reps = representatives(X, n, d, labels);
        expect(reps.length).toBe(k);
        for (let c = 0; c < k; c++) {
          const idx = Array.from({ length: n }, (_, i) => i).filter((i) => labels[i] === c);
          expect(idx).toContain(reps[c]);
          // Sum, then divide (as numpy's mean): a centre that cancels to exactly 0 stays 0.
          const centre = new Float64Array(d);
          for (const i of idx) for (let q = 0; q < d; q++) centre[q] += X[i * d + q];
          for (let q = 0; q < d; q++) centre[q] /= idx.length;
          const dist = (i: number): number => cosineDistance(X.subarray(i * d, (i + 1) * d), centre);
          for (const i of idx) expect(dist(reps[c])).toBeLessThanOrEqual(dist(i) + 1e-12);
        }
      }),
    );
  });

  test('the centre is the mean of raw, not normalised, vectors; ties go to the smallest index', () => {
    // Raw mean of (10, 0), (0, 1), (1, 1) is (11/3, 2/3): closest in angle to (10, 0).
    // The mean of the normalised rows is ≈ (0.57, 0.57): closest to (1, 1).
    const X = Float32Array.from([10, 0, 0, 1, 1, 1]);
    expect(Array.from(representatives(X, 3, 2, new Int32Array(3)))).toEqual([0]);
    // A centre that cancels to exactly 0 (numpy: NaN distances, argmin → first): the first member.
    expect(Array.from(representatives(Float32Array.from([1, -1, 2, -2]), 4, 1, new Int32Array(4)))).toEqual([0]);
    // Two identical vectors: both at distance 0 → the smaller index.
    expect(Array.from(representatives(Float32Array.from([1, 2, 3, 4, 1, 2]), 3, 2, Int32Array.from([0, 1, 0])))).toEqual([0, 1]);
  });
});

describe('clusterClass', () => {
  test('k = round(keepFraction · n) clamped to [1, n]; one representative kept per cluster', () => {
    expect(keepCount(10, 0.9)).toBe(9);
    expect(keepCount(10, 0)).toBe(1);
    expect(keepCount(10, 1)).toBe(10);
    expect(keepCount(3, 0.5)).toBe(2); // 1.5 rounds up
    expect(keepCount(0, 0.5)).toBe(0);
    expect(() => keepCount(10, 1.5)).toThrow(RangeError);
    const n = 30;
    const d = 5;
    const X = blobs(3, n, d, 4);
    const result = clusterClass(X, n, d);
    const cut = result.cutKeep(0.5);
    expect(cut.k).toBe(15);
    expect(cut.representatives.length).toBe(15);
    expect(new Set(cut.representatives).size).toBe(15);
    expect(cut.sizes.reduce((a, b) => a + b, 0)).toBe(n);
    for (let c = 0; c < cut.k; c++) expect(cut.labels[cut.representatives[c]]).toBe(c);
    expect(result.cut(n).representatives).toEqual(Int32Array.from({ length: n }, (_, i) => i));
    expect(Array.from(result.cut(1).representatives).length).toBe(1);
    const byHeight = result.cutAtHeight(0);
    expect(byHeight.k).toBe(n); // blobs have no exact duplicates
  });

  test('edge sizes: n = 0, 1, 2', () => {
    expect(clusterClass(new Float32Array(0), 0, 4).cutKeep(0.5).k).toBe(0);
    const one = clusterClass(Float32Array.from([1, 2]), 1, 2);
    expect(one.Z.length).toBe(0);
    expect(Array.from(one.cut(1).representatives)).toEqual([0]);
    const two = clusterClass(Float32Array.from([1, 0, 0, 1]), 2, 2);
    expect(Array.from(two.Z)).toEqual([0, 1, 1, 2]);
    expect(Array.from(two.cut(1).labels)).toEqual([0, 0]);
    expect(() => two.cut(3)).toThrow(RangeError);
  });

  test('shouldStop cancels both stages; progress is reported and ends at total', () => {
    const n = 3000; // enough work for several polls in each stage
    const d = 8;
    const X = blobs(11, n, d, 10);
    const seen: string[] = [];
    const last: Record<string, [number, number]> = {};
    clusterClass(X, n, d, {
      onProgress: (done, total, stage) => {
        if (!seen.includes(stage)) seen.push(stage);
        expect(done).toBeLessThanOrEqual(total);
        last[stage] = [done, total];
      },
    });
    expect(seen).toEqual(['distances', 'linkage']);
    expect(last.distances).toEqual([(n * (n - 1)) / 2, (n * (n - 1)) / 2]);
    expect(last.linkage).toEqual([n - 1, n - 1]);

    let polls = 0;
    expect(() => clusterClass(X, n, d, { shouldStop: () => ++polls > 1 })).toThrow(ClusterCancelledError);
    let linkagePolls = 0;
    const D = cosineDistances(X, n, d);
    expect(() => completeLinkage(D, n, { shouldStop: () => ++linkagePolls > 0 })).toThrow(ClusterCancelledError);
  });
});
