/**
 * `npx vite build && BENCH_ONLY=cluster npx vitest run --project bench bench/cluster.run.ts`:
 * complete-linkage clustering of 10,000 × 1280 Gaussian-blob embeddings, ours against scipy's
 * `linkage(X, 'complete', 'cosine')` on the same float32 matrix, with the partition at k = 9,000
 * and at every keep fraction 0.5–0.95 compared. Writes bench/results-cluster.json. Times are
 * recorded, never asserted: the machines are shared, so only the ratio within one run means
 * anything (the load average is recorded).
 *
 * Where ours runs: in Chromium, in the built app's cluster worker (dist/), as semantic mode runs
 * it: a fresh worker per load (its start and the wasm backend's included in the time), the fast
 * path (float32 products on tfjs wasm, SIMD, no wasm threads: the page is not cross-origin
 * isolated; the smallest distances refined in float64; NN-chain linkage), with its default helper
 * workers sharing the products (one per spare core). The vectors reach the page as a file the
 * harness serves from this process; the page hands them to the worker (transferred). Time is taken
 * in the page, from the worker's creation to load's answer. The partitions come from the worker's
 * own cuts (its groups) at each keep fraction.
 *
 * CLUSTER_N overrides n (for a quick run), CLUSTER_REPEAT the number of timed runs of ours (the
 * fastest is reported), CLUSTER_HELPERS the helper count (0: the products on one core),
 * CLUSTER_EXACT=1 also times the float64 path (fast: false) and compares it.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { recordResults, type BenchResult } from './support/results.ts';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, test } from 'vitest';
import { canonicalLabels, clusterCount, cutToK, keepCount, parseNpy, writeNpyFloat32 } from '../src/core/cluster/index.ts';
import { blobs } from '../tests/unit/cluster/support.ts';
import { launchBrowser } from '../tests/support/browser.ts';
import { removeTempDirs, tempDir } from '../tests/support/fixtures.ts';
import { distDir, repoRoot } from '../tests/support/paths.ts';
import { builtWorkerPath, WORKER_CALL } from '../tests/support/worker-call.ts';
import { chromiumMemory, type Sample } from './support/chromium-memory.ts';

const run = promisify(execFile);
const only = process.env.BENCH_ONLY?.split(',').filter(Boolean) ?? [];
const wanted = (name: string) => only.length === 0 || only.some((o) => name.startsWith(o));

const N = Number(process.env.CLUSTER_N ?? 10_000);
// A quick run at another n must not replace the target's row in results.json.
const ROW = N === 10_000 ? 'cluster-10k' : `cluster-n${N}`;
const D = 1280;
const K = Math.round(0.9 * N);
const SEED = 2024;
const REPEAT = Math.max(1, Number(process.env.CLUSTER_REPEAT ?? 2));
const KEEP_FRACTIONS = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95];

const results: Record<string, unknown>[] = [];
afterAll(async () => {
  if (results.length > 0) {
    const machine = { cores: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, memoryGB: Math.round(os.totalmem() / 2 ** 30) };
    await writeFile(path.join(repoRoot, 'bench/results-cluster.json'), JSON.stringify({ machine, results }, null, 2) + '\n');
    await recordResults(results.filter((r): r is BenchResult => r.name === ROW));
  }
  await removeTempDirs();
});

// Times only the linkage call (pdist included: scipy computes the distances inside it), then
// fcluster's maxclust partition at k and the merge matrix for the keep-fraction comparison.
const SCIPY = `
import json, resource, sys, time
import numpy as np, scipy
from scipy.cluster.hierarchy import fcluster, linkage
X = np.load(sys.argv[1])
t0, c0 = time.perf_counter(), time.process_time()
Z = linkage(X, 'complete', 'cosine')
seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
np.save(sys.argv[2], Z)
labels = fcluster(Z, int(sys.argv[3]), 'maxclust')
print(json.dumps({'seconds': seconds, 'cpuSeconds': cpu, 'labels': labels.tolist(), 'maxRssMB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  'scipy': scipy.__version__, 'numpy': np.__version__}))
`;

interface Timed {
  seconds: number;
  /** Cut results: the groups (members, 1-based ids) at each keep fraction, in KEEP_FRACTIONS order. */
  groups: number[][][];
  load: {
    distances: string;
    exactFromK: Record<string, number>;
    distancesMs?: number;
    products?: { helpers: number; blocks: number; byHelpers: number; ms: number; firstHelperMs: number | null };
  };
  peakMemory: Sample;
}

/**
 * Runs in the page: one load on a fresh cluster worker, timed from its creation to the answer,
 * then one cut per keep fraction (its groups' members only).
 */
