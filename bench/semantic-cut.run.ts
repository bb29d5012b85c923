/**
 * `npx vitest run --project bench bench/semantic-cut.run.ts`: how long a semantic re-cut takes at
 * 20,000 images (the slider's cost once the classes are clustered), and the one-off clustering
 * beside it. Writes bench/results-semantic-cut.json (bench/results.json belongs to intake.run.ts, which
 * rewrites it whole). Nothing timed is asserted — shared machines are noisy — but every cut is
 * checked to keep the count it promised, so a fast wrong answer cannot pass for a result.
 *
 * Embeddings are synthetic blobs in d = 1792 (MobileNetV2's width at 1.4×): the cut's cost depends
 * on n, d and the cluster sizes, not on where the vectors came from. BENCH_ONLY=semantic-cut-20x1000
 * skips the larger shape, whose clustering alone takes minutes on two cores.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { keepCount } from '../src/core/cluster/index.ts';
import { clusterClasses, semanticCut, type SemanticCutOptions } from '../src/core/semantic.ts';
import { blobs } from '../tests/unit/cluster/support.ts';
import { repoRoot } from '../tests/support/paths.ts';

const only = process.env.BENCH_ONLY?.split(',').filter(Boolean) ?? [];
const wanted = (name: string) => only.length === 0 || only.some((o) => name.startsWith(o));
const results: Record<string, unknown>[] = [];

afterAll(async () => {
  if (results.length === 0) return;
  const out = { machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version }, results };
  await mkdir(path.join(repoRoot, 'bench'), { recursive: true });
  await writeFile(path.join(repoRoot, 'bench/results-semantic-cut.json'), JSON.stringify(out, null, 2) + '\n');
  console.log(JSON.stringify(out, null, 2));
});

const CUTS: SemanticCutOptions[] = [
  { keep: 0.9 },
  { keep: 0.5 },
  { keep: 0.99 },
  { keep: 0.1 },
  { keep: 1 },
  { keep: 0.9, keepByClass: { c0: 0.5 } },
  { threshold: 0.02 },
  { threshold: 0.1 },
  { threshold: 0.3 },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

async function bench(name: string, classCount: number, perClass: number, d: number): Promise<void> {
  const classes = Array.from({ length: classCount }, (_, c) => ({
    label: `c${c}`,
    ids: Array.from({ length: perClass }, (_, i) => c * perClass + i),
    // Many small blobs, so a 90% cut has real groups of several sizes.
    vectors: blobs(100 + c, perClass, d, Math.max(2, Math.floor(perClass / 20))),
  }));
  const t0 = performance.now();
  const model = clusterClasses(classes, d);
  const clusterSeconds = (performance.now() - t0) / 1000;

  semanticCut(model, { keep: 0.9 }); // warm-up: the first call also compiles
  const cutMs: number[] = [];
  const cloneMs: number[] = [];
  const rows: Record<string, unknown>[] = [];
  for (const options of CUTS) {
    const t1 = performance.now();
    const cut = semanticCut(model, options);
    const ms = performance.now() - t1;
    // The worker hands the result to the page by structured clone: that is part of a slider move.
    const t2 = performance.now();
    structuredClone(cut);
    const clone = performance.now() - t2;
    cutMs.push(ms);
    cloneMs.push(clone);
    if ('keep' in options) {
      for (const st of cut.classStats) expect(st.k).toBe(keepCount(perClass, options.keepByClass?.[st.label] ?? options.keep));
    }
    rows.push({ options, ms, cloneMs: clone, groups: cut.groups.length, removed: cut.overall.removed, meanDissimilarity: cut.overall.meanDissimilarity });
  }
  const n = classCount * perClass;
  results.push({
    name,
    n,
    classes: classCount,
    d,
    clusterSeconds,
    cutMedianMs: median(cutMs),
    cutMaxMs: Math.max(...cutMs),
    cloneMedianMs: median(cloneMs),
    cloneMaxMs: Math.max(...cloneMs),
    cuts: rows,
  });
}

test.runIf(wanted('semantic-cut-20x1000'))('semantic-cut-20x1000', async () => {
  await bench('semantic-cut-20x1000', 20, 1000, 1792);
});

test.runIf(wanted('semantic-cut-2x10000'))('semantic-cut-2x10000', async () => {
  await bench('semantic-cut-2x10000', 2, 10_000, 1792);
});
