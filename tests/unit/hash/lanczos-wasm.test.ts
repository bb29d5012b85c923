/**
 * The SIMD resize (lanczos-simd.wat) against the TypeScript transcription of Pillow: every byte
 * equal, on random images of random sizes, extents and targets, on real photos, and on the
 * extremes the fixed-point sums can reach (all 0, all 255, edges that make negative lobes
 * matter). Also: the committed module is what `npm run wasm` makes of the .wat today.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { computeHashSets, hashSetsFromGrey } from '../../../src/core/hash/index.ts';
import { rgbaToGrey } from '../../../src/core/hash/grey.ts';
import { resizeLanczos3Extent } from '../../../src/core/hash/lanczos.ts';
import { LANCZOS_SIMD_WASM_BASE64 } from '../../../src/core/hash/lanczos-simd.wasm.ts';
import { lanczosSimdAvailable, resizeManyFromRgbaSimd, resizeManyLanczos3Simd, type ResizeTarget } from '../../../src/core/hash/lanczos-wasm.ts';
import { whashScale } from '../../../src/core/hash/whash.ts';
import { assembleWat } from '../../../scripts/wasm/assemble.mjs';
import { SHARED_DATA } from './decode.ts';
import { decodeJpegLibjpeg } from './libjpeg-decode.ts';

function reference(grey: Uint8Array, w: number, h: number, ew: number, eh: number, targets: readonly ResizeTarget[]): Uint8Array[] {
  return targets.map((t) => resizeLanczos3Extent(grey, w, h, ew, eh, t.width, t.height));
}

function simd(grey: Uint8Array, w: number, h: number, ew: number, eh: number, targets: readonly ResizeTarget[]): Uint8Array[] {
  const out = resizeManyLanczos3Simd(grey, w, h, ew, eh, targets);
  if (out === null) throw new Error('SIMD module did not load');
  return out;
}

const HASH_TARGETS = (w: number, h: number): ResizeTarget[] => {
  const s = whashScale(w, h);
  return [
    { width: 8, height: 8 },
    { width: 9, height: 8 },
    { width: 32, height: 32 },
    { width: s, height: s },
  ];
};

describe('Lanczos SIMD resize', () => {
  test('loads in Node 20 (V8 has had wasm SIMD since 9.1)', () => {
    expect(lanczosSimdAvailable()).toBe(true);
  });

  test('the committed module is the .wat assembled now', async () => {
    const wat = readFileSync(new URL('../../../src/core/hash/lanczos-simd.wat', import.meta.url), 'utf8');
    const fresh = Buffer.from(await assembleWat(wat, 'lanczos-simd.wat')).toString('base64');
    expect(LANCZOS_SIMD_WASM_BASE64).toBe(fresh);
  });

  test('equals the TypeScript resize on random images, sizes and targets', () => {
    const cases = fc
      .record({
        w: fc.integer({ min: 1, max: 160 }),
        h: fc.integer({ min: 1, max: 160 }),
        seed: fc.integer(),
        kind: fc.constantFrom('noise', 'binary', 'smooth'),
        targets: fc.array(fc.record({ width: fc.integer({ min: 1, max: 200 }), height: fc.integer({ min: 1, max: 200 }) }), { minLength: 1, maxLength: 4 }),
      })
      .map(({ w, h, seed, kind, targets }) => {
        const grey = new Uint8Array(w * h);
        let s = seed | 0;
        for (let i = 0; i < grey.length; i++) {
          s = (Math.imul(s, 1103515245) + 12345) | 0;
          const r = (s >>> 16) & 255;
          // Binary images drive the sums to their extremes (overshoot past 255 and below 0).
          grey[i] = kind === 'noise' ? r : kind === 'binary' ? (r & 1 ? 255 : 0) : ((i % w) * 7 + Math.floor(i / w) * 3 + (r & 15)) & 255;
        }
        return { grey, w, h, targets };
      });
    fc.assert(
      fc.property(cases, ({ grey, w, h, targets }) => {
        expect(simd(grey, w, h, w, h, targets)).toEqual(reference(grey, w, h, w, h, targets));
      }),
      { numRuns: 200 },
    );
  });

  test('equals it with fractional extents (the box-reduced path)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 20, max: 260 }),
        fc.integer({ min: 20, max: 260 }),
        fc.double({ min: 0.5, max: 1, noNaN: true }),
        fc.double({ min: 0.5, max: 1, noNaN: true }),
        fc.integer(),
        (w, h, fw, fh, seed) => {
          const grey = Uint8Array.from({ length: w * h }, (_, i) => (Math.imul(i + seed, 2654435761) >>> 24) & 255);
          const ew = w - 1 + fw;
          const eh = h - 1 + fh;
          const targets = HASH_TARGETS(Math.floor(ew), Math.floor(eh));
          expect(simd(grey, w, h, ew, eh, targets)).toEqual(reference(grey, w, h, ew, eh, targets));
        },
      ),
      { numRuns: 100 },
    );
  });

  test('equals it on uniform images at both ends of the range', () => {
    for (const v of [0, 1, 128, 254, 255]) {
      const grey = new Uint8Array(123 * 77).fill(v);
      const targets = HASH_TARGETS(123, 77);
      const got = simd(grey, 123, 77, 123, 77, targets);
      expect(got).toEqual(reference(grey, 123, 77, 123, 77, targets));
      for (const g of got) expect(g.every((x) => x === v)).toBe(true);
    }
  });

  test('gives the same hashes as the TypeScript path on the near-duplicate photos', () => {
    const dir = `${SHARED_DATA}/neardup/images`;
    const names = ['g000_orig.jpg', 'g000_crop90.jpg', 'g000_grayscale.jpg', 'g002_resize50.jpg', 'g002_rot3.jpg', 'g004_watermark.jpg'];
    let checked = 0;
    for (const name of names) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(`${dir}/${name}`);
      } catch {
        continue;
      }
      const img = decodeJpegLibjpeg(bytes);
      const grey = rgbaToGrey(img.data, img.width, img.height);
      const targets = HASH_TARGETS(img.width, img.height);
      expect(simd(grey, img.width, img.height, img.width, img.height, targets)).toEqual(reference(grey, img.width, img.height, img.width, img.height, targets));
      expect(hashSetsFromGrey(grey, img.width, img.height)).toEqual(hashSetsFromGrey(grey, img.width, img.height, img.width, img.height, { resize: 'typescript' }));
      checked++;
    }
    expect(checked).toBe(names.length);
  });

  test('later, smaller calls after a large one still read only their own image', () => {
    const big = Uint8Array.from({ length: 900 * 700 }, (_, i) => (i * 31) & 255);
    simd(big, 900, 700, 900, 700, HASH_TARGETS(900, 700));
    const small = Uint8Array.from({ length: 17 * 13 }, (_, i) => (i * 57) & 255);
    const targets = [{ width: 8, height: 8 }, { width: 9, height: 8 }, { width: 32, height: 32 }];
    expect(simd(small, 17, 13, 17, 13, targets)).toEqual(reference(small, 17, 13, 17, 13, targets));
  });

  test('grey conversion in the module equals Pillow\'s luma in TypeScript, any pixel count', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 70 }), fc.integer(), (w, h, seed) => {
        const rgba = Uint8ClampedArray.from({ length: w * h * 4 }, (_, i) => (Math.imul(i ^ seed, 2654435761) >>> 23) & 255);
        // Extremes too: white and black pixels at the ends.
        rgba.fill(255, 0, 4);
        rgba.fill(0, rgba.length - 4);
        const [grey] = resizeManyFromRgbaSimd(rgba, w, h, [{ width: w, height: h }])!;
        expect(grey).toEqual(rgbaToGrey(rgba, w, h));
      }),
      { numRuns: 200 },
    );
  });

  test('computeHashSets gives the same hashes through the module as through TypeScript', () => {
    fc.assert(
      fc.property(fc.integer({ min: 8, max: 200 }), fc.integer({ min: 8, max: 200 }), fc.integer(), (w, h, seed) => {
        const rgba = Uint8ClampedArray.from({ length: w * h * 4 }, (_, i) => ((i >> 2) % w) * 3 + ((Math.imul(i + seed, 2654435761) >>> 28) & 15));
        expect(computeHashSets(rgba, w, h)).toEqual(computeHashSets(rgba, w, h, { resize: 'typescript' }));
      }),
      { numRuns: 100 },
    );
  });
});
