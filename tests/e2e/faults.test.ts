/**
 * The fault cases of the reliability suite, in real Chromium: a file of more than a gigabyte, two
 * tabs running at once, another tab upgrading the database to a version this build does not know,
 * and a storage quota that runs out mid-run. In each the run reaches done with every file accounted
 * for, and whatever could not be saved is said plainly in the store message.
 */
import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { copyFile, readFile, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import type { Manifest } from '../../src/core/manifest.ts';
import { DB_VERSION } from '../../src/store/schema.ts';
import { launchBrowser, waitForRunState, type Harness } from '../support/browser.ts';
import { downloadVia } from '../support/download.ts';
import { copyNeardup, NEARDUP_IMAGES, removeTempDirs, tempDir } from '../support/fixtures.ts';
import { watchChromiumMemory } from '../support/process-memory.ts';

let harness: Harness | null = null;
afterEach(async () => {
  if (harness) {
    expect(harness.offOrigin, 'requests that tried to leave the origin').toEqual([]);
    expect(harness.pageErrors, 'uncaught page errors').toEqual([]);
    await harness.close();
    harness = null;
  }
});
afterAll(removeTempDirs);

const MB = 1024 * 1024;

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 8 * MB })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function manifestOf(page: Page): Promise<Manifest> {
  return JSON.parse(await readFile(await downloadVia(page, '[data-testid=export-manifest]', await tempDir()), 'utf8')) as Manifest;
}

/** Picks the folder and waits for the end of the run; returns the hash stage's done/total/cached. */
async function runFolder(page: Page, folder: string, timeoutMs = 180_000): Promise<{ done: number; total: number; cached: number }> {
  await page.locator('[data-testid=folder-input]').setInputFiles(folder);
  return finished(page, timeoutMs);
}

async function finished(page: Page, timeoutMs = 180_000): Promise<{ done: number; total: number; cached: number }> {
  expect(await waitForRunState(page, ['done', 'error'], timeoutMs)).toBe('done');
  const stage = page.locator('[data-testid=stage-hash]');
  const attr = async (name: string) => Number(await stage.getAttribute(name));
  return { done: await attr('data-done'), total: await attr('data-total'), cached: await attr('data-cached') };
}

/** Every file in the manifest, none lost to a pipeline failure; skipped ones only for the reasons given. */
function expectAllAnalysed(manifest: Manifest, names: readonly string[], skipped: Record<string, RegExp> = {}): void {
  expect(manifest.files.map((f) => f.path).sort()).toEqual([...names].sort());
  for (const f of manifest.files) {
    const why = skipped[f.path];
    if (why) expect(f.reason, f.path).toMatch(why);
    else expect(f.status, `${f.path}: ${f.reason}`).not.toBe('skipped');
  }
}

/** 48 real photos (4 originals and their variants, exact copies among them) and one file that is not an image. */
async function smallDataset(): Promise<{ root: string; names: string[] }> {
  const root = path.join(await tempDir(), 'photos');
  const names = await copyNeardup(root, /^g00[0-6]_/);
  await writeFile(path.join(root, 'notes.jpg'), 'This is a text file with an image extension.\n');
  return { root, names: [...names, 'notes.jpg'] };
}

