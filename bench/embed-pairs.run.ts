/**
 * `npx vite build && BENCH_ONLY=embed-pairs-10k npx vitest run --project bench bench/embed-pairs.run.ts`
 * (embed-pairs-50k too when BENCH_ONLY is unset or names it): near mode's embedding-pair search —
 * every pair of mean-centred embeddings with cosine similarity ≥ 0.8 (SIMILARITY_FLOOR, the depth
 * the app searches to) — in Chromium, by the built app's cluster worker (its similarPairs).
 *
 * Ours: the tfjs path (blocked float32 products on wasm, candidates refined in float64). Peer: the
 * JS brute force the grouping worker ran before (core/similar-pairs.ts), run in the same page on
 * the same data by the same worker method asked for the 'cpu' backend, where it falls back to
 * exactly those loops. Both timings include a fresh worker and tfjs's start (what the app pays);
 * the 10k row also checks that the two answers are identical (pairs and float64 similarities).
 * The 50k row has no peer: the brute force would take ~25× the 10k one; its estimate is recorded.
 *
 * The page speaks comlink's wire format to the worker script from dist/ directly (as
 * bench/cluster-large.run.ts does), and the data is generated inside the page. Times are recorded,
 * never asserted: the machine is shared (its load average is recorded).
 *
 * Data (synthetic, seeded; see GENERATE): families around 400 nonnegative sparse "concepts"
 * (pooled-ReLU-like), 15% with 1–3 near-duplicates at per-family noise scales and 3% with an exact
 * copy, shuffled, then mean-centred as the app centres embeddings.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { launchBrowser } from '../tests/support/browser.ts';
import { distDir, repoRoot } from '../tests/support/paths.ts';
import { recordResults, RESULTS_FILE, type BenchResult } from './support/results.ts';
import { builtWorkerPath, WORKER_CALL } from '../tests/support/worker-call.ts';

const only = process.env.BENCH_ONLY?.split(',').filter(Boolean) ?? [];
const wanted = (name: string) => only.length === 0 || only.some((o) => name.startsWith(o));

const D = 1280;
const BAR = 0.8;
const SEED = 4_242;
/** Sizes timed both ways to place TFJS_PAIRS_FROM (src/workers/group/embedding-pairs.ts). */
const CROSSOVER = [1_000, 2_000, 4_000];

const DETAIL_FILE = path.join(repoRoot, 'bench/results-embed-pairs.json');

/** Rows recorded by an earlier run (the rows run one at a time with BENCH_ONLY). */
async function earlier(file: string): Promise<Record<string, unknown>[]> {
  if (!existsSync(file)) return [];
  try {
    const rows = JSON.parse(await readFile(file, 'utf8'))?.results;
    return Array.isArray(rows) ? rows : [];
  } catch {
    return [];
  }
}

const results: Record<string, unknown>[] = [];
afterAll(async () => {
  if (results.length === 0) return;
  const machine = { cores: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, memoryGB: Math.round(os.totalmem() / 2 ** 30) };
  const kept = (await earlier(DETAIL_FILE)).filter((r) => !results.some((x) => x.name === r.name));
  await writeFile(DETAIL_FILE, JSON.stringify({ machine, results: [...kept, ...results] }, null, 2) + '\n');
  await recordResults(results.filter((r): r is BenchResult => typeof r.name === 'string' && r.name.startsWith('embed-pairs-')));
});

/** Runs in the page (a string, so no bundler helper leaks into it). */
const GENERATE = `(function generate(seed, n, d) {
  let a = seed >>> 0;
  const r = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const g = () => r() + r() + r() + r() - 2;
  const concepts = 400;
  const C = new Float32Array(concepts * d);
  for (let i = 0; i < C.length; i++) { const v = g() - 0.2; C[i] = v > 0 ? 2 * v : 0; }
  const X = new Float32Array(n * d);
  let i = 0;
  while (i < n) {
    const c = Math.floor(r() * concepts) * d;
    const base = i * d;
    for (let q = 0; q < d; q++) { const v = 0.8 * C[c + q] + 0.6 * g(); X[base + q] = v > 0 ? v : 0; }
    i++;
    const u = r();
    const near = u < 0.15 ? 1 + Math.floor(r() * 3) : 0;
    const scale = 0.05 + 0.5 * r() * r();
    for (let m = 0; m < near && i < n; m++, i++) {
      const o = i * d;
      for (let q = 0; q < d; q++) { const v = X[base + q] + scale * g(); X[o + q] = v > 0 ? v : 0; }
    }
    if (u > 0.97 && i < n) { X.copyWithin(i * d, base, base + d); i++; }
  }
  const row = new Float32Array(d);
  for (let p = n - 1; p > 0; p--) {
    const s = Math.floor(r() * (p + 1));
    row.set(X.subarray(p * d, p * d + d));
    X.copyWithin(p * d, s * d, s * d + d);
    X.set(row, s * d);
  }
  // Mean-centred, as the app hands embeddings to near mode.
  const mean = new Float64Array(d);
  for (let p = 0; p < n; p++) for (let q = 0; q < d; q++) mean[q] += X[p * d + q];
  for (let q = 0; q < d; q++) mean[q] /= n;
  for (let p = 0; p < n; p++) for (let q = 0; q < d; q++) X[p * d + q] -= mean[q];
  return X;
})`;


