/** Property tests (fast-check): hex encoding, the Hamming metric, flip and scale behaviour. */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { HASH_KINDS } from '../../../src/core/types.ts';
import { hammingHex } from '../../../src/core/hash/hamming.ts';
import { bitsToHex, hexToBits } from '../../../src/core/hash/hex.ts';
import { computeHashSets } from '../../../src/core/hash/index.ts';
import { coeffCacheSize, resizeLanczos3 } from '../../../src/core/hash/lanczos.ts';
import { mirrorRgba, resizeBilinear, resizeRgba, SHARED_DATA, type Rgba } from './decode.ts';
import { decodeJpegLibjpeg } from './libjpeg-decode.ts';

const hex64 = fc.tuple(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff })).map(([a, b]) => a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0'));
const bits64 = fc.uint8Array({ minLength: 64, maxLength: 64, max: 1 });

/** Slow, obviously-correct distance for cross-checking (BigInt is fine in a test). */
function naiveHamming(a: string, b: string): number {
  let x = BigInt(`0x${a}`) ^ BigInt(`0x${b}`);
  let n = 0;
  while (x) {
    n += Number(x & 1n);
    x >>= 1n;
  }
  return n;
}

/**
 * A random picture with structure at several scales (a smooth field from a coarse random grid
 * plus some fine noise), so hashes are not decided by ties as they would be on pure noise.
 */
const pictures = fc
  .record({
    w: fc.integer({ min: 9, max: 320 }),
    h: fc.integer({ min: 9, max: 240 }),
    grid: fc.uint8Array({ minLength: 36 * 3, maxLength: 36 * 3 }),
    seed: fc.integer(),
  })
  .map(({ w, h, grid, seed }): Rgba => {
    const data = new Uint8Array(w * h * 4);
    let s = seed | 0;
    for (let c = 0; c < 3; c++) {
      const coarse = Uint8Array.from(grid.subarray(c * 36, c * 36 + 36));
      const field = resizeBilinear(coarse, 6, 6, w, h);
      for (let i = 0; i < w * h; i++) {
        s = (Math.imul(s, 1103515245) + 12345) | 0;
        data[4 * i + c] = Math.min(255, Math.max(0, field[i] + ((s >>> 16) % 9) - 4));
      }
    }
    for (let i = 0; i < w * h; i++) data[4 * i + 3] = 255;
    return { data, width: w, height: h };
  });

describe('hex', () => {
  test('bits → hex → bits round trip', () => {
    fc.assert(
      fc.property(bits64, (bits) => {
        expect(Array.from(hexToBits(bitsToHex(bits)))).toEqual(Array.from(bits));
      }),
    );
  });
  test('hex → bits → hex round trip (lowercase, 16 digits)', () => {
    fc.assert(
      fc.property(hex64, (h) => {
        expect(bitsToHex(hexToBits(h))).toBe(h);
      }),
    );
    expect(bitsToHex(hexToBits('ABCDEF0123456789'))).toBe('abcdef0123456789');
  });
  test('first bit is the most significant', () => {
    const bits = new Uint8Array(64);
    bits[0] = 1;
    expect(bitsToHex(bits)).toBe('8000000000000000');
    bits[0] = 0;
    bits[63] = 1;
    expect(bitsToHex(bits)).toBe('0000000000000001');
  });
});

describe('hammingHex is a metric', () => {
  test('agrees with a naive BigInt popcount', () => {
    fc.assert(
      fc.property(hex64, hex64, (a, b) => {
        expect(hammingHex(a, b)).toBe(naiveHamming(a, b));
      }),
    );
    expect(hammingHex('ffffffffffffffff', '0000000000000000')).toBe(64);
  });
  test('identity, symmetry, triangle inequality', () => {
    fc.assert(
      fc.property(hex64, hex64, hex64, (a, b, c) => {
        expect(hammingHex(a, a)).toBe(0);
        expect(hammingHex(a, b) === 0).toBe(a === b);
        expect(hammingHex(a, b)).toBe(hammingHex(b, a));
        expect(hammingHex(a, c)).toBeLessThanOrEqual(hammingHex(a, b) + hammingHex(b, c));
      }),
    );
  });
  test('rejects malformed hashes instead of comparing garbage', () => {
    expect(() => hammingHex('12345g7812345678', '0000000000000000')).toThrow(TypeError);
    expect(() => hammingHex('123', '0000000000000000')).toThrow(TypeError);
  });
});

describe('flip invariance', () => {
  test('hashes of the mirrored image equal the mirrored hashes (random pictures)', () => {
    fc.assert(
      fc.property(pictures, (img) => {
        const direct = computeHashSets(img.data, img.width, img.height);
        const flipped = computeHashSets(mirrorRgba(img).data, img.width, img.height);
        for (const k of HASH_KINDS) {
          expect(hammingHex(direct.mirrored[k], flipped.hashes[k]), k).toBe(0);
          expect(hammingHex(flipped.mirrored[k], direct.hashes[k]), k).toBe(0);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('scale invariance', () => {
  const photos = ['g060_orig.jpg', 'g025_orig.jpg', 'g090_orig.jpg', 'g045_orig.jpg'].map((f) =>
    decodeJpegLibjpeg(readFileSync(`${SHARED_DATA}/reference/hash/images/${f}`)),
  );
  const bases = photos.map((p) => computeHashSets(p.data, p.width, p.height).hashes);
  const worst = { phash: 0, dhash: 0, ahash: 0, whash: 0 };

  // Measured worst over these 60 cases: pHash 4 (g025 shrunk to 160×120, either resampler),
  // dHash 1, aHash 2, wHash 2. The bound leaves one bit for other seeds.
  test('uniform rescaling by 0.4–2.5× (two different resamplers) moves each hash by ≤ 5 bits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: photos.length - 1 }), fc.double({ min: 0.4, max: 2.5, noNaN: true }), fc.boolean(), (i, f, lanczos) => {
        const photo = photos[i];
        const w = Math.max(8, Math.round(photo.width * f));
        const h = Math.max(8, Math.round(photo.height * f));
        const scaled = resizeRgba(photo, w, h, lanczos ? resizeLanczos3 : resizeBilinear);
        const hashes = computeHashSets(scaled.data, w, h).hashes;
        for (const k of HASH_KINDS) {
          const d = hammingHex(hashes[k], bases[i][k]);
          worst[k] = Math.max(worst[k], d);
          expect(d, `${k} at ${w}×${h}`).toBeLessThanOrEqual(5);
        }
      }),
      { numRuns: 60, seed: 20240601 },
    );
    console.log(`worst distance to the original over 60 rescalings: ${JSON.stringify(worst)}`);
  });
});

describe('determinism', () => {
  test('hashing the same image twice, with other sizes in between, gives identical results', () => {
    const photo = decodeJpegLibjpeg(readFileSync(`${SHARED_DATA}/reference/hash/images/g010_orig.jpg`));
    const copy = photo.data.slice();
    const first = computeHashSets(photo.data, photo.width, photo.height);
    // Churn the coefficient cache well past its capacity with other sizes.
    fc.assert(
      fc.property(pictures, (img) => {
        computeHashSets(img.data, img.width, img.height);
      }),
      { numRuns: 80, seed: 7 },
    );
    expect(coeffCacheSize()).toBeLessThanOrEqual(64);
    expect(computeHashSets(photo.data, photo.width, photo.height)).toEqual(first);
    expect(photo.data).toEqual(copy); // the input is not modified
  });

  test('tiny and degenerate sizes work (1×1, 1×N, N×1) and bad sizes throw', () => {
    for (const [w, h] of [[1, 1], [1, 50], [50, 1], [7, 3], [2000, 1]]) {
      const data = new Uint8Array(w * h * 4).map((_, i) => (i * 37) & 255);
      const r = computeHashSets(data, w, h);
      for (const k of HASH_KINDS) {
        expect(r.hashes[k]).toMatch(/^[0-9a-f]{16}$/);
        expect(r.mirrored[k]).toMatch(/^[0-9a-f]{16}$/);
      }
    }
    expect(() => computeHashSets(new Uint8Array(0), 0, 0)).toThrow(RangeError);
    expect(() => computeHashSets(new Uint8Array(4), 2, 2)).toThrow(RangeError);
  });

  test('a flat image gets a stable hash whatever its grey level', () => {
    // All DCT terms but DC are exactly zero in theory; without snapping, float noise would pick
    // their bits. Black differs only in the DC bit (DC = 0 is not above the median 0).
    const hashes = [17, 128, 255].map((v) => computeHashSets(new Uint8Array(40 * 30 * 4).fill(v), 40, 30).hashes);
    for (const h of hashes) expect(h).toEqual({ phash: '8000000000000000', dhash: '0000000000000000', ahash: '0000000000000000', whash: '0000000000000000' });
    expect(computeHashSets(new Uint8Array(40 * 30 * 4), 40, 30).hashes.phash).toBe('0000000000000000');
  });
});
