import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { referenceMean, SHRINK_K, shrunkMean } from '../../../src/ml/reference-means/index.ts';
import { centreRows } from '../../../src/core/semantic.ts';
import { centredRows, classInputs, cosineDistanceBetween, MIN_TO_CENTRE, runEmbeddings } from '../../../src/ui/state/run-embeddings.ts';
import type { EmbedderInfo } from '../../../src/workers/embed/client.ts';

const info = (modelId: string, dim: number): EmbedderInfo => ({
  modelId,
  version: '1',
  modelKey: `${modelId}@1`,
  name: modelId,
  source: '',
  licence: '',
  dim,
  backend: 'cpu',
  loadMs: 0,
});

const cos = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0, x = 0, y = 0;
  for (let i = 0; i < a.length; i++) (d += a[i] * b[i]), (x += a[i] * a[i]), (y += b[i] * b[i]);
  return d / Math.sqrt(x * y);
};

describe('reference means', () => {
  it('the shipped model has a finite 1792-d reference mean; other models have none', () => {
    const mean = referenceMean('mobilenetv2-mid')!;
    expect(mean).toHaveLength(1792);
    expect(mean.every(Number.isFinite)).toBe(true);
    // AvgPool of ReLU6 features: every coordinate is a mean of values in [0, 6].
    expect(Math.min(...mean)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...mean)).toBeLessThanOrEqual(6);
    expect(referenceMean('user-0123456789abcdef')).toBeNull();
  });

  it('the shrunk centre lies between the folder mean and the reference, nearer the folder as it grows', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.double({ min: -5, max: 5, noNaN: true }), fc.double({ min: -5, max: 5, noNaN: true })), { minLength: 1, maxLength: 8 }), fc.nat(1000), (pairs, n) => {
        const own = Float64Array.from(pairs.map(([a]) => a));
        const ref = Float32Array.from(pairs.map(([, b]) => b));
        const c = shrunkMean(own, n, ref);
        c.forEach((v, i) => {
          expect(v).toBeGreaterThanOrEqual(Math.min(own[i], ref[i]) - 1e-9);
          expect(v).toBeLessThanOrEqual(Math.max(own[i], ref[i]) + 1e-9);
          expect(v).toBeCloseTo((n * own[i] + SHRINK_K * ref[i]) / (n + SHRINK_K), 9);
        });
      }),
    );
    expect(shrunkMean(Float64Array.of(1, 2), 5, null)).toEqual(Float64Array.of(1, 2));
  });
});

describe('runEmbeddings', () => {
  it('drops rows the model could not read and maps file ids to rows', () => {
    const dim = 3;
    const vectors = Float32Array.of(1, 0, 0, 0, 0, 0, 0, 1, 0);
    const e = runEmbeddings([10, 11, 12], { vectors, dim, failed: [1] }, info('user-x', dim));
    expect(e.ids).toEqual([10, 12]);
    expect(e.failed).toEqual([11]);
    expect(Array.from(e.raw)).toEqual([1, 0, 0, 0, 1, 0]);
    expect(e.rowOf.get(12)).toBe(1);
    // A user's model below MIN_TO_CENTRE files is left raw.
    expect(e.centredOn).toBeNull();
    expect(e.mean).toBeNull();
    expect(Array.from(centredRows(e))).toEqual(Array.from(e.raw));
    expect(centredRows(e).buffer).not.toBe(e.raw.buffer);
    expect(cosineDistanceBetween(e)(10, 12)).toBeCloseTo(1, 12);
    expect(cosineDistanceBetween(e)(10, 11)).toBeNull();
  });

  it('a user model with enough files is centred on its own mean', () => {
    const dim = 4;
    const n = MIN_TO_CENTRE;
    const vectors = Float32Array.from({ length: n * dim }, (_, i) => ((i * 7919) % 13) + 1);
    const e = runEmbeddings(Array.from({ length: n }, (_, i) => i), { vectors, dim, failed: [] }, info('user-x', dim));
    expect(e.centredOn).toBe('own');
    const centred = centredRows(e);
    for (let q = 0; q < dim; q++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += centred[i * dim + q];
      expect(Math.abs(s)).toBeLessThan(1e-3);
    }
  });

  it('two near-copies stay alike in a two-image folder of the shipped model (its own mean alone would make them opposites)', () => {
    const ref = referenceMean('mobilenetv2-mid')!;
    const dim = ref.length;
    const a = Float32Array.from(ref, (v, i) => v * 1.5 + ((i % 7) === 0 ? 0.5 : 0));
    const b = Float32Array.from(a, (v, i) => v + ((i % 11) === 0 ? 0.05 : 0));
    const vectors = new Float32Array(2 * dim);
    vectors.set(a, 0);
    vectors.set(b, dim);
    const e = runEmbeddings([0, 1], { vectors, dim, failed: [] }, info('mobilenetv2-mid', dim));
    expect(e.centredOn).toBe('own+reference');
    const centred = centredRows(e);
    expect(cos(centred.subarray(0, dim), centred.subarray(dim))).toBeGreaterThan(0.9);
  });

  it('classInputs gives each label its own rows, copied', () => {
    const dim = 2;
    const vectors = Float32Array.of(1, 2, 3, 4, 5, 6);
    const e = runEmbeddings([0, 1, 2], { vectors, dim, failed: [] }, info('user-x', dim));
    const classes = classInputs(e, (id) => (id === 1 ? 'b' : 'a'));
    expect(classes.map((c) => [c.label, c.ids])).toEqual([['a', [0, 2]], ['b', [1]]]);
    expect(Array.from(classes[0].vectors)).toEqual([1, 2, 5, 6]);
    expect(classes[0].vectors.buffer).not.toBe(e.raw.buffer);
  });

  it('rows made on demand are bit for bit the centred copy core/semantic makes of all rows, in any order and subset', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: MIN_TO_CENTRE, max: MIN_TO_CENTRE + 12 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (dim, n, seed) => {
          let x = seed;
          const next = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32) * 20 - 3;
          const vectors = Float32Array.from({ length: n * dim }, next);
          const e = runEmbeddings(Array.from({ length: n }, (_, i) => 100 + i), { vectors, dim, failed: [] }, info('user-x', dim));
          const whole = centreRows(e.raw, n, dim, e.mean!);
          expect(centredRows(e)).toEqual(whole);
          const rows = Array.from({ length: n }, (_, i) => (i * 7 + seed) % n).filter((_, i) => i % 3 !== 1);
          const some = centredRows(e, rows);
          rows.forEach((r, k) => expect(some.subarray(k * dim, (k + 1) * dim)).toEqual(whole.subarray(r * dim, (r + 1) * dim)));
          // The keeper-override distance sees the same rows the clustering does.
          const d = cosineDistanceBetween(e)(100, 101)!;
          const a = whole.subarray(0, dim);
          const b = whole.subarray(dim, 2 * dim);
          expect(d).toBeCloseTo(1 - Math.max(-1, Math.min(1, cos(a, b))), 12);
        },
      ),
    );
  });
});
