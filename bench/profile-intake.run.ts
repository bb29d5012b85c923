/**
 * `BENCH_ONLY=profile-intake npm run bench`: where intake's time goes, per function, in the page and
 * in every worker (V8's sampling profiler through CDP), for one first run of the built app over
 * the near-duplicate benchmark (or 10,000 CIFAR-10 images with PROFILE_CIFAR=1); with
 * PROFILE_CACHED=1, of the cached re-run after an unprofiled first run. Prints the top
 * self times; asserts nothing. Build with `npx vite build --minify false --outDir DIR` and set
 * WINNOW_E2E_DIST=DIR to see function names.
 *
 * This is how the wHash allocation cost (3.5 ms per image in a Chromium worker, 0.5 ms in Node)
 * and the main thread's per-file metadata calls on CIFAR-10 were found. Only run when named: it is
 * a diagnosis, not a benchmark row.
 */
import { afterAll, expect, test } from 'vitest';
import { launchBrowser, waitForRunState } from '../tests/support/browser.ts';
import { NEARDUP_IMAGES, removeTempDirs } from '../tests/support/fixtures.ts';
import { cifarTrain10k } from './support/cifar.ts';
import { workerChannel } from '../tests/support/cdp-workers.ts';

const named = (process.env.BENCH_ONLY ?? '').split(',').includes('profile-intake');
const TOP = 40;

afterAll(removeTempDirs);

interface Profile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

function addSelfTimes(into: Map<string, number>, profile: Profile, prefix: string): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)!.callFrame;
    const key = `${prefix}${frame.functionName || '(anonymous)'} ${frame.url.split('/').pop()}:${frame.lineNumber}`;
    into.set(key, (into.get(key) ?? 0) + (profile.timeDeltas[i + 1] ?? 0) / 1000);
  });
}

test.runIf(named)('profile-intake', async () => {
  const folder = process.env.PROFILE_CIFAR ? await cifarTrain10k() : NEARDUP_IMAGES;
  const harness = await launchBrowser();
  try {
    const client = await harness.context.newCDPSession(harness.page);
    const send = workerChannel(client);
    const workers: string[] = [];
    client.on('Target.attachedToTarget', async (event: { sessionId: string; targetInfo: { type: string } }) => {
      if (event.targetInfo.type !== 'worker') return;
      workers.push(event.sessionId);
      await send(event.sessionId, 'Profiler.enable');
      await send(event.sessionId, 'Profiler.setSamplingInterval', { interval: 200 });
      await send(event.sessionId, 'Profiler.start');
      await send(event.sessionId, 'Runtime.runIfWaitingForDebugger');
    });
    if (process.env.PROFILE_CACHED) {
      await harness.page.goto(harness.origin + '/?embeddings=0');
      await harness.page.locator('[data-testid=folder-input]').setInputFiles(folder);
      expect(await waitForRunState(harness.page, ['done', 'error'], 600_000)).toBe('done');
    }
    await harness.page.goto(harness.origin + '/?embeddings=0');
    await client.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: true, flatten: false });
    await client.send('Profiler.enable');
    await client.send('Profiler.setSamplingInterval', { interval: 500 });
    await client.send('Profiler.start');
    const t0 = performance.now();
    await harness.page.locator('[data-testid=folder-input]').setInputFiles(folder);
    expect(await waitForRunState(harness.page, ['done', 'error'], 600_000)).toBe('done');
    const seconds = (performance.now() - t0) / 1000;

    const self = new Map<string, number>();
    addSelfTimes(self, (await client.send('Profiler.stop')).profile as Profile, 'page   ');
    for (const session of workers) {
      const result = (await send(session, 'Profiler.stop')) as { profile?: Profile };
      if (result.profile) addSelfTimes(self, result.profile, 'worker ');
    }
    const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, TOP);
    console.log(`intake of ${folder}: ${seconds.toFixed(2)} s; self time (ms) summed over ${workers.length} workers and the page:`);
    for (const [key, ms] of rows) console.log(`${ms.toFixed(0).padStart(7)}  ${key}`);
  } finally {
    await harness.close();
  }
}, 900_000);
