/**
 * A real folder drop. Playwright's own `drop({files})` gives flat File objects only; a drop through
 * CDP's `Input.dispatchDragEvent` with a directory path gives the page real directory entries
 * (`DataTransferItem.webkitGetAsEntry()` / `getAsFileSystemHandle()`), as a user's drop from a file
 * manager does.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';

/**
 * Drops `absDir` (or several paths; files work too) onto the centre of the element `selector` matches:
 * dragEnter, dragOver, drop, with the mouse moved there first.
 */
export async function dropFolder(page: Page, selector: string, absDir: string | string[]): Promise<void> {
  const paths = Array.isArray(absDir) ? absDir : [absDir];
  for (const p of paths) {
    if (!path.isAbsolute(p)) throw new Error(`dropFolder: path must be absolute: ${p}`);
    statSync(p); // throws ENOENT early, instead of a drop that silently carries nothing
  }

  const target = page.locator(selector).first();
  await target.waitFor({ state: 'visible' });
  await target.scrollIntoViewIfNeeded();
  const box = await target.boundingBox();
  if (!box) throw new Error(`dropFolder: ${selector} has no box`);
  // boundingBox() is in CSS pixels relative to the main frame's viewport, as the CDP event wants.
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;

  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('Input.dispatchMouseEvent', { type: 'mouseMoved', x, y });
    const data = { items: [], files: paths, dragOperationsMask: 1 };
    for (const type of ['dragEnter', 'dragOver', 'drop'] as const) {
      await cdp.send('Input.dispatchDragEvent', { type, x, y, data });
    }
  } finally {
    await cdp.detach();
  }
}
