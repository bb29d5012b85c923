/**
 * EmbeddingClient's sharing of a run between workers, over real comlink, with workers that are
 * MessageChannels in this thread (Node has no Web Worker). The stand-in embeds a content as a
 * vector computed from its bytes, keeps a store the way the real worker keeps IndexedDB, and
 * "dies" (fires `error`, never answers) on a poison file, the way an out-of-memory decode kills a
 * real one: the only boundary mocked is the thread itself (and the model, which tests/e2e run).
 */
import { expose } from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddingClient, type EmbedProgress } from '../../../src/workers/embed/client.ts';
import type { EmbedWorkerApi } from '../../../src/workers/embed/embed.worker.ts';

const DIM = 4;
const vectorOf = (text: string) => Float32Array.from({ length: DIM }, (_, j) => text.charCodeAt(j % text.length) + j / 8 + text.length);

class FakeEmbedWorker extends EventTarget {
  static backend = 'wasm';
  static store = new Map<string, Float32Array>();
  static embedded: string[] = [];
  static started = 0;
  static crashed = 0;
  static alive = new Set<FakeEmbedWorker>();
  /** Contents asked for per lookup call. */
  static lookups: number[] = [];
  private readonly port: MessagePort;

  constructor() {
    super();
    FakeEmbedWorker.started++;
    FakeEmbedWorker.alive.add(this);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    port1.addEventListener('message', (e) => this.dispatchEvent(Object.assign(new Event('message'), { data: (e as MessageEvent).data })));
    port1.start();
    const die = (): Promise<never> => {
      FakeEmbedWorker.crashed++;
      this.dispatchEvent(new Event('error'));
      return new Promise<never>(() => {});
    };
    const info = () => ({ modelId: 'm', version: '1', modelKey: 'm@1', name: 'stand-in', source: '', licence: '', dim: DIM, backend: FakeEmbedWorker.backend, loadMs: 0 });
    const api: Pick<EmbedWorkerApi, 'init' | 'lookup' | 'embedAndStore'> = {
      async init() {
        return info();
      },
      async lookup(sha256s) {
        FakeEmbedWorker.lookups.push(sha256s.length);
        const found = sha256s.filter((s) => FakeEmbedWorker.store.has(s));
        const vectors = new Float32Array(found.length * DIM);
        found.forEach((s, k) => vectors.set(FakeEmbedWorker.store.get(s)!, k * DIM));
        return { found, vectors };
      },
      async embedAndStore(items, _modelKey, onBatch) {
        const vectors = new Float32Array(items.length * DIM);
        const failed: number[] = [];
        for (let start = 0; start < items.length; start += 8) {
          await new Promise((r) => setTimeout(r, 1));
          const batch = items.slice(start, start + 8);
          const texts = await Promise.all(batch.map((item) => item.file.text()));
          if (texts.some((t) => t.startsWith('poison'))) return die();
          texts.forEach((text, k) => {
            if (text.startsWith('bad')) {
              failed.push(start + k);
              return;
            }
            FakeEmbedWorker.embedded.push(batch[k].sha256);
            vectors.set(vectorOf(text), (start + k) * DIM);
            FakeEmbedWorker.store.set(batch[k].sha256, vectorOf(text));
          });
          onBatch?.(batch.length);
        }
        return { vectors, failed };
      },
    };
    expose(api, port2);
  }

  postMessage(message: unknown, transfer?: Transferable[]): void {
    this.port.postMessage(message, transfer ?? []);
  }

  terminate(): void {
    FakeEmbedWorker.alive.delete(this);
    this.port.close();
  }
}

afterEach(() => {
  FakeEmbedWorker.backend = 'wasm';
  FakeEmbedWorker.store = new Map();
  FakeEmbedWorker.embedded = [];
  FakeEmbedWorker.started = 0;
  FakeEmbedWorker.crashed = 0;
  FakeEmbedWorker.alive.clear();
  FakeEmbedWorker.lookups = [];
});

const client = (cores: number) => new EmbeddingClient({ createWorker: () => new FakeEmbedWorker() as unknown as Worker, cores });

/** n files; file i has content `c${i % distinct}` unless named otherwise, so contents repeat. */
function files(n: number, distinct: number, special: Record<number, string> = {}) {
  return Array.from({ length: n }, (_, i) => {
    const text = special[i] ?? `c${i % distinct}`;
    return { sha256: `sha-${text}`, file: new Blob([text]), text };
  });
}

async function embed(c: EmbeddingClient, list: ReturnType<typeof files>, extra: { maxWorkers?: number; signal?: AbortSignal } = {}) {
  const seen: EmbedProgress[] = [];
  const result = await c.embedAll(list, { modelId: 'm', onProgress: (p) => seen.push(p), ...extra });
  return { result, seen };
}

