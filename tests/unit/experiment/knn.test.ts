import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { knnAccuracy } from '../../../src/core/experiment/knn.ts';
import { seededRandom } from '../../../src/core/rng.ts';

/** Independent k-NN: every similarity, one full sort by (similarity desc, index asc), vote by rank. */
function oracle(train: Float32Array, trainLabels: number[], test: Float32Array, testLabels: number[], dim: number, k: number): number {
  // The same float32 unit rows as the code under test, so exact ties stay exact ties.
  const unit = (x: Float32Array) => {
    const out = new Float32Array(x.length);
    for (let r = 0; r < x.length / dim; r++) {
      const row = x.subarray(r * dim, (r + 1) * dim);
      const norm = Math.sqrt(row.reduce((a, v) => a + v * v, 0));
      if (norm > 0) for (let d = 0; d < dim; d++) out[r * dim + d] = row[d] / norm;
    }
    return out;
  };
  const a = unit(test);
  const b = unit(train);
  let correct = 0;
  for (let q = 0; q < testLabels.length; q++) {
    const ranked = trainLabels.map((_, t) => {
      let s = 0;
      for (let d = 0; d < dim; d++) s += a[q * dim + d] * b[t * dim + d];
      return { s, t };
    });
    ranked.sort((x, y) => y.s - x.s || x.t - y.t);
    const top = ranked.slice(0, k).map((r) => trainLabels[r.t]);
    const votes = new Map<number, number>();
    for (const l of top) votes.set(l, (votes.get(l) ?? 0) + 1);
    const most = Math.max(...votes.values());
    if (top.find((l) => votes.get(l) === most) === testLabels[q]) correct++;
  }
  return correct;
}

function randomRows(n: number, dim: number, seed: number): Float32Array {
  const r = seededRandom(seed);
  return Float32Array.from({ length: n * dim }, () => r() * 2 - 1);
}

const problem = fc.record({
  dim: fc.integer({ min: 1, max: 9 }),
  nTrain: fc.integer({ min: 1, max: 30 }),
  nTest: fc.integer({ min: 0, max: 13 }),
  classes: fc.integer({ min: 1, max: 4 }),
  k: fc.integer({ min: 1, max: 12 }),
  seed: fc.integer(),
  // Small integers make exact ties (duplicate and parallel rows, zero rows) common.
  integers: fc.boolean(),
});

function build(p: { dim: number; nTrain: number; nTest: number; classes: number; seed: number; integers: boolean }) {
  const r = seededRandom(p.seed);
  const value = () => (p.integers ? Math.floor(r() * 3) - 1 : r() * 2 - 1);
  return {
    train: Float32Array.from({ length: p.nTrain * p.dim }, value),
    test: Float32Array.from({ length: p.nTest * p.dim }, value),
    trainLabels: Array.from({ length: p.nTrain }, () => Math.floor(r() * p.classes)),
    testLabels: Array.from({ length: p.nTest }, () => Math.floor(r() * p.classes)),
  };
}

