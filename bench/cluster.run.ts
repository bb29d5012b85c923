/**
 * `BENCH_ONLY=cluster npx vitest run --project bench bench/cluster.run.ts`: complete-linkage
 * clustering of 10,000 × 1280 Gaussian-blob embeddings, ours (the cluster worker's fast path:
 * tfjs distances + our NN-chain linkage) against scipy's `linkage(X, 'complete', 'cosine')` on the
 * same float32 matrix, with the partition at k = 9,000 and at every keep fraction 0.5–0.95
 * compared. Writes bench/results-cluster.json. Times are recorded, never asserted: the machines
 * are shared, so only the ratio within one run means anything (the load average is recorded).
 *
 * Where ours runs: in this Node process, calling the function the worker calls (clusterClassesTf:
 * float32 products, float64 refinement of the smallest distances, then the linkage) on the tfjs
 * wasm backend, single-threaded SIMD as in Chromium, where the page is not cross-origin isolated
 * and so has no wasm threads. The built app has no hook through which a page could hand a worker
 * 10,000 synthetic vectors, so the browser itself is not in this measurement.
 *
 * CLUSTER_N overrides n (for a quick run), CLUSTER_REPEAT the number of timed runs of ours (the
 * fastest is reported), CLUSTER_EXACT=1 also times the float64 path and compares it.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { recordResults, type BenchResult } from './support/results.ts';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { afterAll, expect, test } from 'vitest';
import { canonicalLabels, clusterCount, cutToK, keepCount, parseNpy, writeNpyFloat32 } from '../src/core/cluster/index.ts';
import { clusterClasses, type SemanticClassInput, type SemanticModel } from '../src/core/semantic.ts';
import { chooseBackend } from '../src/ml/backend.ts';
import { clusterClassesTf } from '../src/ml/distances.ts';
import { blobs } from '../tests/unit/cluster/support.ts';
import { WASM_DIR } from '../tests/unit/ml/helpers.ts';
import { removeTempDirs, tempDir } from '../tests/support/fixtures.ts';
import { repoRoot } from '../tests/support/paths.ts';

const run = promisify(execFile);
const only = process.env.BENCH_ONLY?.split(',').filter(Boolean) ?? [];
const wanted = (name: string) => only.length === 0 || only.some((o) => name.startsWith(o));

const N = Number(process.env.CLUSTER_N ?? 10_000);
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
    await recordResults(results.filter((r): r is BenchResult => r.name === 'cluster-10k'));
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
  model: SemanticModel;
  /** Fast path only: the smallest k from which on the partition is certainly the float64 path's. */
  exactFromK: number | null;
  seconds: number;
  /** CPU time of this process over the run: steadier than wall time on a shared machine. */
  cpuSeconds: number;
  /** Float32 products and their copy into the matrix. */
  productsSeconds: number;
  /** The float64 recomputation of the smallest distances (fast path). */
  refineSeconds: number;
  distancesSeconds: number;
  linkageSeconds: number;
  peakRssMB: number;
}

/** One clustering of the class, sampling the resident set at every progress report. */
async function timeOurs(X: Float32Array, fast: boolean): Promise<Timed> {
  const input: SemanticClassInput[] = [{ label: 'blobs', ids: Array.from({ length: N }, (_, i) => i), vectors: X }];
  let peak = process.memoryUsage().rss;
  let distancesEnd = 0;
  let productsEnd = 0;
  let lastDone = -1;
  const onProgress = (done: number, _total: number, _label: string, stage: string) => {
    peak = Math.max(peak, process.memoryUsage().rss);
    if (stage !== 'distances') return;
    // Both paths report when their last block is done; the fast path once more after refining.
    distancesEnd = performance.now();
    if (done > lastDone) productsEnd = distancesEnd;
    lastDone = done;
  };
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const fastResult = fast ? await clusterClassesTf(input, D, { onProgress }) : null;
  const model = fastResult?.model ?? clusterClasses(input, D, { onProgress });
  const t1 = performance.now();
  const cpu = process.cpuUsage(c0);
  return {
    model,
    exactFromK: fastResult?.exactFromK.blobs ?? null,
    seconds: (t1 - t0) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    productsSeconds: (productsEnd - t0) / 1000,
    refineSeconds: (distancesEnd - productsEnd) / 1000,
    distancesSeconds: (distancesEnd - t0) / 1000,
    linkageSeconds: (t1 - distancesEnd) / 1000,
    peakRssMB: Math.max(peak, process.memoryUsage().rss) / 2 ** 20,
  };
}

/** itemsDiffering counts canonical labels that differ: one cluster cut differently renumbers the clusters after it too. */
function sameLabels(a: Int32Array, b: Int32Array): { same: boolean; itemsDiffering: number } {
  let itemsDiffering = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) itemsDiffering++;
  return { same: itemsDiffering === 0, itemsDiffering };
}

/** Our cut against scipy's merge matrix cut the same way, at every keep fraction. */
function keepSweep(Z: Float64Array, scipyZ: Float64Array) {
  return KEEP_FRACTIONS.map((keep) => {
    const k = keepCount(N, keep);
    return { keep, k, ...sameLabels(cutToK(Z, N, k), cutToK(scipyZ, N, k)) };
  });
}

function maxHeightDifference(Z: Float64Array, scipyZ: Float64Array): number {
  let max = 0;
  for (let r = 0; r < N - 1; r++) max = Math.max(max, Math.abs(Z[4 * r + 2] - scipyZ[4 * r + 2]));
  return max;
}

