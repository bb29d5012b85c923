/**
 * Measurement, not a test: issue 5's experiment at a size this 2-core machine can finish, run
 * through the built app in Chromium exactly as a user would. A CIFAR-10 folder with train/ and
 * test/ is dropped; an embedder is trained in the tab on train/; then the Figure 2 experiment
 * trains networks from scratch on the semantic, random and perceptual-hash subsets and tests them on
 * test/. Writes bench/results-figure2.json and the exported plot/CSV/JSON under bench/out/figure2/.
 *     npx vite build && BENCH_ONLY=figure2 npx vitest run --project bench bench/figure2.run.ts
 * Knobs (env): FIG2_TRAIN_PER_CLASS (300), FIG2_TEST_PER_CLASS (100), FIG2_EMBED_EPOCHS (15),
 * FIG2_FRACTIONS ("1, 0.9, 0.7"), FIG2_SEEDS (2), FIG2_EPOCHS (10), FIG2_NET (small|embedder).
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { launchBrowser, waitForRunState } from '../tests/support/browser.ts';
import { downloadVia } from '../tests/support/download.ts';
import { extractCifar, removeTempDirs, tempDir } from '../tests/support/fixtures.ts';
import { repoRoot, sharedData } from '../tests/support/paths.ts';

const only = process.env.BENCH_ONLY?.split(',').filter(Boolean) ?? [];
// Hours on a 2-core machine: only when asked for by name (BENCH_ONLY), never in a plain `npm run bench`.
const wanted = (name: string) => only.some((o) => name.startsWith(o));
const env = (name: string, dflt: string) => process.env[name] ?? dflt;
const TRAIN_PER_CLASS = Number(env('FIG2_TRAIN_PER_CLASS', '300'));
const TEST_PER_CLASS = Number(env('FIG2_TEST_PER_CLASS', '100'));
const EMBED_EPOCHS = env('FIG2_EMBED_EPOCHS', '15');
const FRACTIONS = env('FIG2_FRACTIONS', '1, 0.9, 0.7');
const SEEDS = env('FIG2_SEEDS', '2');
const EPOCHS = env('FIG2_EPOCHS', '10');
const NET = env('FIG2_NET', 'small');
const HOUR = 3_600_000;

afterAll(removeTempDirs);

async function cifarFolder(): Promise<string> {
  const rows = (await readFile(path.join(sharedData, 'cifar10-index.csv'), 'utf8')).trim().split(/\r?\n/).slice(1).map((l) => l.split(','));
  const classes = [...new Set(rows.map((r) => r[4]))].sort();
  const members: string[] = [];
  for (const split of ['train', 'test']) {
    const per = split === 'train' ? TRAIN_PER_CLASS : TEST_PER_CLASS;
    for (const c of classes) members.push(...rows.filter((r) => r[1] === split && r[4] === c).slice(0, per).map((r) => r[0].split('/').slice(1).join('/')));
  }
  const dest = path.join(await tempDir(), 'cifar10');
  await extractCifar(dest, members);
  return dest;
}

test.runIf(wanted('figure2'))('figure2', async () => {
  const root = await cifarFolder();
  const h = await launchBrowser();
  const out = path.join(repoRoot, 'bench/out/figure2');
  await mkdir(out, { recursive: true });
  try {
    const { page } = h;
    // Hashes only for the dedup run: the experiment embeds with the network it trains.
    await page.goto(`${h.origin}/?embeddings=0&backend=wasm&expNet=${NET}`);
    await page.locator('[data-testid=folder-input]').setInputFiles(root);
    expect(await waitForRunState(page, ['done', 'error'], 600_000)).toBe('done');

    const t0 = performance.now();
    await page.locator('[data-testid=train-epochs]').fill(EMBED_EPOCHS);
    await page.locator('[data-testid=train-start]').click();
    await page.locator('[data-testid=train-outcome]').waitFor({ timeout: 2 * HOUR });
    const trainSeconds = (performance.now() - t0) / 1000;
    await page.locator('[data-testid=knn-table]').waitFor({ timeout: HOUR });
    const knn = await page.locator('[data-testid=knn-row]').evaluateAll((rows) => rows.map((r) => ({ model: r.getAttribute('data-model'), trained: r.getAttribute('data-trained') === 'true', accuracy: Number(r.getAttribute('data-accuracy')) })));
    const outcome = await page.locator('[data-testid=train-outcome]').evaluate((e) => ({ status: e.getAttribute('data-status'), valAccuracy: Number(e.getAttribute('data-val-accuracy')), text: e.textContent?.trim() }));
    await page.locator('[data-testid=train-panel]').screenshot({ path: path.join(out, 'train-panel.png') });

    await page.locator('[data-testid=exp-fractions]').fill(FRACTIONS);
    await page.locator('[data-testid=exp-seeds]').fill(SEEDS);
    await page.locator('[data-testid=exp-epochs]').fill(EPOCHS);
    await page.locator('[data-testid=exp-estimate]').click();
    await page.locator('[data-testid=exp-estimate-result]').waitFor({ timeout: 600_000 });
    const estimate = Number(await page.locator('[data-testid=exp-estimate-result]').getAttribute('data-seconds'));
    const t1 = performance.now();
    await page.locator('[data-testid=exp-run]').click();
    await page.waitForFunction(() => ['done', 'error', 'cancelled'].includes(document.querySelector('[data-testid=experiment-panel]')?.getAttribute('data-phase') ?? ''), null, { timeout: 3 * HOUR, polling: 2000 });
    const experimentSeconds = (performance.now() - t1) / 1000;
    expect(await page.locator('[data-testid=experiment-panel]').getAttribute('data-phase')).toBe('done');
    await page.locator('[data-testid=experiment-panel]').screenshot({ path: path.join(out, 'experiment-panel.png') });
    const dir = await tempDir();
    for (const id of ['exp-save-json', 'exp-save-csv', 'exp-save-svg', 'exp-save-png']) {
      const file = await downloadVia(page, `[data-testid=${id}]`, dir);
      await copyFile(file, path.join(out, path.basename(file)));
    }
    const exported = JSON.parse(await readFile(path.join(out, 'winnow-experiment.json'), 'utf8'));
    const result = {
      description: 'Figure 2 of Birodkar et al. 2019 at a small size, run in the built app in Chromium (wasm backend)',
      data: { trainPerClass: TRAIN_PER_CLASS, testPerClass: TEST_PER_CLASS, classes: 10, evaluation: 'CIFAR-10 test images (test/ folder)' },
      embedder: { epochs: Number(EMBED_EPOCHS), seconds: Math.round(trainSeconds), outcome, knn10OnValidation: knn },
      experiment: { fractions: FRACTIONS, seeds: Number(SEEDS), epochs: Number(EPOCHS), network: NET, estimatedSeconds: Math.round(estimate), actualSeconds: Math.round(experimentSeconds) },
      summary: exported.summary,
      results: exported.results,
    };
    await writeFile(path.join(repoRoot, 'bench/results-figure2.json'), JSON.stringify(result, null, 2) + '\n');
    console.log(JSON.stringify({ ...result, results: undefined }, null, 2));
    expect(h.offOrigin).toEqual([]);
  } finally {
    await h.close();
  }
}, 5 * HOUR);