describe('knnAccuracy', () => {
  test('matches a brute-force oracle, ties included', () => {
    fc.assert(
      fc.property(problem, (p) => {
        const d = build(p);
        const got = knnAccuracy({ ...d, dim: p.dim, k: p.k });
        const want = oracle(d.train, d.trainLabels, d.test, d.testLabels, p.dim, Math.min(p.k, p.nTrain));
        expect(got.correct).toBe(want);
        expect(got.total).toBe(p.nTest);
        expect(got.accuracy).toBe(p.nTest === 0 ? 0 : want / p.nTest);
      }),
      { numRuns: 200 },
    );
  });

  test('k = 1 with test rows copied from train is perfect', () => {
    fc.assert(
      // Three or more random dimensions: no two rows are parallel, so the copy is the only best match.
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 3, max: 16 }), fc.integer(), (n, dim, seed) => {
        const train = randomRows(n, dim, seed);
        const labels = Array.from({ length: n }, (_, i) => i % 5);
        const pick = Array.from({ length: Math.min(n, 7) }, (_, i) => (i * 13) % n);
        const test = new Float32Array(pick.length * dim);
        pick.forEach((t, i) => test.set(train.subarray(t * dim, (t + 1) * dim), i * dim));
        const r = knnAccuracy({ train, trainLabels: labels, test, testLabels: pick.map((t) => labels[t]), dim, k: 1 });
        expect(r.accuracy).toBe(1);
      }),
    );
  });

  test('does not change when rows are scaled by positive powers of two or train rows are permuted', () => {
    fc.assert(
      // Without exact ties (no integer rows, no parallel ones), so the index order never decides.
      fc.property(problem.filter((p) => !p.integers && p.dim >= 3), fc.integer(), (p, seed) => {
        const d = build(p);
        const base = knnAccuracy({ ...d, dim: p.dim, k: p.k });
        const r = seededRandom(seed);
        // Powers of two scale exactly, so the unit rows are bit-identical.
        const scale = (x: Float32Array) => x.map((v, i) => v * 2 ** ((Math.floor(i / p.dim) * 7) % 9 - 4));
        expect(knnAccuracy({ ...d, train: scale(d.train), test: scale(d.test), dim: p.dim, k: p.k })).toEqual(base);
        const perm = Array.from({ length: p.nTrain }, (_, i) => i);
        for (let i = perm.length - 1; i > 0; i--) {
          const j = Math.floor(r() * (i + 1));
          [perm[i], perm[j]] = [perm[j], perm[i]];
        }
        const train = new Float32Array(d.train.length);
        perm.forEach((from, to) => train.set(d.train.subarray(from * p.dim, (from + 1) * p.dim), to * p.dim));
        const trainLabels = perm.map((from) => d.trainLabels[from]);
        expect(knnAccuracy({ ...d, train, trainLabels, dim: p.dim, k: p.k })).toEqual(base);
      }),
    );
  });

  test('a tie in votes goes to the label whose member ranks nearest', () => {
    // Query (1, 0): train 0 at 0.1 rad (label 7), train 1 at 0.2 rad (label 3), then 3, 7 further out.
    const angles = [0.1, 0.2, 0.3, 0.4];
    const train = Float32Array.from(angles.flatMap((a) => [Math.cos(a), Math.sin(a)]));
    const test = Float32Array.of(1, 0);
    expect(knnAccuracy({ train, trainLabels: [7, 3, 3, 7], test, testLabels: [7], dim: 2, k: 4 }).correct).toBe(1);
    expect(knnAccuracy({ train, trainLabels: [3, 7, 7, 3], test, testLabels: [3], dim: 2, k: 4 }).correct).toBe(1);
    // Equal similarity: the lower training index ranks first.
    const same = Float32Array.of(1, 0, 2, 0);
    expect(knnAccuracy({ train: same, trainLabels: [5, 6], test, testLabels: [5], dim: 2, k: 1 }).correct).toBe(1);
  });

  test('zero rows have similarity 0 to everything', () => {
    const train = Float32Array.of(0, 0, -1, 0);
    const r = knnAccuracy({ train, trainLabels: [1, 2], test: Float32Array.of(1, 0, 0, 0), testLabels: [1, 1], dim: 2, k: 1 });
    // (1,0) prefers the zero row (0) to the opposite one (−1); a zero query ties both, index 0 wins.
    expect(r.correct).toBe(2);
  });

  test('rejects inconsistent shapes and an empty training set', () => {
    expect(() => knnAccuracy({ train: new Float32Array(5), trainLabels: [0, 1], test: new Float32Array(2), testLabels: [0], dim: 2 })).toThrow(RangeError);
    expect(() => knnAccuracy({ train: new Float32Array(0), trainLabels: [], test: new Float32Array(2), testLabels: [0], dim: 2 })).toThrow(RangeError);
    expect(() => knnAccuracy({ train: new Float32Array(2), trainLabels: [0], test: new Float32Array(2), testLabels: [0], dim: 2, k: 0 })).toThrow(RangeError);
  });
});
