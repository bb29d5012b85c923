/**
 * Issue 5 in a real Chromium: a CIFAR-10 folder laid out as train/ + test/ trains a ResNet in a
 * worker (wasm), with live progress, pause and resume; a reload mid-training carries on from the
 * IndexedDB checkpoint; the trained network becomes a model the semantic mode runs on, compared by
 * 10-NN with the pretrained one; and the Figure 2 experiment runs, plots and exports.
 */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, waitForRunState, type Harness } from '../support/browser.ts';
import { parseCsv } from '../support/csv.ts';
import { downloadVia } from '../support/download.ts';
import { dropFolder } from '../support/drop.ts';
import { extractCifar, removeTempDirs, tempDir } from '../support/fixtures.ts';
import { repoRoot, sharedData } from '../support/paths.ts';

afterAll(removeTempDirs);

const CLASSES = ['cat', 'ship', 'frog'];
const TRAIN_PER_CLASS = 40;
const TEST_PER_CLASS = 10;
const EPOCHS = 3;

/** train/<class>/… and test/<class>/… from the archive (the index names them under a prefix the archive lacks). */
async function cifarFolder(): Promise<string> {
  const index = (await readFile(path.join(sharedData, 'cifar10-index.csv'), 'utf8')).trim().split(/\r?\n/).slice(1).map((l) => l.split(','));
  const members: string[] = [];
  for (const split of ['train', 'test'] as const) {
    const per = split === 'train' ? TRAIN_PER_CLASS : TEST_PER_CLASS;
    for (const cls of CLASSES) members.push(...index.filter((r) => r[1] === split && r[4] === cls).slice(0, per).map((r) => r[0].split('/').slice(1).join('/')));
  }
  const dest = await tempDir();
  await extractCifar(dest, members);
  return dest;
}

async function dropAndWait(h: Harness, root: string, query = ''): Promise<Page> {
  const { page } = h;
  await page.goto(`${h.origin}/?backend=wasm${query}`);
  await dropFolder(page, '[data-testid=drop-zone]', root);
  expect(await waitForRunState(page, ['done', 'error'], 240_000)).toBe('done');
  return page;
}

const attr = async (page: Page, selector: string, name: string) => page.locator(selector).first().getAttribute(name);

