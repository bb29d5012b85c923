/**
 * analyseAll over a real WorkerPool and comlink, with workers that are MessageChannels in this
 * thread (Node has no Web Worker). The worker side is a stand-in for the hash worker that "dies"
 * (fires `error`, never answers) on a poison file, the way an out-of-memory decode kills a real one:
 * the only boundary mocked is the thread itself.
 */
import { expose } from 'comlink';
import { describe, expect, it } from 'vitest';
import type { IntakeFile } from '../../../src/io/intake/collect.ts';
import { analyseAll, type AnalysedFile, type StageProgress } from '../../../src/workers/analysis-run.ts';
import type { FileAnalysis } from '../../../src/workers/hash/analyse.ts';
import type { HashWorkerApi } from '../../../src/workers/hash/hash.worker.ts';
import { WorkerPool } from '../../../src/workers/pool.ts';
import { FeatureStore } from '../../../src/store/feature-store.ts';
import { FEATURE_VERSION } from '../../../src/store/schema.ts';

class FakeHashWorker extends EventTarget {
  static started = 0;
  static crashed = 0;
  /** Files read so far (what a stamp hit saves). */
  static read = 0;
  /** Where the stand-in stores its results, as the real worker does; none by default. */
  static store: FeatureStore | null = null;
  private readonly port: MessagePort;
  constructor() {
    super();
    FakeHashWorker.started++;
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    port1.addEventListener('message', (e) => this.dispatchEvent(Object.assign(new Event('message'), { data: (e as MessageEvent).data })));
    port1.start();
    // Node's structured clone keeps a File's bytes but not its name, so each file holds its name.
    let batch: string[] = [];
    const die = (): Promise<never> => {
      FakeHashWorker.crashed++;
      this.dispatchEvent(new Event('error'));
      return new Promise<never>(() => {}); // a dead worker never answers
    };
    const api: Pick<HashWorkerApi, 'read' | 'analyse'> = {
      async read(files: File[]) {
        FakeHashWorker.read += files.length;
        batch = await Promise.all(files.map((f) => f.text()));
        return files.map(() => null);
      },
      async analyse() {
        if (batch.some((name) => name.includes('poison'))) return die();
        const out = new Map(batch.map((name, i): [number, FileAnalysis] => [i, { ok: false, sha256: name, cached: false, reason: 'not-an-image', detail: `stand-in for ${name}` }]));
        for (const a of out.values()) if (!a.ok) await FakeHashWorker.store?.putFailure({ sha256: a.sha256!, reason: a.reason, detail: a.detail, featureVersion: FEATURE_VERSION });
        return out;
      },
    };
    expose(api, port2);
  }
  postMessage(message: unknown, transfer?: Transferable[]): void {
    this.port.postMessage(message, transfer ?? []);
  }
  terminate(): void {
    this.port.close();
  }
}

const file = (name: string): IntakeFile => ({ file: new File([name], name), path: name, label: '' });

async function run(names: string[], signal = new AbortController().signal) {
  FakeHashWorker.started = 0;
  FakeHashWorker.crashed = 0;
  const pool = new WorkerPool<HashWorkerApi>(() => new FakeHashWorker() as unknown as Worker, 2);
  const results: AnalysedFile[] = [];
  let last: [StageProgress, StageProgress] | null = null;
  await analyseAll(names.map(file), pool, { signal, onResult: (r) => results.push(r), onProgress: (a, b) => (last = [a, b]) });
  pool.terminateAll();
  return { results, last: last! };
}

