/**
 * The shipped embedding model in its worker, in real Chromium: served from our origin, checked by
 * SHA-256 before tfjs sees it, on the backend the URL asks for; a damaged file is refused clearly.
 */
import { afterEach, expect, test } from 'vitest';
import { launchBrowser, type Harness } from '../support/browser.ts';

let harness: Harness | null = null;
afterEach(async () => {
  if (harness) {
    expect(harness.offOrigin, 'requests that tried to leave the origin').toEqual([]);
    await harness.close();
    harness = null;
  }
});

test('the default model loads in its worker on the forced wasm backend, from our own origin', async () => {
  harness = await launchBrowser();
  const { page } = harness;
  await page.goto(harness.origin + '/?backend=wasm');
  await page.locator('details.model > summary').click();
  await page.locator('[data-testid=model-check]').click();
  const info = page.locator('[data-testid=model-info]');
  await info.waitFor({ timeout: 120_000 });
  expect(await info.getAttribute('data-backend')).toBe('wasm');
  expect(await info.getAttribute('data-dim')).toBe('1792');
  expect(harness.pageErrors).toEqual([]);
});

test('a damaged weights file is refused by its SHA-256 with a clear message, and the page goes on', async () => {
  harness = await launchBrowser();
  const { page } = harness;
  await page.route('**/models/mobilenetv2-mid/weights.bin', async (route) => {
    const response = await route.fetch();
    const body = Buffer.from(await response.body());
    body[body.length >> 1] ^= 0xff;
    await route.fulfill({ response, body });
  });
  await page.goto(harness.origin + '/?backend=wasm');
  await page.locator('details.model > summary').click();
  await page.locator('[data-testid=model-check]').click();
  const error = page.locator('[data-testid=model-error]');
  await error.waitFor({ timeout: 120_000 });
  expect(await error.textContent()).toMatch(/weights\.bin is damaged: SHA-256 mismatch/);
  expect(await page.locator('[data-testid=run-state]').textContent()).toBe('idle');
});
