/**
 * The walking skeleton end to end in real Chromium: folder → workers → IndexedDB → review → zip,
 * checked with a real unzip. Every test also asserts that nothing left the origin.
 */
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { launchBrowser, waitForRunState, type Harness } from '../support/browser.ts';
import { downloadVia, readZipEntry, unzipList, unzipTest } from '../support/download.ts';
import { dropFolder } from '../support/drop.ts';
import { NEARDUP_IMAGES, removeTempDirs, tempDir, writeBadFiles } from '../support/fixtures.ts';
import { MANIFEST_SCHEMA_VERSION, type Manifest } from '../../src/core/manifest.ts';

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

const near = (name: string) => path.join(NEARDUP_IMAGES, name);

/** A small ImageFolder dataset with planted copies, bad files, system files and odd names. */
async function makeDataset(): Promise<string> {
  const root = path.join(await tempDir(), 'my dataset');
  const put = async (from: string, to: string) => {
    await mkdir(path.dirname(path.join(root, to)), { recursive: true });
    await copyFile(near(from), path.join(root, to));
  };
  await put('g000_orig.jpg', 'bridges/g000.jpg');
  await put('g000_exact_copy.jpg', 'bridges/g000 copy.jpg');
  await put('g000_hflip.jpg', 'bridges/g000_mirrored.jpg');
  await put('g000_resize50.jpg', 'bridges/small/g000_half.jpg');
  await put('g002_orig.jpg', 'bridges/g002.jpg');
  await put('g002_jpeg_q50.jpg', 'other/g002 é ☕.jpg');
  await put('g004_orig.jpg', 'other/g004.jpg');
  await put('g004_format_png.png', 'other/g004.png');
  await put('g006_orig.jpg', 'other/g006-unique.jpg');
  await put('g008_orig.jpg', 'other/g008 named png.png'); // a JPEG named .png: recognised by its bytes
  await writeFile(path.join(root, 'other/g012 rotated by exif.jpg'), withExifOrientation(await readFile(near('g012_orig.jpg')), 6));
  await writeBadFiles(path.join(root, 'other'));
  await mkdir(path.join(root, '__MACOSX'), { recursive: true });
  await writeFile(path.join(root, '__MACOSX', '._g000.jpg'), 'resource fork');
  await writeFile(path.join(root, '.DS_Store'), 'finder');
  await writeFile(path.join(root, 'bridges', 'Thumbs.db'), 'windows');
  return root;
}

/** The same JPEG with an EXIF APP1 block saying "rotate 90° clockwise to display" (orientation 6). */
function withExifOrientation(jpeg: Buffer, orientation: number): Buffer {
  const tiff = Buffer.from([
    0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08, // big-endian TIFF header, IFD at 8
    0x00, 0x01, // one entry
    0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, orientation, 0x00, 0x00, // Orientation, SHORT
    0x00, 0x00, 0x00, 0x00, // no next IFD
  ]);
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, (body.length + 2) >> 8, (body.length + 2) & 0xff]), body]);
  return Buffer.concat([jpeg.subarray(0, 2), app1, jpeg.subarray(2)]);
}

async function manifestFromZip(zip: string): Promise<Manifest> {
  return JSON.parse((await readZipEntry(zip, 'manifest.json')).toString('utf8')) as Manifest;
}

function byPath(manifest: Manifest) {
  return new Map(manifest.files.map((f) => [f.path, f]));
}

