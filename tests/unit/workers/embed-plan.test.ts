import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunks, distinctContents, embedWorkerCount, GIB_PER_WORKER, MAX_EMBED_WORKERS, MIN_IMAGES_PER_WORKER } from '../../../src/workers/embed/plan.ts';

describe('embedWorkerCount', () => {
  it('gives a GPU backend one worker however much there is to do', () => {
    for (const backend of ['webgpu', 'webgl']) expect(embedWorkerCount(backend, 1_000_000, 16)).toBe(1);
  });

  it('on wasm and cpu: one per core, never more than the work pays for or the cap', () => {
    fc.assert(
      fc.property(fc.constantFrom('wasm', 'cpu'), fc.nat(100_000), fc.integer({ min: 0, max: 64 }), (backend, n, cores) => {
        const k = embedWorkerCount(backend, n, cores);
        expect(k).toBeGreaterThanOrEqual(1);
        expect(k).toBeLessThanOrEqual(Math.max(1, Math.min(cores, MAX_EMBED_WORKERS)));
        if (k > 1) expect(n / k).toBeGreaterThanOrEqual(MIN_IMAGES_PER_WORKER);
        // Enough work and cores: as many as allowed.
        if (n >= MIN_IMAGES_PER_WORKER * MAX_EMBED_WORKERS && cores >= MAX_EMBED_WORKERS) expect(k).toBe(MAX_EMBED_WORKERS);
      }),
    );
    expect(embedWorkerCount('wasm', 2000, 2)).toBe(2);
    expect(embedWorkerCount('wasm', MIN_IMAGES_PER_WORKER * 2 - 1, 8)).toBe(1);
  });

  it('one worker per GIB_PER_WORKER of device memory, at least one; no figure, no limit', () => {
    fc.assert(
      fc.property(fc.constantFrom(0.25, 0.5, 1, 2, 4, 8), fc.integer({ min: 1, max: 64 }), (memory, cores) => {
        const k = embedWorkerCount('wasm', 1_000_000, cores, memory);
        expect(k).toBe(Math.max(1, Math.min(MAX_EMBED_WORKERS, cores, Math.floor(memory / GIB_PER_WORKER))));
        expect(embedWorkerCount('wasm', 1_000_000, cores, undefined)).toBe(Math.min(MAX_EMBED_WORKERS, cores));
      }),
    );
    expect(embedWorkerCount('wasm', 10_000, 8, 4)).toBe(2);
  });
});

describe('distinctContents', () => {
  it('keeps the first file of each content, in first-seen order, with every row that carries it', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom<string>('a', 'b', 'c', 'd', 'e'), { maxLength: 40 }), (shas) => {
        const files = shas.map((sha256, i) => ({ sha256, file: i }));
        const { order, rows, first } = distinctContents(files);
        expect(order).toEqual([...new Set(shas)]);
        for (const sha of order) {
          expect(first.get(sha)).toBe(shas.indexOf(sha));
          expect(rows.get(sha)).toEqual(shas.flatMap((s, i) => (s === sha ? [i] : [])));
        }
        expect([...rows.values()].flat().sort((x, y) => x - y)).toEqual(shas.map((_, i) => i));
      }),
    );
  });
});

describe('chunks', () => {
  it('cuts into consecutive slices that concatenate back', () => {
    fc.assert(
      fc.property(fc.array(fc.nat()), fc.integer({ min: 1, max: 50 }), (items, size) => {
        const parts = chunks(items, size);
        expect(parts.flat()).toEqual(items);
        parts.forEach((p, i) => expect(p.length).toBe(i < parts.length - 1 ? size : p.length));
        expect(parts.every((p) => p.length >= 1 && p.length <= size)).toBe(true);
      }),
    );
    expect(() => chunks([1], 0)).toThrow(RangeError);
  });
});
