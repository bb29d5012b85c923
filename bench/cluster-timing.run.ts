/**
 * Clustering timings in Node (a benchmark, not a test: times are written, never asserted, because
 * these machines are shared). Random Gaussian embeddings; distances, linkage, cut and
 * representatives timed separately. Writes bench/results-cluster-timing.json.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { cosineDistances } from '../src/core/cluster/cosine.ts';
import { completeLinkage } from '../src/core/cluster/linkage.ts';
import { clusterCount, cutAtHeight, cutToK } from '../src/core/cluster/cut.ts';
import { representatives } from '../src/core/cluster/representatives.ts';
import { blobs, rng } from '../tests/unit/cluster/support.ts';
import { repoRoot } from '../tests/support/paths.ts';

const only = process.env.BENCH_ONLY?.split(',').filter(Boolean) ?? [];
const wanted = only.length === 0 || only.some((o) => 'cluster-timing'.startsWith(o));
const results: Record<string, unknown>[] = [];
afterAll(async () => {
  if (results.length > 0) await writeFile(path.join(repoRoot, 'bench/results-cluster-timing.json'), JSON.stringify({ results }, null, 2) + '\n');
});

function time<T>(f: () => T): [T, number] {
  const t0 = performance.now();
  const out = f();
  return [out, performance.now() - t0];
}

test.runIf(wanted).each([
  [3000, 64],
  [5000, 1280],
])('n = %i, d = %i: distances and linkage', (n, d) => {
  const X = blobs(42, n, d, Math.max(3, Math.floor(n / 25)));
  const [D, tDist] = time(() => cosineDistances(X, n, d));
  const [Z, tLink] = time(() => completeLinkage(D, n, { inPlace: true }));
  const k = Math.round(0.9 * n);
  const [labels, tCut] = time(() => cutToK(Z, n, k));
  const [, tReps] = time(() => representatives(X, n, d, labels));
  const madds = (n * (n - 1) * d) / 2;
  console.log(
    `cluster timing n=${n} d=${d}: distances ${tDist.toFixed(0)} ms (${(madds / tDist / 1e6).toFixed(2)} G mult-add/s), ` +
      `linkage ${tLink.toFixed(0)} ms, cut to k=${k} ${tCut.toFixed(1)} ms, representatives ${tReps.toFixed(0)} ms`,
  );
  expect(clusterCount(labels)).toBe(k);
  results.push({ name: `cluster-node-n${n}-d${d}`, distancesMs: tDist, linkageMs: tLink, cutMs: tCut, representativesMs: tReps, gMultAddPerSecond: madds / tDist / 1e6 });
}, 600_000);

/** A random valid dendrogram (scipy layout, sorted heights) without computing any distances. */
function randomLinkage(n: number, seed: number): Float64Array {
  const r = rng(seed);
  const alive = Array.from({ length: n }, (_, i) => i);
  const size = new Int32Array(2 * n - 1).fill(1);
  const Z = new Float64Array(4 * (n - 1));
  for (let m = 0; m < n - 1; m++) {
    const p = Math.floor(r() * alive.length);
    const a = alive[p];
    alive[p] = alive[alive.length - 1];
    alive.pop();
    const q = Math.floor(r() * alive.length);
    const b = alive[q];
    alive[q] = n + m;
    size[n + m] = size[a] + size[b];
    Z.set([Math.min(a, b), Math.max(a, b), m / n, size[n + m]], 4 * m);
  }
  return Z;
}

test.runIf(wanted)('re-cutting a 20,000-item merge tree', () => {
  const n = 20_000;
  const Z = randomLinkage(n, 1);
  const times: number[] = [];
  for (const k of [1, 100, 2000, 10_000, 18_000, 19_999, n]) {
    const [labels, t] = time(() => cutToK(Z, n, k));
    expect(clusterCount(labels)).toBe(k);
    times.push(t);
  }
  for (const h of [0.1, 0.5, 0.9]) times.push(time(() => cutAtHeight(Z, n, h))[1]);
  times.sort((a, b) => a - b);
  console.log(`cluster timing re-cut n=20000: median ${times[times.length >> 1].toFixed(2)} ms, max ${times[times.length - 1].toFixed(2)} ms`);
  results.push({ name: 'recut-n20000', medianMs: times[times.length >> 1], maxMs: times[times.length - 1] });
});
