/**
 * JPEGs over 1,024 pixels on the long side (camera-sized ones included) are decoded by Chromium
 * straight to a reduced size (decode.ts reducedSize). This checks what that
 * may change and what it must not: the stored size is the displayed full size, an EXIF-rotated
 * portrait shot is turned before it is reduced (not squashed), the hashes stay within a few bits
 * of the full-size path (box reduction of every decoded pixel, computed here in Node with a
 * libjpeg-identical decoder), the same photo at any size still groups, and another photo does not.
 */
import { createHash } from 'node:crypto';
import { copyFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { computeHashSets, hammingHex } from '../../src/core/hash/index.ts';
import { HASH_KINDS } from '../../src/core/types.ts';
import { launchBrowser, waitForRunState, type Harness } from '../support/browser.ts';
import { NEARDUP_IMAGES, removeTempDirs, tempDir } from '../support/fixtures.ts';
import { writeLargePhotos } from '../support/large-photos.ts';
import { storedFeatures } from '../support/stored-features.ts';
import { decodeJpegLibjpeg } from '../unit/hash/libjpeg-decode.ts';

let harness: Harness | null = null;
afterEach(async () => {
  if (harness) {
    expect(harness.pageErrors).toEqual([]);
    await harness.close();
    harness = null;
  }
  await removeTempDirs();
});

test('12-MP photos: displayed size stored, EXIF turn applied before reducing, hashes within a few bits of the full-size path', async () => {
  const dir = path.join(await tempDir(), 'photos');
  const sizes = await writeLargePhotos(dir, [
    { name: 'photo-12mp.jpg', group: 'g000', long: 4000 },
    { name: 'photo-12mp-portrait-tag.jpg', group: 'g000', long: 4000, orientation: 6 },
    { name: 'photo-2mp.jpg', group: 'g000', long: 1600 },
    { name: 'other-12mp.jpg', group: 'g002', long: 4000 },
  ]);
  await copyFile(path.join(NEARDUP_IMAGES, 'g000_orig.jpg'), path.join(dir, 'photo-small.jpg'));
  const sha = async (name: string) => createHash('sha256').update(await readFile(path.join(dir, name))).digest('hex');

  // The full-size path's hashes of the upright 12-MP file: every pixel decoded, box-reduced by 4.
  const full = decodeJpegLibjpeg(await readFile(path.join(dir, 'photo-12mp.jpg')));
  expect([full.width, full.height]).toEqual(sizes['photo-12mp.jpg']);
  const reference = computeHashSets(full.data, full.width, full.height).hashes;

  harness = await launchBrowser();
  await harness.page.goto(harness.origin + '/?embeddings=0');
  await harness.page.locator('[data-testid=folder-input]').setInputFiles(dir);
  expect(await waitForRunState(harness.page, ['done', 'error'])).toBe('done');
  expect(await harness.page.locator('[data-testid=count-total]').textContent()).toBe('5');
  expect(await harness.page.locator('[data-testid=count-skipped]').textContent()).toBe('0');

  const stored = await storedFeatures(harness);
  const get = async (name: string) => {
    const features = stored.get(await sha(name));
    if (!features) throw new Error(`${name} not stored`);
    return features;
  };
  const drift: string[] = [];
  for (const name of ['photo-12mp.jpg', 'photo-12mp-portrait-tag.jpg']) {
    const f = await get(name);
    // The displayed size, not the reduced one the hashes were computed from, nor the stored (turned) one.
    expect([f.width, f.height]).toEqual(sizes[name]);
    expect(f.decodedBy).toBe('browser');
    // Decoded straight to 1,024 on the long side: the path under test, not the full-size one.
    expect(f.decodedSize).toEqual([1024, 576]);
    for (const kind of HASH_KINDS) {
      const bits = hammingHex(f.hashes[kind], reference[kind]);
      drift.push(`${name} ${kind} ${bits}`);
      // A squashed or unturned portrait would be tens of bits away.
      expect(bits, `${name} ${kind}`).toBeLessThanOrEqual(4);
    }
  }
  console.log(`[large-photos] bits from the full-size path: ${drift.join(', ')}`);

  // The same photo at every size is one near-duplicate group under the default pHash ≤ 10; another photo is not in it.
  const small = await get('photo-small.jpg');
  // Any JPEG over 1,024 pixels goes the reduced way; one within it is decoded (in WebAssembly) at full size.
  expect((await get('photo-2mp.jpg')).decodedSize).toEqual([1024, 576]);
  expect((await get('photo-2mp.jpg')).decodedBy).toBe('browser');
  expect(small.decodedSize).toBeUndefined();
  expect(small.decodedBy).toBe('wasm');
  for (const name of ['photo-12mp.jpg', 'photo-12mp-portrait-tag.jpg', 'photo-2mp.jpg']) {
    expect(hammingHex((await get(name)).hashes.phash, small.hashes.phash), name).toBeLessThanOrEqual(6);
  }
  expect(hammingHex((await get('other-12mp.jpg')).hashes.phash, small.hashes.phash)).toBeGreaterThan(10);
  expect(await harness.page.locator('[data-testid=count-removed]').textContent()).toBe('3');
}, 180_000);