describe('a file far too large to decode', () => {
  // 1.1 GiB: the incremental SHA-256 runs at roughly 100–200 MB/s here, so the file costs ~10 s.
  const HUGE_BYTES = Math.round(1.1 * 1024 * MB);

  test('a 1.1 GB file is hashed in pieces and skipped with its reason and SHA-256; the other images are analysed and the tab lives', async () => {
    harness = await launchBrowser();
    const { page } = harness;
    const root = path.join(await tempDir(), 'with-a-giant');
    const normal = await copyNeardup(root, ['g000_orig.jpg', 'g002_orig.jpg']);
    // A real JPEG in front, so the bytes say "image" and the header gives a small, allowed size;
    // then zeros up to 1.1 GiB, sparse on disk.
    const giant = path.join(root, 'giant.jpg');
    await writeFile(giant, await readFile(path.join(NEARDUP_IMAGES, 'g004_orig.jpg')));
    await truncate(giant, HUGE_BYTES);
    const expectedSha = await sha256OfFile(giant);

    await page.goto(harness.origin + '/?backend=wasm');
    const memory = watchChromiumMemory(harness.userDataDir);
    const started = performance.now();
    const stage = await runFolder(page, root, 120_000);
    const ms = Math.round(performance.now() - started);
    const peak = await memory.stop();
    console.log(
      `[faults] 1.1 GiB file: run ${ms} ms; Chromium RSS peak ${Math.round(peak.largest / MB)} MiB in one process, ` +
        `${Math.round(peak.total / MB)} MiB in all (${peak.samples} samples)`,
    );
    expect(stage).toMatchObject({ done: 3, total: 3 });

    const manifest = await manifestOf(page);
    expectAllAnalysed(manifest, [...normal, 'giant.jpg'], { 'giant.jpg': /^skipped: too-large/ });
    const entry = manifest.files.find((f) => f.path === 'giant.jpg')!;
    expect(entry).toMatchObject({ status: 'skipped', sha256: expectedSha, size: HUGE_BYTES });
    expect(entry.reason).toMatch(/1\.1 GB, over the limit of 512 MB .* not decoded/);
    expect(entry.reason).toMatch(/exact copies of it are still found/);
    // The reason is on screen too, not only in the export.
    expect(await page.locator('[data-testid=skipped-file]').filter({ hasText: 'giant.jpg' }).textContent()).toMatch(/not decoded/);

    // Never whole in memory: no process of this browser came near the file's size.
    expect(peak.samples).toBeGreaterThan(0);
    expect(peak.largest).toBeLessThan(HUGE_BYTES * 0.6);
    // And the page still answers.
    expect(await page.evaluate(() => 6 * 7)).toBe(42);
  });
});