/**
 * Runs in the page: one similarPairs call on a fresh worker (as the app starts one per search),
 * timed from worker creation to the answer; keeps the answer on window.__pairs[key].
 */
const FIND = `(async function find(workerUrl, X, n, d, bar, backend, key) {
  const t0 = performance.now();
  const worker = new Worker(workerUrl, { type: 'module' });
  try {
    const copy = X.slice(0, n * d);
    const r = await ${WORKER_CALL}(worker, 'similarPairs', [{ vectors: copy, n, dim: d, minSimilarity: bar, maxPairs: 2000000, backend }, undefined], [copy.buffer]);
    (window.__pairs ??= {})[key] = r;
    return { wallMs: performance.now() - t0, workerMs: r.ms, path: r.path, pairs: r.a.length };
  } finally {
    worker.terminate();
  }
})`;

const SAME = `(function same(x, y) {
  if (x.a.length !== y.a.length) return { same: false, why: 'count ' + x.a.length + ' vs ' + y.a.length };
  for (let k = 0; k < x.a.length; k++) {
    if (x.a[k] !== y.a[k] || x.b[k] !== y.b[k] || !Object.is(x.similarity[k], y.similarity[k])) return { same: false, why: 'pair ' + k };
  }
  return { same: true, pairs: x.a.length };
})`;

interface Found {
  wallMs: number;
  workerMs: number;
  path: string;
  pairs: number;
}

function workerScript(): string {
  const file = builtWorkerPath(distDir, 'cluster');
  expect(file, 'dist/ has no cluster worker: run `npx vite build` first').toBeDefined();
  return file!;
}

const ran = `Chromium, the built app's cluster worker similarPairs through comlink's wire format, a fresh worker per call (its start and tfjs's included); ours on tfjs wasm (SIMD, no threads: the page is not cross-origin isolated)`;
const peerName = "JS brute force (core/similar-pairs.ts, the grouping worker's former path), same page, data and worker method on backend 'cpu'";

