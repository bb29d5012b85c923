/**
 * The whole CIFAR-10 training set (50,000 JPEGs in 10 class folders) through the built app in
 * Chromium — intake, grouping, review and a zip with every kept image — with the page's and every
 * worker's memory sampled every five seconds over CDP and the renderer's resident size beside it.
 * Shared by the load test (which holds the page's memory to its limit) and the memory-50k bench
 * (which records the same run in bench/results.json); neither repeats the other's 25 minutes.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Manifest } from '../../src/core/manifest.ts';
import { launchBrowser, waitForRunState } from './browser.ts';
import { downloadVia, readZipEntry, unzipList, unzipTest } from './download.ts';
import { extractCifar, tempDir } from './fixtures.ts';
import { chromiumMemory, watchChromiumMemory } from './process-memory.ts';
import { runningStage } from './run-stage.ts';
import { totalOf, watchThreads } from './thread-memory.ts';

const mb = (bytes: number) => Math.round(bytes / 2 ** 20);

const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

export interface Cifar50kRun {
  mode: 'semantic keep 0.9' | 'near, hashes only';
  state: string;
  runSeconds: number;
  stages: Record<'hash' | 'embed' | 'group', { ms: number; workers?: number } | null>;
  /** Per sample: seconds, page JS heap, page heap + its ArrayBuffers, every thread's heap + buffers (MB). */
  samplesMB: [number, number, number, number][];
  /** Peaks in bytes: the page's heap objects, the page's heap with its typed arrays, all threads together. */
  heapPeak: number;
  pagePeak: number;
  threadsPeak: number;
  /**
   * Per stage (the bar running at the time), the 5-second sample where the renderer was largest:
   * its resident size and each thread's JS heap and ArrayBuffers, MB, to show where the memory is.
   */
  peaksByStage: Record<string, { t: number; rendererMB: number; threadsMB: Record<string, { heap: number; buffers: number }> }>;
  /** Resident size: the largest renderer process and all of Chromium's processes together, bytes. */
  rendererPeak: number;
  chromiumPeak: number;
  zip: { ok: boolean; output: string; bytes: number } | null;
  manifest: Manifest | null;
  keptMissingFromZip: string[];
  pageErrors: string[];
  offOrigin: string[];
}

export async function runCifar50k(semantic: boolean): Promise<Cifar50kRun> {
  const root = path.join(await tempDir(), 'cifar50k');
  await extractCifar(root, CLASSES.map((c) => `train/${c}`));
  const harness = await launchBrowser();
  const samples: { t: number; heap: number; page: number; threads: number }[] = [];
  const peaksByStage: Cifar50kRun['peaksByStage'] = {};
  try {
    const { page } = harness;
    const threads = await watchThreads(await page.context().newCDPSession(page));
    // heap: the page's JS heap; page: that plus the page's ArrayBuffers (the n × d embeddings live
    // in those); threads: heap and buffers of the page and every worker together.
    let t0 = performance.now();
    const measure = async () => {
      const [all, stage, resident] = await Promise.all([threads.sample(), runningStage(page), chromiumMemory(harness.userDataDir)]);
      const rendererMB = mb(resident.largest);
      if (rendererMB > (peaksByStage[stage]?.rendererMB ?? -1)) {
        const threadsMB = Object.fromEntries(Object.entries(all).map(([name, m]) => [name, { heap: mb(m.heap), buffers: mb(m.buffers) }]));
        peaksByStage[stage] = { t: Math.round((performance.now() - t0) / 1000), rendererMB, threadsMB };
      }
      return { heap: all.page?.heap ?? 0, page: (all.page?.heap ?? 0) + (all.page?.buffers ?? 0), threads: totalOf(all) };
    };
    const query = semantic ? 'mode=semantic&keep=0.9&backend=wasm&images=1' : 'embeddings=0&images=1';
    await page.goto(`${harness.origin}/?${query}`);
    const memory = watchChromiumMemory(harness.userDataDir, 1000);
    t0 = performance.now();
    await page.locator('[data-testid=folder-input]').setInputFiles(path.join(root, 'train'));
    const sampler = setInterval(() => {
      measure().then((m) => samples.push({ t: (performance.now() - t0) / 1000, ...m }), () => {});
    }, 5000);
    let state: string;
    try {
      state = await waitForRunState(page, ['done', 'error'], 5_400_000);
    } finally {
      clearInterval(sampler);
    }
    const runSeconds = (performance.now() - t0) / 1000;
    samples.push({ t: runSeconds, ...(await measure()) });
    const resident = await memory.stop();
    const stage = async (name: string) => {
      const bar = page.locator(`[data-testid=stage-${name}]`);
      if ((await bar.count()) === 0) return null;
      const workers = await bar.getAttribute('data-workers');
      return { ms: Number(await bar.getAttribute('data-ms')), ...(workers === null ? {} : { workers: Number(workers) }) };
    };
    const stages = { hash: await stage('hash'), embed: await stage('embed'), group: await stage('group') };

    let zip: Cifar50kRun['zip'] = null;
    let manifest: Manifest | null = null;
    let keptMissingFromZip: string[] = [];
    if (state === 'done') {
      const file = await downloadVia(page, '[data-testid=export-zip]', await tempDir(), 1_800_000);
      zip = { ...(await unzipTest(file)), bytes: (await stat(file)).size };
      manifest = JSON.parse((await readZipEntry(file, 'manifest.json')).toString('utf8')) as Manifest;
      const entries = new Set(await unzipList(file));
      keptMissingFromZip = manifest.files.filter((f) => f.status === 'kept' && !entries.has(f.path)).map((f) => f.path);
    }
    return {
      mode: semantic ? 'semantic keep 0.9' : 'near, hashes only',
      state,
      runSeconds,
      stages,
      samplesMB: samples.map((s) => [Math.round(s.t), mb(s.heap), mb(s.page), mb(s.threads)]),
      heapPeak: Math.max(...samples.map((s) => s.heap)),
      pagePeak: Math.max(...samples.map((s) => s.page)),
      threadsPeak: Math.max(...samples.map((s) => s.threads)),
      peaksByStage,
      // The stage samples read the same processes between the watcher's ticks.
      rendererPeak: Math.max(resident.largest, ...Object.values(peaksByStage).map((p) => p.rendererMB * 2 ** 20)),
      chromiumPeak: resident.total,
      zip,
      manifest,
      keptMissingFromZip,
      pageErrors: [...harness.pageErrors],
      offOrigin: [...harness.offOrigin],
    };
  } finally {
    await harness.close();
  }
}

/** One line of figures for the log, in MB and seconds. */
export function summarise(run: Cifar50kRun): Record<string, unknown> {
  return {
    mode: run.mode,
    runSeconds: Math.round(run.runSeconds),
    kept: run.manifest?.summary.kept ?? null,
    zipMB: run.zip ? mb(run.zip.bytes) : null,
    peakHeapMB: mb(run.heapPeak),
    pagePeakMB: mb(run.pagePeak),
    threadsPeakMB: mb(run.threadsPeak),
    rendererPeakMB: mb(run.rendererPeak),
    chromiumPeakMB: mb(run.chromiumPeak),
    stages: run.stages,
    peaksByStage: run.peaksByStage,
  };
}
