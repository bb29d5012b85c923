/**
 * Reliability suite, bad inputs (docs/RELIABILITY.md): a folder of every awkward file — damaged,
 * misnamed, empty, tiny, huge, exotic, animated, rotated by EXIF, oddly named — goes through the
 * built app in Chromium. Every file must reach the manifest with a status and a clear reason, the
 * run must end `done`, and the exported zip must pass `unzip -t` and hold exactly the kept images
 * under their own names. Every test also asserts that nothing left the origin (an SVG in the
 * folder would fetch off-origin if anything rendered it) and that no page error was thrown.
 *
 * Zip-slip paths (`..`, absolute, drive letters) cannot exist on a real disk, so no folder can hold
 * them; tests/unit/core/zip-paths.test.ts (safeZipPath, ZipPathAllocator) and
 * tests/unit/core/zip-export.test.ts ('writes a zip that unzip accepts, with sanitised, unique
 * entry names') cover them.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { launchBrowser, waitForRunState, type Harness } from '../support/browser.ts';
import { writeBadInputs, NAMES, ZIP_ENTRY, type BadInputSet } from '../support/bad-inputs.ts';
import { downloadVia, readZipEntry, unzipList, unzipTest } from '../support/download.ts';
import { removeTempDirs, tempDir } from '../support/fixtures.ts';
import { REASON_UNIQUE } from '../../src/core/selection.ts';
import type { Manifest, ManifestFile } from '../../src/core/manifest.ts';
import { parseCsv } from '../support/csv.ts';

let harness: Harness | null = null;
afterEach(async () => {
  if (harness) {
    expect(harness.offOrigin, 'requests that tried to leave the origin (an SVG rendered?)').toEqual([]);
    // The CSP would block the SVG's fetches before the network guard saw them, and log that: it must not have to.
    expect(harness.consoleErrors.filter((m) => m.includes('svg-was-rendered')), 'the SVG was rendered').toEqual([]);
    expect(harness.pageErrors, 'uncaught page errors').toEqual([]);
    await harness.close();
    harness = null;
  }
});
afterAll(removeTempDirs);

let set: BadInputSet;
beforeAll(async () => {
  set = await writeBadInputs(await tempDir('winnow-bad-'));
  for (const [what, why] of Object.entries(set.notMade)) console.warn(`[bad-input] ${what} not generated here: ${why}`);
}, 120_000);

const DOCUMENTS = ['manifest.json', 'kept.txt', 'removed.txt', 'groups.csv'];

/** Runs the folder through the app at `query`, exports the zip with images; returns the zip and its manifest. */
async function runAndExport(query: string): Promise<{ zip: string; manifest: Manifest; files: Map<string, ManifestFile> }> {
  harness = await launchBrowser();
  const { page } = harness;
  await page.goto(`${harness.origin}/${query}`);
  await page.locator('[data-testid=folder-input]').setInputFiles(set.root);
  expect(await waitForRunState(page, ['done', 'error'], 180_000)).toBe('done');
  expect(await page.locator('[data-testid=count-total]').textContent()).toBe(String(set.cases.length));
  const skipped = set.cases.filter((c) => !c.expect.analysed).length;
  expect(await page.locator('[data-testid=count-skipped]').textContent()).toBe(String(skipped));
  expect(await page.locator('[data-testid=include-images]').isChecked(), '?images=1 ticks "Include the kept images"').toBe(true);
  const zip = await downloadVia(page, '[data-testid=export-zip]', await tempDir());
  const tested = await unzipTest(zip);
  expect(tested.ok, tested.output).toBe(true);
  const manifest = JSON.parse((await readZipEntry(zip, 'manifest.json')).toString('utf8')) as Manifest;
  return { zip, manifest, files: new Map(manifest.files.map((f) => [f.path, f])) };
}