describe('two tabs and a newer version', () => {
  test('two tabs running the same folder at once both finish, and leave a store a third tab reads whole', async () => {
    harness = await launchBrowser();
    const { context, origin } = harness;
    const { root, names } = await smallDataset();
    const [first, second] = [harness.page, await context.newPage()];
    await Promise.all([first.goto(origin + '/?backend=wasm'), second.goto(origin + '/?backend=wasm')]);

    // The second starts while the first is still reading and hashing.
    // (Playwright's setInputFiles hangs on a page that is not the front one.)
    await first.bringToFront();
    await first.locator('[data-testid=folder-input]').setInputFiles(root);
    await second.bringToFront();
    await second.locator('[data-testid=folder-input]').setInputFiles(root);
    expect(await first.locator('[data-testid=run-state]').textContent()).toBe('running');
    console.log(`[faults] second tab started with the first at ${await first.locator('[data-testid=stage-hash]').getAttribute('data-done')} of ${names.length} files hashed`);
    const [a, b] = await Promise.all([finished(first), finished(second)]);
    expect(a).toMatchObject({ done: names.length, total: names.length });
    expect(b).toMatchObject({ done: names.length, total: names.length });
    // Both computed the same answer from the same files, whichever wrote to the store first.
    const [ma, mb] = [await manifestOf(first), await manifestOf(second)];
    expectAllAnalysed(ma, names, { 'notes.jpg': /not-an-image/ });
    const verdicts = (m: Manifest) => m.files.map((f) => [f.path, f.sha256, f.status, f.width, f.height]);
    expect(verdicts(mb)).toEqual(verdicts(ma));
    expect(await first.locator('[data-testid=store-message]').count()).toBe(0);

    const third = await context.newPage();
    await third.goto(origin + '/?backend=wasm');
    await third.bringToFront();
    expect(await runFolder(third, root)).toEqual({ done: names.length, total: names.length, cached: names.length });
    expectAllAnalysed(await manifestOf(third), names, { 'notes.jpg': /not-an-image/ });
  });

  test('a tab that opens the database at a newer version: this tab says so and runs in memory; after a restart the database still opens', async () => {
    harness = await launchBrowser();
    const { context, page, origin } = harness;
    const { root, names } = await smallDataset();
    await page.goto(origin + '/?backend=wasm');
    expect(await runFolder(page, root)).toMatchObject({ done: names.length, total: names.length });
    const images = new Set((await manifestOf(page)).files.flatMap((f) => (f.status === 'skipped' ? [] : [f.sha256])));

    // Another page of the origin (not the app) upgrades 'winnow' to a version this build has never heard of.
    const other = await context.newPage();
    await other.goto(origin + '/models/registry.json');
    const upgrade = await other.evaluate(
      () =>
        new Promise<{ oldVersion: number; version: number; blocked: boolean }>((resolve, reject) => {
          let blocked = false;
          let oldVersion = -1;
          const request = indexedDB.open('winnow', 99);
          request.onblocked = () => (blocked = true);
          request.onupgradeneeded = (event) => (oldVersion = event.oldVersion);
          request.onsuccess = () => {
            const version = request.result.version;
            request.result.close();
            resolve({ oldVersion, version, blocked });
          };
          request.onerror = () => reject(request.error);
          setTimeout(() => reject(new Error('the upgrade to version 99 never got through')), 15_000);
        }),
    );
    // The app's connections (the page's and its workers') let go at once instead of blocking it.
    expect(upgrade).toEqual({ oldVersion: DB_VERSION, version: 99, blocked: false });
    await other.close();

    // The next run cannot use the saved results any more: it says so, and completes in memory.
    const again = await runFolder(page, root);
    expect(again).toMatchObject({ done: names.length, total: names.length });
    expect(await page.locator('[data-testid=store-message]').textContent()).toMatch(/newer version of Winnow/);
    expectAllAnalysed(await manifestOf(page), names, { 'notes.jpg': /not-an-image/ });

    // A browser restart on the same profile: the app meets a database newer than it knows, says
    // so, and still runs; the database itself is intact, with the first run's results in it.
    harness = await harness.reopen();
    const reopened = harness.page;
    await reopened.goto(harness.origin + '/?backend=wasm');
    expect(await runFolder(reopened, root)).toMatchObject({ done: names.length, total: names.length });
    expect(await reopened.locator('[data-testid=store-message]').textContent()).toMatch(/written by a newer version of Winnow/);
    expectAllAnalysed(await manifestOf(reopened), names, { 'notes.jpg': /not-an-image/ });
    const db = await reopened.evaluate(
      () =>
        new Promise<{ version: number; stores: string[]; features: number }>((resolve, reject) => {
          const request = indexedDB.open('winnow');
          request.onerror = () => reject(request.error);
          request.onsuccess = () => {
            const idb = request.result;
            const count = idb.transaction('features').objectStore('features').count();
            count.onsuccess = () => {
              resolve({ version: idb.version, stores: [...idb.objectStoreNames].sort(), features: count.result });
              idb.close();
            };
            count.onerror = () => reject(count.error);
          };
        }),
    );
    expect(db).toEqual({ version: 99, stores: ['checkpoints', 'embeddings', 'failures', 'features', 'files', 'meta', 'models'], features: images.size });
  });
});

describe('storage quota', () => {
  test('a quota that runs out mid-run: the run completes with every result, and the store says the space is full', async () => {
    harness = await launchBrowser();
    const { context, page, origin } = harness;
    // Two hash workers whatever the machine, so that every worker meets the full store (the
    // message is read from one of them).
    await page.addInitScript(() => Object.defineProperty(navigator, 'hardwareConcurrency', { get: () => 2 }));
    const root = path.join(await tempDir(), 'quota');
    const names = await copyNeardup(root, /^g00\d_/);
    await page.goto(origin + '/?backend=wasm');
    // The service worker's cache counts against the quota too: let it finish before measuring.
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
    const before = await page.evaluate(() => navigator.storage.estimate());
    const cdp = await context.newCDPSession(page);
    // Room for a batch or two of thumbnails, not for the whole folder.
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: before.usage! + 100_000 });

    expect(await runFolder(page, root)).toMatchObject({ done: names.length, total: names.length });
    expectAllAnalysed(await manifestOf(page), names);
    const afterRun = await page.evaluate(() => navigator.storage.estimate());
    console.log(`[faults] quota run: usage ${before.usage} → ${afterRun.usage} bytes; message: ${await page.locator('[data-testid=store-message]').textContent().catch(() => null)}`);
    // Said in the same run, once its writes failed, not only on the next one.
    await expect.poll(() => page.locator('[data-testid=store-message]').textContent().catch(() => null), { timeout: 10_000 }).toMatch(/storage space .* is full/);

    // The workers now know the disk is full: the message is shown, and nothing computed was lost.
    expect(await runFolder(page, root)).toMatchObject({ done: names.length, total: names.length });
    expect(await page.locator('[data-testid=store-message]').textContent()).toMatch(/storage space .* is full/);
    expectAllAnalysed(await manifestOf(page), names);
  });
});

