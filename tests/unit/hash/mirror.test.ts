/**
 * Mirrored hashes are derived from mirrored thumbnails (index.ts). These tests measure that this
 * shortcut gives the hashes of a truly mirrored image.
 */
import { readdirSync } from 'node:fs';
import { expect, test } from 'vitest';
import { HASH_KINDS } from '../../../src/core/types.ts';
import { rgbaToGrey } from '../../../src/core/hash/grey.ts';
import { hammingHex } from '../../../src/core/hash/hamming.ts';
import { computeHashSets } from '../../../src/core/hash/index.ts';
import { mirrorHorizontal, resizeLanczos3 } from '../../../src/core/hash/lanczos.ts';
import { mirrorBits8x8, whashBits, whashScale } from '../../../src/core/hash/whash.ts';
import { decodeFile, mirrorRgba, SHARED_DATA, type Rgba } from './decode.ts';

const dir = `${SHARED_DATA}/reference/hash/images`;
const images: [string, Rgba][] = readdirSync(dir)
  .filter((f) => !f.endsWith('.webp'))
  .map((f) => [f, decodeFile(`${dir}/${f}`)!]);

test('Lanczos commutes with mirroring on the reference images (all four thumbnail sizes)', () => {
  let differing = 0;
  let total = 0;
  for (const [, img] of images) {
    const { width: w, height: h } = img;
    const g = rgbaToGrey(img.data, w, h);
    const gm = mirrorHorizontal(g, w, h);
    const s = whashScale(w, h);
    for (const [ow, oh] of [[8, 8], [9, 8], [32, 32], [s, s]]) {
      const a = mirrorHorizontal(resizeLanczos3(g, w, h, ow, oh), ow, oh);
      const b = resizeLanczos3(gm, w, h, ow, oh);
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differing++;
      total += a.length;
    }
  }
  console.log(`mirror(resize(g)) vs resize(mirror(g)): ${differing} of ${total} thumbnail pixels differ`);
  expect(differing).toBe(0);
});

test('wHash of a mirrored thumbnail is exactly the row-mirrored wHash bits', () => {
  for (const [f, img] of images) {
    const { width: w, height: h } = img;
    const s = whashScale(w, h);
    const gs = resizeLanczos3(rgbaToGrey(img.data, w, h), w, h, s, s);
    expect(Array.from(whashBits(mirrorHorizontal(gs, s, s), s)), f).toEqual(Array.from(mirrorBits8x8(whashBits(gs, s))));
  }
});

test('mirrored hashes equal the hashes of the truly mirrored image (29 reference images)', () => {
  for (const [f, img] of images) {
    const direct = computeHashSets(img.data, img.width, img.height);
    const flipped = computeHashSets(mirrorRgba(img).data, img.width, img.height);
    for (const k of HASH_KINDS) {
      const d = hammingHex(direct.mirrored[k], flipped.hashes[k]);
      expect(d, `${f} ${k}`).toBe(0);
      // And symmetric: the mirror of the mirror is the original.
      expect(hammingHex(flipped.mirrored[k], direct.hashes[k]), `${f} ${k} back`).toBe(0);
    }
  }
});

test('large images (box-reduced first): mirrored hashes within 2 bits of the true mirror', () => {
  // 1100 px wide → factor 2 with a partial edge block, which lands on the other side after a flip.
  const [, src] = images[0];
  const w = 1101;
  const h = Math.round((src.height * w) / src.width);
  const big = { data: new Uint8Array(w * h * 4), width: w, height: h };
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = ((Math.floor((y * src.height) / h) * src.width + Math.floor((x * src.width) / w)) * 4) | 0;
      big.data.set(src.data.subarray(s, s + 4), (y * w + x) * 4);
    }
  }
  const direct = computeHashSets(big.data, w, h);
  const flipped = computeHashSets(mirrorRgba(big).data, w, h);
  const d = HASH_KINDS.map((k) => hammingHex(direct.mirrored[k], flipped.hashes[k]));
  console.log(`${w}×${h}: mirrored vs true mirror (${HASH_KINDS.join(' ')}): ${d.join(' ')} bits`);
  for (const x of d) expect(x).toBeLessThanOrEqual(2);
});