test.runIf(wanted('embed-pairs-10k'))(
  `embed-pairs-10k: pairs at similarity ≥ ${BAR} of 10,000 × ${D} embeddings, tfjs vs the JS brute force`,
  async () => {
    const N = 10_000;
    const url = workerScript();
    const harness = await launchBrowser();
    try {
      const { page } = harness;
      await page.goto(`${harness.origin}/`);
      const loadBefore = os.loadavg()[0];
      await page.evaluate(`(() => { window.__X = ${GENERATE}(${SEED}, ${N}, ${D}); })()`);
      // Crossover sizes first (prefixes of the same data), each way.
      const crossover: Record<string, { tfjsSeconds: number; jsSeconds: number }> = {};
      for (const n of CROSSOVER) {
        const t = (await page.evaluate(`${FIND}('${url}', window.__X, ${n}, ${D}, ${BAR}, 'wasm', 'tf${n}')`)) as Found;
        const j = (await page.evaluate(`${FIND}('${url}', window.__X, ${n}, ${D}, ${BAR}, 'cpu', 'js${n}')`)) as Found;
        crossover[String(n)] = { tfjsSeconds: t.wallMs / 1000, jsSeconds: j.wallMs / 1000 };
        console.log(`embed-pairs: n = ${n}: tfjs ${(t.wallMs / 1000).toFixed(2)} s, JS ${(j.wallMs / 1000).toFixed(2)} s (${t.pairs} pairs)`);
      }
      const ours = (await page.evaluate(`${FIND}('${url}', window.__X, ${N}, ${D}, ${BAR}, 'wasm', 'tf')`)) as Found;
      console.log(`embed-pairs-10k: tfjs ${(ours.wallMs / 1000).toFixed(1)} s (${ours.path}, ${ours.pairs} pairs)`);
      const peer = (await page.evaluate(`${FIND}('${url}', window.__X, ${N}, ${D}, ${BAR}, 'cpu', 'js')`)) as Found;
      console.log(`embed-pairs-10k: JS ${(peer.wallMs / 1000).toFixed(1)} s (${peer.path}, ${peer.pairs} pairs)`);
      const same = (await page.evaluate(`${SAME}(window.__pairs.tf, window.__pairs.js)`)) as { same: boolean; why?: string; pairs?: number };
      expect(ours.path).toBe('tfjs-wasm');
      expect(peer.path).toBe('float64');
      expect(harness.offOrigin).toEqual([]);
      const result: BenchResult = {
        name: 'embed-pairs-10k',
        ours: ours.wallMs / 1000,
        peer: peer.wallMs / 1000,
        peer_name: peerName,
        ratio: peer.wallMs / ours.wallMs,
        unit: 's',
        n: N,
        d: D,
        minSimilarity: BAR,
        pairs: ours.pairs,
        identicalToBruteForce: same.same,
        oursInWorkerSeconds: ours.workerMs / 1000,
        peerInWorkerSeconds: peer.workerMs / 1000,
        crossover,
        ran,
        data: `synthetic, seed ${SEED}: families over 400 nonnegative concepts, 15% with 1–3 near-duplicates, 3% an exact copy, shuffled, mean-centred (bench/embed-pairs.run.ts)`,
        loadAverage: { before: loadBefore, after: os.loadavg()[0] },
        caveat: 'a 2-core machine shared with a CPU-heavy training run: absolute times are inflated, the ratio less so',
      };
      results.push(result);
      console.log(JSON.stringify(result, null, 2));
      expect(same).toEqual({ same: true, pairs: ours.pairs });
    } finally {
      await harness.close();
    }
  },
  1_800_000,
);

test.runIf(wanted('embed-pairs-50k'))(
  `embed-pairs-50k: pairs at similarity ≥ ${BAR} of 50,000 × ${D} embeddings on tfjs`,
  async () => {
    const N = 50_000;
    const url = workerScript();
    const harness = await launchBrowser();
    try {
      const { page } = harness;
      await page.goto(`${harness.origin}/`);
      const loadBefore = os.loadavg()[0];
      await page.evaluate(`(() => { window.__X = ${GENERATE}(${SEED + 1}, ${N}, ${D}); })()`);
      const ours = (await page.evaluate(`${FIND}('${url}', window.__X, ${N}, ${D}, ${BAR}, 'wasm', 'tf')`)) as Found;
      console.log(`embed-pairs-50k: tfjs ${(ours.wallMs / 1000).toFixed(1)} s (${ours.path}, ${ours.pairs} pairs)`);
      expect(ours.path).toBe('tfjs-wasm');
      expect(harness.offOrigin).toEqual([]);
      const tenK = (results.find((r) => r.name === 'embed-pairs-10k') ?? (await earlier(RESULTS_FILE)).find((r) => r.name === 'embed-pairs-10k')) as
        | BenchResult
        | undefined;
      const result: BenchResult = {
        name: 'embed-pairs-50k',
        ours: ours.wallMs / 1000,
        peer: null,
        peer_name: null,
        ratio: null,
        unit: 's',
        peerNote: 'not run: the JS brute force is O(n²d), ~25× its 10k time here',
        peerEstimateSeconds: tenK?.peer != null ? tenK.peer * 25 : null,
        peerEstimateFrom: 'the embed-pairs-10k peer × (50,000 / 10,000)², recorded by the latest 10k run',
        n: N,
        d: D,
        minSimilarity: BAR,
        pairs: ours.pairs,
        oursInWorkerSeconds: ours.workerMs / 1000,
        ran,
        data: `synthetic, seed ${SEED + 1}, as embed-pairs-10k`,
        loadAverage: { before: loadBefore, after: os.loadavg()[0] },
        caveat: 'a 2-core machine shared with a CPU-heavy training run: absolute times are inflated',
      };
      results.push(result);
      console.log(JSON.stringify(result, null, 2));
    } finally {
      await harness.close();
    }
  },
  1_800_000,
);
