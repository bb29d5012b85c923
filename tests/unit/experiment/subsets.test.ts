import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { classTargets, hashSubset, randomSubset } from '../../../src/core/experiment/subsets.ts';
import { seededRandom } from '../../../src/core/rng.ts';

/** A dataset: labels, packed hashes, and a pool `idx` that leaves some items out. */
const datasetArb = fc
  .record({
    n: fc.integer({ min: 1, max: 40 }),
    classes: fc.integer({ min: 1, max: 3 }),
    seed: fc.integer(),
    // Few distinct bits make small distances and exact duplicates common.
    bits: fc.constantFrom(4, 8, 64),
  })
  .map(({ n, classes, seed, bits }) => {
    const r = seededRandom(seed);
    const labels = Array.from({ length: n }, () => Math.floor(r() * classes) * 10);
    const hashes = new Uint32Array(2 * n);
    for (let i = 0; i < n; i++) {
      const hiBits = Math.max(0, bits - 32);
      hashes[2 * i] = hiBits === 0 ? 0 : Math.floor(r() * 2 ** hiBits) >>> 0;
      hashes[2 * i + 1] = Math.floor(r() * 2 ** Math.min(32, bits)) >>> 0;
    }
    const idx = Array.from({ length: n }, (_, i) => i).filter(() => r() < 0.85);
    return { labels, hashes, idx };
  });

function members(labels: number[], idx: number[], label: number): number[] {
  return idx.filter((i) => labels[i] === label).sort((a, b) => a - b);
}

function distance(h: Uint32Array, i: number, j: number): number {
  let x = BigInt(h[2 * i]) * 2n ** 32n + BigInt(h[2 * i + 1]);
  x ^= BigInt(h[2 * j]) * 2n ** 32n + BigInt(h[2 * j + 1]);
  return x.toString(2).split('').filter((c) => c === '1').length;
}

/** Components by breadth-first search over pairs at distance ≤ t, each as its sorted members. */
function components(h: Uint32Array, items: number[], t: number): number[][] {
  const seen = new Set<number>();
  const out: number[][] = [];
  for (const start of items) {
    if (seen.has(start)) continue;
    const comp = [start];
    seen.add(start);
    for (let q = 0; q < comp.length; q++) {
      for (const other of items) {
        if (!seen.has(other) && distance(h, comp[q], other) <= t) {
          seen.add(other);
          comp.push(other);
        }
      }
    }
    out.push(comp.sort((a, b) => a - b));
  }
  return out;
}

describe('classTargets', () => {
  test('round(f·n) per class, at least 1, at most n', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 60 }), fc.double({ min: 1e-6, max: 1, noNaN: true }), (labels, f) => {
        const idx = labels.map((_, i) => i).filter((i) => i % 3 !== 1);
        const targets = classTargets(labels, idx, f);
        expect([...targets.keys()].sort()).toEqual([...new Set(idx.map((i) => labels[i]))].sort());
        for (const [label, want] of targets) {
          const n = members(labels, idx, label).length;
          expect(want).toBe(Math.min(n, Math.max(1, Math.round(f * n))));
        }
      }),
    );
  });

  test('rejects a fraction outside (0, 1] and repeated items', () => {
    expect(() => classTargets([0], [0], 0)).toThrow(RangeError);
    expect(() => classTargets([0], [0], 1.5)).toThrow(RangeError);
    expect(() => classTargets([0], [0, 0], 0.5)).toThrow(RangeError);
    expect(() => classTargets([0], [1], 0.5)).toThrow(RangeError);
  });
});

describe('randomSubset', () => {
  test('exactly the target per class, from the pool, sorted, repeatable per seed', () => {
    fc.assert(
      fc.property(datasetArb, fc.double({ min: 0.01, max: 1, noNaN: true }), fc.integer(), ({ labels, idx }, f, seed) => {
        const targets = classTargets(labels, idx, f);
        const keep = randomSubset(labels, idx, targets, seed);
        for (let i = 1; i < keep.length; i++) expect(keep[i]).toBeGreaterThan(keep[i - 1]);
        for (const [label, want] of targets) expect([...keep].filter((i) => labels[i] === label).length).toBe(want);
        for (const i of keep) expect(idx).toContain(i);
        expect(randomSubset(labels, idx, targets, seed)).toEqual(keep);
      }),
    );
  });

  test('for one seed a smaller fraction keeps a subset of a larger one', () => {
    const labels = Array.from({ length: 300 }, (_, i) => i % 3);
    const idx = labels.map((_, i) => i);
    const big = new Set(randomSubset(labels, idx, classTargets(labels, idx, 0.9), 5));
    const small = randomSubset(labels, idx, classTargets(labels, idx, 0.7), 5);
    for (const i of small) expect(big.has(i)).toBe(true);
    expect([...randomSubset(labels, idx, classTargets(labels, idx, 0.7), 6)]).not.toEqual([...small]);
  });

  test('rejects a missing or oversized target', () => {
    expect(() => randomSubset([0, 1], [0, 1], new Map([[0, 1]]), 1)).toThrow(/no target for class 1/);
    expect(() => randomSubset([0, 1], [0, 1], new Map([[0, 2], [1, 1]]), 1)).toThrow(RangeError);
    expect(() => randomSubset([0, 1], [0], new Map([[0, 1], [1, 1]]), 1)).toThrow(RangeError);
  });
});