describe('walking skeleton', () => {
  test('picking a folder finds exact copies, mirrored and near copies, skips bad files, and exports a valid zip', async () => {
    harness = await launchBrowser();
    const { page } = harness;
    const root = await makeDataset();
    await page.goto(harness.origin + '/');
    expect(await page.locator('[data-testid=run-state]').textContent()).toBe('idle');
    await page.locator('[data-testid=folder-input]').setInputFiles(root);
    expect(await waitForRunState(page, ['done', 'error'])).toBe('done');

    expect(await page.locator('[data-testid=count-total]').textContent()).toBe('14');
    expect(await page.locator('[data-testid=count-skipped]').textContent()).toBe('3');

    await page.locator('[data-testid=include-images]').check();
    const zip = await downloadVia(page, '[data-testid=export-zip]', await tempDir());
    const tested = await unzipTest(zip);
    expect(tested.ok, tested.output).toBe(true);

    const manifest = await manifestFromZip(zip);
    const files = byPath(manifest);
    expect(manifest.schemaVersion).toBe(MANIFEST_SCHEMA_VERSION);
    expect(manifest.tool.name).toBe('winnow');
    expect(manifest.settings).toMatchObject({ mode: 'near', hash: 'phash' });
    // Ignored system files never reach the manifest; every other file does, once.
    expect([...files.keys()].sort()).toEqual(
      [
        'bridges/g000.jpg', 'bridges/g000 copy.jpg', 'bridges/g000_mirrored.jpg', 'bridges/small/g000_half.jpg',
        'bridges/g002.jpg', 'other/g002 é ☕.jpg', 'other/g004.jpg', 'other/g004.png', 'other/g006-unique.jpg',
        'other/g008 named png.png', 'other/g012 rotated by exif.jpg', 'other/empty.jpg', 'other/notes.jpg', 'other/truncated.jpg',
      ].sort(),
    );
    // The mirrored copy is the keeper by the default rule: same resolution, and its file is 18 bytes larger.
    const keeper = files.get('bridges/g000_mirrored.jpg')!;
    expect(keeper).toMatchObject({ label: 'bridges', status: 'kept', reason: 'kept: best of group', distance: 0 });
    for (const p of ['bridges/g000.jpg', 'bridges/g000 copy.jpg', 'bridges/small/g000_half.jpg']) {
      expect(files.get(p), p).toMatchObject({ status: 'removed', keeper: 'bridges/g000_mirrored.jpg', group: keeper.group });
      expect(files.get(p)!.distance).toBeLessThanOrEqual(manifest.settings.threshold);
      expect(files.get(p)!.reason).toContain('bridges/g000_mirrored.jpg');
    }
    // Byte-identical files are at distance 0 from each other whichever is kept.
    expect(files.get('bridges/g000 copy.jpg')!.distance).toBe(files.get('bridges/g000.jpg')!.distance);
    // Across classes, and found although the name has a space, an accent and an emoji.
    expect(files.get('other/g002 é ☕.jpg')).toMatchObject({ status: 'removed', keeper: 'bridges/g002.jpg', label: 'other' });
    // The same pixels as PNG and JPEG: one group, one of the two kept.
    expect(files.get('other/g004.png')!.group).not.toBeNull();
    expect(files.get('other/g004.png')!.group).toBe(files.get('other/g004.jpg')!.group);
    expect([files.get('other/g004.png')!.status, files.get('other/g004.jpg')!.status].sort()).toEqual(['kept', 'removed']);
    expect(files.get('other/g006-unique.jpg')).toMatchObject({ status: 'kept', group: null });
    expect(files.get('other/g008 named png.png')).toMatchObject({ status: 'kept', width: 266, height: 400 });
    // Width and height are those of the image as displayed: EXIF orientation 6 turns 400×225 upright.
    expect(files.get('other/g012 rotated by exif.jpg')).toMatchObject({ status: 'kept', width: 225, height: 400 });
    expect(files.get('other/empty.jpg')).toMatchObject({ status: 'skipped', sha256: null });
    expect(files.get('other/empty.jpg')!.reason).toMatch(/empty/);
    expect(files.get('other/notes.jpg')!.reason).toMatch(/not-an-image/);
    expect(files.get('other/truncated.jpg')!.reason).toMatch(/corrupt-image/);
    expect(files.get('other/notes.jpg')!.sha256).toMatch(/^[0-9a-f]{64}$/);

    // The zip holds the documents and exactly the kept images, under their own paths.
    const entries = await unzipList(zip);
    const kept = manifest.files.filter((f) => f.status === 'kept').map((f) => f.path);
    expect(entries.sort()).toEqual(['manifest.json', 'kept.txt', 'removed.txt', 'groups.csv', ...kept].sort());
    expect((await readZipEntry(zip, 'kept.txt')).toString('utf8').trim().split('\n').sort()).toEqual(kept.sort());
    expect(entries).not.toContain('other/g002 é ☕.jpg'); // removed
    expect(Buffer.compare(await readZipEntry(zip, 'bridges/g002.jpg'), await readFile(path.join(root, 'bridges/g002.jpg')))).toBe(0);
    const csv = (await readZipEntry(zip, 'groups.csv')).toString('utf8');
    expect(csv.split(/\r?\n/)[0]).toBe('group_id,kind,path,role,distance,label');
  });

  test('dropping a folder (real directory entries) runs at once, with class labels from subfolders', async () => {
    harness = await launchBrowser();
    const { page } = harness;
    const root = await makeDataset();
    await page.goto(harness.origin + '/?mode=exact');
    await dropFolder(page, '[data-testid=drop-zone]', root);
    expect(await waitForRunState(page, ['done', 'error'])).toBe('done');
    const manifestPath = await downloadVia(page, '[data-testid=export-manifest]', await tempDir());
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest;
    expect(manifest.settings.mode).toBe('exact');
    expect(manifest.files).toHaveLength(14);
    expect(new Set(manifest.files.map((f) => f.label))).toEqual(new Set(['bridges', 'other']));
    // Exact mode: only the byte-identical copy is removed.
    expect(manifest.files.filter((f) => f.status === 'removed').map((f) => f.path)).toEqual(['bridges/g000 copy.jpg']);
  });

  test('the threshold slider regroups live, and a chosen keeper is what the manifest keeps', async () => {
    harness = await launchBrowser();
    const { page } = harness;
    const root = await makeDataset();
    // Hashes only: embedding pairs would group these at any threshold, and this is about the slider.
    await page.goto(harness.origin + '/?threshold=0&embeddings=0');
    await page.locator('[data-testid=folder-input]').setInputFiles(root);
    await waitForRunState(page, ['done']);
    const removedAt0 = Number(await page.locator('[data-testid=count-removed]').textContent());
    await page.locator('[data-testid=threshold]').fill('12');
    await expect.poll(async () => Number(await page.locator('[data-testid=count-removed]').textContent())).toBeGreaterThan(removedAt0);
    expect(new URL(page.url()).searchParams.get('threshold')).toBe('12');

    const group = page.locator('[data-testid=group]', { has: page.locator('[data-path="bridges/g000.jpg"]') });
    expect(await group.locator('[data-keeper=true]').getAttribute('data-path')).toBe('bridges/g000_mirrored.jpg');
    await group.locator('[data-path="bridges/small/g000_half.jpg"] button.thumb').click();
    await expect.poll(() => group.locator('[data-keeper=true]').getAttribute('data-path')).toBe('bridges/small/g000_half.jpg');
    await group.locator('[data-path="bridges/g000.jpg"] [data-testid=keep-also]').check();
    const manifestPath = await downloadVia(page, '[data-testid=export-manifest]', await tempDir());
    const files = byPath(JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest);
    expect(files.get('bridges/small/g000_half.jpg')).toMatchObject({ status: 'kept', reason: 'kept: user choice' });
    expect(files.get('bridges/g000.jpg')).toMatchObject({ status: 'kept', reason: 'kept: user choice' });
    expect(files.get('bridges/g000_mirrored.jpg')).toMatchObject({ status: 'removed', keeper: 'bridges/small/g000_half.jpg' });
    expect(files.get('bridges/g000 copy.jpg')).toMatchObject({ status: 'removed', keeper: 'bridges/small/g000_half.jpg' });
  });

  test('a reload mid-run loses nothing: the next run takes finished files from the store', async () => {
    harness = await launchBrowser();
    const { page } = harness;
    const root = path.join(await tempDir(), 'many');
    await mkdir(root, { recursive: true });
    // 600 distinct files: copies of real photos with a unique trailing comment byte each.
    const sources = ['g000_orig.jpg', 'g002_orig.jpg', 'g004_orig.jpg', 'g006_orig.jpg', 'g008_orig.jpg', 'g010_orig.jpg'];
    const bytes = await Promise.all(sources.map((s) => readFile(near(s))));
    await Promise.all(
      Array.from({ length: 600 }, (_, i) =>
        writeFile(path.join(root, `img${String(i).padStart(4, '0')}.jpg`), Buffer.concat([bytes[i % bytes.length], Buffer.from(`#${i}`)])),
      ),
    );
    await page.goto(harness.origin + '/');
    await page.locator('[data-testid=folder-input]').setInputFiles(root);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=stage-hash]')?.getAttribute('data-done')) >= 60);
    const total = 600;
    const doneBefore = Number(await page.locator('[data-testid=stage-hash]').getAttribute('data-done'));
    expect(doneBefore).toBeLessThan(total); // the reload really comes mid-run
    await page.reload();
    expect(await page.locator('[data-testid=run-state]').textContent()).toBe('idle');
    await page.locator('[data-testid=folder-input]').setInputFiles(root);
    await waitForRunState(page, ['done']);
    const cached = Number(await page.locator('[data-testid=stage-hash]').getAttribute('data-cached'));
    expect(cached).toBeGreaterThanOrEqual(doneBefore);
    expect(cached).toBeLessThan(total);
    // And a third run, after a browser restart, recomputes nothing at all.
    harness = await harness.reopen();
    await harness.page.goto(harness.origin + '/');
    await harness.page.locator('[data-testid=folder-input]').setInputFiles(root);
    await waitForRunState(harness.page, ['done']);
    expect(Number(await harness.page.locator('[data-testid=stage-hash]').getAttribute('data-cached'))).toBe(total);
    await rm(root, { recursive: true, force: true });
  });

  test('cancel stops the run at once and keeps what finished reviewable', async () => {
    harness = await launchBrowser();
    const { page } = harness;
    const root = path.join(await tempDir(), 'cancel-me');
    await mkdir(root, { recursive: true });
    const jpeg = await readFile(near('g012_orig.jpg'));
    await Promise.all(
      Array.from({ length: 400 }, (_, i) => writeFile(path.join(root, `c${i}.jpg`), Buffer.concat([jpeg, Buffer.from(`#${i}`)]))),
    );
    await page.goto(harness.origin + '/');
    await page.locator('[data-testid=folder-input]').setInputFiles(root);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=stage-hash]')?.getAttribute('data-done')) >= 20);
    await page.locator('[data-testid=cancel]').click();
    expect(await waitForRunState(page, ['done', 'error'])).toBe('done');
    const doneAtCancel = Number(await page.locator('[data-testid=stage-hash]').getAttribute('data-done'));
    await page.waitForTimeout(500);
    // Workers are gone: the count does not move after the cancel.
    expect(Number(await page.locator('[data-testid=stage-hash]').getAttribute('data-done'))).toBe(doneAtCancel);
    expect(doneAtCancel).toBeLessThan(400);
    await expect.poll(() => page.locator('[data-testid=notice]').textContent()).toMatch(/Cancelled/);
    const manifestPath = await downloadVia(page, '[data-testid=export-manifest]', await tempDir());
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest;
    expect(manifest.files).toHaveLength(400);
    const analysed = manifest.files.filter((f) => f.status !== 'skipped');
    expect(analysed.length).toBe(doneAtCancel);
    // Identical pixels with different bytes: all analysed files form one near group.
    expect(analysed.filter((f) => f.status === 'kept')).toHaveLength(1);
    expect(manifest.files.filter((f) => f.status === 'skipped').every((f) => /not-analysed/.test(f.reason))).toBe(true);
  });
});

