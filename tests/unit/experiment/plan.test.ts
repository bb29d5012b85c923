import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { DEFAULT_EXPERIMENT, experimentCells, validateExperiment, type Method } from '../../../src/core/experiment/plan.ts';

describe('validateExperiment', () => {
  test('fills in the defaults as a copy', () => {
    const s = validateExperiment({});
    expect(s).toEqual({ fractions: [1, 0.9, 0.8, 0.7], seeds: 3, methods: ['semantic', 'random', 'hash'], epochs: 15, evalFraction: 0.2 });
    s.fractions.push(0.5);
    expect(DEFAULT_EXPERIMENT.fractions).toEqual([1, 0.9, 0.8, 0.7]);
  });

  test('de-duplicates and sorts fractions descending, methods in canonical order', () => {
    const s = validateExperiment({ fractions: [0.5, 1, 0.5, 0.75], methods: ['hash', 'semantic', 'hash'] });
    expect(s.fractions).toEqual([1, 0.75, 0.5]);
    expect(s.methods).toEqual(['semantic', 'hash']);
  });

  test.each([
    [{ fractions: [] }, /at least one fraction/],
    [{ fractions: [0] }, /above 0 and at most 1/],
    [{ fractions: [1.1] }, /above 0 and at most 1/],
    [{ fractions: [NaN] }, /above 0 and at most 1/],
    [{ seeds: 0 }, /Seeds/],
    [{ seeds: 11 }, /Seeds/],
    [{ seeds: 2.5 }, /Seeds/],
    [{ methods: [] }, /at least one method/],
    [{ methods: ['magic' as Method] }, /Unknown method "magic"/],
    [{ epochs: 0 }, /Epochs/],
    [{ epochs: 201 }, /Epochs/],
    [{ evalFraction: 0.04 }, /5% to 50%/],
    [{ evalFraction: 0.51 }, /5% to 50%/],
  ])('rejects %o with a readable message', (bad, message) => {
    expect(() => validateExperiment(bad)).toThrow(message);
  });

  test('accepts the edges of every range', () => {
    expect(() => validateExperiment({ fractions: [1e-9, 1], seeds: 10, epochs: 200, evalFraction: 0.05 })).not.toThrow();
    expect(() => validateExperiment({ seeds: 1, epochs: 1, evalFraction: 0.5 })).not.toThrow();
  });
});

describe('experimentCells', () => {
  const settingsArb = fc.record({
    fractions: fc.uniqueArray(fc.constantFrom(1, 0.9, 0.8, 0.7, 0.5, 0.25), { minLength: 1 }),
    seeds: fc.integer({ min: 1, max: 10 }),
    methods: fc.uniqueArray(fc.constantFrom<Method>('semantic', 'random', 'hash'), { minLength: 1 }),
  });

  test('one full cell per seed at fraction 1, one cell per method and seed elsewhere, in run order', () => {
    fc.assert(
      fc.property(settingsArb, (partial) => {
        const s = validateExperiment(partial);
        const cells = experimentCells(s);
        const partialFractions = s.fractions.filter((f) => f !== 1).length;
        const hasFull = s.fractions.includes(1) ? 1 : 0;
        expect(cells.length).toBe(s.seeds * (hasFull + partialFractions * s.methods.length));
        const rank = (m: string) => ['full', 'semantic', 'random', 'hash'].indexOf(m);
        for (let i = 1; i < cells.length; i++) {
          const [a, b] = [cells[i - 1], cells[i]];
          const order = a.seed - b.seed || b.fraction - a.fraction || rank(a.method) - rank(b.method);
          expect(order).toBeLessThan(0);
        }
        for (const c of cells) expect(c.method === 'full').toBe(c.fraction === 1);
      }),
    );
  });

  test('the default plan is ten cells per seed', () => {
    const cells = experimentCells(DEFAULT_EXPERIMENT);
    expect(cells.length).toBe(30);
    expect(cells.slice(0, 4)).toEqual([
      { fraction: 1, seed: 0, method: 'full' },
      { fraction: 0.9, seed: 0, method: 'semantic' },
      { fraction: 0.9, seed: 0, method: 'random' },
      { fraction: 0.9, seed: 0, method: 'hash' },
    ]);
  });
});