describe('hashSubset', () => {
  test('agrees with a breadth-first oracle: exact sizes, the threshold, keepers at the smallest index', () => {
    fc.assert(
      fc.property(datasetArb, fc.double({ min: 0.01, max: 1, noNaN: true }), fc.integer(), ({ labels, hashes, idx }, f, seed) => {
        const targets = classTargets(labels, idx, f);
        const { keep, thresholds } = hashSubset({ hashes, labels, idx, targets, seed });
        for (let i = 1; i < keep.length; i++) expect(keep[i]).toBeGreaterThan(keep[i - 1]);
        for (const [label, want] of targets) {
          const items = members(labels, idx, label);
          const kept = [...keep].filter((i) => labels[i] === label);
          expect(kept.length).toBe(want);
          const t = thresholds.get(label)!;
          if (want === items.length) {
            expect(t).toBe(0);
            continue;
          }
          // t is the first threshold whose full set of edges reaches the target.
          const at = components(hashes, items, t);
          expect(at.length).toBeLessThanOrEqual(want);
          if (t > 0) expect(components(hashes, items, t - 1).length).toBeGreaterThan(want);
          // The final components lie between the partitions at t − 1 and t: each finer component
          // holds at most one keeper, which is its smallest member, and each coarser one at least one.
          const below = t > 0 ? components(hashes, items, t - 1) : items.map((i) => [i]);
          for (const comp of below) {
            const inside = kept.filter((i) => comp.includes(i));
            expect(inside.length).toBeLessThanOrEqual(1);
            if (inside.length === 1) expect(inside[0]).toBe(comp[0]);
          }
          for (const comp of at) expect(kept.some((i) => comp.includes(i))).toBe(true);
          // With no choice left at t, the keepers are exactly the smallest member of each component.
          if (at.length === want) expect(kept).toEqual(at.map((c) => c[0]).sort((a, b) => a - b));
        }
      }),
      { numRuns: 150 },
    );
  });

  test('identical hashes merge first, at threshold 0', () => {
    // Items 0, 2, 4 share a hash; 1 and 5 share another; 3 stands alone far away.
    const hex = ['00000000000000ff', '0f0f0f0f0f0f0f0f', '00000000000000ff', 'ffffffffffffffff', '00000000000000ff', '0f0f0f0f0f0f0f0f'];
    const hashes = new Uint32Array(hex.flatMap((h) => [parseInt(h.slice(0, 8), 16), parseInt(h.slice(8), 16)]));
    const labels = [0, 0, 0, 0, 0, 0];
    const idx = [5, 4, 3, 2, 1, 0];
    const r = hashSubset({ hashes, labels, idx, targets: new Map([[0, 3]]), seed: 9 });
    expect([...r.keep]).toEqual([0, 1, 3]);
    expect(r.thresholds.get(0)).toBe(0);
    const all = hashSubset({ hashes, labels, idx, targets: new Map([[0, 6]]), seed: 9 });
    expect([...all.keep]).toEqual([0, 1, 2, 3, 4, 5]);
    expect(all.thresholds.get(0)).toBe(0);
  });

  test('the seed decides only which edges are taken at the last threshold', () => {
    // Twelve one-bit hashes: every pair is at distance 2, so the target is met part-way through that level.
    const n = 12;
    const hashes = new Uint32Array(2 * n);
    for (let i = 0; i < n; i++) hashes[2 * i + 1] = 1 << i;
    const labels = new Array(n).fill(0);
    const idx = labels.map((_, i) => i);
    const targets = new Map([[0, 6]]);
    const a = hashSubset({ hashes, labels, idx, targets, seed: 1 });
    expect(hashSubset({ hashes, labels, idx, targets, seed: 1 })).toEqual(a);
    const variants = new Set(Array.from({ length: 20 }, (_, s) => hashSubset({ hashes, labels, idx, targets, seed: s }).keep.join(',')));
    expect(variants.size).toBeGreaterThan(1);
    expect(a.keep.length).toBe(6);
    expect(a.thresholds.get(0)).toBe(2);
  });

  test('5,000 images of one class: exact size, and the threshold climbs past random-pair distances', () => {
    const n = 5000;
    const r = seededRandom(3);
    const hashes = Uint32Array.from({ length: 2 * n }, () => Math.floor(r() * 2 ** 32));
    const labels = new Int32Array(n);
    const idx = Int32Array.from({ length: n }, (_, i) => i);
    const { keep, thresholds } = hashSubset({ hashes, labels, idx, targets: new Map([[0, 3500]]), seed: 1 });
    expect(keep.length).toBe(3500);
    expect(thresholds.get(0)).toBeGreaterThan(10);
  });
});
