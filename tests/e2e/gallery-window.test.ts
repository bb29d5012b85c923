/**
 * A big review stays light: above a few dozen groups only the cards near the viewport are in the
 * DOM (and so only their thumbnails decoded), scrolling brings the others in, and a large group
 * draws its first images until asked for all.
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, expect, test } from 'vitest';
import { launchBrowser, waitForRunState } from '../support/browser.ts';
import { removeTempDirs, tempDir } from '../support/fixtures.ts';
import { rng } from '../unit/rng.ts';

afterAll(removeTempDirs);

const PAIRS = 300;
const BIG_GROUP = 40;

function noisePng(seed: number): Buffer {
  const r = rng(seed);
  const png = new PNG({ width: 24, height: 24 });
  for (let i = 0; i < png.data.length; i++) png.data[i] = (i & 3) === 3 ? 255 : Math.floor(r() * 256);
  return PNG.sync.write(png);
}

test('hundreds of groups are windowed, scrolling renders the rest, and a big group shows 24 images until asked', async () => {
  const root = path.join(await tempDir(), 'many-groups');
  await mkdir(root, { recursive: true });
  for (let i = 0; i < PAIRS; i++) {
    const name = `img${String(i).padStart(3, '0')}`;
    await writeFile(path.join(root, `${name}.png`), noisePng(i + 1));
    await copyFile(path.join(root, `${name}.png`), path.join(root, `${name}_copy.png`));
  }
  await writeFile(path.join(root, 'big.png'), noisePng(9999));
  for (let i = 0; i < BIG_GROUP - 1; i++) await copyFile(path.join(root, 'big.png'), path.join(root, `big_${i}.png`));

  const harness = await launchBrowser();
  try {
    const { page } = harness;
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${harness.origin}/?mode=exact`);
    await page.locator('[data-testid=folder-input]').setInputFiles(root);
    expect(await waitForRunState(page, ['done', 'error'], 180_000)).toBe('done');
    const windowed = page.locator('[data-testid=group-window]');
    expect(await windowed.getAttribute('data-groups')).toBe(String(PAIRS + 1));
    const rendered = await page.locator('[data-testid=group]').count();
    expect(rendered).toBeGreaterThan(0);
    expect(rendered).toBeLessThan(60);

    // The largest group comes first and draws 24 of its 40 images until asked.
    const big = page.locator('[data-testid=group]').first();
    expect(await big.locator('[data-testid=member]').count()).toBe(24);
    await big.locator('[data-testid=show-all-members]').click();
    expect(await big.locator('[data-testid=member]').count()).toBe(BIG_GROUP);

    // Scroll to the end: the last group (largest first, then by keeper path) gets drawn.
    for (let i = 0; i < 40; i++) {
      await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
      if (await page.locator('[data-testid=member][data-path="img299.png"]').count()) break;
      await page.waitForTimeout(100);
    }
    expect(await page.locator('[data-testid=member][data-path="img299.png"]').count()).toBe(1);
    expect(await page.locator('[data-testid=group]').count()).toBeLessThan(80);
    expect(harness.pageErrors).toEqual([]);
  } finally {
    await harness.close();
  }
});
