/**
 * computeAll, the hash worker's stage two for a batch: files are decoded several at a time, but
 * never more than CONCURRENT_FILES at once nor, past the first, more decoded pixels than the
 * budget; results come back one per file, in input order. The browser's decoders are replaced by
 * a fake that takes a few milliseconds and counts what is in flight (Node has neither).
 */
import fc from 'fast-check';
import { describe, expect, test, vi } from 'vitest';
import { crc32 } from '../../../src/core/sniff.ts';

const flight = { files: 0, pixels: 0, maxFiles: 0, maxPixels: 0, maxSingle: 0 };

vi.mock('../../../src/workers/hash/decode.ts', () => ({
  decodeImage: vi.fn(async (_source: ArrayBuffer, _format: string, _head: Uint8Array, size: { width: number; height: number }) => {
    const pixels = size.width * size.height;
    flight.files++;
    flight.pixels += pixels;
    flight.maxFiles = Math.max(flight.maxFiles, flight.files);
    flight.maxPixels = Math.max(flight.maxPixels, flight.pixels);
    flight.maxSingle = Math.max(flight.maxSingle, pixels);
    await new Promise((resolve) => setTimeout(resolve, 1 + (pixels % 5)));
    flight.files--;
    flight.pixels -= pixels;
    // Tiny pixels whatever the header said: the hashes are not what this test is about.
    const rgba = new Uint8ClampedArray(8 * 8 * 4).fill(pixels % 251);
    return { rgba, pixelWidth: 8, pixelHeight: 8, width: 8, height: 8, bitmap: null };
  }),
  makeThumbnail: vi.fn(async () => ({ bytes: new ArrayBuffer(1), type: 'image/png', width: 8, height: 8 })),
}));

const { computeAll } = await import('../../../src/workers/hash/analyse.ts');

const be32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];

/** A PNG's signature and IHDR (all the header check reads), saying width × height. */
function pngOfSize(width: number, height: number): ArrayBuffer {
  const ihdr = Uint8Array.from([...'IHDR'].map((c) => c.charCodeAt(0)).concat(be32(width), be32(height), [8, 6, 0, 0, 0]));
  const iend = Uint8Array.from([...'IEND'].map((c) => c.charCodeAt(0)));
  const parts = [[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], be32(13), [...ihdr], be32(crc32(ihdr)), be32(0), [...iend], be32(crc32(iend))];
  return Uint8Array.from(parts.flat()).buffer;
}

describe('computeAll', () => {
  test('one result per file in input order, at most 8 in flight, pixels in flight within 16 MP past the first', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.constantFrom(32, 400, 2000, 5000), fc.integer({ min: 1, max: 3000 })), { minLength: 1, maxLength: 30 }),
        async (sides) => {
          Object.assign(flight, { files: 0, pixels: 0, maxFiles: 0, maxPixels: 0, maxSingle: 0 });
          const items = sides.map((side, i) => ({ sha256: i.toString(16).padStart(64, '0'), source: pngOfSize(side, side) }));
          const out = await computeAll(items);
          expect(out.map((a) => a.sha256)).toEqual(items.map((it) => it.sha256));
          expect(out.every((a) => a.ok)).toBe(true);
          expect(flight.maxFiles).toBeLessThanOrEqual(8);
          expect(flight.maxPixels).toBeLessThanOrEqual(Math.max(16_000_000, flight.maxSingle));
          expect(flight.files).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
  });

  test('small images really are decoded concurrently', async () => {
    Object.assign(flight, { files: 0, pixels: 0, maxFiles: 0, maxPixels: 0, maxSingle: 0 });
    await computeAll(Array.from({ length: 20 }, (_, i) => ({ sha256: String(i).padStart(64, '0'), source: pngOfSize(32, 32) })));
    expect(flight.maxFiles).toBe(8);
  });

  test('a file refused before decoding costs nothing and still gets its result in place', async () => {
    const text = new TextEncoder().encode('just some notes, not an image').buffer;
    const out = await computeAll([
      { sha256: 'a'.repeat(64), source: pngOfSize(64, 64) },
      { sha256: 'b'.repeat(64), source: text },
      { sha256: 'c'.repeat(64), source: pngOfSize(64, 64) },
    ]);
    expect(out.map((a) => [a.sha256?.[0], a.ok])).toEqual([
      ['a', true],
      ['b', false],
      ['c', true],
    ]);
    expect(out[1]).toMatchObject({ reason: 'not-an-image' });
  });
});
