/**
 * The intake's walk over dropped entries, the input path and the sample fetch, against small fakes of
 * the browser APIs (the real drop is covered by the browser tests, which need CDP to make one).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { collectEntries, filesFromDrop, filesFromInput, type IntakeResult } from '../../../src/io/intake/collect.ts';
import { filesFromSample } from '../../../src/io/intake/sample.ts';

type Tree = { [name: string]: Tree | string };

/** Chrome's readEntries gives at most 100 entries a call, asynchronously; this fake does the same. */
const BATCH = 100;
let readCalls = 0;

function entry(name: string, node: Tree | string, fail: Set<string>, path = name): FileSystemEntry {
  if (typeof node === 'string') {
    return {
      name,
      isFile: true,
      isDirectory: false,
      file(ok: (f: File) => void, err: (e: DOMException) => void) {
        setTimeout(() => (fail.has(path) ? err(new DOMException('A requested file could not be found.', 'NotFoundError')) : ok(new File([node], name))));
      },
    } as unknown as FileSystemEntry;
  }
  return {
    name,
    isFile: false,
    isDirectory: true,
    createReader() {
      const names = Object.keys(node);
      let at = 0;
      return {
        readEntries(ok: (e: FileSystemEntry[]) => void, err: (e: DOMException) => void) {
          readCalls++;
          setTimeout(() => {
            if (fail.has(path)) return err(new DOMException('Permission denied.', 'NotReadableError'));
            const batch = names.slice(at, at + BATCH).map((n) => entry(n, node[n], fail, `${path}/${n}`));
            at += batch.length;
            ok(batch);
          });
        },
      };
    },
  } as unknown as FileSystemEntry;
}

