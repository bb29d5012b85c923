import type { Page } from 'playwright-core';

/** The stage whose bar is present and unfinished, latest first; 'idle' when none is. */
export async function runningStage(page: Page): Promise<string> {
  return page
    .evaluate(() => {
      const bars = [...document.querySelectorAll<HTMLElement>('[data-testid^=stage-]')].filter((b) => b.dataset.total !== undefined);
      const open = bars.filter((b) => b.dataset.ms === undefined);
      return open.length > 0 ? open[open.length - 1].dataset.testid!.slice('stage-'.length) : 'idle';
    })
    .catch(() => 'busy');
}
