/**
 * Semantic mode in a real Chromium: the shipped CNN embeds the sample in a worker (wasm backend),
 * each class is clustered on its own and cut to round(keep × n) clusters, the review shows the
 * paper's histogram and table, the zip carries the features, and a second visit embeds nothing.
 */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { parseNpy } from '../../src/core/cluster/npy.ts';
import { keepCount } from '../../src/core/cluster/index.ts';
import type { Manifest } from '../../src/core/manifest.ts';
import { launchBrowser, waitForRunState } from '../support/browser.ts';
import { downloadVia, readZipEntry, unzipList, unzipTest } from '../support/download.ts';
import { removeTempDirs, tempDir } from '../support/fixtures.ts';
import { repoRoot } from '../support/paths.ts';

afterAll(removeTempDirs);

const KEEP = 0.5;

test('semantic mode keeps round(keep × n) per class, shows Figure 4 and Table 1, exports features, and re-embeds nothing on a second visit', async () => {
  const harness = await launchBrowser();
  try {
    const { page } = harness;
    await page.goto(`${harness.origin}/?sample=1&mode=semantic&keep=${KEEP}&backend=wasm&features=1`);
    expect(await waitForRunState(page, ['done', 'error'], 240_000)).toBe('done');
    await expect.poll(() => page.locator('[data-testid=model-info]').getAttribute('data-backend')).toBe('wasm');
    expect(await page.locator('[data-testid=model-info]').getAttribute('data-dim')).toBe('1792');
    await page.locator('[data-testid=semantic-report]').waitFor();
    const shot = path.join(repoRoot, 'test-results');
    await mkdir(shot, { recursive: true });
    await page.screenshot({ path: path.join(shot, 'semantic-sample.png'), fullPage: true });

    const zip = await downloadVia(page, '[data-testid=export-zip]', await tempDir());
    expect((await unzipTest(zip)).ok).toBe(true);
    expect(await unzipList(zip)).toEqual(['manifest.json', 'kept.txt', 'removed.txt', 'groups.csv', 'embeddings.npy', 'features.csv']);
    const manifest = JSON.parse((await readZipEntry(zip, 'manifest.json')).toString('utf8')) as Manifest;
    expect(manifest.settings.mode).toBe('semantic');
    expect(manifest.settings.embedding).toMatchObject({ backend: 'wasm', model: { id: 'mobilenetv2-mid', dim: 1792 } });
    expect(manifest.settings.semantic).toMatchObject({ cut: 'keep', keep: KEEP });

    // Each class keeps exactly k of the images the model read.
    const byLabel = new Map<string, Manifest['files']>();
    for (const f of manifest.files) byLabel.set(f.label, [...(byLabel.get(f.label) ?? []), f]);
    expect(manifest.summary.classes!.map((c) => c.label)).toEqual([...byLabel.keys()].sort());
    for (const [label, files] of byLabel) {
      const analysed = files.filter((f) => f.status !== 'skipped');
      const kept = files.filter((f) => f.status === 'kept');
      expect(kept.length, label).toBe(keepCount(analysed.length, KEEP));
      for (const f of files.filter((x) => x.status === 'removed')) {
        expect(f.groupKind).toBe('semantic');
        expect(f.distance).toBeGreaterThanOrEqual(0);
        expect(f.distance).toBeLessThanOrEqual(2);
        expect(byLabel.get(label)!.some((k) => k.path === f.keeper && k.status === 'kept')).toBe(true);
      }
    }
    for (const g of manifest.groups) expect(g.labels).toHaveLength(1);
    expect(await page.locator('[data-testid=class-table] tbody tr').count()).toBe(byLabel.size);
    const bars = page.locator('[data-testid=size-histogram] rect');
    let clusters = 0;
    for (let i = 0; i < (await bars.count()); i++) clusters += Number(await bars.nth(i).getAttribute('data-count'));
    expect(clusters).toBe(manifest.summary.kept);

    // Features: one float32 row per image the model read, in features.csv's order.
    const csv = (await readZipEntry(zip, 'features.csv')).toString('utf8').trim().split('\r\n');
    const npy = parseNpy(new Uint8Array(await readZipEntry(zip, 'embeddings.npy')));
    const analysedPaths = manifest.files.filter((f) => f.status !== 'skipped').map((f) => f.path);
    expect(npy.shape).toEqual([analysedPaths.length, 1792]);
    expect(csv.length - 1).toBe(analysedPaths.length);
    expect(csv.slice(1).map((line) => line.split(',')[1])).toEqual(analysedPaths);
    expect(npy.data.every(Number.isFinite)).toBe(true);

    // Exact copies the per-class cut leaves kept are pointed out (the note is absent when none are).
    const copiesKept = (files: Manifest['files']) => {
      const kept = files.filter((f) => f.status === 'kept');
      return kept.length - new Set(kept.map((f) => f.sha256)).size;
    };
    const copiesNote = page.locator('[data-testid=kept-copies]');
    const copiesShown = async () => (await copiesNote.textContent())?.trim().split(' ')[0];
    if (copiesKept(manifest.files) === 0) await expect.poll(() => copiesNote.count()).toBe(0);
    else await expect.poll(copiesShown).toBe(String(copiesKept(manifest.files)));

    // The keep slider re-cuts live: keeping everything removes nothing.
    await page.locator('[data-testid=keep]').fill('1');
    await expect.poll(() => page.locator('[data-testid=count-removed]').textContent()).toBe('0');
    // Now every copy is kept: the sample's coffee.jpg has two byte-identical copies in its class,
    // and space/astronaut.jpg is also everyday/eileen_collins.jpg, in another class.
    const everything = manifest.files.map((f) => (f.status === 'skipped' ? f : { ...f, status: 'kept' as const }));
    expect(copiesKept(everything)).toBeGreaterThan(0);
    await expect.poll(copiesShown).toBe(String(copiesKept(everything)));

    // Second visit, with a per-class override: every vector comes from the store, and the
    // overridden class keeps all of its images while the others still keep round(keep × n).
    await page.goto(`${harness.origin}/?sample=1&mode=semantic&keep=${KEEP}&keepClass=space:1&backend=wasm`);
    expect(await waitForRunState(page, ['done', 'error'], 240_000)).toBe('done');
    const stage = page.locator('[data-testid=stage-embed]');
    expect(await stage.getAttribute('data-cached')).toBe(await stage.getAttribute('data-total'));
    expect(Number(await stage.getAttribute('data-total'))).toBe(analysedPaths.length);
    const again = JSON.parse(await readFile(await downloadVia(page, '[data-testid=export-manifest]', await tempDir()), 'utf8')) as Manifest;
    expect(again.settings.semantic!.keepByClass).toEqual({ space: 1 });
    for (const [label, files] of byLabel) {
      const analysed = files.filter((f) => f.status !== 'skipped').length;
      const kept = again.files.filter((f) => f.label === label && f.status === 'kept').length;
      expect(kept, label).toBe(label === 'space' ? analysed : keepCount(analysed, KEEP));
    }
    expect(harness.pageErrors).toEqual([]);
    expect(harness.offOrigin).toEqual([]);
  } finally {
    await harness.close();
  }
});