/**
 * Serves matching scripts with `prefix` in front. The service worker may still be precaching when a
 * test ends; a fetch cut off by the closing context is not a failure of the app, so it is dropped.
 */
async function prependToScripts(context: BrowserContext, pattern: RegExp, prefix: string): Promise<{ count: number }> {
  const patched = { count: 0 };
  await context.route(pattern, async (route) => {
    try {
      const response = await route.fetch();
      patched.count++;
      await route.fulfill({ response, body: prefix + (await response.text()) });
    } catch (error) {
      if (!/context (disposed|closed)|Target .*closed|browser has been closed/i.test(String(error))) throw error;
    }
  });
  return patched;
}

describe('no IndexedDB at all', () => {
  test('a browser that offers no IndexedDB (page and workers): the run completes in memory and says why', async () => {
    harness = await launchBrowser();
    const { page, context } = harness;
    // Some private modes have no IndexedDB. Take it away from the page and from every worker: the
    // workers' scripts are modules served by us, so a line in front of each removes it there too.
    const removeIndexedDb = "try{Object.defineProperty(globalThis,'indexedDB',{value:undefined,configurable:true})}catch(e){}\n";
    await page.addInitScript(removeIndexedDb);
    const patched = await prependToScripts(context, /\/assets\/.*\.js$/, removeIndexedDb);
    const { root, names } = await smallDataset();
    await page.goto(harness.origin + '/?embeddings=0');
    expect(await runFolder(page, root)).toMatchObject({ done: names.length, total: names.length });
    expect(patched.count).toBeGreaterThan(0);
    await expect.poll(() => page.locator('[data-testid=store-message]').textContent()).toMatch(/no IndexedDB/);
    expectAllAnalysed(await manifestOf(page), names, { 'notes.jpg': /not-an-image/ });
    // Nothing was kept on disk, so a second run recomputes, and still completes.
    expect(await runFolder(page, root)).toMatchObject({ done: names.length, total: names.length });
  });
});

describe('a worker that dies', () => {
  test('a hash worker that throws on one file is replaced; that file is retried alone, then skipped as analysis-failed; the rest finish', async () => {
    harness = await launchBrowser();
    const { page, context } = harness;
    // An uncaught error inside the worker, as a real crash raises: injected in front of the hash
    // worker's module, it fires whenever a batch holding a file named "poison" arrives.
    const crashOnPoison =
      "self.addEventListener('message',(e)=>{const a=e.data&&e.data.argumentList&&e.data.argumentList[0];const files=a&&a.value;" +
      "if(Array.isArray(files)&&files.some((f)=>f&&typeof f.name==='string'&&f.name.includes('poison')))setTimeout(()=>{throw new Error('injected crash')});});\n";
    const patched = await prependToScripts(context, /\/assets\/hash\.worker.*\.js$/, crashOnPoison);
    const { root, names } = await smallDataset();
    await copyFile(path.join(root, names[0]), path.join(root, 'poison.jpg'));
    await page.goto(harness.origin + '/?embeddings=0');
    expect(await runFolder(page, root)).toMatchObject({ done: names.length + 1, total: names.length + 1 });
    expect(patched.count).toBeGreaterThan(0);
    const manifest = await manifestOf(page);
    expectAllAnalysed(manifest, [...names, 'poison.jpg'], { 'notes.jpg': /not-an-image/, 'poison.jpg': /analysis-failed.*worker stopped/ });
  });
});