describe('EmbeddingClient', () => {
  it('shares a wasm run between one worker per core, embeds each new content once, and fills every row', async () => {
    const list = files(400, 300, { 7: 'bad-7', 250: 'bad-250' });
    // Some contents are in the store already.
    for (let i = 0; i < 40; i++) FakeEmbedWorker.store.set(`sha-c${i}`, vectorOf(`c${i}`));
    const c = client(4);
    const { result, seen } = await embed(c, list);
    expect(result.workers).toBe(4);
    expect(FakeEmbedWorker.started).toBe(4);
    const cachedRows = list.filter((f) => /^c\d+$/.test(f.text) && Number(f.text.slice(1)) < 40).length;
    expect(result.cached).toBe(cachedRows);
    expect(result.failed).toEqual([7, 250]);
    list.forEach((f, i) => {
      const row = result.vectors.subarray(i * DIM, (i + 1) * DIM);
      if (f.text.startsWith('bad')) expect([...row]).toEqual([0, 0, 0, 0]);
      else expect([...row], f.text).toEqual([...vectorOf(f.text)]);
    });
    // Every new content exactly once, across all the workers.
    const fresh = new Set(list.filter((f) => !f.text.startsWith('bad')).map((f) => f.sha256).filter((s) => Number(s.slice(5)) >= 40));
    expect(FakeEmbedWorker.embedded.length).toBe(fresh.size);
    expect(new Set(FakeEmbedWorker.embedded)).toEqual(fresh);
    // Progress only grows, ends at the total, and counted the helpers.
    for (let k = 1; k < seen.length; k++) expect(seen[k].done).toBeGreaterThanOrEqual(seen[k - 1].done);
    expect(seen.at(-1)).toMatchObject({ done: 400, total: 400, cached: cachedRows, workers: 4 });
    // The helpers end with the call; the first worker stays for the next one.
    expect(FakeEmbedWorker.alive.size).toBe(1);
    const again = await embed(c, list);
    expect(again.result.cached).toBe(400 - 2);
    expect(FakeEmbedWorker.started).toBe(4);
    c.dispose();
    expect(FakeEmbedWorker.alive.size).toBe(0);
  });

  it('asks the store in slices, so stored vectors never arrive all at once, and fills every row from them', async () => {
    const list = files(5000, 5000);
    for (let i = 0; i < 5000; i += 2) FakeEmbedWorker.store.set(`sha-c${i}`, vectorOf(`c${i}`));
    const { result, seen } = await embed(client(2), list);
    expect(FakeEmbedWorker.lookups.reduce((a, b) => a + b, 0)).toBe(5000);
    expect(FakeEmbedWorker.lookups.length).toBeGreaterThan(1);
    expect(Math.max(...FakeEmbedWorker.lookups)).toBeLessThanOrEqual(2048);
    expect(result.cached).toBe(2500);
    expect(FakeEmbedWorker.embedded.length).toBe(2500);
    list.forEach((f, i) => expect([...result.vectors.subarray(i * DIM, (i + 1) * DIM)]).toEqual([...vectorOf(f.text)]));
    expect(seen.at(-1)).toMatchObject({ done: 5000, cached: 2500 });
  });

  it('an empty list reports once and embeds nothing', async () => {
    const { result, seen } = await embed(client(2), []);
    expect(result.vectors.length).toBe(0);
    expect(seen).toEqual([{ done: 0, total: 0, cached: 0, workers: 1 }]);
  });

  it('keeps one worker on a GPU backend, when capped, and when there is too little to share', async () => {
    FakeEmbedWorker.backend = 'webgpu';
    expect((await embed(client(8), files(500, 500))).result.workers).toBe(1);
    FakeEmbedWorker.backend = 'wasm';
    FakeEmbedWorker.store = new Map();
    expect((await embed(client(8), files(500, 500), { maxWorkers: 1 })).result.workers).toBe(1);
    FakeEmbedWorker.store = new Map();
    expect((await embed(client(8), files(60, 60))).result.workers).toBe(1);
  });

  it('survives a file that kills every worker it meets: retried alone, then reported as failed; the rest embedded once', async () => {
    const list = files(300, 300, { 100: 'poison-100' });
    const c = client(2);
    const { result, seen } = await embed(c, list);
    expect(result.failed).toEqual([100]);
    // Once in its chunk, once alone.
    expect(FakeEmbedWorker.crashed).toBe(2);
    list.forEach((f, i) => {
      if (i !== 100) expect([...result.vectors.subarray(i * DIM, (i + 1) * DIM)]).toEqual([...vectorOf(f.text)]);
    });
    expect(new Set(FakeEmbedWorker.embedded).size).toBe(299);
    for (const p of seen) expect(p.done).toBeLessThanOrEqual(p.total);
    expect(seen.at(-1)).toMatchObject({ done: 300, total: 300 });
    // Whichever worker is left carries the model into the next call.
    const again = await embed(c, list);
    expect(again.result.cached).toBe(299);
    c.dispose();
  });

  it('when the only worker dies, a fresh one takes over', async () => {
    const list = files(40, 40, { 3: 'poison-3' });
    const { result } = await embed(client(1), list);
    expect(result.failed).toEqual([3]);
    expect(FakeEmbedWorker.crashed).toBe(2);
    expect(FakeEmbedWorker.started).toBe(3);
    expect(new Set(FakeEmbedWorker.embedded).size).toBe(39);
  });

  it('an abort rejects with its reason and stops every worker', async () => {
    const controller = new AbortController();
    const c = client(4);
    const running = c.embedAll(files(2000, 2000), {
      modelId: 'm',
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done >= 200) controller.abort(new Error('stop'));
      },
    });
    await expect(running).rejects.toThrow('stop');
    expect(FakeEmbedWorker.alive.size).toBe(0);
    expect(FakeEmbedWorker.store.size).toBeLessThan(2000);
  });
});