describe('streamed save', () => {
  test('"Save zip to a file…" streams the zip into the chosen file (an OPFS file stands in for the picker, which headless Chromium refuses)', async () => {
    harness = await launchBrowser();
    const { page } = harness;
    await page.addInitScript(() => {
      (window as unknown as { showSaveFilePicker: unknown }).showSaveFilePicker = async (options: { suggestedName: string }) =>
        (await navigator.storage.getDirectory()).getFileHandle(options.suggestedName, { create: true });
    });
    const root = await makeDataset();
    await page.goto(harness.origin + '/?images=1');
    await page.locator('[data-testid=folder-input]').setInputFiles(root);
    expect(await waitForRunState(page, ['done'])).toBe('done');
    await page.locator('[data-testid=export-zip-file]').click();
    await expect.poll(() => page.locator('[data-testid=export-message]').textContent()).toBe('Zip saved.');
    const base64 = await page.evaluate(async () => {
      const file = await (await (await navigator.storage.getDirectory()).getFileHandle('my_dataset-winnow.zip')).getFile();
      const bytes = new Uint8Array(await file.arrayBuffer());
      let s = '';
      for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(s);
    });
    const zip = path.join(await tempDir(), 'saved.zip');
    await writeFile(zip, Buffer.from(base64, 'base64'));
    const tested = await unzipTest(zip);
    expect(tested.ok, tested.output).toBe(true);
    const manifest = await manifestFromZip(zip);
    const kept = manifest.files.filter((f) => f.status === 'kept').map((f) => f.path);
    expect(manifest.settings.includeImages).toBe(true);
    expect((await unzipList(zip)).sort()).toEqual(['manifest.json', 'kept.txt', 'removed.txt', 'groups.csv', ...kept].sort());
  });
});
