import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { packHashes } from '../../../src/core/hamming.ts';
import { bruteForceNearPairs, findNearPairs, type NearPair, type NearPairFinder } from '../../../src/core/pairs.ts';
import { multiIndexNearPairs, multiIndexNearPairsWith } from '../../../src/core/pairs-mih.ts';
import type { Hash64 } from '../../../src/core/types.ts';
import { clusteredHashes, naiveFlipDistance, randomHashes } from './arbitraries.ts';

/** The oracle: every pair, distance via BigInt. */
function oracle(h: Hash64[], m: Hash64[] | null, t: number): NearPair[] {
  const out: NearPair[] = [];
  for (let a = 0; a < h.length; a++) {
    for (let b = a + 1; b < h.length; b++) {
      const d = naiveFlipDistance(h, m, a, b);
      if (d <= t) out.push({ a, b, d });
    }
  }
  return out;
}

const finders: [string, NearPairFinder][] = [
  ['findNearPairs', findNearPairs],
  ['bruteForceNearPairs', bruteForceNearPairs],
  ['multiIndexNearPairs', multiIndexNearPairs],
  ['multiIndexNearPairs (JavaScript loop)', multiIndexNearPairsWith({ kernel: 'js' })],
];

describe.each(finders)('%s', (_name, finder) => {
  it('equals the brute-force oracle without mirrored hashes', () => {
    fc.assert(
      fc.property(clusteredHashes({ maxLength: 40 }), fc.integer({ min: 0, max: 64 }), (h, t) => {
        expect(finder(packHashes(h), null, t)).toEqual(oracle(h, null, t));
      }),
      { numRuns: 200 },
    );
  });

  it('equals the brute-force oracle with mirrored hashes', () => {
    fc.assert(
      fc.property(
        clusteredHashes({ maxLength: 40 }).chain((h) =>
          fc.tuple(fc.constant(h), clusteredHashes({ minLength: h.length, maxLength: h.length })),
        ),
        fc.integer({ min: 0, max: 24 }),
        ([h, m], t) => {
          expect(finder(packHashes(h), packHashes(m), t)).toEqual(oracle(h, m, t));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('finds a mirrored copy only through the mirrored table', () => {
    const original = '00000000ffffffff';
    const mirrorOfOriginal = 'ffffffff00000000';
    // The second image is the mirror of the first: its hash equals the first one's mirror hash.
    const h = [original, mirrorOfOriginal];
    const m = [mirrorOfOriginal, original];
    expect(finder(packHashes(h), null, 10)).toEqual([]);
    expect(finder(packHashes(h), packHashes(m), 10)).toEqual([{ a: 0, b: 1, d: 0 }]);
  });

  it('handles edge thresholds and sizes', () => {
    const t = packHashes(['0000000000000000', '0000000000000001']);
    expect(finder(t, null, -1)).toEqual([]);
    expect(finder(t, null, Number.NaN)).toEqual([]);
    expect(finder(t, null, 0)).toEqual([]);
    expect(finder(t, null, 1)).toEqual([{ a: 0, b: 1, d: 1 }]);
    expect(finder(new Uint32Array(0), null, 10)).toEqual([]);
    expect(() => finder(t, new Uint32Array(2), 1)).toThrow(RangeError);
  });
});

describe('findNearPairs performance', () => {
  it('handles 20,000 random hashes (with mirrors) in a few seconds', () => {
    const n = 20_000;
    const h = packHashes(randomHashes(n, 1));
    const m = packHashes(randomHashes(n, 2));
    // Plant some near pairs so the output is not trivially empty.
    for (let i = 0; i < 100; i++) {
      h[2 * (2 * i + 1)] = h[2 * (2 * i)];
      h[2 * (2 * i + 1) + 1] = h[2 * (2 * i) + 1] ^ 0b101;
    }
    const t0 = performance.now();
    const plain = findNearPairs(h, null, 10);
    const t1 = performance.now();
    const mirrored = findNearPairs(h, m, 10);
    const t2 = performance.now();
    console.log(
      `findNearPairs n=${n} t=10: ${(t1 - t0).toFixed(0)} ms without mirrors (${plain.length} pairs), ` +
        `${(t2 - t1).toFixed(0)} ms with mirrors (${mirrored.length} pairs)`,
    );
    expect(plain.length).toBeGreaterThanOrEqual(100);
    expect(mirrored.length).toBeGreaterThanOrEqual(plain.length);
  });
});
