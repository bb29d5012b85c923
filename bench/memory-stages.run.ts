/**
 * Opt-in (BENCH_ONLY=memory-stages): where a semantic run's memory goes. Two CIFAR-10 classes
 * (MEMORY_PER_CLASS training images each, 5,000 by default: the class size of the 50,000-image
 * load test) through the built app in Chromium on wasm, keep 0.9: a first run (hash, embed,
 * cluster), then a reload and the same folder again (hashes and embeddings from the store, so
 * the clustering is seen without the embedding before it). The renderer's resident memory is
 * sampled every half second with the stage running at the time, and beside it each thread's JS
 * heap and ArrayBuffer backing stores (typed arrays, wasm memory) over CDP: the page's and every
 * worker's by name. The peak per stage is what to read. Writes bench/results-memory-stages.json.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import type { CDPSession, Page } from 'playwright-core';
import { launchBrowser, waitForRunState } from '../tests/support/browser.ts';
import { cifarTrainClasses, removeTempDirs } from '../tests/support/fixtures.ts';
import { repoRoot } from '../tests/support/paths.ts';
import { chromiumMemory } from '../tests/support/process-memory.ts';
import { workerChannel, type WorkerSend } from './support/cdp-workers.ts';

const only = process.env.BENCH_ONLY?.split(',').filter(Boolean) ?? [];
const PER_CLASS = Number(process.env.MEMORY_PER_CLASS ?? 5000);

afterAll(removeTempDirs);

/** The stage whose bar is present and unfinished, latest first; 'idle' when none is. */
async function runningStage(page: Page): Promise<string> {
  return page
    .evaluate(() => {
      const bars = [...document.querySelectorAll<HTMLElement>('[data-testid^=stage-]')].filter((b) => b.dataset.total !== undefined);
      const open = bars.filter((b) => b.dataset.ms === undefined);
      return open.length > 0 ? open[open.length - 1].dataset.testid!.slice('stage-'.length) : 'idle';
    })
    .catch(() => 'busy');
}

interface Sample {
  t: number;
  stage: string;
  /** Renderer resident, MB. */
  mb: number;
  /** Per thread ('page', or a worker's name and number): JS heap used + backing stores, MB. */
  threads: Record<string, { heap: number; buffers: number }>;
}

interface HeapUsage {
  usedSize: number;
  backingStorageSize?: number;
}

/** Every worker the page starts, attached as it starts, with a name that says which it is. */
function watchWorkers(client: CDPSession, send: WorkerSend) {
  const live = new Map<string, string>();
  let count = 0;
  client.on('Target.attachedToTarget', (event: { sessionId: string; targetInfo: { type: string; title: string; url: string } }) => {
    if (event.targetInfo.type !== 'worker') return;
    const name = event.targetInfo.title || event.targetInfo.url.split('/').pop() || 'worker';
    live.set(event.sessionId, `${name}#${++count}`);
    void send(event.sessionId, 'Runtime.runIfWaitingForDebugger');
  });
  client.on('Target.detachedFromTarget', (event: { sessionId: string }) => live.delete(event.sessionId));
  return live;
}

const mb = (bytes: number) => Math.round(bytes / 2 ** 20);

async function threadMemory(client: CDPSession, send: WorkerSend, workers: Map<string, string>): Promise<Sample['threads']> {
  const out: Sample['threads'] = {};
  const record = (name: string, usage: HeapUsage | undefined) => {
    if (usage?.usedSize !== undefined) out[name] = { heap: mb(usage.usedSize), buffers: mb(usage.backingStorageSize ?? 0) };
  };
  record('page', (await client.send('Runtime.getHeapUsage').catch(() => undefined)) as HeapUsage | undefined);
  await Promise.all([...workers].map(async ([session, name]) => record(name, (await send(session, 'Runtime.getHeapUsage')) as HeapUsage | undefined)));
  return out;
}

async function sampledRun(
  page: Page,
  userDataDir: string,
  dir: string,
  threads: () => Promise<Sample['threads']>,
  collectGarbage: () => Promise<void>,
): Promise<{ seconds: number; peaks: Record<string, Sample>; samples: Sample[] }> {
  const samples: Sample[] = [];
  const t0 = performance.now();
  let stop = false;
  const sampler = (async () => {
    while (!stop) {
      const [stage, mem, perThread] = await Promise.all([runningStage(page), chromiumMemory(userDataDir), threads()]);
      samples.push({ t: Math.round((performance.now() - t0) / 100) / 10, stage, mb: mb(mem.largest), threads: perThread });
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  await page.locator('[data-testid=folder-input]').setInputFiles(dir);
  const state = await waitForRunState(page, ['done', 'error'], 3_000_000);
  await new Promise((r) => setTimeout(r, 3000)); // what stays once the run has settled
  stop = true;
  await sampler;
  expect(state).toBe('done');
  // Per stage, the sample where the renderer was largest, with its threads: where that memory was.
  const peaks: Record<string, Sample> = {};
  for (const s of samples) if (s.mb > (peaks[s.stage]?.mb ?? -1)) peaks[s.stage] = s;
  peaks.settled = samples[samples.length - 1];
  // What of that is live: a full collection in the page and every worker, then one more sample.
  await collectGarbage();
  const [mem, perThread] = await Promise.all([chromiumMemory(userDataDir), threads()]);
  peaks.afterGc = { t: Math.round((performance.now() - t0) / 100) / 10, stage: 'idle', mb: mb(mem.largest), threads: perThread };
  return { seconds: Math.round((performance.now() - t0) / 100) / 10, peaks, samples };
}

test.runIf(only.includes('memory-stages'))('memory-stages: renderer resident memory per stage of a semantic run', async () => {
  const dir = await cifarTrainClasses(['cat', 'dog'], PER_CLASS);
  const harness = await launchBrowser();
  try {
    const { page } = harness;
    const url = `${harness.origin}/?mode=semantic&keep=0.9&backend=wasm`;
    const client = await harness.context.newCDPSession(page);
    const send = workerChannel(client);
    const workers = watchWorkers(client, send);
    const threads = () => threadMemory(client, send, workers);
    const collectGarbage = async () => {
      await client.send('HeapProfiler.collectGarbage');
      await Promise.all([...workers.keys()].map((session) => send(session, 'HeapProfiler.collectGarbage')));
    };
    await client.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: true, flatten: false });
    await page.goto(url);
    const first = await sampledRun(page, harness.userDataDir, dir, threads, collectGarbage);
    await page.reload();
    const cached = await sampledRun(page, harness.userDataDir, dir, threads, collectGarbage);
    const out = { files: 2 * PER_CLASS, first: { seconds: first.seconds, peaks: first.peaks }, cached: { seconds: cached.seconds, peaks: cached.peaks }, samples: { first: first.samples, cached: cached.samples } };
    await writeFile(path.join(repoRoot, 'bench/results-memory-stages.json'), JSON.stringify(out, null, 1) + '\n');
    console.log(JSON.stringify({ files: out.files, first: out.first, cached: out.cached }, null, 1));
  } finally {
    await harness.close();
  }
});