/** Every input once in the manifest, with the expected status, reason and displayed size. */
function checkEveryCase(files: Map<string, ManifestFile>): void {
  expect([...files.keys()].sort()).toEqual(set.cases.map((c) => c.path).sort());
  for (const c of set.cases) {
    const f = files.get(c.path)!;
    const label = `${c.path} (${c.what}): ${f.status} — ${f.reason}`;
    expect(f.reason.length, label).toBeGreaterThan(0);
    if (c.expect.analysed) {
      expect(['kept', 'removed'], label).toContain(f.status);
      expect({ width: f.width, height: f.height }, label).toEqual({ width: c.expect.width, height: c.expect.height });
      expect(f.sha256, label).toMatch(/^[0-9a-f]{64}$/);
    } else {
      expect(f.status, label).toBe('skipped');
      expect(f.reason, label).toMatch(new RegExp(`^skipped: ${c.expect.reason} \\(`));
      expect(f.reason, label).toMatch(c.expect.detail);
      expect(f.group, label).toBeNull();
    }
  }
}

/** A line of kept.txt / removed.txt: verbatim, or a JSON string where the path has a control character. */
const listLine = (line: string): string => (line.startsWith('"') ? (JSON.parse(line) as string) : line);

/** The zip holds the documents and exactly the kept images, byte for byte, under their own names. */
async function checkZip(zip: string, manifest: Manifest, extraDocuments: string[] = []): Promise<void> {
  const kept = manifest.files.filter((f) => f.status === 'kept').map((f) => f.path);
  const entryOf = (p: string) => ZIP_ENTRY[p] ?? p;
  const entries = await unzipList(zip);
  expect(entries.sort()).toEqual([...DOCUMENTS, ...extraDocuments, ...kept.map(entryOf)].sort());
  for (const p of kept) {
    const original = await readFile(path.join(set.root, p));
    expect(Buffer.compare(await readZipEntry(zip, entryOf(p)), original), `zip entry ${JSON.stringify(entryOf(p))}`).toBe(0);
  }
  for (const f of manifest.files.filter((x) => x.status === 'skipped')) expect(entries).not.toContain(f.path);
  const keptTxt = (await readZipEntry(zip, 'kept.txt')).toString('utf8');
  expect(keptTxt.endsWith('\n')).toBe(true);
  expect(keptTxt.slice(0, -1).split('\n').map(listLine).sort()).toEqual(kept.sort());
}


