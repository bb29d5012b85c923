import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { packHashes } from '../../../src/core/hamming.ts';
import {
  multiIndexNearPairs,
  multiIndexNearPairsWith,
  multiIndexPlan,
  type MihBlock,
  type MihKernel,
} from '../../../src/core/pairs-mih.ts';
import { bruteForceNearPairs, type NearPair } from '../../../src/core/pairs.ts';
import type { Hash64 } from '../../../src/core/types.ts';
import { clusteredHashes, flipBits, hexHash, rng } from './arbitraries.ts';

/**
 * Mirrors near other hashes of the set (and sometimes near their own), so that the cross terms
 * d(a, mirror b) and d(mirror a, b) decide pairs; independent clusters would rarely come close.
 */
function withMirrors(maxLength: number): fc.Arbitrary<[Hash64[], Hash64[]]> {
  return clusteredHashes({ maxLength }).chain((h) =>
    fc.tuple(
      fc.constant(h),
      fc
        .array(fc.tuple(fc.nat(), fc.array(fc.integer({ min: 0, max: 63 }), { maxLength: 10 })), {
          minLength: h.length,
          maxLength: h.length,
        })
        .map((specs) => specs.map(([j, flips], i) => flipBits(h[j % 3 === 0 ? i : j % h.length], flips))),
    ),
  );
}

/**
 * Any disjoint block layout that satisfies the pigeonhole condition for t: blocks at random
 * offsets (so some straddle the two 32-bit words and some bits stay uncovered), radii raised
 * round-robin until Σ (radius + 1) ≥ t + 1 (a radius reaching the width matches every pair).
 */
function blockLayout(t: number): fc.Arbitrary<MihBlock[]> {
  return fc
    .array(
      fc.record({
        gap: fc.integer({ min: 0, max: 8 }),
        // Mostly small tables: a 22-bit one costs ~20 ms to build and scan whatever n is.
        bits: fc.oneof({ arbitrary: fc.integer({ min: 1, max: 12 }), weight: 4 }, fc.integer({ min: 13, max: 22 })),
        radius: fc.integer({ min: 0, max: 6 }),
      }),
      { minLength: 1, maxLength: 10 },
    )
    .map((specs) => {
      const blocks: MihBlock[] = [];
      let start = 0;
      for (const { gap, bits, radius } of specs) {
        if (start + gap + bits > 64) break;
        blocks.push({ start: start + gap, bits, radius: Math.min(radius, bits) });
        start += gap + bits;
      }
      if (blocks.length === 0) blocks.push({ start: 0, bits: specs[0].bits, radius: 0 });
      const covered = () =>
        blocks.some((b) => b.radius >= b.bits) || blocks.reduce((s, b) => s + b.radius + 1, 0) >= t + 1;
      for (let i = 0; !covered(); i = (i + 1) % blocks.length) blocks[i].radius++;
      return blocks;
    });
}

const kernels: MihKernel[] = ['wasm', 'js'];

