/**
 * ClusteringClient over the real worker module, run in this thread behind a MessageChannel (Node
 * has no Web Worker): comlink, transfers, progress, abort and supersession all take their real
 * paths; only "terminate" is a closed port instead of a killed thread.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { clusterClasses, semanticCut } from '../../../src/core/semantic.ts';
import { ClusteringClient } from '../../../src/workers/cluster/client.ts';
import { blobs } from '../cluster/support.ts';

type Listener = (ev: unknown) => void;
const g = globalThis as unknown as Record<string, unknown>;
const saved = { Worker: g.Worker, addEventListener: g.addEventListener, removeEventListener: g.removeEventListener, postMessage: g.postMessage };
let started = 0;
let terminated = 0;

/** Loads a fresh copy of the worker module per instance, wired to its own port. */
class FakeWorker {
  private static ready: Promise<void> = Promise.resolve();
  private readonly port: MessagePort;

  constructor(url: URL) {
    started++;
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    // expose() binds to globalThis when the module runs, so instances load one after another.
    FakeWorker.ready = FakeWorker.ready.then(async () => {
      g.addEventListener = (type: string, l: Listener) => port2.addEventListener(type, l as EventListener);
      g.removeEventListener = (type: string, l: Listener) => port2.removeEventListener(type, l as EventListener);
      g.postMessage = (message: unknown, transfer?: Transferable[]) => port2.postMessage(message, transfer ?? []);
      vi.resetModules();
      await import(/* @vite-ignore */ url.href);
    });
  }

  postMessage(message: unknown, transfer?: Transferable[]): void {
    this.port.postMessage(message, transfer ?? []);
  }
  addEventListener(type: string, l: Listener): void {
    this.port.addEventListener(type, l as EventListener);
  }
  removeEventListener(type: string, l: Listener): void {
    this.port.removeEventListener(type, l as EventListener);
  }
  start(): void {
    this.port.start();
  }
  terminate(): void {
    terminated++;
    this.port.close();
  }
}

beforeEach(() => {
  g.Worker = FakeWorker;
  started = 0;
  terminated = 0;
});

afterEach(() => {
  Object.assign(g, saved);
});

function input(seed: number, sizes: number[], d = 6) {
  return {
    dim: d,
    classes: sizes.map((n, c) => ({
      label: `c${c}`,
      ids: Array.from({ length: n }, (_, i) => 1000 * c + i),
      vectors: blobs(seed + c, n, d, 3),
    })),
  };
}

/** A deep copy: load() transfers (detaches) the vectors it is given. */
function copy(x: ReturnType<typeof input>) {
  return { dim: x.dim, classes: x.classes.map((c) => ({ ...c, ids: [...c.ids], vectors: c.vectors.slice() })) };
}

describe('ClusteringClient', () => {
  test('load transfers the vectors, reports progress; cuts match semanticCut and carry rising seq', async () => {
    const data = input(1, [40, 1, 25]);
    const model = clusterClasses(copy(data).classes, data.dim);
    const client = new ClusteringClient();
    const progress: { done: number; total: number; label: string }[] = [];
    const sent = data.classes[0].vectors;
    const { ms } = await client.load(data, { onProgress: (p) => progress.push(p) });
    expect(ms).toBeGreaterThanOrEqual(0);
    expect(sent.byteLength).toBe(0); // transferred, not copied
    expect(client.loaded).toBe(true);
    await vi.waitFor(() => expect(progress.at(-1)).toEqual({ done: 66, total: 66, label: 'c2' }));

    const a = client.cut({ keep: 0.8 });
    const b = client.cut({ threshold: 0.3 });
    const [ra, rb] = await Promise.all([a, b]);
    expect(rb.seq).toBeGreaterThan(ra.seq);
    const { ms: _ms, seq: _seq, roundTripMs, ...rest } = ra;
    expect(roundTripMs).toBeGreaterThanOrEqual(0);
    expect(rest).toEqual(semanticCut(model, { keep: 0.8 }));
    expect(rb.groups).toEqual(semanticCut(model, { threshold: 0.3 }).groups);
    expect(started).toBe(1);
    client.dispose();
    expect(terminated).toBe(1);
    await expect(client.cut({ keep: 0.5 })).rejects.toThrow(/nothing loaded/);
  });

  test('abort terminates the worker and rejects the load and the cuts queued behind it with the reason', async () => {
    const client = new ClusteringClient();
    const controller = new AbortController();
    const load = client.load(input(2, [30]), { signal: controller.signal });
    const cut = client.cut({ keep: 0.5 });
    const reason = new Error('user cancelled');
    controller.abort(reason);
    await expect(load).rejects.toBe(reason);
    await expect(cut).rejects.toBe(reason);
    expect(terminated).toBe(1);
    expect(client.loaded).toBe(false);
    await expect(client.cut({ keep: 0.5 })).rejects.toThrow(/nothing loaded/);

    // An already aborted signal starts nothing.
    await expect(client.load(input(3, [5]), { signal: controller.signal })).rejects.toBe(reason);
    expect(started).toBe(1);

    // And the client recovers with a fresh worker.
    await client.load(input(4, [12]));
    expect((await client.cut({ keep: 0.5 })).classStats[0].k).toBe(6);
    expect(started).toBe(2);
    client.dispose();
  });

  test('a newer load supersedes an older one (AbortError) and cuts see the newer model', async () => {
    const client = new ClusteringClient();
    const first = client.load(input(5, [20]));
    const second = client.load(input(6, [10, 10]));
    await expect(first).rejects.toMatchObject({ name: 'AbortError' });
    await second;
    const cut = await client.cut({ keep: 0.5 });
    expect(cut.classStats.map((c) => [c.label, c.n, c.k])).toEqual([
      ['c0', 10, 5],
      ['c1', 10, 5],
    ]);
    expect(started).toBe(2);
    client.dispose();
  });

  test('bad input rejects with the worker’s error and a later cut reports nothing loaded', async () => {
    const client = new ClusteringClient();
    const bad = input(7, [4]);
    bad.dim = 5; // vectors are 4 × 6
    await expect(client.load(bad)).rejects.toThrow(/expected 4×5/);
    expect(client.loaded).toBe(false);
    await expect(client.cut({ keep: 0.5 })).rejects.toThrow(/no model loaded/);
    client.dispose();
  });
});
