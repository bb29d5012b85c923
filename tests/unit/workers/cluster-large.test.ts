/**
 * Semantic mode on classes too large for the full merge tree: the clustering worker's load gives
 * such classes a forest from threshold edges (core/cluster/components.ts) and its cuts grow the
 * forest when they need more merges. LARGE_CLASS_FROM is lowered through `large.from` so that
 * classes of a few hundred items take that path, and every cut — keep fractions above and below
 * what the load covered, per-class overrides, distance cuts above the forest's t — must equal
 * semanticCut over the full path (clusterClasses) on the same data: groups, keepers, distances,
 * classStats, histograms. The worker module runs in this thread behind a MessageChannel, as in
 * tests/unit/semantic/cluster-client.test.ts, on tfjs's cpu backend (IEEE float32 products).
 */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { clusterClasses, semanticCut, type SemanticCutOptions } from '../../../src/core/semantic.ts';
import { ClusteringClient, type ClientCutResult, type ClusterLoadInput } from '../../../src/workers/cluster/client.ts';
import { blobs, gaussian, rng } from '../cluster/support.ts';

type Listener = (ev: unknown) => void;
const g = globalThis as unknown as Record<string, unknown>;
const saved = { Worker: g.Worker, addEventListener: g.addEventListener, removeEventListener: g.removeEventListener, postMessage: g.postMessage };

/** Loads a fresh copy of the worker module per instance, wired to its own port. */
class FakeWorker {
  private static ready: Promise<void> = Promise.resolve();
  private readonly port: MessagePort;

  constructor(url: URL) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
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
    this.port.close();
  }
}

beforeEach(() => {
  g.Worker = FakeWorker;
});

afterEach(() => {
  Object.assign(g, saved);
});

/**
 * Embedding-like rows: blobs, with a share of near-duplicates (an earlier row plus 1e-3 noise)
 * and, when `copies` > 0, exact copies of earlier rows, scattered over the indices as photo
 * folders have them.
 */
function embeddingLike(seed: number, n: number, d: number, copies: number): Float32Array {
  const X = blobs(seed, n, d, Math.max(2, Math.floor(n / 40)));
  const noise = gaussian(seed + 7, n * d);
  const r = rng(seed + 3);
  for (let i = 1; i < n; i++) {
    const u = r();
    if (u > 0.3 + copies) continue;
    const src = Math.floor(r() * i) * d;
    for (let q = 0; q < d; q++) X[i * d + q] = X[src + q] + (u < copies ? 0 : 1e-3 * noise[i * d + q]);
  }
  return X;
}

function classes(seed: number, sizes: number[], d: number, copies = 0) {
  return sizes.map((n, c) => ({
    label: `c${c}`,
    ids: Array.from({ length: n }, (_, i) => 10_000 * c + i),
    vectors: embeddingLike(seed + 31 * c, n, d, copies),
  }));
}

/** A deep copy: load() transfers (detaches) the vectors it is given. */
function copy(cs: ReturnType<typeof classes>) {
  return cs.map((c) => ({ ...c, ids: [...c.ids], vectors: c.vectors.slice() }));
}

/** The cut without what only the worker adds (timings, sequence, the forests' state). */
function partition(cut: ClientCutResult) {
  const { ms: _ms, seq: _seq, roundTripMs: _rt, forests: _f, ...rest } = cut;
  return rest;
}

const D = 24;

