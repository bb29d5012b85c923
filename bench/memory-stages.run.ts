/**
 * Opt-in (BENCH_ONLY=memory-stages): where a semantic run's memory goes. Two CIFAR-10 classes
 * (MEMORY_PER_CLASS training images each, 5,000 by default: the class size of the 50,000-image
 * load test) through the built app in Chromium on wasm, keep 0.9: a first run (hash, embed,
 * cluster), then a reload and the same folder again (hashes and embeddings from the store, so
 * the clustering is seen without the embedding before it). The renderer's resident memory is
 * sampled every half second with the stage running at the time, and beside it each thread's JS
 * heap and ArrayBuffer backing stores (typed arrays, wasm memories): the page's and every
 * worker's by name. Per stage, the sample where the renderer was largest is what to read; after
 * each run a full collection shows what of it was live. Writes bench/results-memory-stages.json.
 *
 * Read the page's buffer figure with care: after a full collection it still said 146 MB at
 * 2 × 5,000 (twice the 72 MB of raw vectors), and at 2 × 1,000 31 MB where a heap snapshot taken
 * at the same moment held one 14 MB buffer (the raw vectors) and nothing else above 1 MB; V8's
 * backing-store count seems to keep buffers transferred to a worker. The workers' figures did
 * drop to their live arrays (the cluster worker: 336 → 71 MB, its classes' vectors).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, expect, test } from 'vitest';
import { launchBrowser, waitForRunState } from '../tests/support/browser.ts';
import { cifarTrainClasses, removeTempDirs } from '../tests/support/fixtures.ts';
import { repoRoot } from '../tests/support/paths.ts';
import { chromiumMemory } from '../tests/support/process-memory.ts';
import { runningStage } from '../tests/support/run-stage.ts';
import { watchThreads, type ThreadWatch } from '../tests/support/thread-memory.ts';

const only = process.env.BENCH_ONLY?.split(',').filter(Boolean) ?? [];
const PER_CLASS = Number(process.env.MEMORY_PER_CLASS ?? 5000);

afterAll(removeTempDirs);

interface Sample {
  t: number;
  stage: string;
  /** Renderer resident, MB. */
  mb: number;
  /** Per thread: JS heap used and ArrayBuffer backing stores, MB. */
  threads: Record<string, { heap: number; buffers: number }>;
}

const mb = (bytes: number) => Math.round(bytes / 2 ** 20);

async function sample(t0: number, stage: string, userDataDir: string, threads: ThreadWatch): Promise<Sample> {
  const [mem, perThread] = await Promise.all([chromiumMemory(userDataDir), threads.sample()]);
  return {
    t: Math.round((performance.now() - t0) / 100) / 10,
    stage,
    mb: mb(mem.largest),
    threads: Object.fromEntries(Object.entries(perThread).map(([name, m]) => [name, { heap: mb(m.heap), buffers: mb(m.buffers) }])),
  };
}

async function sampledRun(page: Page, userDataDir: string, dir: string, threads: ThreadWatch) {
  const samples: Sample[] = [];
  const t0 = performance.now();
  let stop = false;
  const sampler = (async () => {
    while (!stop) {
      samples.push(await sample(t0, await runningStage(page), userDataDir, threads));
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  await page.locator('[data-testid=folder-input]').setInputFiles(dir);
  const state = await waitForRunState(page, ['done', 'error'], 3_000_000);
  await new Promise((r) => setTimeout(r, 3000)); // what stays once the run has settled
  stop = true;
  await sampler;
  expect(state).toBe('done');
  const peaks: Record<string, Sample> = {};
  for (const s of samples) if (s.mb > (peaks[s.stage]?.mb ?? -1)) peaks[s.stage] = s;
  peaks.settled = samples[samples.length - 1];
  await threads.collectGarbage();
  peaks.afterGc = await sample(t0, 'idle', userDataDir, threads);
  return { seconds: Math.round((performance.now() - t0) / 100) / 10, peaks, samples };
}

test.runIf(only.includes('memory-stages'))('memory-stages: renderer resident memory per stage of a semantic run', async () => {
  const dir = await cifarTrainClasses(['cat', 'dog'], PER_CLASS);
  const harness = await launchBrowser();
  try {
    const { page } = harness;
    const threads = await watchThreads(await harness.context.newCDPSession(page));
    await page.goto(`${harness.origin}/?mode=semantic&keep=0.9&backend=wasm`);
    const first = await sampledRun(page, harness.userDataDir, dir, threads);
    await page.reload();
    const cached = await sampledRun(page, harness.userDataDir, dir, threads);
    const out = { files: 2 * PER_CLASS, first: { seconds: first.seconds, peaks: first.peaks }, cached: { seconds: cached.seconds, peaks: cached.peaks }, samples: { first: first.samples, cached: cached.samples } };
    await writeFile(path.join(repoRoot, 'bench/results-memory-stages.json'), JSON.stringify(out, null, 1) + '\n');
    console.log(JSON.stringify({ files: out.files, first: out.first, cached: out.cached }, null, 1));
  } finally {
    await harness.close();
  }
});
