/**
 * The wasm embedding pool in real Chromium: with two cores the page embeds on two workers, and
 * the vectors are bit for bit those of one worker; a helper that dies mid-run hands its chunk back
 * and the run still ends with every image embedded, the same vectors again.
 */
import type { Page, Worker as PageWorker } from 'playwright-core';
import { afterAll, expect, test } from 'vitest';
import { parseNpy } from '../../src/core/cluster/npy.ts';
import { launchBrowser, waitForRunState, type Harness } from '../support/browser.ts';
import { downloadVia, readZipEntry } from '../support/download.ts';
import { cifarTrainClasses, removeTempDirs, tempDir } from '../support/fixtures.ts';

afterAll(removeTempDirs);

const PER_CLASS = 60;

/** Two cores and 8 GB whatever the machine has, so the pool's size does not depend on where CI runs. */
async function twoCores(page: Page): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setHardwareConcurrencyOverride', { hardwareConcurrency: 2 });
  await page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'deviceMemory', { get: () => 8, configurable: true }));
}

/** Embeddings by path, from the exported zip. */
async function embeddingsByPath(page: Page): Promise<Map<string, Float32Array>> {
  const zip = await downloadVia(page, '[data-testid=export-zip]', await tempDir());
  const csv = (await readZipEntry(zip, 'features.csv')).toString('utf8').trim().split('\r\n').slice(1);
  const npy = parseNpy(new Uint8Array(await readZipEntry(zip, 'embeddings.npy')));
  const [, dim] = npy.shape;
  const data = npy.data as Float32Array;
  return new Map(csv.map((line, i) => [line.split(',')[1], data.slice(i * dim, (i + 1) * dim)]));
}

async function run(dir: string, query: string, during?: (h: Harness) => Promise<void>) {
  const harness = await launchBrowser();
  try {
    const { page } = harness;
    await twoCores(page);
    await page.goto(`${harness.origin}/?mode=semantic&keep=0.5&backend=wasm&features=1${query}`);
    await page.locator('[data-testid=folder-input]').setInputFiles(dir);
    await during?.(harness);
    expect(await waitForRunState(page, ['done', 'error'], 300_000)).toBe('done');
    const stage = page.locator('[data-testid=stage-embed]');
    expect(Number(await stage.getAttribute('data-done'))).toBe(2 * PER_CLASS);
    expect(Number(await stage.getAttribute('data-cached'))).toBe(0);
    const workers = Number(await stage.getAttribute('data-workers'));
    const notice = (await page.locator('[data-testid=notice]').count()) > 0 ? await page.locator('[data-testid=notice]').textContent() : '';
    const vectors = await embeddingsByPath(page);
    expect(harness.offOrigin).toEqual([]);
    return { workers, vectors, notice, pageErrors: harness.pageErrors };
  } finally {
    await harness.close();
  }
}

function expectSameVectors(a: Map<string, Float32Array>, b: Map<string, Float32Array>): void {
  expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
  expect(a.size).toBe(2 * PER_CLASS);
  for (const [file, vector] of a) {
    expect(vector.some((x) => x !== 0), file).toBe(true);
    expect(Buffer.from(b.get(file)!.buffer).equals(Buffer.from(vector.buffer)), file).toBe(true);
  }
}

test('two cores embed on two wasm workers, with the vectors of one, and a helper that dies mid-run costs nothing', async () => {
  const dir = await cifarTrainClasses(['cat', 'dog'], PER_CLASS);
  const one = await run(dir, '&embedWorkers=1');
  expect(one.workers).toBe(1);
  const two = await run(dir, '');
  expect(two.workers).toBe(2);
  expectSameVectors(one.vectors, two.vectors);
  expect(two.pageErrors).toEqual([]);

  // Kill the helper once it is embedding: an uncaught error in a worker is what the page sees of a crash.
  let handedBack = false;
  const crash = await run(dir, '', async ({ page }) => {
    page.on('console', (m) => {
      if (m.type() === 'warning' && /embedding worker stopped \(.*injected crash/.test(m.text())) handedBack = true;
    });
    const embedWorkers: PageWorker[] = [];
    page.on('worker', (w) => {
      if (/embed\.worker/.test(w.url())) embedWorkers.push(w);
    });
    await expect
      .poll(async () => embedWorkers.length === 2 && Number(await page.locator('[data-testid=stage-embed]').getAttribute('data-done')) > 0, { timeout: 120_000, interval: 50 })
      .toBe(true);
    await embedWorkers[1].evaluate(() => {
      setTimeout(() => {
        throw new Error('injected crash');
      });
    });
  });
  expect(handedBack).toBe(true);
  expectSameVectors(one.vectors, crash.vectors);
  expect(crash.notice ?? '').not.toMatch(/could not be read by the model/);
});