describe('large classes in the clustering worker (forest path)', () => {
  test('keep cuts, overrides and distance cuts equal the full path, growing the forest as they need', async () => {
    const data = classes(11, [420, 70, 1, 360], D);
    const full = clusterClasses(copy(data), D);
    const client = new ClusteringClient();
    const loadProgress: { done: number; total: number; label: string }[] = [];
    // Few edges per item: the load covers only the shallow cuts, so deeper ones must search again.
    const input: ClusterLoadInput = { dim: D, classes: copy(data), backend: 'cpu', large: { from: 200, edgesPerItem: 1.5 } };
    const loaded = await client.load(input, { onProgress: (p) => loadProgress.push(p) });
    expect(Object.keys(loaded.forests ?? {}).sort()).toEqual(['c0', 'c3']);
    expect(loaded.exactFromK).toEqual({ c0: 1, c1: 1, c2: 1, c3: 1 });
    expect(loaded.forests!.c0.searches).toBe(1);
    expect(loaded.forests!.c0.edges).toBeLessThanOrEqual(Math.ceil(1.5 * 420));
    // The bar moves inside the large classes (edge search), not only between classes.
    const total = 420 + 70 + 1 + 360;
    await vi.waitFor(() => expect(loadProgress.at(-1)).toEqual({ done: total, total, label: 'c3' }));
    const insideC0 = loadProgress.filter((p) => p.label === 'c0' && p.done > 71 && p.done < 71 + 420);
    expect(insideC0.length).toBeGreaterThan(0);
    for (let i = 1; i < loadProgress.length; i++) expect(loadProgress[i].done).toBeGreaterThanOrEqual(loadProgress[i - 1].done);
    const coveredOnLoad = loaded.forests!.c0.merges;

    const cuts: SemanticCutOptions[] = [
      { keep: 0.95 },
      { keep: 0.9 },
      { keep: 0.9, keepByClass: { c0: 0.6, c1: 0.5 } },
      { keep: 0.7 },
      { keep: 0.5 },
      { keep: 0.8, keepByClass: { c3: 0.25 } },
      { keep: 0.3 },
      { keep: 0.05, keepByClass: { c1: 1 } },
      { keep: 1 },
      { threshold: 0 },
      { threshold: 0.05 },
      { threshold: 0.2 },
      { threshold: 0.6 },
      { keep: 0.9 },
    ];
    let deepened = false;
    for (const options of cuts) {
      const progress: { done: number; total: number }[] = [];
      const cut = await client.cut(options, { onProgress: (p) => progress.push(p) });
      expect(partition(cut), JSON.stringify(options)).toEqual(semanticCut(full, options));
      expect(Object.keys(cut.forests ?? {}).sort()).toEqual(['c0', 'c3']);
      if (cut.forests!.c0.merges > coveredOnLoad) deepened = true;
      // Progress only when a forest had to grow, and then it ends at its total.
      if (progress.length > 0) await vi.waitFor(() => expect(progress.at(-1)!.done).toBe(progress.at(-1)!.total));
    }
    expect(deepened).toBe(true);
    const last = await client.cut({ keep: 0.5 });
    // Deep keep cuts and the 0.6 distance cut needed more pairs than the load's search kept.
    expect(last.forests!.c0.searches).toBeGreaterThan(1);
    expect(last.forests!.c0.tiedAtCut).toBe(false);
    client.dispose();
  });

  test.each([1, 2, 3])('random embedding-like classes (seed %i): every keep and override cut equals the full path', async (seed) => {
    const r = rng(100 + seed);
    const sizes = [150 + Math.floor(r() * 250), 20 + Math.floor(r() * 60), 150 + Math.floor(r() * 200)];
    const d = 8 + Math.floor(r() * 40);
    const data = classes(1000 * seed, sizes, d);
    const full = clusterClasses(copy(data), d);
    const client = new ClusteringClient();
    await client.load({ dim: d, classes: copy(data), backend: 'cpu', large: { from: 100, edgesPerItem: 2 + 6 * r() } });
    for (const keep of [0.97, 0.9, 0.75, 0.5, 0.35, 0.2]) {
      const byClass = { c0: Math.round(100 * r()) / 100, c2: Math.max(0.05, Math.round(100 * r()) / 100) };
      for (const options of [{ keep }, { keep, keepByClass: byClass }] as SemanticCutOptions[]) {
        expect(partition(await client.cut(options)), JSON.stringify(options)).toEqual(semanticCut(full, options));
      }
    }
    for (const threshold of [0.01, 0.1, 0.3]) {
      expect(partition(await client.cut({ threshold }))).toEqual(semanticCut(full, { threshold }));
    }
    client.dispose();
  });

  test('a cut the forest cannot reach within its limits fails with a message, and the next cut still works', async () => {
    const data = classes(5, [300], D);
    const full = clusterClasses(copy(data), D);
    const client = new ClusteringClient();
    // Components of at most 20 items: the shallow cuts fit, deep ones need a larger component.
    await client.load({ dim: D, classes: copy(data), backend: 'cpu', large: { from: 100, maxComponent: 20 } });
    await expect(client.cut({ keep: 0.05 })).rejects.toThrow(/cannot be cut to keep 0.05 without its full merge tree.*Choose a higher keep/);
    await expect(client.cut({ threshold: 0.9 })).rejects.toThrow(/cannot be cut at distance 0.9|pairs within cosine distance 0.9/);
    expect(partition(await client.cut({ keep: 0.97 }))).toEqual(semanticCut(full, { keep: 0.97 }));
    client.dispose();

    // An edge budget too small for the cut: the message names the budget.
    const capped = new ClusteringClient();
    await capped.load({ dim: D, classes: copy(data), backend: 'cpu', large: { from: 100, edgesPerItem: 2, maxEdges: 2400 } });
    await expect(capped.cut({ keep: 0.05 })).rejects.toThrow(/its 2,400 closest pairs .* do not hold the 285 merges/);
    expect(partition(await capped.cut({ keep: 0.9 }))).toEqual(semanticCut(full, { keep: 0.9 }));
    capped.dispose();
  });

  test('exact copies: cuts outside a run of tied heights equal the full path; a cut inside one is flagged', async () => {
    // Distinct groups of identical rows all merge at height 0, in an order that is the full run's
    // own business (components.ts): a keep cut inside that run is reported, not promised.
    const data = classes(21, [320, 260], D, 0.08);
    const full = clusterClasses(copy(data), D);
    const client = new ClusteringClient();
    await client.load({ dim: D, classes: copy(data), backend: 'cpu', large: { from: 100, edgesPerItem: 3 } });
    let tied = 0;
    let untied = 0;
    for (const keep of [0.99, 0.97, 0.95, 0.93, 0.9, 0.8, 0.6, 0.4]) {
      const cut = await client.cut({ keep });
      const expected = semanticCut(full, { keep });
      if (Object.values(cut.forests!).some((f) => f.tiedAtCut)) {
        tied++;
        expect(cut.classStats.map((c) => [c.label, c.n, c.k])).toEqual(expected.classStats.map((c) => [c.label, c.n, c.k]));
      } else {
        untied++;
        expect(partition(cut), `keep ${keep}`).toEqual(expected);
      }
    }
    expect(tied).toBeGreaterThan(0);
    expect(untied).toBeGreaterThan(0);
    // A distance cut takes every merge up to it, ties and all.
    for (const threshold of [0, 0.001, 0.1, 0.4]) expect(partition(await client.cut({ threshold }))).toEqual(semanticCut(full, { threshold }));
    client.dispose();
  });
});