const LOAD = `(async function load(workerUrl, n, d, input, keeps) {
  const X = new Float32Array(await (await fetch('/__bench/X.bin')).arrayBuffer());
  const ids = Array.from({ length: n }, (_, i) => i + 1);
  const t0 = performance.now();
  const worker = new Worker(workerUrl, { type: 'module' });
  try {
    const load = await ${WORKER_CALL}(worker, 'load', [Object.assign({ dim: d, classes: [{ label: 'blobs', ids, vectors: X }] }, input), undefined], [X.buffer]);
    const seconds = (performance.now() - t0) / 1000;
    const groups = [];
    for (const keep of keeps) {
      const cut = await ${WORKER_CALL}(worker, 'cut', [{ keep }], []);
      groups.push(cut.groups.map((g) => g.members));
    }
    return { seconds, load, groups };
  } finally {
    worker.terminate();
  }
})`;

/** Labels of n items (1-based ids) from the groups of a cut: one per group, singletons on their own. */
function labelsOf(groups: number[][], n: number): Int32Array {
  const labels = new Int32Array(n).fill(-1);
  groups.forEach((members, g) => {
    for (const id of members) labels[id - 1] = g;
  });
  let next = groups.length;
  for (let i = 0; i < n; i++) if (labels[i] < 0) labels[i] = next++;
  return canonicalLabels(labels);
}

/** itemsDiffering counts canonical labels that differ: one cluster cut differently renumbers the clusters after it too. */
function sameLabels(a: Int32Array, b: Int32Array): { same: boolean; itemsDiffering: number } {
  let itemsDiffering = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) itemsDiffering++;
  return { same: itemsDiffering === 0, itemsDiffering };
}

/** Per keep fraction, our partition against the reference's (scipy's merge matrix, or our exact path) cut to the same k. */
function keepSweep(groups: number[][][], reference: (i: number, k: number) => Int32Array) {
  return KEEP_FRACTIONS.map((keep, i) => {
    const k = keepCount(N, keep);
    const ours = labelsOf(groups[i], N);
    return { keep, k, clusters: clusterCount(ours), ...sameLabels(ours, reference(i, k)) };
  });
}

