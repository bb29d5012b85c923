import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { makeExportStream, saveStream, type ExportTexts, type KeptFile } from '../../../src/io/export/zip.ts';

const UNZIP = '/usr/bin/unzip';
const env = { ...process.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' };
const work = mkdtempSync(join(tmpdir(), 'winnow-zip-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const docs: ExportTexts = {
  manifestJson: '{"schemaVersion":1,"note":"ünïcödé ✓"}\n',
  keptTxt: 'cats/ünï 🐶.jpg\n',
  removedTxt: 'cats/b.jpg\n',
  groupsCsv: 'group_id,kind,path,role,distance,label\r\n',
};

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

function bytes(n: number, seed: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

describe('makeExportStream', () => {
  it('puts embeddings.npy and features.csv after the texts, byte for byte, and keeps images off those names', async () => {
    const npy = bytes(1000, 42);
    const zip = await readAll(
      makeExportStream({
        documents: docs,
        extras: [
          { name: 'embeddings.npy', data: npy },
          { name: 'features.csv', data: 'row,path,sha256,label\r\n' },
        ],
        keptFiles: [{ path: 'embeddings.npy', file: new Blob([bytes(10, 1)]) }],
      }),
    );
    const dir = mkdtempSync(join(tmpdir(), 'winnow-zip-features-'));
    const file = join(dir, 'features.zip');
    writeFileSync(file, zip);
    try {
      const names = execFileSync(UNZIP, ['-Z1', file], { env, encoding: 'utf8' }).split('\n').filter(Boolean);
      expect(names).toEqual(['manifest.json', 'kept.txt', 'removed.txt', 'groups.csv', 'embeddings.npy', 'features.csv', 'embeddings (2).npy']);
      const extracted = execFileSync(UNZIP, ['-p', file, 'embeddings.npy'], { env });
      expect(Buffer.compare(extracted, Buffer.from(npy))).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes a zip that unzip accepts, with sanitised, unique entry names', async () => {
    const files: KeptFile[] = [
      { path: 'cats/ünï 🐶.jpg', file: new File([bytes(5000, 1)], 'x.jpg', { lastModified: Date.UTC(2024, 0, 2) }) },
      { path: '../evil.jpg', file: new Blob([bytes(10, 2)]) },
      { path: 'cats/../../../evil2.jpg', file: new Blob([bytes(10, 3)]) },
      { path: 'C:\\Windows\\evil3.jpg', file: new Blob([bytes(10, 4)]) },
      { path: '/abs/evil4.jpg', file: new Blob([bytes(10, 5)]) },
      { path: 'cats/a.jpg', file: new Blob([bytes(300_000, 6)]) },
      { path: 'cats/A.jpg', file: new Blob([bytes(20, 7)]) },
      { path: 'manifest.json', file: new Blob([bytes(20, 8)]) },
      { path: '..', file: new Blob([bytes(20, 9)]) },
    ];
    const seen: [string, string | null][] = [];
    async function* kept() {
      for (const f of files) yield f;
    }
    const zip = await readAll(
      makeExportStream({ documents: docs, keptFiles: kept(), onEntry: (p, n) => seen.push([p, n]) }),
    );
    const file = join(work, 'export.zip');
    writeFileSync(file, zip);

    const test = execFileSync(UNZIP, ['-t', file], { env, encoding: 'utf8' });
    expect(test).toMatch(/No errors detected/);

    const listing = execFileSync(UNZIP, ['-l', file], { env, encoding: 'utf8' });
    const names = execFileSync(UNZIP, ['-Z1', file], { env, encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(names).toEqual([
      'manifest.json',
      'kept.txt',
      'removed.txt',
      'groups.csv',
      'cats/ünï 🐶.jpg',
      'evil.jpg',
      'cats/evil2.jpg',
      'Windows/evil3.jpg',
      'abs/evil4.jpg',
      'cats/a.jpg',
      'cats/A (2).jpg',
      'manifest (2).json',
    ]);
    for (const name of names) {
      expect(listing).toContain(name);
      expect(name.split('/')).not.toContain('..');
      expect(name.startsWith('/')).toBe(false);
    }
    expect(seen.at(-1)).toEqual(['..', null]);

    // Extract for real: everything lands inside the target folder, bytes intact.
    const out = join(work, 'out');
    execFileSync(UNZIP, ['-q', '-o', file, '-d', out], { env });
    expect(readFileSync(join(out, 'manifest.json'), 'utf8')).toBe(docs.manifestJson);
    expect(readFileSync(join(out, 'groups.csv'), 'utf8')).toBe(docs.groupsCsv);
    expect(new Uint8Array(readFileSync(join(out, 'cats', 'ünï 🐶.jpg')))).toEqual(bytes(5000, 1));
    expect(new Uint8Array(readFileSync(join(out, 'cats', 'a.jpg')))).toEqual(bytes(300_000, 6));
    expect(readdirSync(work).sort()).toEqual(['export.zip', 'out']);
    expect(existsSync(join(work, 'evil.jpg'))).toBe(false);
  });

  it('reads kept files lazily, one at a time', async () => {
    let pulled = 0;
    async function* kept(): AsyncGenerator<KeptFile> {
      for (let i = 0; i < 50; i++) {
        pulled++;
        yield { path: `c/${i}.jpg`, file: new Blob([bytes(100_000, i)]) };
      }
    }
    const reader = makeExportStream({ documents: docs, keptFiles: kept() }).getReader();
    let total = 0;
    while (total < 150_000) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
    }
    // About 1.5 files' worth of bytes read: the generator must not have run ahead.
    expect(pulled).toBeLessThanOrEqual(3);
    await reader.cancel();
  });

  it('works without kept files (manifest-only export)', async () => {
    const zip = await readAll(makeExportStream({ documents: docs }));
    const file = join(work, 'docs-only.zip');
    writeFileSync(file, zip);
    execFileSync(UNZIP, ['-t', file], { env });
    expect(execFileSync(UNZIP, ['-Z1', file], { env, encoding: 'utf8' }).split('\n').filter(Boolean)).toEqual([
      'manifest.json',
      'kept.txt',
      'removed.txt',
      'groups.csv',
    ]);
  });

  it('honours an AbortSignal: the stream errors and no further files are read', async () => {
    const controller = new AbortController();
    let pulled = 0;
    async function* kept(): AsyncGenerator<KeptFile> {
      for (let i = 0; i < 100; i++) {
        pulled++;
        yield { path: `c/${i}.jpg`, file: new Blob([bytes(50_000, i)]) };
      }
    }
    const reader = makeExportStream({ documents: docs, keptFiles: kept(), signal: controller.signal }).getReader();
    let total = 0;
    while (total < 120_000) total += (await reader.read()).value?.length ?? 0;
    controller.abort(new Error('user cancelled'));
    await expect(reader.read()).rejects.toThrow('user cancelled');
    const at = pulled;
    await new Promise((r) => setTimeout(r, 20));
    expect(pulled).toBe(at);
    expect(pulled).toBeLessThan(10);

    const already = new AbortController();
    already.abort();
    await expect(readAll(makeExportStream({ documents: docs, signal: already.signal }))).rejects.toThrow();
  });
});

describe('saveStream', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.restoreAllMocks();
  });

  /** Just enough DOM for the <a download> fallback. */
  function fakeDom() {
    const clicks: { href: string; download: string }[] = [];
    const blobs = new Map<string, Blob>();
    vi.stubGlobal('document', {
      createElement: () => {
        const a = { href: '', download: '', rel: '', style: {} as Record<string, string>, click: () => clicks.push({ href: a.href, download: a.download }), remove: () => {} };
        return a;
      },
      body: { append: () => {} },
    });
    vi.spyOn(URL, 'createObjectURL').mockImplementation((b) => {
      const url = `blob:fake/${blobs.size}`;
      blobs.set(url, b as Blob);
      return url;
    });
    vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => {});
    return { clicks, blobs };
  }

  it('streams into the file the user picked', async () => {
    const written: Uint8Array[] = [];
    let closed = false;
    const picker = vi.fn(async () => ({
      createWritable: async () =>
        new WritableStream<Uint8Array>({ write: (c) => void written.push(c), close: () => void (closed = true) }),
    }));
    vi.stubGlobal('showSaveFilePicker', picker);
    const outcome = await saveStream(makeExportStream({ documents: docs }), 'x.zip');
    expect(outcome).toBe('saved');
    expect(picker).toHaveBeenCalledWith(expect.objectContaining({ suggestedName: 'x.zip' }));
    expect(closed).toBe(true);
    const zip = Buffer.concat(written);
    const file = join(work, 'picked.zip');
    writeFileSync(file, zip);
    execFileSync(UNZIP, ['-t', file], { env });
  });

  it('reports a closed picker as cancelled and falls back to a download when the picker is refused', async () => {
    vi.stubGlobal('showSaveFilePicker', async () => {
      throw new DOMException('closed', 'AbortError');
    });
    expect(await saveStream(makeExportStream({ documents: docs }), 'x.zip')).toBe('cancelled');

    const dom = fakeDom();
    vi.stubGlobal('showSaveFilePicker', async () => {
      throw new DOMException('no user activation', 'SecurityError');
    });
    expect(await saveStream(makeExportStream({ documents: docs }), 'y.zip')).toBe('downloaded');
    expect(dom.clicks).toEqual([{ href: 'blob:fake/0', download: 'y.zip' }]);
    const blob = dom.blobs.get('blob:fake/0')!;
    const file = join(work, 'downloaded.zip');
    writeFileSync(file, new Uint8Array(await blob.arrayBuffer()));
    execFileSync(UNZIP, ['-t', file], { env });
  });

  it('downloads without a picker API, and rejects on abort', async () => {
    const dom = fakeDom();
    expect(await saveStream(makeExportStream({ documents: docs }), 'z.zip')).toBe('downloaded');
    expect(dom.clicks).toHaveLength(1);

    const controller = new AbortController();
    async function* endless(): AsyncGenerator<KeptFile> {
      for (let i = 0; ; i++) {
        if (i === 5) controller.abort(new Error('stop'));
        yield { path: `c/${i}.jpg`, file: new Blob([bytes(10_000, i)]) };
      }
    }
    const stream = makeExportStream({ documents: docs, keptFiles: endless(), signal: controller.signal });
    await expect(saveStream(stream, 'w.zip', { signal: controller.signal })).rejects.toThrow('stop');
    expect(dom.clicks).toHaveLength(1);
  });
});
