/** Property tests for the thumbnail downscale (src/core/area-resize.ts). */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { areaDownscaleRgba, thumbnailSize } from '../../../src/core/area-resize.ts';

const images = fc
  .record({ w: fc.integer({ min: 1, max: 90 }), h: fc.integer({ min: 1, max: 90 }), seed: fc.integer() })
  .map(({ w, h, seed }) => {
    const rgba = new Uint8ClampedArray(w * h * 4);
    let s = seed | 0;
    for (let i = 0; i < rgba.length; i++) {
      s = (Math.imul(s, 1103515245) + 12345) | 0;
      rgba[i] = (s >>> 16) & 255;
    }
    return { rgba, w, h };
  });

describe('areaDownscaleRgba', () => {
  test('a uniform image stays uniform, at any reduction', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 120 }), fc.integer({ min: 1, max: 120 }), fc.integer({ min: 0, max: 255 }), fc.double({ min: 0.01, max: 1, noNaN: true }), (w, h, v, f) => {
        const outW = Math.max(1, Math.floor(w * f));
        const outH = Math.max(1, Math.floor(h * f));
        const out = areaDownscaleRgba(new Uint8ClampedArray(w * h * 4).fill(v), w, h, outW, outH);
        expect(out.length).toBe(outW * outH * 4);
        expect(out.every((x) => x === v)).toBe(true);
      }),
    );
  });

  test('an integer factor is the plain mean of each k×k block', () => {
    fc.assert(
      fc.property(images, fc.integer({ min: 1, max: 5 }), ({ rgba, w, h }, k) => {
        const outW = Math.floor(w / k);
        const outH = Math.floor(h / k);
        fc.pre(outW >= 1 && outH >= 1);
        // Crop to a multiple of k so every block is whole.
        const cw = outW * k;
        const ch = outH * k;
        const crop = new Uint8ClampedArray(cw * ch * 4);
        for (let y = 0; y < ch; y++) crop.set(rgba.subarray(y * w * 4, y * w * 4 + cw * 4), y * cw * 4);
        const out = areaDownscaleRgba(crop, cw, ch, outW, outH);
        for (let oy = 0; oy < outH; oy++) {
          for (let ox = 0; ox < outW; ox++) {
            for (let c = 0; c < 4; c++) {
              let sum = 0;
              for (let y = 0; y < k; y++) for (let x = 0; x < k; x++) sum += crop[((oy * k + y) * cw + ox * k + x) * 4 + c];
              // Float32 sums: within half a level of the exact mean before rounding.
              expect(Math.abs(out[(oy * outW + ox) * 4 + c] - sum / (k * k))).toBeLessThanOrEqual(0.5 + 1e-3);
            }
          }
        }
      }),
    );
  });

  test('keeps the image mean, for any target size', () => {
    fc.assert(
      fc.property(images, fc.double({ min: 0.05, max: 1, noNaN: true }), ({ rgba, w, h }, f) => {
        const outW = Math.max(1, Math.round(w * f));
        const outH = Math.max(1, Math.round(h * f));
        const out = areaDownscaleRgba(rgba, w, h, outW, outH);
        for (let c = 0; c < 4; c++) {
          let a = 0;
          let b = 0;
          for (let i = c; i < rgba.length; i += 4) a += rgba[i];
          for (let i = c; i < out.length; i += 4) b += out[i];
          // Each output pixel covers the same area, so means agree up to per-pixel rounding.
          expect(Math.abs(a / (w * h) - b / (outW * outH))).toBeLessThanOrEqual(0.5 + 1e-3);
        }
      }),
    );
  });

  test('refuses to enlarge or to make an empty image', () => {
    const px = new Uint8ClampedArray(4 * 4 * 4);
    expect(() => areaDownscaleRgba(px, 4, 4, 5, 4)).toThrow(RangeError);
    expect(() => areaDownscaleRgba(px, 4, 4, 0, 2)).toThrow(RangeError);
    expect(() => areaDownscaleRgba(px.subarray(0, 10), 4, 4, 2, 2)).toThrow(RangeError);
  });

  test('a large call and then a small one: the reused scratch does not leak into the result', () => {
    areaDownscaleRgba(new Uint8ClampedArray(300 * 200 * 4).fill(200), 300, 200, 100, 70);
    const out = areaDownscaleRgba(new Uint8ClampedArray(6 * 6 * 4).fill(10), 6, 6, 3, 3);
    expect([...out]).toEqual(new Array(36).fill(10));
  });
});

describe('thumbnailSize', () => {
  test('long side at most the limit, aspect kept within a pixel, never zero, never enlarged', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20000 }), fc.integer({ min: 1, max: 20000 }), (w, h) => {
        const t = thumbnailSize(w, h, 160);
        expect(Math.max(t.width, t.height)).toBe(Math.min(160, Math.max(w, h)));
        expect(t.width).toBeGreaterThanOrEqual(1);
        expect(t.height).toBeGreaterThanOrEqual(1);
        expect(t.width).toBeLessThanOrEqual(w);
        expect(t.height).toBeLessThanOrEqual(h);
        const scale = Math.min(1, 160 / Math.max(w, h));
        expect(Math.abs(t.width - Math.max(1, w * scale))).toBeLessThanOrEqual(0.5);
        expect(Math.abs(t.height - Math.max(1, h * scale))).toBeLessThanOrEqual(0.5);
      }),
    );
  });
});
