/**
 * Offline after the first visit: the service worker precaches the build (shell, workers, wasm, the
 * model, the sample) and answers from that cache, so with the network gone the app still loads,
 * runs the sample to the end with embeddings, and asks nothing of any server. Also: the web app
 * manifest parses and Chromium finds the app installable.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, expect, test } from 'vitest';
import type { Manifest } from '../../src/core/manifest.ts';
import { launchBrowser, waitForRunState, type Harness } from '../support/browser.ts';
import { downloadVia } from '../support/download.ts';
import { removeTempDirs, tempDir } from '../support/fixtures.ts';
import { repoRoot } from '../support/paths.ts';

let harness: Harness | null = null;
afterEach(async () => {
  if (harness) {
    expect(harness.offOrigin, 'requests that tried to leave the origin').toEqual([]);
    expect(harness.pageErrors, 'uncaught page errors').toEqual([]);
    await harness.close();
    harness = null;
  }
});
afterAll(removeTempDirs);

test('after one visit the app loads and runs the sample with the network gone', async () => {
  harness = await launchBrowser();
  const { context, page, origin } = harness;

  await page.goto(origin + '/');
  // The worker registers after load and is active once every file of the build is cached.
  const cached = await page.evaluate(async () => {
    const registration = await navigator.serviceWorker.ready;
    const names = await caches.keys();
    const cache = await caches.open(names.find((n) => n.startsWith('winnow-'))!);
    return { state: registration.active?.state, scope: registration.scope, urls: (await cache.keys()).map((r) => r.url) };
  });
  expect(cached.state).toBe('activated');
  expect(cached.scope).toBe(origin + '/');
  const paths = cached.urls.map((u) => new URL(u).pathname);
  for (const needed of ['/', '/models/registry.json', '/models/mobilenetv2-mid/model.json', '/models/mobilenetv2-mid/weights.bin', '/sample/index.json']) {
    expect(paths, needed).toContain(needed);
  }
  expect(paths.filter((p) => p.endsWith('.wasm')).length).toBeGreaterThanOrEqual(1);
  expect(paths.some((p) => p.endsWith('.map'))).toBe(false);

  // The next navigation is the worker's: it never takes over a page already loaded.
  await page.reload();
  expect(await page.evaluate(() => navigator.serviceWorker.controller?.state)).toBe('activated');

  // Offline twice over: no network in the browser, and any request that still reaches the network
  // layer (one the worker did not answer from its cache) is recorded and refused.
  const reachedNetwork: string[] = [];
  await context.route('**/*', (route) => {
    reachedNetwork.push(route.request().url());
    return route.abort('internetdisconnected');
  });
  await context.setOffline(true);

  const started = performance.now();
  await page.goto(origin + '/?sample=1&backend=wasm');
  expect(await waitForRunState(page, ['done', 'error'], 180_000)).toBe('done');
  console.log(`[offline] sample run with the network gone: ${Math.round(performance.now() - started)} ms`);
  expect(await page.locator('[data-testid=embed-error]').count(), 'the model came from the cache').toBe(0);
  expect(Number(await page.locator('[data-testid=stage-embed]').getAttribute('data-done'))).toBeGreaterThan(0);

  const index = JSON.parse(await readFile(path.join(repoRoot, 'public/sample/index.json'), 'utf8')) as { files: unknown[] };
  const manifest = JSON.parse(await readFile(await downloadVia(page, '[data-testid=export-manifest]', await tempDir()), 'utf8')) as Manifest;
  expect(manifest.files).toHaveLength(index.files.length);
  expect(manifest.files.filter((f) => f.group !== null).length).toBeGreaterThan(0);
  expect(reachedNetwork, 'requests the service worker did not answer').toEqual([]);

  // The control: what the cache cannot answer does reach the guard, so the empty list above means something.
  expect(await page.evaluate(() => fetch('/not-in-the-build.txt').then(() => 'answered', () => 'failed'))).toBe('failed');
  expect(reachedNetwork).toEqual([origin + '/not-in-the-build.txt']);
});

test('the web app manifest parses and Chromium finds the app installable', async () => {
  harness = await launchBrowser();
  const { context, page, origin } = harness;
  await page.goto(origin + '/');
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  const cdp = await context.newCDPSession(page);
  const { url, errors, data } = (await cdp.send('Page.getAppManifest')) as { url: string; errors: unknown[]; data?: string };
  expect(url).toBe(origin + '/manifest.webmanifest');
  expect(errors).toEqual([]);
  expect(JSON.parse(data!)).toMatchObject({ short_name: 'Winnow', display: 'standalone', start_url: './' });
  const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as { installabilityErrors: { errorId: string }[] };
  expect(installabilityErrors.map((e) => e.errorId)).toEqual([]);
});