describe('analyseAll when a worker dies', () => {
  it('retries the dead batch file by file, marks only the file that kills a worker twice, and finishes every other file once', async () => {
    const names = Array.from({ length: 40 }, (_, i) => (i === 17 ? 'poison.jpg' : `f${i}.jpg`));
    const { results, last } = await run(names);
    expect(results).toHaveLength(40);
    expect(new Set(results.map((r) => r.id)).size).toBe(40);
    const poison = results.find((r) => r.input.path === 'poison.jpg')!.analysis;
    expect(poison).toMatchObject({ ok: false, reason: 'analysis-failed' });
    expect(!poison.ok && poison.detail).toMatch(/worker stopped/);
    for (const r of results) if (r.input.path !== 'poison.jpg') expect(r.analysis).toMatchObject({ reason: 'not-an-image', sha256: r.input.path });
    // Once in its batch of 16, once alone: retried once, then marked.
    expect(FakeHashWorker.crashed).toBe(2);
    expect(last[0]).toMatchObject({ done: 40, total: 40 });
    expect(last[1]).toMatchObject({ done: 40, total: 40 });
  });

  it('a cancel rejects at once and reports nothing further', async () => {
    const controller = new AbortController();
    const names = Array.from({ length: 64 }, (_, i) => (i === 3 ? 'poison.jpg' : `f${i}.jpg`));
    const pending = run(names, controller.signal);
    controller.abort(new DOMException('Cancelled', 'AbortError'));
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('analyseAll with file stamps', () => {
  /** A file whose content is its name plus `extra`, with the given lastModified. */
  const stamped = (name: string, lastModified: number, extra = ''): IntakeFile => ({ file: new File([name + extra], name, { lastModified }), path: name, label: '' });

  async function runWith(store: FeatureStore, files: IntakeFile[]) {
    FakeHashWorker.started = 0;
    FakeHashWorker.read = 0;
    FakeHashWorker.store = store;
    const pool = new WorkerPool<HashWorkerApi>(() => new FakeHashWorker() as unknown as Worker, 2);
    const results: AnalysedFile[] = [];
    let last: [StageProgress, StageProgress] | null = null;
    try {
      await analyseAll(files, pool, { signal: new AbortController().signal, store, onResult: (r) => results.push(r), onProgress: (a, b) => (last = [a, b]) });
    } finally {
      pool.terminateAll();
      FakeHashWorker.store = null;
    }
    const byPath = new Map(results.map((r) => [r.input.path, r.analysis]));
    return { byPath, last: last!, read: FakeHashWorker.read, started: FakeHashWorker.started };
  }

  it('a re-run over unchanged files reads none and starts no worker, with the same results and SHA-256s', async () => {
    const store = FeatureStore.inMemory();
    const files = Array.from({ length: 40 }, (_, i) => stamped(`f${i}.jpg`, 1_700_000_000_000 + i));
    const first = await runWith(store, files);
    expect(first.read).toBe(40);
    const again = await runWith(store, files);
    expect(again).toMatchObject({ read: 0, started: 0 });
    expect(again.last[0]).toMatchObject({ done: 40, total: 40, cached: 40 });
    expect(again.last[1]).toMatchObject({ done: 40, total: 40, cached: 40 });
    for (const [path, a] of again.byPath) expect(a).toEqual({ ...first.byPath.get(path), cached: true });
  });

  it('reads a file again when its size, lastModified or path changed, and always when lastModified is 0', async () => {
    const store = FeatureStore.inMemory();
    const t = 1_700_000_000_000;
    await runWith(store, [stamped('a.jpg', t), stamped('b.jpg', t), stamped('c.jpg', t), stamped('zero.jpg', 0)]);
    const again = await runWith(store, [
      stamped('a.jpg', t, '+longer'), // size changed
      stamped('b.jpg', t + 1), // rewritten a millisecond later, same size
      { ...stamped('c.jpg', t), path: 'moved/c.jpg' }, // same file under another path
      stamped('zero.jpg', 0), // no trusted date: never taken from a stamp
    ]);
    expect(again.read).toBe(4);
    expect(again.byPath.get('a.jpg')).toMatchObject({ sha256: 'a.jpg+longer', cached: false });
    // The content key still finds what was stored: only the reading is not saved.
    expect(again.byPath.get('moved/c.jpg')).toMatchObject({ sha256: 'c.jpg', cached: false });
  });

  it('the one case it cannot see: content rewritten with the same size and lastModified keeps the old answer', async () => {
    // Documented in docs/RELIABILITY.md; pinned here so the trade-off cannot widen unnoticed.
    const store = FeatureStore.inMemory();
    const t = 1_700_000_000_000;
    await runWith(store, [stamped('a.jpg', t, 'xx')]);
    const again = await runWith(store, [stamped('a.jpg', t, 'yy')]);
    expect(again.read).toBe(0);
    expect(again.byPath.get('a.jpg')).toMatchObject({ sha256: 'a.jpgxx', cached: true });
  });

  it('reads a file again when the result its stamp points to is gone (cleared store)', async () => {
    const store = FeatureStore.inMemory();
    const files = [stamped('a.jpg', 1_700_000_000_000)];
    await runWith(store, files);
    await store.clear();
    expect((await runWith(store, files)).read).toBe(1);
    expect((await runWith(store, files)).read).toBe(0);
  });

  it('does not record a file that failed without a SHA-256', async () => {
    const store = FeatureStore.inMemory();
    const files = [stamped('poison.jpg', 1_700_000_000_000)];
    const first = await runWith(store, files);
    expect(first.byPath.get('poison.jpg')).toMatchObject({ reason: 'analysis-failed', sha256: null });
    expect(await store.lookupFiles([{ path: 'poison.jpg', size: files[0].file.size, lastModified: 1_700_000_000_000 }])).toEqual([undefined]);
  });
});
