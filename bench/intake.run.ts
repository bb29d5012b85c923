/**
 * `npm run bench`: intake throughput of the built app in real Chromium (read, SHA-256, decode,
 * hashes, thumbnail, store), first run and cached re-run, beside findimagedupes on the same folder
 * when it is installed. Rows intake-neardup, intake-cifar10k and intake-cached in
 * bench/results.json. Asserts nothing about time: these machines are shared and noisy, so only
 * ratios taken in the same run mean anything.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { launchBrowser, waitForRunState } from '../tests/support/browser.ts';
import { dropFolder } from '../tests/support/drop.ts';
import { NEARDUP_IMAGES, removeTempDirs, tempDir } from '../tests/support/fixtures.ts';
import { writeLargePhotos } from '../tests/support/large-photos.ts';
import { cifarTrain10k } from './support/cifar.ts';
import { recordResults, type BenchResult } from './support/results.ts';

const run = promisify(execFile);
const only = process.env.BENCH_ONLY?.split(',').filter(Boolean) ?? [];
const results: BenchResult[] = [];
const wanted = (name: string) => only.length === 0 || only.some((o) => name.startsWith(o));

afterAll(async () => {
  await recordResults(results);
  console.log(JSON.stringify(results, null, 2));
  await removeTempDirs();
});

/**
 * How the folder reaches the page: picked in the folder dialog (<input webkitdirectory>), or
 * dropped from a file manager (directory entries, walked by the page).
 */
type Via = 'input' | 'drop';

/** Seconds from choosing the folder to `done`, in one browser profile: first run, then cached. */
async function timeApp(dir: string, via: Via = 'input'): Promise<{ first: number; cached: number; files: number }> {
  const harness = await launchBrowser();
  try {
    const times: number[] = [];
    for (let i = 0; i < 2; i++) {
      // Hashes only, as findimagedupes does: the embedding stage has its own benchmark (semantic-run).
      await harness.page.goto(harness.origin + '/?embeddings=0');
      const t0 = performance.now();
      if (via === 'drop') await dropFolder(harness.page, '[data-testid=drop-zone]', dir);
      else await harness.page.locator('[data-testid=folder-input]').setInputFiles(dir);
      expect(await waitForRunState(harness.page, ['done', 'error'], 600_000)).toBe('done');
      times.push((performance.now() - t0) / 1000);
    }
    const files = Number(await harness.page.locator('[data-testid=stage-hash]').getAttribute('data-total'));
    expect(harness.offOrigin).toEqual([]);
    return { first: times[0], cached: times[1], files };
  } finally {
    await harness.close();
  }
}

async function timeFindimagedupes(dir: string): Promise<number | null> {
  try {
    await run('which', ['findimagedupes']);
  } catch {
    return null;
  }
  const t0 = performance.now();
  // Without -f there is no fingerprint database, so it computes every fingerprint, like our first run.
  // A failed run would make a meaningless time, so it fails the benchmark instead.
  await run('findimagedupes', ['-R', '-q', dir], { maxBuffer: 1 << 26 });
  return (performance.now() - t0) / 1000;
}

async function intake(name: string, dir: string, cachedName?: string, via: Via = 'input') {
  const app = await timeApp(dir, via);
  const peerSeconds = await timeFindimagedupes(dir);
  const ours = app.files / app.first;
  const peer = peerSeconds === null ? null : app.files / peerSeconds;
  results.push({ name, ours, peer, peer_name: 'findimagedupes (Debian)', ratio: peer === null ? null : ours / peer, unit: 'images/s', n: app.files, seconds: app.first, peerSeconds });
  if (cachedName) {
    results.push({ name: cachedName, ours: app.files / app.cached, peer: ours, peer_name: 'our first run (same folder, same profile)', ratio: app.first / app.cached, unit: 'images/s', n: app.files, seconds: app.cached });
  }
}

test.runIf(wanted('intake-neardup') || wanted('intake-cached'))('intake-neardup', async () => {
  await intake('intake-neardup', NEARDUP_IMAGES, 'intake-cached');
});

test.runIf(wanted('intake-cifar10k'))('intake-cifar10k', async () => {
  await intake('intake-cifar10k', await cifarTrain10k(), 'intake-cached-cifar10k');
});

// The same folders dropped: the page walks the directory entries, and each File arrives with its
// size and date already read (asynchronously), where a picked folder's Files fetch them one
// blocking call at a time on the main thread when first asked.
test.runIf(wanted('intake-drop'))('intake-drop', async () => {
  await intake('intake-drop-neardup', NEARDUP_IMAGES, 'intake-drop-cached', 'drop');
  await intake('intake-drop-cifar10k', await cifarTrain10k(), 'intake-drop-cached-cifar10k', 'drop');
});

// Camera-sized photos: 40 of the benchmark's originals enlarged to 4,000 pixels on the long side
// (~12 MP JPEGs, a fifth of them stored turned with an EXIF orientation tag, as phones write
// portrait shots). Large images are decoded by the browser and hashed from a reduced copy.
test.runIf(wanted('intake-photos'))('intake-photos', async () => {
  const dir = path.join(await tempDir(), 'photos');
  const groups = (await readdir(NEARDUP_IMAGES)).filter((n) => n.endsWith('_orig.jpg')).map((n) => n.slice(0, 4)).sort().slice(0, 40);
  await writeLargePhotos(dir, groups.map((group, i) => ({ name: `${group}-12mp.jpg`, group, long: 4000, orientation: i % 5 === 0 ? 6 : 1 })));
  await intake('intake-photos', dir);
});
