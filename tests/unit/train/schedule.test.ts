import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { earlyStopper, learningRateAt, seededRandom, shuffleInPlace, stratifiedSplit } from '../../../src/core/train/schedule.ts';

const scheduleArb = fc.record({
  lr: fc.double({ min: 1e-5, max: 1, noNaN: true }),
  warmupSteps: fc.integer({ min: 0, max: 50 }),
  extra: fc.integer({ min: 1, max: 500 }),
  minFraction: fc.double({ min: 0, max: 0.5, noNaN: true }),
});

describe('learningRateAt', () => {
  test('stays within (0, lr] and above the floor after warm-up, rises through the warm-up and never rises after it', () => {
    fc.assert(
      fc.property(scheduleArb, ({ lr, warmupSteps, extra, minFraction }) => {
        const o = { lr, warmupSteps, totalSteps: warmupSteps + extra, minFraction };
        let prev = -Infinity;
        for (let s = 0; s < o.totalSteps + 5; s++) {
          const v = learningRateAt(s, o);
          expect(v).toBeLessThanOrEqual(lr * (1 + 1e-12));
          if (s < o.totalSteps) expect(v).toBeGreaterThan(0);
          // The warm-up starts below the floor on purpose; after it the floor holds.
          if (s >= warmupSteps) expect(v).toBeGreaterThanOrEqual(lr * minFraction * (1 - 1e-9));
          if (s < warmupSteps) expect(v).toBeGreaterThan(prev);
          else if (s > warmupSteps) expect(v).toBeLessThanOrEqual(prev * (1 + 1e-12));
          prev = v;
        }
      }),
    );
  });

  test('peaks at the end of the warm-up and ends at the floor', () => {
    fc.assert(
      fc.property(scheduleArb, ({ lr, warmupSteps, extra, minFraction }) => {
        const o = { lr, warmupSteps, totalSteps: warmupSteps + extra, minFraction };
        expect(learningRateAt(warmupSteps, o)).toBeCloseTo(lr, 12);
        expect(learningRateAt(o.totalSteps, o)).toBeCloseTo(lr * minFraction, 12);
        expect(learningRateAt(o.totalSteps + 100, o)).toBeCloseTo(lr * minFraction, 12);
      }),
    );
  });

  test('the first step of a warm-up is small but not zero', () => {
    expect(learningRateAt(0, { lr: 0.1, warmupSteps: 9, totalSteps: 100 })).toBeCloseTo(0.01, 12);
    expect(learningRateAt(50 + 9, { lr: 0.1, warmupSteps: 9, totalSteps: 109 })).toBeCloseTo(0.05, 12);
  });
});

describe('earlyStopper', () => {
  test('stops exactly `patience` epochs after the last improvement and tracks the best', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 1, maxLength: 60 }), fc.integer({ min: 0, max: 8 }), fc.constantFrom<'min' | 'max'>('min', 'max'), (values, patience, mode) => {
        const s = earlyStopper({ patience, mode });
        const better = (a: number, b: number) => (mode === 'min' ? a < b : a > b);
        let best = NaN;
        let bestEpoch = -1;
        for (let e = 0; e < values.length; e++) {
          if (bestEpoch < 0 || better(values[e], best)) {
            best = values[e];
            bestEpoch = e;
          }
          const stop = s.update(values[e]);
          expect(s.best).toBe(best);
          expect(s.bestEpoch).toBe(bestEpoch);
          expect(stop).toBe(e - bestEpoch > patience);
          if (stop) break;
        }
      }),
    );
  });

  test('NaN never counts as progress; minDelta ignores tiny gains', () => {
    const s = earlyStopper({ patience: 1, mode: 'min' });
    expect(s.update(1)).toBe(false);
    expect(s.update(NaN)).toBe(false);
    expect(s.update(NaN)).toBe(true);
    const d = earlyStopper({ patience: 1, mode: 'max', minDelta: 0.01 });
    d.update(0.5);
    d.update(0.505);
    expect(d.update(0.509)).toBe(true);
    expect(d.best).toBe(0.5);
  });
});

describe('stratifiedSplit', () => {
  const labelsArb = fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 0, maxLength: 300 });

  test('partitions the indices, per label round(n·f) clamped to [1, n−1], singletons in training', () => {
    fc.assert(
      fc.property(labelsArb, fc.double({ min: 0, max: 1, noNaN: true }), fc.integer(), (labels, f, seed) => {
        const { train, validation } = stratifiedSplit(labels, f, seed);
        const all = [...train, ...validation].sort((a, b) => a - b);
        expect(all).toEqual(labels.map((_, i) => i));
        for (const label of new Set(labels)) {
          const n = labels.filter((l) => l === label).length;
          const v = [...validation].filter((i) => labels[i] === label).length;
          const want = n < 2 || f === 0 ? 0 : Math.min(n - 1, Math.max(1, Math.round(n * f)));
          expect(v).toBe(want);
        }
        for (let i = 1; i < train.length; i++) expect(train[i]).toBeGreaterThan(train[i - 1]);
      }),
    );
  });

  test('is deterministic in the seed and varies with it', () => {
    const labels = Array.from({ length: 200 }, (_, i) => i % 4);
    expect(stratifiedSplit(labels, 0.2, 3)).toEqual(stratifiedSplit(labels, 0.2, 3));
    expect([...stratifiedSplit(labels, 0.2, 3).validation]).not.toEqual([...stratifiedSplit(labels, 0.2, 4).validation]);
  });
});

test('seeded shuffle is a permutation and repeatable', () => {
  fc.assert(
    fc.property(fc.array(fc.integer()), fc.integer(), (xs, seed) => {
      const a = [...xs];
      const b = [...xs];
      shuffleInPlace(a, seededRandom(seed));
      shuffleInPlace(b, seededRandom(seed));
      expect(a).toEqual(b);
      expect([...a].sort((p, q) => p - q)).toEqual([...xs].sort((p, q) => p - q));
    }),
  );
});
