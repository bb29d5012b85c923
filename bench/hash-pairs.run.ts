/**
 * Near-duplicate hash pairs at scale, in Node (V8, as in the browser worker that runs them). A
 * benchmark, not a test: times are written, never asserted, because these machines are shared;
 * what is asserted is that every planted pair is found.
 *
 * hash-pairs-1m: 1,000,000 random 64-bit hashes with 1,000 planted pairs at distance 1..12, all
 * pairs within 12 by multi-index hashing. The peer is the brute-force scan, timed on the first
 * 20,000 hashes and scaled by the number of pairs to 1,000,000 (run for real it would take about
 * half an hour). Variants: with mirrored hashes (three distances per pair), and with the
 * JavaScript comparison loop that stands in where WebAssembly is unavailable.
 * Writes bench/results-hash-pairs.json (rows as in bench/support/results.ts: ratio > 1 is better).
 */
import { writeFile } from 'node:fs/promises';
import { recordResults, type BenchResult } from './support/results.ts';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { multiIndexNearPairsWith, multiIndexPlan, type MihKernel } from '../src/core/pairs-mih.ts';
import { bruteForceNearPairs, type NearPair } from '../src/core/pairs.ts';
import { repoRoot } from '../tests/support/paths.ts';
import { rng } from '../tests/unit/rng.ts';

const only = process.env.BENCH_ONLY?.split(',').filter(Boolean) ?? [];
const wanted = (name: string) => only.length === 0 || only.some((o) => name.startsWith(o));
const results: Record<string, unknown>[] = [];

afterAll(async () => {
  if (results.length === 0) return;
  const cpus = os.cpus();
  const machine = { cores: cpus.length, cpu: cpus[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version };
  const out = { machine, results };
  await writeFile(path.join(repoRoot, 'bench/results-hash-pairs.json'), JSON.stringify(out, null, 2) + '\n');
  await recordResults(results as BenchResult[]);
  console.log(JSON.stringify(out, null, 2));
});

const N = 1_000_000;
const PLANTED = 1000;
const T = 12;
const PEER_N = 20_000;

/**
 * Random hashes and mirrors; then PLANTED disjoint pairs (a, b) with b = a with d = 1..12
 * distinct random bits flipped.
 */
function plantedHashes(seed: number) {
  const r = rng(seed);
  const word = () => Math.floor(r() * 0x100000000);
  const table = Uint32Array.from({ length: 2 * N }, word);
  const mirrored = Uint32Array.from({ length: 2 * N }, word);
  const order = Int32Array.from({ length: N }, (_, i) => i);
  const planted: NearPair[] = [];
  for (let k = 0; k < PLANTED; k++) {
    for (const i of [2 * k, 2 * k + 1]) {
      const j = i + Math.floor(r() * (N - i));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const a = Math.min(order[2 * k], order[2 * k + 1]);
    const b = Math.max(order[2 * k], order[2 * k + 1]);
    const d = 1 + (k % T);
    const bits = new Set<number>();
    while (bits.size < d) bits.add(Math.floor(r() * 64));
    let hi = table[2 * a];
    let lo = table[2 * a + 1];
    for (const bit of bits) {
      if (bit < 32) hi ^= 1 << bit;
      else lo ^= 1 << (bit - 32);
    }
    table[2 * b] = hi >>> 0;
    table[2 * b + 1] = lo >>> 0;
    planted.push({ a, b, d });
  }
  return { table, mirrored, planted };
}

function seconds<T>(f: () => T): [T, number] {
  const t0 = performance.now();
  const out = f();
  return [out, (performance.now() - t0) / 1000];
}

/** Brute force on the first PEER_N hashes, scaled by pair count to N. */
function bruteForceExtrapolated(table: Uint32Array, mirrored: Uint32Array | null) {
  const first = (k: number) => [table.subarray(0, 2 * k), mirrored ? mirrored.subarray(0, 2 * k) : null] as const;
  bruteForceNearPairs(...first(2000), T); // warm-up: let the scan be optimised before it is timed
  const [, measured] = seconds(() => bruteForceNearPairs(...first(PEER_N), T));
  return { seconds: (measured * N * (N - 1)) / (PEER_N * (PEER_N - 1)), measured };
}

let inputs: ReturnType<typeof plantedHashes> | null = null;
const input = () => (inputs ??= plantedHashes(2026));

function run(name: string, kernel: MihKernel, withMirrors: boolean) {
  const { table, mirrored, planted } = input();
  const m = withMirrors ? mirrored : null;
  const [pairs, ours] = seconds(() => multiIndexNearPairsWith({ kernel })(table, m, T));
  const found = new Map(pairs.map((p) => [p.a * N + p.b, p.d]));
  const missed = planted.filter((p) => !(found.get(p.a * N + p.b)! <= p.d));
  const peer = bruteForceExtrapolated(table, m);
  const plan = multiIndexPlan(N, T, withMirrors, kernel);
  console.log(`${name}: ${ours.toFixed(2)} s, ${pairs.length} pairs, brute force ≈ ${peer.seconds.toFixed(0)} s`);
  results.push({
    name,
    ours,
    peer: peer.seconds,
    peer_name:
      `brute-force scan (bruteForceNearPairs), timed on ${PEER_N.toLocaleString('en')} hashes ` +
      `(${peer.measured.toFixed(2)} s) and scaled by pair count to ${N.toLocaleString('en')}`,
    ratio: peer.seconds / ours,
    unit: 'seconds',
    n: N,
    threshold: T,
    mirrors: withMirrors,
    kernel,
    pairs: pairs.length,
    planted: planted.length,
    plantedFound: planted.length - missed.length,
    blocks: plan.blocks,
    estimatedSeconds: plan.estimatedMs / 1000,
  });
  expect(missed).toEqual([]);
}

test.runIf(wanted('hash-pairs-1m'))('hash-pairs-1m', () => run('hash-pairs-1m', 'wasm', false));

test.runIf(wanted('hash-pairs-1m-mirrored'))('hash-pairs-1m-mirrored', () =>
  run('hash-pairs-1m-mirrored', 'wasm', true),
);

test.runIf(wanted('hash-pairs-1m-js'))('hash-pairs-1m-js', () => run('hash-pairs-1m-js', 'js', false));
