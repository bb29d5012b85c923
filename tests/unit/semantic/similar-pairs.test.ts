/** similarPairs against the naive double loop over the same normalised rows. */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ClusterCancelledError, cosineDistance } from '../../../src/core/cluster/index.ts';
import { similarPairs, unitRowsF32, type SimilarPair } from '../../../src/core/similar-pairs.ts';
import { blobs } from '../cluster/support.ts';

/** Oracle: every pair, one sequential float64 dot product each, clipped. */
function naive(X: Float32Array, n: number, d: number, bar: number): SimilarPair[] {
  const U = unitRowsF32(X, n, d);
  const out: SimilarPair[] = [];
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += U[a * d + k] * U[b * d + k];
      s = Math.min(1, Math.max(-1, s));
      if (s >= bar) out.push({ a, b, similarity: s });
    }
  }
  return out;
}

const data = fc.oneof(
  fc
    .record({
      n: fc.integer({ min: 0, max: 60 }),
      d: fc.integer({ min: 1, max: 20 }),
      centres: fc.integer({ min: 1, max: 5 }),
      seed: fc.integer({ min: 0, max: 0x7fffffff }),
    })
    .map(({ n, d, centres, seed }) => ({ n, d, X: blobs(seed, n, d, centres) })),
  fc
    .record({ n: fc.integer({ min: 0, max: 40 }), d: fc.integer({ min: 1, max: 3 }) })
    .chain(({ n, d }) =>
      fc.array(fc.integer({ min: -2, max: 2 }), { minLength: n * d, maxLength: n * d }).map((v) => ({ n, d, X: Float32Array.from(v) })),
    ),
);

describe('similarPairs', () => {
  test('= the naive double loop, bit for bit, at any bar', () => {
    fc.assert(
      fc.property(data, fc.double({ min: -1.1, max: 1.1, noNaN: true }), ({ n, d, X }, bar) => {
        expect(similarPairs(X, n, d, bar)).toEqual(naive(X, n, d, bar));
      }),
      { numRuns: 300 },
    );
  });

  test('block edges: n = 261, d = 300 (several row, column and coordinate blocks, odd remainders)', () => {
    const n = 261;
    const d = 300;
    const X = blobs(5, n, d, 12);
    for (const bar of [0.2, 0.6, 0.9]) {
      const got = similarPairs(X, n, d, bar);
      expect(got).toEqual(naive(X, n, d, bar));
      expect(got.length).toBeGreaterThan(0);
    }
    // All pairs at bar −1: every pair once, sorted.
    const all = similarPairs(X, n, d, -1);
    expect(all.length).toBe((n * (n - 1)) / 2);
    for (let p = 1; p < all.length; p++) {
      const [x, y] = [all[p - 1], all[p]];
      expect(x.a < y.a || (x.a === y.a && x.b < y.b)).toBe(true);
    }
  });

  test('close to the float64 cosine; zero rows have similarity 0', () => {
    const n = 30;
    const d = 16;
    const X = blobs(9, n, d, 3);
    X.fill(0, 3 * d, 4 * d);
    for (const p of similarPairs(X, n, d, -1)) {
      const want = 1 - cosineDistance(X.subarray(p.a * d, (p.a + 1) * d), X.subarray(p.b * d, (p.b + 1) * d));
      expect(Math.abs(p.similarity - want)).toBeLessThan(1e-6);
      if (p.a === 3 || p.b === 3) expect(p.similarity).toBe(0);
    }
  });

  test('duplicates reach similarity 1 (clipped); bar above 1 finds nothing', () => {
    const X = Float32Array.from([3, 4, 3, 4, 0.6, 0.8, -3, -4]);
    const got = similarPairs(X, 4, 2, 0.999);
    expect(got.map((p) => [p.a, p.b])).toEqual([
      [0, 1],
      [0, 2],
      [1, 2],
    ]);
    for (const p of got) expect(p.similarity).toBeLessThanOrEqual(1);
    expect(similarPairs(X, 4, 2, 1.01)).toEqual([]);
    expect(similarPairs(X, 4, 2, -1).find((p) => p.a === 0 && p.b === 3)!.similarity).toBeCloseTo(-1, 6);
  });

  test('progress, cancellation, maxPairs and bad input', () => {
    const n = 700;
    const d = 64;
    const X = blobs(3, n, d, 4);
    const seen: [number, number][] = [];
    similarPairs(X, n, d, 0.99, { onProgress: (done, total) => seen.push([done, total]) });
    expect(seen.length).toBeGreaterThan(2);
    for (let i = 1; i < seen.length; i++) expect(seen[i][0]).toBeGreaterThanOrEqual(seen[i - 1][0]);
    expect(seen[seen.length - 1]).toEqual([(n * (n - 1)) / 2, (n * (n - 1)) / 2]);
    expect(() => similarPairs(X, n, d, 0.5, { shouldStop: () => true })).toThrow(ClusterCancelledError);
    expect(() => similarPairs(X, n, d, -1, { maxPairs: 1000 })).toThrow(RangeError);
    expect(() => similarPairs(X, n, d, NaN)).toThrow(RangeError);
    expect(() => similarPairs(X, n + 1, d, 0.5)).toThrow(RangeError);
    expect(() => similarPairs(Float32Array.from([1, Infinity]), 1, 2, 0.5)).toThrow(RangeError);
  });
});
