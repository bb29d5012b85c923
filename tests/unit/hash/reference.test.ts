/**
 * Agreement with Python imagehash 4.3 (reference30.json, made with Pillow 9.4 + libjpeg-turbo).
 *
 * Two decoders on purpose. The hashes are only as good as the pixels they see, and jpeg-js
 * decodes JPEG differently from libjpeg-turbo (other IDCT, no chroma smoothing), so with it the
 * grey thumbnails differ by ±1–2 levels and hashes by a few bits; that measures decoder spread,
 * not our hashing. The test decoder in libjpeg-decode.ts reproduces libjpeg-turbo's pixels, and
 * with it every intermediate array and every hash must match exactly — the proof that grey
 * conversion, Lanczos, DCT, Haar and bit order are bit-exact.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { HASH_KINDS, type HashKind } from '../../../src/core/types.ts';
import { ahashBits } from '../../../src/core/hash/ahash.ts';
import { dhashBits } from '../../../src/core/hash/dhash.ts';
import { rgbaToGrey } from '../../../src/core/hash/grey.ts';
import { hammingHex } from '../../../src/core/hash/hamming.ts';
import { bitsToHex } from '../../../src/core/hash/hex.ts';
import { computeHashSets } from '../../../src/core/hash/index.ts';
import { resizeLanczos3 } from '../../../src/core/hash/lanczos.ts';
import { phashBits } from '../../../src/core/hash/phash.ts';
import { decodeFile, SHARED_DATA, type Rgba } from './decode.ts';
import { decodeJpegLibjpeg } from './libjpeg-decode.ts';

interface RefImage {
  file: string;
  transform: string;
  size: [number, number];
  mode: string;
  ahash: string;
  dhash: string;
  phash: string;
  whash: string;
  gray8x8: number[][];
  gray9x8: number[][];
  gray32x32: number[][];
}

const REF_DIR = `${SHARED_DATA}/reference/hash`;
const ref: { images: RefImage[] } = JSON.parse(readFileSync(`${REF_DIR}/reference30.json`, 'utf8'));
const decodable = ref.images.filter((im) => !im.file.endsWith('.webp'));

function decodeExact(file: string): Rgba {
  const bytes = readFileSync(`${REF_DIR}/${file}`);
  if (file.endsWith('.jpg')) return decodeJpegLibjpeg(bytes);
  return decodeFile(`${REF_DIR}/${file}`)!;
}

function stats(values: number[]): { mean: number; max: number } {
  return { mean: values.reduce((a, b) => a + b, 0) / values.length, max: Math.max(...values) };
}

describe('reference30', () => {
  test('the set is what we expect (29 decodable, the WebP skipped: no WebP decoder in Node)', () => {
    expect(ref.images).toHaveLength(30);
    expect(decodable).toHaveLength(29);
  });

  test('hash functions alone reproduce the reference from its own grey thumbnails', () => {
    // Independent of decoder and resize: proves the bit rules, the DCT/median and the hex order.
    for (const im of ref.images) {
      expect(bitsToHex(ahashBits(Uint8Array.from(im.gray8x8.flat()))), im.file).toBe(im.ahash);
      expect(bitsToHex(dhashBits(Uint8Array.from(im.gray9x8.flat()))), im.file).toBe(im.dhash);
      expect(bitsToHex(phashBits(Uint8Array.from(im.gray32x32.flat()))), im.file).toBe(im.phash);
    }
  });

  test('with libjpeg-identical pixels, grey thumbnails and all four hashes match exactly', () => {
    for (const im of decodable) {
      const img = decodeExact(im.file);
      expect([img.width, img.height]).toEqual(im.size);
      const grey = rgbaToGrey(img.data, img.width, img.height);
      expect(Array.from(resizeLanczos3(grey, img.width, img.height, 8, 8)), `${im.file} 8x8`).toEqual(im.gray8x8.flat());
      expect(Array.from(resizeLanczos3(grey, img.width, img.height, 9, 8)), `${im.file} 9x8`).toEqual(im.gray9x8.flat());
      expect(Array.from(resizeLanczos3(grey, img.width, img.height, 32, 32)), `${im.file} 32x32`).toEqual(im.gray32x32.flat());
      const { hashes } = computeHashSets(img.data, img.width, img.height);
      for (const k of HASH_KINDS) expect(hashes[k], `${im.file} ${k}`).toBe(im[k]);
    }
  });

  test('with jpeg-js pixels: mean ≤ 1 bit for every hash; PNG exact (the spread is the decoder)', () => {
    const dist: Record<HashKind, number[]> = { phash: [], dhash: [], ahash: [], whash: [] };
    const rows: string[] = [];
    for (const im of decodable) {
      const img = decodeFile(`${REF_DIR}/${im.file}`)!;
      const { hashes } = computeHashSets(img.data, img.width, img.height);
      const d = HASH_KINDS.map((k) => hammingHex(hashes[k], im[k]));
      HASH_KINDS.forEach((k, i) => dist[k].push(d[i]));
      if (im.file.endsWith('.png')) expect(d).toEqual([0, 0, 0, 0]);
      rows.push(`${im.file.padEnd(28)} ${d.join(' ')}`);
    }
    const summary = HASH_KINDS.map((k) => {
      const s = stats(dist[k]);
      return `${k} mean ${s.mean.toFixed(2)} max ${s.max}`;
    });
    console.log(`jpeg-js decode vs reference (bits, ${HASH_KINDS.join(' ')}):\n${rows.join('\n')}\n${summary.join('; ')}`);
    for (const k of HASH_KINDS) expect(stats(dist[k]).mean, k).toBeLessThanOrEqual(1);
    expect(stats(dist.phash).max).toBeLessThanOrEqual(4);
    expect(stats(dist.ahash).max).toBeLessThanOrEqual(4);
    // dHash compares neighbouring thumbnail pixels, so ±1 from the decoder flips near-ties:
    // measured max 5 (one grey JPEG); the exact test above shows the hashing itself is exact.
    expect(stats(dist.dhash).max).toBeLessThanOrEqual(6);
    expect(stats(dist.whash).max).toBeLessThanOrEqual(4);
  });
});

describe('imagehash test constants (imagehash.png, 1200×600 RGBA)', () => {
  const img = decodeFile(`${REF_DIR}/imagehash_testdata/imagehash.png`)!;
  const expected = { ahash: 'ffd7918181c9ffff', phash: 'ba8c84536bd3c366', dhash: '0026273b2b19550e', whash: 'ffd391818181a5e7' };

  test('exact without reduction', () => {
    expect(computeHashSets(img.data, img.width, img.height, { reduceAbove: Infinity }).hashes).toEqual(expected);
  });

  test('exact with the default pipeline too (1200 px is box-reduced by 2 first)', () => {
    expect(computeHashSets(img.data, img.width, img.height).hashes).toEqual(expected);
  });
});
