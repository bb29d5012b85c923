/**
 * The hashes the app computes in Chromium equal Python imagehash's (Pillow + libjpeg-turbo) on the
 * 30 reference images, bit for bit, for all four kinds. The unit tests prove the hashing code exact
 * given Pillow's pixels; this proves the pixels: the hash worker decodes small upright JPEGs in
 * WebAssembly and everything else with createImageBitmap, and both must see what Pillow sees.
 * A second, cached run must give the same hashes again from the store, unread. The stored records
 * say which decoder made them, so the test also sees that both paths ran, and which resize.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { launchBrowser, waitForRunState, type Harness } from '../support/browser.ts';
import { sharedData } from '../support/paths.ts';
import { storedFeatures } from '../support/stored-features.ts';

const REFERENCE = path.join(sharedData, 'reference/hash');
const KINDS = ['ahash', 'dhash', 'phash', 'whash'] as const;

interface RefImage {
  file: string;
  size: [number, number];
  ahash: string;
  dhash: string;
  phash: string;
  whash: string;
}

let harness: Harness | null = null;
afterEach(async () => {
  if (harness) {
    expect(harness.offOrigin).toEqual([]);
    expect(harness.pageErrors).toEqual([]);
    await harness.close();
    harness = null;
  }
});

test('hashes computed in Chromium equal imagehash on the 30 reference images (JPEG, greyscale JPEG, PNG, WebP)', async () => {
  const reference = JSON.parse(await readFile(path.join(REFERENCE, 'reference30.json'), 'utf8')) as { images: RefImage[] };
  expect(reference.images).toHaveLength(30);
  const dir = path.join(REFERENCE, 'images');
  expect((await readdir(dir)).length).toBe(30);
  const sha = new Map<string, string>();
  for (const image of reference.images) sha.set(image.file, createHash('sha256').update(await readFile(path.join(REFERENCE, image.file))).digest('hex'));

  harness = await launchBrowser();
  const disagreements = async () => {
    const stored = await storedFeatures(harness!);
    const out: string[] = [];
    for (const image of reference.images) {
      const features = stored.get(sha.get(image.file)!);
      if (!features) {
        out.push(`${image.file}: not stored`);
        continue;
      }
      if (features.width !== image.size[0] || features.height !== image.size[1]) out.push(`${image.file}: ${features.width}×${features.height}`);
      for (const kind of KINDS) if (features.hashes[kind] !== image[kind]) out.push(`${image.file} ${kind}: ${features.hashes[kind]} ≠ ${image[kind]}`);
    }
    return out;
  };
  for (let run = 0; run < 2; run++) {
    await harness.page.goto(harness.origin + '/?embeddings=0');
    await harness.page.locator('[data-testid=folder-input]').setInputFiles(dir);
    expect(await waitForRunState(harness.page, ['done', 'error'])).toBe('done');
    expect(await harness.page.locator('[data-testid=count-total]').textContent()).toBe('30');
    expect(await harness.page.locator('[data-testid=count-skipped]').textContent()).toBe('0');
    // The second run is answered from the store: nothing decoded again.
    if (run === 1) expect(await harness.page.locator('[data-testid=stage-hash]').getAttribute('data-cached')).toBe('30');
    expect(await disagreements()).toEqual([]);
  }
  // Both decoders were exercised: every JPEG here is small, upright and whole, so WebAssembly took
  // it; PNG and WebP went to the browser.
  const stored = await storedFeatures(harness);
  const decoders = reference.images.map((image) => `${path.extname(image.file)} ${stored.get(sha.get(image.file)!)?.decodedBy}`);
  expect(decoders.filter((d) => d.startsWith('.jpg')).every((d) => d === '.jpg wasm')).toBe(true);
  expect(decoders.filter((d) => !d.startsWith('.jpg')).sort()).toEqual(['.png browser', '.webp browser']);
  // And the hash thumbnails came from the WebAssembly SIMD resize (Chromium has SIMD, and the
  // page's CSP allows wasm): the agreement above is then that path's, not only the fallback's.
  expect(new Set([...stored.values()].map((s) => s.resizedBy))).toEqual(new Set(['simd']));
});