test.runIf(wanted('cluster-10k'))(
  `cluster-10k: complete linkage, n = ${N}, d = ${D}, ours vs scipy`,
  async () => {
    const X = blobs(SEED, N, D, Math.max(3, Math.floor(N / 25)));
    const dir = await tempDir('winnow-cluster-');
    const xPath = path.join(dir, 'X.npy');
    const zPath = path.join(dir, 'Z.npy');
    await writeFile(xPath, writeNpyFloat32(N, D, X));
    const loadBefore = os.loadavg()[0];

    const py = await run('/usr/bin/python3', ['-c', SCIPY, xPath, zPath, String(K)], { maxBuffer: 1 << 26 });
    const scipy = JSON.parse(py.stdout) as { seconds: number; cpuSeconds: number; labels: number[]; maxRssMB: number; scipy: string; numpy: string };
    const scipyZ = parseNpy(await readFile(zPath)).data as Float64Array;
    const scipyLabels = canonicalLabels(scipy.labels);
    console.log(`cluster-10k: scipy ${scipy.seconds.toFixed(1)} s, CPU ${scipy.cpuSeconds.toFixed(1)} s`);

    // As in the browser: the worker's wasm backend, SIMD, no threads.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    const backend = await chooseBackend('wasm', { wasmPaths: WASM_DIR });
    const tensorsBefore = tf.memory().numTensors;
    const baselineRssMB = process.memoryUsage().rss / 2 ** 20;
    const runs: Timed[] = [];
    for (let r = 0; r < REPEAT; r++) {
      runs.push(await timeOurs(X, true));
      console.log(
        `cluster-10k: ours run ${r + 1}: ${runs[r].seconds.toFixed(1)} s, CPU ${runs[r].cpuSeconds.toFixed(1)} s ` +
          `(distances ${runs[r].distancesSeconds.toFixed(1)} s of which refinement ${runs[r].refineSeconds.toFixed(2)} s, linkage ${runs[r].linkageSeconds.toFixed(1)} s)`,
      );
    }
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    const best = runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const clustering = best.model.classes[0].clustering!;
    const labels = clustering.cut(K).labels;
    expect(clusterCount(labels)).toBe(K);
    const partition = sameLabels(labels, scipyLabels);
    const sweep = keepSweep(clustering.Z, scipyZ);

    let exact: Record<string, unknown> | null = null;
    if (process.env.CLUSTER_EXACT === '1') {
      const e = await timeOurs(X, false);
      const z = e.model.classes[0].clustering!.Z;
      exact = {
        seconds: e.seconds,
        cpuSeconds: e.cpuSeconds,
        distancesSeconds: e.distancesSeconds,
        linkageSeconds: e.linkageSeconds,
        samePartition: sameLabels(cutToK(z, N, K), scipyLabels).same,
        keepFractions: keepSweep(z, scipyZ),
        maxHeightDifference: maxHeightDifference(z, scipyZ),
      };
    }

    const result = {
      name: 'cluster-10k',
      ours: best.seconds,
      peer: scipy.seconds,
      peer_name: `scipy ${scipy.scipy} linkage(X, 'complete', 'cosine') (numpy ${scipy.numpy})`,
      ratio: scipy.seconds / best.seconds,
      unit: 's',
      cpuSeconds: { ours: best.cpuSeconds, peer: scipy.cpuSeconds, ratio: scipy.cpuSeconds / best.cpuSeconds },
      n: N,
      d: D,
      k: K,
      samePartition: partition.same,
      itemsDifferingAtK: partition.itemsDiffering,
      scipyClustersAtK: clusterCount(scipyLabels),
      keepFractions: sweep,
      maxHeightDifference: maxHeightDifference(clustering.Z, scipyZ),
      distancesSeconds: best.distancesSeconds,
      productsSeconds: best.productsSeconds,
      refineSeconds: best.refineSeconds,
      linkageSeconds: best.linkageSeconds,
      exactFromK: best.exactFromK,
      exactFromKeep: best.exactFromK === null ? null : best.exactFromK / N,
      runsSeconds: runs.map((r) => r.seconds),
      oursRan: `Node ${process.version} in-process, the cluster worker's fast path (clusterClassesTf) on tfjs ${backend}, SIMD, single thread; not in Chromium (the app has no hook to feed its worker synthetic vectors)`,
      peakMemory: {
        unit: 'MB',
        ours: Math.max(...runs.map((r) => r.peakRssMB)) - baselineRssMB,
        oursNote: 'largest growth of this process\'s resident set over its level before the first run, sampled at every progress report (test runner, tfjs and the 51 MB input are in the baseline)',
        peer: scipy.maxRssMB,
        peerNote: 'maximum resident set of the python process (numpy, scipy and the input included)',
      },
      exactPath: exact,
      loadAverage: { before: loadBefore, after: os.loadavg()[0] },
      data: `blobs(seed ${SEED}, ${N} × ${D}, ${Math.max(3, Math.floor(N / 25))} centres), tests/unit/cluster/support.ts`,
    };
    results.push(result);
    console.log(JSON.stringify({ ...result, keepFractions: sweep.map((s) => `${s.keep}:${s.same ? 'same' : s.itemsDiffering}`) }, null, 2));
  },
  1_800_000,
);