describe('bad inputs', () => {
  test('hashes only: every bad input gets a status and a clear reason, the run ends done, the zip is valid', async () => {
    const started = performance.now();
    const { zip, manifest, files } = await runAndExport('?embeddings=0&images=1');
    expect(manifest.settings.embedding).toBeUndefined();
    checkEveryCase(files);

    // The review lists skipped files with their reason; the SVG there is text, never an image.
    const svgRow = harness!.page.locator('[data-testid=skipped-file][data-path="unsupported/drawing.svg"]');
    expect(await svgRow.textContent()).toContain('SVG is never rendered');
    expect(await svgRow.locator('img, svg, object, iframe, embed').count()).toBe(0);

    // All eight EXIF orientations show the same picture: one group, same displayed size, (near) equal hashes.
    const oriented = [1, 2, 3, 4, 5, 6, 7, 8].map((o) => files.get(`orientation/exif-${o}.jpg`)!);
    const group = oriented[0].group;
    expect(group).not.toBeNull();
    for (const f of oriented) {
      expect(f.group, f.path).toBe(group);
      expect(f.groupKind, f.path).toBe('near');
      expect(f.distance, f.path).toBeLessThanOrEqual(2);
    }
    const orientationGroup = manifest.groups.find((g) => g.id === group)!;
    expect(orientationGroup.members.map((m) => m.path).sort()).toEqual(oriented.map((f) => f.path).sort());
    expect(oriented.filter((f) => f.status === 'kept')).toHaveLength(1);

    // Animations are hashed by their first frame: one group with the first frame's still, not the second's.
    const animated = ['animated/animated.gif', 'animated/animated.webp', 'animated/animated-apng.png', 'animated/frame1-still.png'];
    const animGroup = files.get('animated/frame1-still.png')!.group;
    expect(animGroup).not.toBeNull();
    for (const p of animated) expect(files.get(p)!.group, p).toBe(animGroup);
    expect(manifest.groups.find((g) => g.id === animGroup)!.members).toHaveLength(animated.length);
    expect(files.get('animated/frame2-still.png')).toMatchObject({ status: 'kept', reason: REASON_UNIQUE, group: null });

    // The CMYK JPEG decodes to the colours of its RGB original (an inverted decode would not group).
    expect(files.get('formats/cmyk.jpg')!.group).not.toBeNull();
    expect(files.get('formats/cmyk.jpg')!.group).toBe(files.get('formats/cmyk-reference.png')!.group);

    // Every other decodable file is a photo of its own: kept as unique.
    const grouped = new Set([...oriented.map((f) => f.path), ...animated, 'formats/cmyk.jpg', 'formats/cmyk-reference.png']);
    for (const c of set.cases.filter((x) => x.expect.analysed && !grouped.has(x.path))) {
      expect(files.get(c.path), c.path).toMatchObject({ status: 'kept', reason: REASON_UNIQUE });
    }

    await checkZip(zip, manifest);
    // Spaces, accents, CJK, emoji (a ZWJ sequence too), 255-byte names and the first of two case twins keep their names exactly.
    const names = await unzipList(zip);
    for (const p of Object.values(NAMES).filter((p) => !(p in ZIP_ENTRY))) expect(names, p).toContain(p);
    expect(names).toContain(NAMES.upper);
    expect(await readZipEntry(zip, 'kept.txt').then((b) => b.toString('utf8'))).toContain(`${JSON.stringify(NAMES.newline)}\n`);
    console.log(`[bad-input] hashes only: ${set.cases.length} files, ${((performance.now() - started) / 1000).toFixed(1)} s`);
    for (const c of set.cases) {
      const f = files.get(c.path)!;
      console.log(`[bad-input] ${JSON.stringify(c.path)} | ${c.what} | ${f.status} | ${f.reason}${f.width ? ` | ${f.width}×${f.height}` : ''}`);
    }
  });

  test('with embeddings on (default settings) the embedding stage survives the same files', async () => {
    const started = performance.now();
    // features=1 only adds embeddings.npy and features.csv to the export; the analysis is the default one.
    const { zip, manifest, files } = await runAndExport('?images=1&features=1');
    const page = harness!.page;
    expect(manifest.settings.embedding, 'embeddings took part in the grouping').toBeDefined();
    checkEveryCase(files);
    // The embed stage saw every decodable file and finished...
    const analysed = set.cases.filter((c) => c.expect.analysed).map((c) => c.path);
    const embed = page.locator('[data-testid=stage-embed]');
    expect(Number(await embed.getAttribute('data-done'))).toBe(analysed.length);
    expect(Number(await embed.getAttribute('data-total'))).toBe(analysed.length);
    // ...and every one of them got a vector (a file the model cannot read has no row), none of the skipped ones.
    const [header, ...rows] = parseCsv((await readZipEntry(zip, 'features.csv')).toString('utf8'));
    expect(header).toEqual(['row', 'path', 'sha256', 'label']);
    expect(rows.map((r) => r[1]).sort()).toEqual([...analysed].sort());
    const npy = await readZipEntry(zip, 'embeddings.npy');
    const dim = manifest.settings.embedding!.model.dim;
    expect(npy.subarray(0, 200).toString('latin1')).toContain(`'shape': (${analysed.length}, ${dim})`);
    await checkZip(zip, manifest, ['embeddings.npy', 'features.csv']);
    console.log(`[bad-input] embeddings on: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  });
});