test('trains an embedder in a worker with pause, resume and a reload that continues from the checkpoint, then runs the Figure 2 experiment', async () => {
  const root = await cifarFolder();
  const h = await launchBrowser();
  try {
    let page = await dropAndWait(h, root);
    await page.locator('[data-testid=train-panel]').waitFor();
    expect(await page.locator('[data-testid=train-settings]').textContent()).toContain('test/val folder');
    await page.locator('[data-testid=train-epochs]').fill(String(EPOCHS));
    await page.locator('[data-testid=train-start]').click();

    // Live progress, then pause: the step counter stops moving while paused.
    await page.locator('[data-testid=train-progress]').waitFor({ timeout: 120_000 });
    expect(await attr(page, '[data-testid=train-progress]', 'data-epochs')).toBe(String(EPOCHS));
    await page.locator('[data-testid=train-pause]').click();
    await expect.poll(() => attr(page, '[data-testid=train-progress]', 'data-state'), { timeout: 60_000 }).toBe('paused');
    const pausedText = await page.locator('[data-testid=train-progress]').textContent();
    await page.waitForTimeout(1500);
    expect(await page.locator('[data-testid=train-progress]').textContent()).toBe(pausedText);
    await page.locator('[data-testid=train-resume]').click();
    await expect.poll(() => attr(page, '[data-testid=train-progress]', 'data-state'), { timeout: 60_000 }).not.toBe('paused');

    // After the first epoch's checkpoint, reload: dropping the same folder again resumes training.
    await expect.poll(() => attr(page, '[data-testid=train-curves]', 'data-epochs'), { timeout: 180_000 }).toBe('1');
    await page.reload();
    page = await dropAndWait(h, root);
    await expect.poll(() => page.locator('[data-testid=train-notice]').textContent(), { timeout: 120_000 }).toMatch(/Resumed from the checkpoint saved after epoch [12]/);

    await page.locator('[data-testid=train-outcome]').waitFor({ timeout: 240_000 });
    const modelId = (await attr(page, '[data-testid=train-outcome]', 'data-model'))!;
    expect(modelId).toMatch(/^user-trained-/);
    expect(Number(await attr(page, '[data-testid=train-outcome]', 'data-val-accuracy'))).toBeGreaterThanOrEqual(0);
    // Both embedders measured on the same validation images.
    await page.locator('[data-testid=knn-table]').waitFor({ timeout: 240_000 });
    const rows = page.locator('[data-testid=knn-row]');
    expect(await rows.count()).toBe(2);
    for (let i = 0; i < 2; i++) {
      const acc = Number(await rows.nth(i).getAttribute('data-accuracy'));
      expect(acc).toBeGreaterThanOrEqual(0);
      expect(acc).toBeLessThanOrEqual(1);
    }
    expect(await rows.nth(0).getAttribute('data-trained')).toBe('true');

    // The trained network becomes the run's embedder in semantic mode.
    await page.locator('[data-testid=train-use]').click();
    await expect.poll(() => attr(page, '[data-testid=model-info]', 'data-model'), { timeout: 240_000 }).toBe(modelId);
    expect(await waitForRunState(page, ['done', 'error'], 240_000)).toBe('done');
    expect(await attr(page, '[data-testid=model-info]', 'data-dim')).toBe('64');
    await page.locator('[data-testid=semantic-report]').waitFor();
    expect(await page.locator('[data-testid=model-select] option', { hasText: 'trained here' }).count()).toBeGreaterThanOrEqual(1);

    // Figure 2, small: fractions 1 and 0.7, one seed, one epoch.
    await page.locator('[data-testid=exp-fractions]').fill('1, 0.7');
    await page.locator('[data-testid=exp-seeds]').fill('1');
    await page.locator('[data-testid=exp-epochs]').fill('1');
    await page.locator('[data-testid=exp-estimate]').click();
    await page.locator('[data-testid=exp-estimate-result]').waitFor({ timeout: 120_000 });
    expect(Number(await attr(page, '[data-testid=exp-estimate-result]', 'data-seconds'))).toBeGreaterThan(0);
    await page.locator('[data-testid=exp-run]').click();
    await expect.poll(() => attr(page, '[data-testid=experiment-panel]', 'data-phase'), { timeout: 300_000 }).toBe('done');
    expect(await page.locator('[data-testid=exp-error]').count()).toBe(0);
    // Every method at both fractions (at 1.0 all three share the full-set network).
    expect(await page.locator('[data-testid=exp-cell]').count()).toBe(6);
    expect(await page.locator('[data-testid=exp-plot] g.point[data-method]').count()).toBe(6);

    await mkdir(path.join(repoRoot, 'test-results'), { recursive: true });
    await page.locator('[data-testid=train-panel]').screenshot({ path: path.join(repoRoot, 'test-results/train-panel.png') });
    await page.locator('[data-testid=experiment-panel]').screenshot({ path: path.join(repoRoot, 'test-results/experiment-panel.png') });
    const dir = await tempDir();
    const csv = parseCsv(await readFile(await downloadVia(page, '[data-testid=exp-save-csv]', dir), 'utf8'));
    const header = csv[0];
    const body = csv.slice(1).filter((r) => r.length > 1);
    expect(body).toHaveLength(4);
    const col = (name: string) => header.indexOf(name);
    const counts = new Map(body.map((r) => [`${r[col('method')]}@${r[col('fraction')]}`, Number(r[col('train_count')])]));
    const full = TRAIN_PER_CLASS * CLASSES.length;
    expect(counts.get('full@1')).toBe(full);
    // Same size per method at 0.7, the size the semantic cut gives (round(0.7 × 40) per class).
    for (const m of ['semantic', 'random', 'hash']) expect(counts.get(`${m}@0.7`)).toBe(Math.round(0.7 * TRAIN_PER_CLASS) * CLASSES.length);
    for (const r of body) {
      const acc = Number(r[col('test_accuracy')]);
      expect(acc).toBeGreaterThanOrEqual(0);
      expect(acc).toBeLessThanOrEqual(1);
    }
    const json = JSON.parse(await readFile(await downloadVia(page, '[data-testid=exp-save-json]', dir), 'utf8'));
    expect(json.results).toHaveLength(4);
    expect(json.summary.length).toBe(6);
    const svg = await readFile(await downloadVia(page, '[data-testid=exp-save-svg]', dir), 'utf8');
    expect(svg).toMatch(/^<svg[^>]+xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    const png = await readFile(await downloadVia(page, '[data-testid=exp-save-png]', dir));
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

    expect(h.offOrigin).toEqual([]);
    expect(h.pageErrors).toEqual([]);
  } finally {
    await h.close();
  }
}, 1_200_000);
