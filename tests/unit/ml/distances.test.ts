/**
 * The tfjs distances (src/ml/distances.ts) against the float64 ones of core/cluster/cosine.ts, and
 * the clusterings built on them against scipy's on the reference sets. Runs on the wasm backend,
 * whose arithmetic is deterministic (WebAssembly SIMD has no fused or relaxed operations), so
 * what passes here gives the same numbers in Chromium's wasm backend.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { cosineDistances } from '../../../src/core/cluster/cosine.ts';
import {
  ClusterCancelledError,
  canonicalLabels,
  clusterClass,
  completeLinkage,
  cutToK,
  keepCount,
  mergesAtOrBelow,
} from '../../../src/core/cluster/index.ts';
import { clusterClasses, clusterClassesWith, semanticCut } from '../../../src/core/semantic.ts';
import { chooseBackend } from '../../../src/ml/backend.ts';
import { ClusteringClient } from '../../../src/workers/cluster/client.ts';
import {
  clusterClassesTf,
  cosineDistancesTf,
  defaultBlockRows,
  float32ErrorBound,
  type RefinedRange,
} from '../../../src/ml/distances.ts';
import { blobs, gaussian, loadRefSet, refSetNames, rng } from '../cluster/support.ts';
import { WASM_DIR } from './helpers.ts';

beforeAll(async () => {
  expect(await chooseBackend('wasm', { wasmPaths: WASM_DIR })).toBe('wasm');
});

/**
 * Float32 products of float32-rounded unit vectors: measured max differences 4e-7 at d = 64 and
 * 1.4e-6 at d = 1280 on the reference sets (the error of a float32 sum grows with its length).
 */
const tolerance = (d: number) => (d <= 64 ? 1e-6 : 2e-6);

function maxDifference(a: Float64Array, b: Float64Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let p = 0; p < a.length; p++) max = Math.max(max, Math.abs(a[p] - b[p]));
  return max;
}

