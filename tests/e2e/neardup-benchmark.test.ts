/**
 * The near-duplicate benchmark at the default settings, in the real app: recall by transform and
 * false merges, read from the exported manifest. This is what the default hash, threshold and
 * embedding bar were chosen on (docs/neardup-threshold.md, docs/neardup-embeddings.md). The same
 * profile then re-runs with hashes only (everything cached) to show what the embeddings add.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, expect, test } from 'vitest';
import type { Manifest } from '../../src/core/manifest.ts';
import { launchBrowser, waitForRunState } from '../support/browser.ts';
import { downloadVia } from '../support/download.ts';
import { NEARDUP_IMAGES, neardupTruth, removeTempDirs, tempDir } from '../support/fixtures.ts';

afterAll(removeTempDirs);

async function measure(page: Page, url: string) {
    await page.goto(url);
    await page.locator('[data-testid=folder-input]').setInputFiles(NEARDUP_IMAGES);
    expect(await waitForRunState(page, ['done', 'error'], 300_000)).toBe('done');
    const manifest = JSON.parse(await readFile(await downloadVia(page, '[data-testid=export-manifest]', await tempDir()), 'utf8')) as Manifest;

    const truth = new Map((await neardupTruth()).map((row) => [row.name, row]));
    const files = new Map(manifest.files.map((f) => [path.basename(f.path), f]));
    expect(files.size).toBe(truth.size);
    expect(manifest.files.filter((f) => f.status === 'skipped')).toEqual([]);

    // A group may hold only files of one photo.
    const photosByGroup = new Map<number, Set<number>>();
    for (const [name, f] of files) {
      if (f.group === null) continue;
      const set = photosByGroup.get(f.group) ?? new Set<number>();
      set.add(truth.get(name)!.groupId);
      photosByGroup.set(f.group, set);
    }
    const falseMerges = [...files].filter(([, f]) => f.group !== null && photosByGroup.get(f.group)!.size > 1).length;

    // Recall: a variant counts as found when it sits in the same group as its original.
    const byTransform = new Map<string, { found: number; total: number }>();
    for (const [name, row] of truth) {
      if (row.transform === 'orig' || row.transform === 'distractor') continue;
      const original = files.get(`g${String(row.groupId).padStart(3, '0')}_orig.jpg`)!;
      const variant = files.get(name)!;
      const entry = byTransform.get(row.transform) ?? { found: 0, total: 0 };
      entry.total++;
      if (variant.group !== null && variant.group === original.group) entry.found++;
      byTransform.set(row.transform, entry);
    }
    const found = [...byTransform.values()].reduce((s, e) => s + e.found, 0);
    const total = [...byTransform.values()].reduce((s, e) => s + e.total, 0);
    const table = Object.fromEntries([...byTransform].map(([t, e]) => [t, `${e.found}/${e.total}`]));
    console.log(JSON.stringify({ settings: manifest.settings, recall: found / total, byTransform: table, falseMerges }));
    const rate = (t: string) => byTransform.get(t)!.found / byTransform.get(t)!.total;
    return { manifest, recall: found / total, rate, falseMerges };
}

test('neardup benchmark at the defaults (hashes + embeddings): recall ≥ 0.98 overall, crops and rotations included, no false merges; hashes alone find less', async () => {
  const harness = await launchBrowser();
  try {
    const { page } = harness;
    const both = await measure(page, harness.origin + '/?backend=wasm');
    expect(both.manifest.settings.embedding?.model.id).toBe('mobilenetv2-mid');
    expect(both.falseMerges).toBe(0);
    expect(both.rate('exact_copy')).toBe(1);
    expect(both.recall).toBeGreaterThanOrEqual(0.98);
    for (const t of ['crop90', 'rot3', 'hflip', 'watermark']) expect(both.rate(t), t).toBeGreaterThanOrEqual(0.9);

    const hashes = await measure(page, harness.origin + '/?embeddings=0');
    expect(hashes.manifest.settings.embedding).toBeUndefined();
    expect(hashes.falseMerges).toBe(0);
    expect(hashes.recall).toBeGreaterThanOrEqual(0.9);
    expect(hashes.rate('crop90')).toBeLessThan(both.rate('crop90'));
    expect(harness.offOrigin).toEqual([]);
  } finally {
    await harness.close();
  }
});
