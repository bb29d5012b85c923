/** "Try the sample dataset": the newcomer's first minute, served from our own origin. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import type { Manifest } from '../../src/core/manifest.ts';
import { launchBrowser, waitForRunState } from '../support/browser.ts';
import { downloadVia } from '../support/download.ts';
import { repoRoot } from '../support/paths.ts';
import { removeTempDirs, tempDir } from '../support/fixtures.ts';

afterAll(removeTempDirs);

interface SampleIndex {
  files: { path: string }[];
  planted: { path: string; duplicateOf: string; kind: 'exact' | 'near'; transform: string }[];
  skipped: { path: string }[];
}

test('the sample finds every planted copy and lists the planted bad files, with ?sample=1 starting it at once', async () => {
  const index = JSON.parse(await readFile(path.join(repoRoot, 'public/sample/index.json'), 'utf8')) as SampleIndex;
  const harness = await launchBrowser();
  try {
    const { page } = harness;
    await page.goto(harness.origin + '/?sample=1');
    expect(await waitForRunState(page, ['done', 'error'], 120_000)).toBe('done');
    const manifest = JSON.parse(await readFile(await downloadVia(page, '[data-testid=export-manifest]', await tempDir()), 'utf8')) as Manifest;
    const files = new Map(manifest.files.map((f) => [f.path, f]));
    expect(files.size).toBe(index.files.length);
    for (const planted of index.planted) {
      const copy = files.get(planted.path)!;
      const original = files.get(planted.duplicateOf)!;
      expect(copy.group, `${planted.path} (${planted.transform}) grouped with ${planted.duplicateOf}`).not.toBeNull();
      expect(copy.group).toBe(original.group);
    }
    for (const bad of index.skipped) expect(files.get(bad.path)!.status, bad.path).toBe('skipped');
    // Nothing else is grouped: the unique photos stay unique.
    const planted = new Set(index.planted.flatMap((p) => [p.path, p.duplicateOf]));
    expect(manifest.files.filter((f) => f.group !== null && !planted.has(f.path)).map((f) => f.path)).toEqual([]);
    expect(await page.locator('[data-testid=group]').count()).toBeGreaterThanOrEqual(7);
    await page.screenshot({ path: path.join(await tempDir(), 'sample.png'), fullPage: true });
    expect(harness.offOrigin).toEqual([]);
  } finally {
    await harness.close();
  }
});
