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

class FakeHashWorker extends EventTarget {
  static started = 0;
  static crashed = 0;
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
        batch = await Promise.all(files.map((f) => f.text()));
        return files.map(() => null);
      },
      async analyse() {
        if (batch.some((name) => name.includes('poison'))) return die();
        return new Map(batch.map((name, i): [number, FileAnalysis] => [i, { ok: false, sha256: name, cached: false, reason: 'not-an-image', detail: `stand-in for ${name}` }]));
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
