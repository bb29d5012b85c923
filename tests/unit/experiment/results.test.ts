import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { Method } from '../../../src/core/experiment/plan.ts';
import { RESULTS_CSV_HEADER, resultsCsv, resultsJson, summarize, type CellResult } from '../../../src/core/experiment/results.ts';
import { parseCsv } from '../../support/csv.ts';

function result(over: Partial<CellResult>): CellResult {
  return { fraction: 0.9, seed: 0, method: 'random', trainCount: 100, testAccuracy: 0.5, epochs: 15, seconds: 12.5, ...over };
}

describe('summarize', () => {
  test('mean and sample sd per method and fraction; a full result counts for every method', () => {
    const results = [
      result({ fraction: 1, method: 'full', testAccuracy: 0.8, seed: 0 }),
      result({ fraction: 1, method: 'full', testAccuracy: 0.9, seed: 1 }),
      result({ fraction: 0.7, method: 'random', testAccuracy: 0.6, seed: 0 }),
      result({ fraction: 0.7, method: 'random', testAccuracy: 0.7, seed: 1 }),
      result({ fraction: 0.7, method: 'random', testAccuracy: 0.8, seed: 2 }),
      result({ fraction: 0.7, method: 'hash', testAccuracy: 0.75, seed: 0 }),
    ];
    const s = summarize(results, ['semantic', 'random', 'hash']);
    expect(s.map((p) => [p.method, p.fraction, p.n])).toEqual([
      ['semantic', 1, 2],
      ['random', 1, 2],
      ['random', 0.7, 3],
      ['hash', 1, 2],
      ['hash', 0.7, 1],
    ]);
    const random07 = s.find((p) => p.method === 'random' && p.fraction === 0.7)!;
    expect(random07.mean).toBeCloseTo(0.7, 12);
    expect(random07.sd).toBeCloseTo(0.1, 12);
    expect(s.find((p) => p.method === 'hash' && p.fraction === 0.7)!.sd).toBe(0);
  });

  test('every point has n ≥ 1, mean within the values, sd ≥ 0', () => {
    const resultArb = fc.record({
      fraction: fc.constantFrom(1, 0.9, 0.5),
      seed: fc.nat(5),
      method: fc.constantFrom<Method | 'full'>('full', 'semantic', 'random', 'hash'),
      testAccuracy: fc.double({ min: 0, max: 1, noNaN: true }),
    });
    fc.assert(
      fc.property(fc.array(resultArb, { maxLength: 30 }), (rows) => {
        const results = rows.map((r) => result(r));
        for (const p of summarize(results, ['semantic', 'random', 'hash'])) {
          const values = results.filter((r) => r.fraction === p.fraction && (r.method === p.method || r.method === 'full')).map((r) => r.testAccuracy);
          expect(p.n).toBe(values.length);
          expect(p.mean).toBeGreaterThanOrEqual(Math.min(...values) - 1e-12);
          expect(p.mean).toBeLessThanOrEqual(Math.max(...values) + 1e-12);
          expect(p.sd).toBeGreaterThanOrEqual(0);
        }
      }),
    );
  });
});

describe('resultsCsv', () => {
  test('header and one row per cell, read back by an RFC 4180 reader, numbers unrounded', () => {
    const results = [result({ testAccuracy: 0.1 + 0.2, seconds: 1 / 3 }), result({ method: 'hash', threshold: 7 })];
    const text = resultsCsv(results);
    expect(text.endsWith('\r\n')).toBe(true);
    expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    const rows = parseCsv(text);
    expect(rows[0]).toEqual([...RESULTS_CSV_HEADER]);
    expect(rows.length).toBe(3);
    expect(Number(rows[1][4])).toBe(0.1 + 0.2);
    expect(Number(rows[1][6])).toBe(1 / 3);
    expect(rows[1][7]).toBe('');
    expect(rows[2][7]).toBe('7');
  });
});

describe('resultsJson', () => {
  test('round-trips settings, results, summary and meta', () => {
    const results = [result({}), result({ method: 'hash', threshold: 3 })];
    const summary = summarize(results, ['random', 'hash']);
    const settings = { fractions: [0.9], seeds: 1 };
    const parsed = JSON.parse(resultsJson({ settings, results, summary, meta: { fingerprint: 'abc' } }));
    expect(parsed).toMatchObject({ format: 'winnow-experiment', version: 1, settings, results, summary, meta: { fingerprint: 'abc' } });
  });
});
