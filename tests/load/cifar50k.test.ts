/**
 * `npm run test:load`: the whole CIFAR-10 training set (50,000 JPEGs in 10 class folders) through
 * the built app in Chromium — intake, grouping, review, and a zip with every kept image — checking
 * that the tab survives with the page's JS memory (heap objects and typed arrays) below 1.5 GB,
 * sampled every few seconds with every worker's beside it and the renderer's resident memory
 * recorded, and that the zip streams to disk and passes `unzip -t`. Hashes only by default
 * (a few minutes here); LOAD_MODE=semantic runs the embedding and per-class clustering at keep
 * 0.9 too (about 25 minutes on 2 cores with wasm), which is where the 45,000 kept images come from.
 * The same run as a benchmark row: `BENCH_ONLY=memory-50k npm run bench` (bench/memory-50k.run.ts).
 */
import { afterAll, expect, test } from 'vitest';
import { runCifar50k, summarise } from '../support/cifar50k-run.ts';
import { removeTempDirs } from '../support/fixtures.ts';

afterAll(removeTempDirs);

const SEMANTIC = process.env.LOAD_MODE === 'semantic';
const HEAP_LIMIT = 1.5 * 2 ** 30;

test('50,000 CIFAR-10 images run to done, the heap stays bounded, and the zip of every kept image passes unzip -t', async () => {
  const run = await runCifar50k(SEMANTIC);
  console.log(JSON.stringify({ ...summarise(run), heapMB: run.samplesMB }));
  expect(run.state).toBe('done');
  expect(run.zip?.ok, run.zip?.output.slice(-2000)).toBe(true);
  const manifest = run.manifest!;
  expect(manifest.files).toHaveLength(50_000);
  expect(manifest.summary.kept + manifest.summary.removed + manifest.summary.skipped).toBe(50_000);
  expect(run.keptMissingFromZip).toEqual([]);
  if (SEMANTIC) expect(manifest.summary.kept).toBe(45_000);
  // The page's JS memory with its typed arrays, not just the heap objects.
  expect(run.pagePeak).toBeLessThan(HEAP_LIMIT);
  // The renderer's resident size (page, every worker, wasm memories and code, the allocator's
  // slack) is recorded above, not held to the limit: in semantic mode it is above it (README, memory-50k).
  expect(run.pageErrors).toEqual([]);
  expect(run.offOrigin).toEqual([]);
});