const many = (n: number, prefix = 'img') => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${String(i).padStart(4, '0')}.jpg`, `x${i}`]));
const summary = (result: IntakeResult) => result.files.map((f) => [f.path, f.label]);

describe('collectEntries: one dropped folder is the root', () => {
  it('walks every batch of readEntries, recursively, and sorts by path', async () => {
    readCalls = 0;
    const tree: Tree = { dogs: many(250), cats: { 'b.jpg': 'b', 'a.jpg': 'a', kittens: { 'k.png': 'k' } }, 'loose.jpg': 'l' };
    const result = await collectEntries([entry('dataset', tree, new Set())]);
    const list = result.files;
    expect(list.length).toBe(254);
    expect(result.rootName).toBe('dataset');
    // root: 2 calls (3 entries, then empty); dogs: 3 full-or-partial batches + empty; cats 2; kittens 2.
    expect(readCalls).toBe(2 + 4 + 2 + 2);
    expect(summary(result).slice(0, 4)).toEqual([
      ['cats/a.jpg', 'cats'],
      ['cats/b.jpg', 'cats'],
      ['cats/kittens/k.png', 'cats'],
      ['dogs/img0000.jpg', 'dogs'],
    ]);
    expect(list.at(-1)).toMatchObject({ path: 'loose.jpg', label: '' });
    expect(list.every((f, i) => i === 0 || list[i - 1].path < f.path)).toBe(true);
    expect(await list.find((f) => f.path === 'cats/kittens/k.png')!.file.text()).toBe('k');
    expect(result.ignored).toBe(0);
    expect(result.errors).toEqual([]);
  });

  it('leaves clutter out, counting a skipped folder once, without reading it', async () => {
    readCalls = 0;
    const tree: Tree = {
      '.DS_Store': 'x',
      'Thumbs.db': 'x',
      cats: { 'a.jpg': 'a', '._a.jpg': 'x', 'desktop.ini': 'x' },
      __MACOSX: { cats: many(300) },
      '.git': { objects: many(5) },
    };
    const list = await collectEntries([entry('My Photos', tree, new Set())]);
    expect(summary(list)).toEqual([['cats/a.jpg', 'cats']]);
    expect(list.ignored).toBe(6);
    expect(list.ignoredPaths).toEqual(['.DS_Store', '.git/', 'Thumbs.db', '__MACOSX/', 'cats/._a.jpg', 'cats/desktop.ini']);
    expect(readCalls).toBe(4); // root and cats only
  });

  it('reports what cannot be read and keeps the rest', async () => {
    const tree: Tree = { cats: { 'a.jpg': 'a', 'gone.jpg': 'g' }, locked: { 'b.jpg': 'b' } };
    const list = await collectEntries([entry('root', tree, new Set(['root/cats/gone.jpg', 'root/locked']))]);
    expect(summary(list)).toEqual([['cats/a.jpg', 'cats']]);
    expect(list.errors).toEqual([
      { path: 'cats/gone.jpg', message: expect.stringContaining('NotFoundError') },
      { path: 'locked/', message: expect.stringContaining('could not be read') },
    ]);
  });

  it('reports progress while walking, and stops when aborted', async () => {
    const seen: number[] = [];
    await collectEntries([entry('root', { a: many(150) }, new Set())], [], { onProgress: (n) => seen.push(n) });
    expect(seen).toEqual([100, 150, 150]); // after each batch of 'a', then after the root's one batch
    const controller = new AbortController();
    controller.abort();
    await expect(collectEntries([entry('root', { a: many(5) }, new Set())], [], { signal: controller.signal })).rejects.toThrow();
  });
});

describe('collectEntries: other drops', () => {
  it('several folders become classes under a virtual root', async () => {
    const result = await collectEntries([entry('dogs', { 'd.jpg': 'd' }, new Set()), entry('cats', { 'c.jpg': 'c', sub: { 's.jpg': 's' } }, new Set())]);
    expect(result.rootName).toBe('');
    expect(summary(result)).toEqual([
      ['cats/c.jpg', 'cats'],
      ['cats/sub/s.jpg', 'cats'],
      ['dogs/d.jpg', 'dogs'],
    ]);
  });

  it('loose files are one flat class; beside folders they sit in the root', async () => {
    expect(summary(await collectEntries([entry('b.jpg', 'b', new Set()), entry('a.jpg', 'a', new Set())]))).toEqual([
      ['a.jpg', ''],
      ['b.jpg', ''],
    ]);
    expect(summary(await collectEntries([entry('cats', { 'c.jpg': 'c' }, new Set())], [new File(['x'], 'x.png')]))).toEqual([
      ['cats/c.jpg', 'cats'],
      ['x.png', ''],
    ]);
    expect(summary(await collectEntries([entry('one.jpg', '1', new Set())]))).toEqual([['one.jpg', '']]);
  });

  it('a dropped hidden file is clutter too', async () => {
    const list = await collectEntries([entry('.DS_Store', 'x', new Set()), entry('a.jpg', 'a', new Set())]);
    expect(summary(list)).toEqual([['a.jpg', '']]);
    expect(list.ignoredPaths).toEqual(['.DS_Store']);
  });
});

describe('filesFromDrop', () => {
  /** A DataTransfer whose items vanish after the drop handler returns, as in a browser. */
  function dataTransfer(items: object[]): { dt: DataTransfer; end: () => void } {
    let live = true;
    const dt = {
      get items() {
        return live ? items : [];
      },
      get files() {
        return [];
      },
    } as unknown as DataTransfer;
    return { dt, end: () => (live = false) };
  }
  const fileItem = (e: FileSystemEntry | null, file: File | null = null) => ({ kind: 'file', webkitGetAsEntry: () => e, getAsFile: () => file });

  it('takes every entry before the first await', async () => {
    const { dt, end } = dataTransfer([fileItem(entry('cats', { 'a.jpg': 'a' }, new Set())), fileItem(entry('dogs', { 'b.jpg': 'b' }, new Set())), { kind: 'string' }]);
    const pending = filesFromDrop(dt);
    end(); // the handler returned
    expect(summary(await pending)).toEqual([
      ['cats/a.jpg', 'cats'],
      ['dogs/b.jpg', 'dogs'],
    ]);
  });

  it('falls back to getAsFile for items without a file-system entry', async () => {
    const { dt, end } = dataTransfer([fileItem(null, new File(['x'], 'from-web.png'))]);
    const pending = filesFromDrop(dt);
    end();
    expect(summary(await pending)).toEqual([['from-web.png', '']]);
  });
});

describe('filesFromInput', () => {
  const picked = (relativePath: string) => {
    const file = new File(['x'], relativePath.split('/').pop()!);
    Object.defineProperty(file, 'webkitRelativePath', { value: relativePath });
    return file;
  };

  it('drops the chosen folder from the path and labels by the next folder', () => {
    const list = filesFromInput([picked('photos/dogs/b.jpg'), picked('photos/cats/a.jpg'), picked('photos/top.jpg'), picked('photos/.DS_Store'), picked('photos/cats/._a.jpg')]);
    expect(summary(list)).toEqual([
      ['cats/a.jpg', 'cats'],
      ['dogs/b.jpg', 'dogs'],
      ['top.jpg', ''],
    ]);
    expect(list.ignored).toBe(2);
    expect(list.rootName).toBe('photos');
  });

  it('files picked without a folder are flat', () => {
    const file = new File(['x'], 'single.jpg');
    Object.defineProperty(file, 'webkitRelativePath', { value: '' });
    expect(filesFromInput([file])).toMatchObject({ files: [{ path: 'single.jpg', label: '' }], rootName: '' });
  });
});

describe('filesFromSample', () => {
  afterEach(() => vi.unstubAllGlobals());

  const serve = (files: Record<string, string | number>) =>
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) =>
        url in files && typeof files[url] === 'string' ? new Response(files[url] as string) : new Response('missing', { status: (files[url] as number) ?? 404 }),
      ),
    );

  it('fetches each listed file as a File named by its last segment, lastModified 0', async () => {
    const index = { files: [{ path: 'dogs/b b.jpg', size: 2, sha256: 'x' }, { path: 'cats/a.jpg', size: 3, sha256: 'y' }, { path: 'flat.png', size: 1, sha256: 'z' }] };
    serve({ '/base/sample/index.json': JSON.stringify(index), '/base/sample/dogs/b%20b.jpg': 'bb', '/base/sample/cats/a.jpg': 'aaa', '/base/sample/flat.png': 'f' });
    const progress: number[] = [];
    const list = await filesFromSample('/base/sample', { onProgress: (done) => progress.push(done) });
    expect(summary(list)).toEqual([
      ['cats/a.jpg', 'cats'],
      ['dogs/b b.jpg', 'dogs'],
      ['flat.png', ''],
    ]);
    expect(list.rootName).toBe('sample');
    expect(list.files[1].file.name).toBe('b b.jpg');
    expect(list.files[1].file.lastModified).toBe(0);
    expect(await list.files[0].file.text()).toBe('aaa');
    expect(progress).toEqual([1, 2, 3]);
    expect(list.errors).toEqual([]);
  });

  it('reports a missing or mis-sized file and keeps the rest', async () => {
    const index = { files: [{ path: 'a.jpg', size: 9, sha256: 'x' }, { path: 'gone.jpg', size: 1, sha256: 'y' }] };
    serve({ '/s/index.json': JSON.stringify(index), '/s/a.jpg': 'aaa' });
    const list = await filesFromSample('/s/');
    expect(summary(list)).toEqual([['a.jpg', '']]);
    expect(list.errors).toEqual([
      { path: 'a.jpg', message: 'The sample file has 3 bytes where the index says 9.' },
      { path: 'gone.jpg', message: expect.stringContaining('HTTP 404') },
    ]);
  });

  it('throws a clear error for a missing or malformed index', async () => {
    serve({});
    await expect(filesFromSample('/s/')).rejects.toThrow(/index \(\/s\/index\.json\) could not be fetched: HTTP 404/);
    serve({ '/s/index.json': JSON.stringify({ files: [{ path: '../../etc/passwd', size: 1, sha256: 'x' }] }) });
    await expect(filesFromSample('/s/')).rejects.toThrow(/not in the expected/);
  });
});

describe('train/ + test/ layout', () => {
  const pick = (paths: string[]) => filesFromInput(paths.map((p) => Object.defineProperty(new File(['x'], p.split('/').pop()!), 'webkitRelativePath', { value: p })));

  it('labels by the class folder under train/ and test/, and says which side each file is on', () => {
    const r = pick(['cifar/train/cat/1.jpg', 'cifar/train/dog/2.jpg', 'cifar/test/cat/3.jpg', 'cifar/test/dog/4.jpg']);
    expect(r.files.map((f) => [f.path, f.label, f.split])).toEqual([
      ['test/cat/3.jpg', 'cat', 'test'],
      ['test/dog/4.jpg', 'dog', 'test'],
      ['train/cat/1.jpg', 'cat', 'train'],
      ['train/dog/2.jpg', 'dog', 'train'],
    ]);
  });

  it('leaves an ordinary class-folder layout alone, even with a class named train', () => {
    const r = pick(['pets/train/1.jpg', 'pets/dog/2.jpg']);
    expect(r.files.map((f) => [f.label, f.split])).toEqual([
      ['dog', undefined],
      ['train', undefined],
    ]);
  });
});