describe.each(kernels)('multiIndexNearPairs (%s loop)', (kernel) => {
  const finder = multiIndexNearPairsWith({ kernel });

  it('equals brute force on clustered hashes without mirrors, thresholds 0..20', () => {
    fc.assert(
      fc.property(clusteredHashes({ maxLength: 60 }), fc.integer({ min: 0, max: 20 }), (h, t) => {
        const table = packHashes(h);
        expect(finder(table, null, t)).toEqual(bruteForceNearPairs(table, null, t));
      }),
      { numRuns: 200 },
    );
  });

  it('equals brute force with mirrored hashes, thresholds 0..20', () => {
    fc.assert(
      fc.property(withMirrors(60), fc.integer({ min: 0, max: 20 }), ([h, m], t) => {
        const table = packHashes(h);
        const mirrored = packHashes(m);
        expect(finder(table, mirrored, t)).toEqual(bruteForceNearPairs(table, mirrored, t));
      }),
      { numRuns: 200 },
    );
  });

  it('equals brute force for any block layout that satisfies the pigeonhole condition', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 24 }).chain((t) => fc.tuple(fc.constant(t), blockLayout(t))),
        withMirrors(50),
        fc.boolean(),
        ([t, blocks], [h, m], useMirrors) => {
          const table = packHashes(h);
          const mirrored = useMirrors ? packHashes(m) : null;
          expect(multiIndexNearPairsWith({ kernel, blocks })(table, mirrored, t)).toEqual(
            bruteForceNearPairs(table, mirrored, t),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('handles duplicates: many copies of a few hashes', () => {
    fc.assert(
      fc.property(
        fc.array(hexHash, { minLength: 1, maxLength: 3 }),
        fc.array(fc.nat(), { maxLength: 60 }),
        fc.integer({ min: 0, max: 20 }),
        fc.boolean(),
        (distinct, picks, t, useMirrors) => {
          const h = picks.map((p) => distinct[p % distinct.length]);
          const table = packHashes(h);
          // Mirrors that equal the hashes themselves: every image symmetric.
          const mirrored = useMirrors ? table.slice() : null;
          expect(finder(table, mirrored, t)).toEqual(bruteForceNearPairs(table, mirrored, t));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('handles n = 0 and n = 1', () => {
    for (const t of [0, 1, 12, 64]) {
      expect(finder(new Uint32Array(0), null, t)).toEqual([]);
      expect(finder(new Uint32Array(0), new Uint32Array(0), t)).toEqual([]);
      const one = packHashes(['0123456789abcdef']);
      expect(finder(one, null, t)).toEqual([]);
      expect(finder(one, one.slice(), t)).toEqual([]);
    }
  });

  it('treats thresholds like brute force: above 20, above 64, fractional, negative, NaN', () => {
    fc.assert(
      fc.property(
        clusteredHashes({ maxLength: 30 }),
        fc.oneof(fc.integer({ min: 21, max: 70 }), fc.double({ min: -2, max: 70, noNaN: false })),
        (h, t) => {
          const table = packHashes(h);
          expect(finder(table, null, t)).toEqual(bruteForceNearPairs(table, null, t));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('rejects malformed tables like brute force', () => {
    expect(() => finder(new Uint32Array(3), null, 1)).toThrow(RangeError);
    expect(() => finder(new Uint32Array(4), new Uint32Array(2), 1)).toThrow(RangeError);
  });

  it('grows its output area when one bucket yields many pairs', () => {
    // 700 copies of one hash: ~245,000 pairs from a single bucket, far past the initial area.
    const h: Hash64[] = [...new Array<Hash64>(700).fill('00ff00ff00ff00ff'), '00ff00ff00ff00fe', 'ffffffffffffffff'];
    const table = packHashes(h);
    const got = finder(table, null, 3);
    expect(got.length).toBe((702 * 701) / 2 - 701);
    expect(got).toEqual(bruteForceNearPairs(table, null, 3));
  });

  it('equals brute force on 5,000 random hashes with planted pairs (t = 12, with and without mirrors)', () => {
    const { table, mirrored } = planted(5000, 200, 3);
    for (const m of [null, mirrored]) {
      expect(finder(table, m, 12)).toEqual(bruteForceNearPairs(table, m, 12));
    }
  });
});

describe('multiIndexNearPairs with the planned blocks', () => {
  it('rejects block layouts that could miss pairs', () => {
    const table = packHashes(['0000000000000000', '0000000000000007']);
    const finder = (blocks: MihBlock[]) => () => multiIndexNearPairsWith({ blocks })(table, null, 3);
    // Σ (radius + 1) = 3 < t + 1 = 4: a pair differing in one bit of each block and one uncovered bit escapes.
    expect(finder([{ start: 0, bits: 8, radius: 0 }, { start: 8, bits: 8, radius: 1 }])).toThrow(RangeError);
    expect(finder([{ start: 0, bits: 8, radius: 1 }, { start: 4, bits: 8, radius: 1 }])).toThrow(RangeError);
    expect(finder([{ start: 60, bits: 8, radius: 8 }])).toThrow(RangeError);
    expect(finder([{ start: 0, bits: 23, radius: 23 }])).toThrow(RangeError);
    expect(finder([{ start: 0, bits: 8, radius: 1 }, { start: 8, bits: 8, radius: 1 }])()).toEqual([
      { a: 0, b: 1, d: 3 },
    ]);
  });

  it('plans blocks that satisfy the pigeonhole condition', () => {
    for (const n of [2, 40, 1000, 100_000, 1_000_000]) {
      for (const t of [0, 4, 10, 12, 20, 32, 64]) {
        for (const mirrored of [false, true]) {
          const { blocks } = multiIndexPlan(n, t, mirrored);
          const vacuous = blocks.some((b) => b.radius >= b.bits);
          expect(vacuous || blocks.reduce((s, b) => s + b.radius + 1, 0) >= t + 1).toBe(true);
          let end = 0;
          for (const b of blocks) {
            expect(b.start).toBeGreaterThanOrEqual(end);
            end = b.start + b.bits;
          }
          expect(end).toBeLessThanOrEqual(64);
        }
      }
    }
  });

  it('finds every planted pair among 100,000 random hashes (t = 12), agreeing with a second block layout', () => {
    const n = 100_000;
    const { table, mirrored, pairs } = planted(n, 1000, 11);
    const t0 = performance.now();
    const found = multiIndexNearPairs(table, null, 12);
    const t1 = performance.now();
    const withMirrors = multiIndexNearPairs(table, mirrored, 12);
    const t2 = performance.now();
    console.log(
      `multiIndexNearPairs n=${n} t=12: ${(t1 - t0).toFixed(0)} ms (${found.length} pairs), ` +
        `${(t2 - t1).toFixed(0)} ms with mirrors (${withMirrors.length} pairs); ` +
        `blocks ${JSON.stringify(multiIndexPlan(n, 12, false).blocks.map((b) => [b.bits, b.radius]))}`,
    );
    expectWellFormed(found, table, null, n, 12);
    expectWellFormed(withMirrors, table, mirrored, n, 12);
    const index = new Map(found.map((p) => [p.a * n + p.b, p.d]));
    for (const p of pairs) expect(index.get(p.a * n + p.b)).toBe(p.d);
    const mirroredIndex = new Map(withMirrors.map((p) => [p.a * n + p.b, p.d]));
    for (const p of pairs) expect(mirroredIndex.get(p.a * n + p.b)).toBeLessThanOrEqual(p.d);
    // An independent layout (four 16-bit blocks, radii 2, 2, 2, 3) must give the same pairs.
    const other: MihBlock[] = [
      { start: 0, bits: 16, radius: 2 },
      { start: 16, bits: 16, radius: 2 },
      { start: 32, bits: 16, radius: 2 },
      { start: 48, bits: 16, radius: 3 },
    ];
    expect(multiIndexNearPairsWith({ blocks: other })(table, null, 12)).toEqual(found);
    expect(multiIndexNearPairsWith({ blocks: other })(table, mirrored, 12)).toEqual(withMirrors);
  });

  it('finds planted mirror copies among 100,000 hashes', () => {
    const n = 100_000;
    const { table, mirrored } = planted(n, 0, 5);
    const copies = plantMirrorCopies(table, mirrored, 500, 12);
    const found = multiIndexNearPairs(table, mirrored, 12);
    const index = new Map(found.map((p) => [p.a * n + p.b, p.d]));
    for (const p of copies) expect(index.get(p.a * n + p.b)).toBeLessThanOrEqual(p.d);
    expectWellFormed(found, table, mirrored, n, 12);
  });
});

/** Sorted by a then b, a < b, no repeats, d the true flip distance and within t. */
function expectWellFormed(pairs: NearPair[], table: Uint32Array, mirrored: Uint32Array | null, n: number, t: number) {
  const dist = (x: Uint32Array, i: number, y: Uint32Array, j: number) =>
    popcount(x[2 * i] ^ y[2 * j]) + popcount(x[2 * i + 1] ^ y[2 * j + 1]);
  let previous = -1;
  for (const { a, b, d } of pairs) {
    expect(a < b && b < n).toBe(true);
    expect(a * n + b).toBeGreaterThan(previous);
    previous = a * n + b;
    let want = dist(table, a, table, b);
    if (mirrored) want = Math.min(want, dist(table, a, mirrored, b), dist(mirrored, a, table, b));
    expect(d).toBe(want);
    expect(d).toBeLessThanOrEqual(t);
  }
}

function popcount(x: number): number {
  let c = 0;
  for (x >>>= 0; x !== 0; x >>>= 1) c += x & 1;
  return c;
}

/**
 * n random hashes (and random mirrors), then `count` disjoint pairs (a, b) with b set to a with
 * d = 1..12 distinct bits flipped; the pairs come back sorted by a then b.
 */
function planted(n: number, count: number, seed: number) {
  const r = rng(seed);
  const word = () => Math.floor(r() * 0x100000000);
  const table = Uint32Array.from({ length: 2 * n }, word);
  const mirrored = Uint32Array.from({ length: 2 * n }, word);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < 2 * count; i++) {
    const j = i + Math.floor(r() * (n - i));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const pairs: NearPair[] = [];
  for (let k = 0; k < count; k++) {
    const [a, b] = [order[2 * k], order[2 * k + 1]].sort((x, y) => x - y);
    const d = 1 + (k % 12);
    copyWithFlips(table, a, table, b, d, r);
    pairs.push({ a, b, d });
  }
  pairs.sort((p, q) => p.a - q.a || p.b - q.b);
  return { table, mirrored, pairs };
}

/** Sets hash `to` of `dst` to hash `from` of `src` with `d` distinct random bits flipped. */
function copyWithFlips(src: Uint32Array, from: number, dst: Uint32Array, to: number, d: number, r: () => number) {
  let hi = src[2 * from];
  let lo = src[2 * from + 1];
  const flipped = new Set<number>();
  while (flipped.size < d) flipped.add(Math.floor(r() * 64));
  for (const bit of flipped) {
    if (bit < 32) hi ^= 1 << bit;
    else lo ^= 1 << (bit - 32);
  }
  dst[2 * to] = hi >>> 0;
  dst[2 * to + 1] = lo >>> 0;
}

/**
 * Makes `count` hashes b the mirror of an earlier hash a with 1..maxD bits flipped (so they pair
 * through d(mirror a, b)); a and b are taken from the end of the table, away from planted pairs.
 */
function plantMirrorCopies(table: Uint32Array, mirrored: Uint32Array, count: number, maxD: number): NearPair[] {
  const n = table.length >>> 1;
  const r = rng(99);
  const out: NearPair[] = [];
  for (let k = 0; k < count; k++) {
    const a = n - 2 * count + 2 * k;
    const b = a + 1;
    const d = 1 + (k % maxD);
    copyWithFlips(mirrored, a, table, b, d, r);
    out.push({ a, b, d });
  }
  return out;
}