describe('cosineDistancesTf', () => {
  test.each(refSetNames())('%s: within float32 tolerance of the float64 distances, no tensor left', async (name) => {
    const { X, n, dim: d } = loadRefSet(name);
    const before = tf.memory().numTensors;
    const fast = await cosineDistancesTf(X, n, d, { refinePairs: 0 });
    expect(tf.memory().numTensors).toBe(before);
    const err = maxDifference(fast, cosineDistances(X, n, d));
    console.log(`tfjs distances ${name}: max |float32 − float64| = ${err.toExponential(2)}`);
    expect(err).toBeLessThan(tolerance(d));
  });

  test('any block size gives the same matrix; progress rises to (total, total)', async () => {
    const n = 37;
    const d = 19;
    const X = blobs(3, n, d, 4);
    const exact = cosineDistances(X, n, d);
    const whole = await cosineDistancesTf(X, n, d, { refinePairs: 0 });
    for (const blockRows of [1, 5, 36, 37, 100]) {
      const seen: [number, number][] = [];
      const D = await cosineDistancesTf(X, n, d, { blockRows, refinePairs: 0, onProgress: (done, total) => seen.push([done, total]) });
      expect(maxDifference(D, exact)).toBeLessThan(1e-6);
      // One float32 product per pair whatever the blocking: the same value.
      expect(Array.from(D)).toEqual(Array.from(whole));
      const total = (n * (n - 1)) / 2;
      expect(seen.at(-1)).toEqual([total, total]);
      for (let i = 1; i < seen.length; i++) expect(seen[i][0]).toBeGreaterThanOrEqual(seen[i - 1][0]);
    }
  });

  test('edge cases follow cosine.ts: n < 2, d = 0, zero rows, duplicates, tiny and huge scales', async () => {
    expect((await cosineDistancesTf(new Float32Array(0), 0, 4)).length).toBe(0);
    expect((await cosineDistancesTf(new Float32Array(4), 1, 4)).length).toBe(0);
    expect(Array.from(await cosineDistancesTf(new Float32Array(0), 3, 0))).toEqual([1, 1, 1]);

    const X = Float32Array.from([1, 2, 3, 0, 0, 0, 1, 2, 3, 1e-30, 2e-30, 3e-30, -1e30, -2e30, -3e30]);
    const D = await cosineDistancesTf(X, 5, 3, { refinePairs: 0 });
    const exact = cosineDistances(X, 5, 3);
    expect(maxDifference(D, exact)).toBeLessThan(1e-6);
    expect(D[0]).toBe(1); // (0, 1): a zero row is at distance 1 from everything
    expect(D[1]).toBeLessThan(1e-6); // (0, 2): duplicates
    expect(D[3]).toBeCloseTo(2, 6); // (0, 4): opposite directions, clipped to [0, 2]
    for (const v of D) expect(v >= 0 && v <= 2).toBe(true);
  });

  test('rejects non-finite input before allocating any tensor', async () => {
    const before = tf.memory().numTensors;
    await expect(cosineDistancesTf(Float32Array.from([1, NaN, 0, 1]), 2, 2)).rejects.toThrow(/non-finite/);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('cancelling between blocks throws ClusterCancelledError and leaves no tensor', async () => {
    const n = 300;
    const d = 16;
    const X = blobs(4, n, d, 5);
    const before = tf.memory().numTensors;
    let polls = 0;
    await expect(cosineDistancesTf(X, n, d, { blockRows: 32, shouldStop: () => ++polls > 3 })).rejects.toBeInstanceOf(ClusterCancelledError);
    expect(polls).toBe(4);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('the same distances on the cpu backend', async () => {
    const n = 60;
    const d = 32;
    const X = blobs(5, n, d, 4);
    const exact = cosineDistances(X, n, d);
    try {
      expect(await chooseBackend('cpu')).toBe('cpu');
      expect(maxDifference(await cosineDistancesTf(X, n, d, { refinePairs: 0 }), exact)).toBeLessThan(1e-6);
    } finally {
      expect(await chooseBackend('wasm', { wasmPaths: WASM_DIR })).toBe('wasm');
    }
  });

  test('default blocks: one product for small n, 512 rows at a time beyond', () => {
    expect(defaultBlockRows(1)).toBe(1);
    expect(defaultBlockRows(500)).toBe(500);
    expect(defaultBlockRows(10_000)).toBe(512);
  });
});

describe.each(refSetNames())('reference set %s', (name) => {
  const ref = loadRefSet(name);
  const { n, dim: d } = ref;

  test('refined: the merges up to exactFromK are scipy\'s (heights within 1e-9), and so are the partitions', async () => {
    let range: RefinedRange | undefined;
    const fast = clusterClass(ref.X, n, d, { distances: await cosineDistancesTf(ref.X, n, d, { onRefined: (r) => (range = r) }) });
    const certified = mergesAtOrBelow(fast.Z, n, range!.exactBelow);
    for (let r = 0; r < certified; r++) {
      expect([fast.Z[4 * r], fast.Z[4 * r + 1], fast.Z[4 * r + 3]]).toEqual([ref.Z[4 * r], ref.Z[4 * r + 1], ref.Z[4 * r + 3]]);
      expect(Math.abs(fast.Z[4 * r + 2] - ref.Z[4 * r + 2])).toBeLessThan(1e-9);
    }
    for (const kText of Object.keys(ref.k)) {
      const k = Number(kText);
      expect(Array.from(fast.cut(k).labels), `k = ${k}`).toEqual(Array.from(canonicalLabels(ref.k[kText].sklearn_labels)));
    }
    console.log(`refined ${name}: ${range!.pairs} pairs, exact from k = ${n - certified} (keep ${((n - certified) / n).toFixed(3)})`);
  });

  // Measured, not guaranteed: float32 moves merge heights by ~1e-6, and gmm_n3000_d64 has merges
  // 4.5e-8 apart whose order does change (its Z differs from scipy's), yet no cut asked for below
  // falls between two swapped merges. A change here means the fast path's tolerance is showing.
  test('float32 products alone: partitions equal scipy at every reference k and keep fraction 0.5–0.95', async () => {
    const fast = clusterClass(ref.X, n, d, { distances: await cosineDistancesTf(ref.X, n, d, { refinePairs: 0 }) });
    for (const kText of Object.keys(ref.k)) {
      const k = Number(kText);
      expect(Array.from(fast.cut(k).labels), `k = ${k}`).toEqual(Array.from(canonicalLabels(ref.k[kText].sklearn_labels)));
    }
    for (let keep = 0.5; keep < 0.96; keep += 0.05) {
      const k = keepCount(n, keep);
      expect(Array.from(fast.cut(k).labels), `keep ${keep.toFixed(2)}`).toEqual(Array.from(cutToK(ref.Z, n, k)));
    }
  });
});

/** Groups of vectors 0.1% apart: their distances (~1e-7–1e-6) are the size of float32's error. */
function nearDuplicates(seed: number, n: number, d: number, groups: number, eps: number): Float32Array {
  const centres = gaussian(seed, groups * d);
  const noise = gaussian(seed + 1, n * d);
  const r = rng(seed + 2);
  const X = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const g = Math.floor(r() * groups);
    const spread = eps * (0.2 + r());
    for (let q = 0; q < d; q++) X[i * d + q] = centres[g * d + q] + spread * noise[i * d + q];
  }
  return X;
}

function cutsDiffering(Z: Float64Array, exact: Float64Array, n: number, fromK: number): number[] {
  const differing: number[] = [];
  for (let k = fromK; k <= n; k++) {
    const a = cutToK(Z, n, k);
    const b = cutToK(exact, n, k);
    if (a.some((v, i) => v !== b[i])) differing.push(k);
  }
  return differing;
}

describe('refinement of the smallest distances', () => {
  const n = 400;
  const d = 256;
  const X = nearDuplicates(21, n, d, 60, 1e-3);
  const exactD = cosineDistances(X, n, d);
  const exactZ = completeLinkage(exactD, n);

  test('without it, near-duplicates come out in another order (why it exists)', async () => {
    const Z = completeLinkage(await cosineDistancesTf(X, n, d, { refinePairs: 0 }), n, { inPlace: true });
    expect(cutsDiffering(Z, exactZ, n, keepCount(n, 0.5)).length).toBeGreaterThan(0);
  });

  test('refined entries are the float64 ones bit for bit, the rest untouched, within budget', async () => {
    const raw = await cosineDistancesTf(X, n, d, { refinePairs: 0 });
    let range: RefinedRange | undefined;
    const D = await cosineDistancesTf(X, n, d, { refinePairs: 3000, onRefined: (r) => (range = r) });
    expect(range!.pairs).toBeLessThanOrEqual(3000);
    expect(range!.pairs).toBeGreaterThan(2500); // the histogram's bins are 3e-5 wide
    expect(range!.exactBelow).toBe(range!.threshold - float32ErrorBound(d));
    let refined = 0;
    const wrong: number[] = [];
    for (let p = 0; p < D.length; p++) {
      if (raw[p] < range!.threshold) {
        refined++;
        if (D[p] !== exactD[p]) wrong.push(p);
      } else if (D[p] !== raw[p] || !(exactD[p] > range!.exactBelow)) {
        // The second: the guarantee the certification rests on, what was left is beyond exactBelow.
        wrong.push(p);
      }
    }
    expect(wrong).toEqual([]);
    expect(refined).toBe(range!.pairs);
  });

  test('every cut from exactFromK on equals the float64 path; the default budget reaches below keep 0.5', async () => {
    let range: RefinedRange | undefined;
    const Z = completeLinkage(await cosineDistancesTf(X, n, d, { onRefined: (r) => (range = r) }), n, { inPlace: true });
    const fromK = n - mergesAtOrBelow(Z, n, range!.exactBelow);
    expect(fromK).toBeLessThan(keepCount(n, 0.5));
    expect(cutsDiffering(Z, exactZ, n, fromK)).toEqual([]);
    // Below the certified range nothing is promised, but the merges up to it are the same rows.
    const certified = n - fromK;
    expect(Array.from(Z.subarray(0, 4 * certified))).toEqual(Array.from(exactZ.subarray(0, 4 * certified)));
  });

  test('a small enough class is refined completely and equals the float64 path exactly', async () => {
    let range: RefinedRange | undefined;
    const m = 33; // 528 pairs ≤ 16 · 33
    const D = await cosineDistancesTf(X.subarray(0, m * d), m, d, { onRefined: (r) => (range = r) });
    expect(range).toEqual({ threshold: Infinity, pairs: (m * (m - 1)) / 2, exactBelow: Infinity });
    expect(Array.from(D)).toEqual(Array.from(cosineDistances(X.subarray(0, m * d), m, d)));
  });

  test('the error bound holds with room to spare on the reference sets', async () => {
    for (const name of refSetNames()) {
      const { X: R, n: rn, dim } = loadRefSet(name);
      if (rn > 500) continue;
      expect(maxDifference(await cosineDistancesTf(R, rn, dim, { refinePairs: 0 }), cosineDistances(R, rn, dim))).toBeLessThan(
        float32ErrorBound(dim) / 10,
      );
    }
  });
});

describe('clusterClassesTf', () => {
  test('the worker\'s fast path: exactFromK per class, cuts from there equal clusterClasses', async () => {
    const d = 64;
    const classes = () => [
      { label: 'dups', ids: Array.from({ length: 300 }, (_, i) => i), vectors: nearDuplicates(31, 300, d, 40, 1e-3) },
      { label: 'one', ids: [900], vectors: blobs(32, 1, d, 1) },
      { label: 'small', ids: Array.from({ length: 30 }, (_, i) => 1000 + i), vectors: blobs(33, 30, d, 4) },
    ];
    const before = tf.memory().numTensors;
    const { model, exactFromK } = await clusterClassesTf(classes(), d);
    expect(tf.memory().numTensors).toBe(before);
    const exact = clusterClasses(classes(), d);
    expect(exactFromK.one).toBe(1);
    expect(exactFromK.small).toBe(1); // 435 pairs: refined completely
    expect(exactFromK.dups).toBeLessThan(keepCount(300, 0.5));
    for (const [c, cls] of model.classes.entries()) {
      if (!cls.clustering) continue;
      expect(cutsDiffering(cls.clustering.Z, exact.classes[c].clustering!.Z, cls.n, exactFromK[cls.label])).toEqual([]);
    }
    for (const keep of [0.5, 0.9]) expect(semanticCut(model, { keep })).toEqual(semanticCut(exact, { keep }));
  });
});

describe('clusterClassesTf, working arrays', () => {
  test('classes of mixed sizes, smaller after larger and back, each get the merge tree they get alone', async () => {
    const d = 16;
    const sizes = [40, 300, 7, 120, 2, 300];
    let next = 0;
    const classes = sizes.map((n, c) => ({ label: `c${c}`, ids: Array.from({ length: n }, () => next++), vectors: blobs(70 + c, n, d, 5) }));
    const together = await clusterClassesTf(classes, d);
    for (const [c, cls] of classes.entries()) {
      const alone = await clusterClassesTf([cls], d);
      expect(together.model.classes[c].clustering!.Z).toEqual(alone.model.classes[0].clustering!.Z);
      expect(together.exactFromK[cls.label]).toBe(alone.exactFromK[cls.label]);
    }
  });
});

describe('clusterClassesWith', () => {
  const d = 24;
  const classes = () => [
    { label: 'a', ids: Array.from({ length: 80 }, (_, i) => i), vectors: blobs(11, 80, d, 6) },
    { label: 'b', ids: [500], vectors: blobs(12, 1, d, 1) },
    { label: 'c', ids: Array.from({ length: 45 }, (_, i) => 1000 + i), vectors: blobs(13, 45, d, 4) },
  ];

  test('with the float64 distances it is clusterClasses, progress included', async () => {
    const progress: unknown[][] = [];
    const exactProgress: unknown[][] = [];
    const viaProvider = await clusterClassesWith(classes(), d, async (v, n, dd, o) => cosineDistances(v, n, dd, o), {
      onProgress: (...p) => progress.push(p),
    });
    const direct = clusterClasses(classes(), d, { onProgress: (...p) => exactProgress.push(p) });
    expect(viaProvider.classes.map((c) => c.clustering?.Z)).toEqual(direct.classes.map((c) => c.clustering?.Z));
    expect(semanticCut(viaProvider, { keep: 0.7 })).toEqual(semanticCut(direct, { keep: 0.7 }));
    expect(progress).toEqual(exactProgress);
  });

  test('with the tfjs distances: same cuts here, one matrix at a time, no tensor left', async () => {
    const before = tf.memory().numTensors;
    const sizes: number[] = [];
    const fast = await clusterClassesWith(classes(), d, (v, n, dd, o) => {
      sizes.push(n);
      return cosineDistancesTf(v, n, dd, o);
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(sizes).toEqual([80, 45]); // a class of one file has nothing to cluster
    const exact = clusterClasses(classes(), d);
    for (const keep of [0.5, 0.8, 0.95]) {
      expect(semanticCut(fast, { keep }).groups.map((g) => g.members)).toEqual(semanticCut(exact, { keep }).groups.map((g) => g.members));
    }
  });

  test('validates like clusterClasses and stops when asked', async () => {
    const never = async (): Promise<Float64Array> => {
      throw new Error('must not be called');
    };
    const v = new Float32Array(4);
    await expect(clusterClassesWith([{ label: 'a', ids: [1, 2], vectors: v }, { label: 'a', ids: [3, 4], vectors: v }], 2, never)).rejects.toThrow(/twice/);
    await expect(clusterClassesWith(classes(), d, never, { shouldStop: () => true })).rejects.toBeInstanceOf(ClusterCancelledError);
  });
});

describe('the clustering worker with fast: true', () => {
  // The real worker module behind a MessageChannel, as in tests/unit/semantic/cluster-client.test.ts.
  // tfjs is one module for the whole file, so the wasm backend beforeAll started (from the
  // package's binaries; the worker's own paths are Vite URLs) is the one the worker finds.
  const g = globalThis as unknown as Record<string, unknown>;
  const saved = { Worker: g.Worker, addEventListener: g.addEventListener, removeEventListener: g.removeEventListener, postMessage: g.postMessage };
  class FakeWorker {
    private readonly port: MessagePort;
    constructor(url: URL) {
      const { port1, port2 } = new MessageChannel();
      this.port = port1;
      g.addEventListener = (type: string, l: EventListener) => port2.addEventListener(type, l);
      g.removeEventListener = (type: string, l: EventListener) => port2.removeEventListener(type, l);
      g.postMessage = (message: unknown, transfer?: Transferable[]) => port2.postMessage(message, transfer ?? []);
      vi.resetModules();
      void import(/* @vite-ignore */ url.href);
    }
    postMessage(message: unknown, transfer?: Transferable[]): void {
      this.port.postMessage(message, transfer ?? []);
    }
    addEventListener(type: string, l: EventListener): void {
      this.port.addEventListener(type, l);
    }
    removeEventListener(type: string, l: EventListener): void {
      this.port.removeEventListener(type, l);
    }
    start(): void {
      this.port.start();
    }
    terminate(): void {
      this.port.close();
    }
  }
  afterEach(() => {
    Object.assign(g, saved);
  });

  const d = 48;
  const classes = () => [
    { label: 'dups', ids: Array.from({ length: 200 }, (_, i) => i), vectors: nearDuplicates(41, 200, d, 30, 1e-3) },
    { label: 'blobs', ids: Array.from({ length: 120 }, (_, i) => 1000 + i), vectors: blobs(42, 120, d, 8) },
  ];

  test('runs on tfjs-wasm, reports exactFromK, and a cut asked for during the load waits for it', async () => {
    g.Worker = FakeWorker;
    const client = new ClusteringClient();
    const load = client.load({ dim: d, classes: classes(), fast: true });
    const cut = client.cut({ keep: 0.7 });
    const result = await load;
    expect(result.distances).toBe('tfjs-wasm');
    expect(Object.keys(result.exactFromK)).toEqual(['dups', 'blobs']);
    const exact = clusterClasses(classes(), d);
    for (const c of exact.classes) expect(result.exactFromK[c.label]).toBeLessThanOrEqual(keepCount(c.n, 0.7));
    const { ms: _ms, seq: _seq, roundTripMs: _rt, ...rest } = await cut;
    expect(rest).toEqual(semanticCut(exact, { keep: 0.7 }));
    client.dispose();
  });

  test('without it: the float64 path, exact everywhere', async () => {
    g.Worker = FakeWorker;
    const client = new ClusteringClient();
    const result = await client.load({ dim: d, classes: classes() });
    expect(result.distances).toBe('float64');
    expect(result.exactFromK).toEqual({ dups: 1, blobs: 1 });
    client.dispose();
  });
});