test.runIf(wanted('cluster-10k'))(
  `cluster-10k: complete linkage, n = ${N}, d = ${D}, ours (Chromium worker) vs scipy`,
  async () => {
    const workerPath = builtWorkerPath(distDir, 'cluster');
    expect(workerPath, 'dist/ has no cluster worker: run `npx vite build` first').toBeDefined();
    const X = blobs(SEED, N, D, Math.max(3, Math.floor(N / 25)));
    const dir = await tempDir('winnow-cluster-');
    const xPath = path.join(dir, 'X.npy');
    const zPath = path.join(dir, 'Z.npy');
    await writeFile(xPath, writeNpyFloat32(N, D, X));
    const loadBefore = os.loadavg()[0];

    // Without scipy (python3-scipy not installed) the row has no peer, and our exact path (float64
    // distances, the one the unit tests hold to scipy's reference outputs) checks the partition.
    let scipy: { seconds: number; cpuSeconds: number; labels: number[]; maxRssMB: number; scipy: string; numpy: string } | null = null;
    try {
      scipy = JSON.parse((await run('/usr/bin/python3', ['-c', SCIPY, xPath, zPath, String(K)], { maxBuffer: 1 << 26 })).stdout);
    } catch (error) {
      console.warn(`cluster-10k: scipy did not run (${error instanceof Error ? error.message.split('\n')[0] : error}); peer: null`);
    }
    const scipyZ = scipy ? (parseNpy(await readFile(zPath)).data as Float64Array) : null;
    if (scipy) console.log(`cluster-10k: scipy ${scipy.seconds.toFixed(1)} s, CPU ${scipy.cpuSeconds.toFixed(1)} s`);

    const harness = await launchBrowser();
    const body = Buffer.from(X.buffer, X.byteOffset, X.byteLength);
    await harness.page.route('**/__bench/X.bin', (route) => route.fulfill({ status: 200, contentType: 'application/octet-stream', body }));
    await harness.page.goto(`${harness.origin}/`);
    const helpers = process.env.CLUSTER_HELPERS;
    const input = { fast: true, backend: 'wasm', ...(helpers !== undefined ? { productWorkers: Number(helpers) } : {}) };
    const timeOurs = async (extra: Record<string, unknown>): Promise<Timed> => {
      const idle = chromiumMemory(harness.userDataDir);
      let peak = idle;
      const timer = setInterval(() => {
        const m = chromiumMemory(harness.userDataDir);
        if (m.rendererMB > peak.rendererMB) peak = m;
      }, 250);
      try {
        const r = (await harness.page.evaluate(`${LOAD}(${JSON.stringify(workerPath)}, ${N}, ${D}, ${JSON.stringify(extra)}, ${JSON.stringify(KEEP_FRACTIONS)})`)) as Omit<Timed, 'peakMemory'>;
        return { ...r, peakMemory: peak };
      } finally {
        clearInterval(timer);
      }
    };
    const runs: Timed[] = [];
    let exact: Record<string, unknown> | null = null;
    let exactGroups: number[][][] | null = null;
    try {
      for (let r = 0; r < REPEAT; r++) {
        runs.push(await timeOurs(input));
        const p = runs[r].load.products;
        console.log(
          `cluster-10k: ours run ${r + 1}: ${runs[r].seconds.toFixed(1)} s (distances ${((runs[r].load.distancesMs ?? 0) / 1000).toFixed(1)} s, ` +
            `products ${((p?.ms ?? 0) / 1000).toFixed(1)} s with ${p?.helpers ?? 0} helper(s) doing ${p?.byHelpers ?? 0}/${p?.blocks ?? 0} blocks, first ready after ${p?.firstHelperMs?.toFixed(0)} ms); renderer peak ${runs[r].peakMemory.rendererMB.toFixed(0)} MB`,
        );
      }
      if (process.env.CLUSTER_EXACT === '1' || !scipyZ) {
        const e = await timeOurs({ fast: false });
        exactGroups = e.groups;
        exact = { seconds: e.seconds, ...(scipyZ ? { keepFractions: keepSweep(e.groups, (_, k) => canonicalLabels(cutToK(scipyZ, N, k))).map((s) => ({ keep: s.keep, same: s.same })) } : {}) };
      }
    } finally {
      await harness.close();
    }
    const best = runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const reference = scipyZ
      ? (_: number, k: number) => canonicalLabels(cutToK(scipyZ, N, k))
      : (i: number) => labelsOf(exactGroups![i], N);
    const sweep = keepSweep(best.groups, reference);
    const atK = sweep.find((s) => s.k === K)!;
    expect(atK.clusters).toBe(K);
    const referenceLabels = scipy ? canonicalLabels(scipy.labels) : reference(KEEP_FRACTIONS.indexOf(0.9), K);
    const partition = sameLabels(labelsOf(best.groups[KEEP_FRACTIONS.indexOf(0.9)], N), referenceLabels);
    const distancesSeconds = (best.load.distancesMs ?? NaN) / 1000;
    const productsSeconds = (best.load.products?.ms ?? NaN) / 1000;

    const result = {
      name: ROW,
      ours: best.seconds,
      peer: scipy?.seconds ?? null,
      peer_name: scipy ? `scipy ${scipy.scipy} linkage(X, 'complete', 'cosine') (numpy ${scipy.numpy})` : null,
      ratio: scipy ? scipy.seconds / best.seconds : null,
      partitionCheckedAgainst: scipy ? 'scipy' : "our exact path (python3-scipy is not installed)",
      unit: 's',
      n: N,
      d: D,
      k: K,
      samePartition: partition.same,
      itemsDifferingAtK: partition.itemsDiffering,
      referenceClustersAtK: clusterCount(referenceLabels),
      keepFractions: sweep,
      distancesSeconds,
      productsSeconds,
      refineSeconds: distancesSeconds - productsSeconds,
      linkageAndRestSeconds: best.seconds - distancesSeconds,
      products: best.load.products,
      exactFromK: best.load.exactFromK.blobs,
      exactFromKeep: best.load.exactFromK.blobs / N,
      runsSeconds: runs.map((r) => r.seconds),
      oursRan: `Chromium, the built app's cluster worker (${workerPath}) through comlink's wire format: a fresh worker per run, fast path on tfjs wasm (SIMD, no wasm threads), products shared with ${best.load.products?.helpers ?? 0} helper worker(s); time from the worker's creation to load's answer, in the page`,
      peakMemory: {
        unit: 'MB',
        ours: Math.max(...runs.map((r) => r.peakMemory.rendererMB)),
        oursNote: "resident set of the tab's renderer process(es) (page, cluster worker, helper workers, wasm heaps; the page's 51 MB copy of the input included), sampled every 250 ms",
        peer: scipy?.maxRssMB ?? null,
        peerNote: 'maximum resident set of the python process (numpy, scipy and the input included)',
      },
      cpuSeconds: { peer: scipy?.cpuSeconds ?? null },
      exactPath: exact,
      loadAverage: { before: loadBefore, after: os.loadavg()[0] },
      data: `blobs(seed ${SEED}, ${N} × ${D}, ${Math.max(3, Math.floor(N / 25))} centres), tests/unit/cluster/support.ts`,
    };
    results.push(result);
    console.log(JSON.stringify({ ...result, keepFractions: sweep.map((s) => `${s.keep}:${s.same ? 'same' : s.itemsDiffering}`) }, null, 2));
  },
  1_800_000,
);
