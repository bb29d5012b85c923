import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  distanceAt,
  flipDistanceAt,
  hammingHex64,
  packHashes,
  popcount32,
  unpackHash,
} from '../../../src/core/hamming.ts';
import { hexHash, naiveDistance } from './arbitraries.ts';

describe('packed hashes', () => {
  it('packs hi/lo words and round-trips', () => {
    const t = packHashes(['0123456789abcdef', 'FFFFFFFF00000000']);
    expect(Array.from(t)).toEqual([0x01234567, 0x89abcdef, 0xffffffff, 0]);
    expect(unpackHash(t, 0)).toBe('0123456789abcdef');
    expect(unpackHash(t, 1)).toBe('ffffffff00000000');
  });

  it('rejects malformed hashes', () => {
    expect(() => packHashes(['123'])).toThrow(TypeError);
    expect(() => packHashes(['0123456789abcdeg'])).toThrow(TypeError);
    expect(() => packHashes(['0123456789abcdef0'])).toThrow(TypeError);
  });

  it('popcount32 matches a bit loop', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (x) => {
        let n = 0;
        for (let b = 0; b < 32; b++) n += (x >>> b) & 1;
        expect(popcount32(x)).toBe(n);
        expect(popcount32(x | 0)).toBe(n); // signed view of the same bits
      }),
    );
  });

  it('distance equals the naive BigInt distance', () => {
    fc.assert(
      fc.property(hexHash, hexHash, (a, b) => {
        const t = packHashes([a, b]);
        expect(distanceAt(t, 0, t, 1)).toBe(naiveDistance(a, b));
        expect(hammingHex64(a, b)).toBe(naiveDistance(a, b));
      }),
    );
  });

  it('flip distance is symmetric and never above the plain distance', () => {
    fc.assert(
      fc.property(hexHash, hexHash, hexHash, hexHash, (a, b, ma, mb) => {
        const t = packHashes([a, b]);
        const m = packHashes([ma, mb]);
        const d = flipDistanceAt(t, m, 0, 1);
        expect(d).toBe(flipDistanceAt(t, m, 1, 0));
        expect(d).toBeLessThanOrEqual(distanceAt(t, 0, t, 1));
        expect(flipDistanceAt(t, null, 0, 1)).toBe(distanceAt(t, 0, t, 1));
      }),
    );
  });
});
