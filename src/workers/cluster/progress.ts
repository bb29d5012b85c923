/**
 * Progress crosses to the page as a message per call, and the clustering polls every few
 * milliseconds: this many ms between two reports keeps the page's queue short.
 */
export const PROGRESS_EVERY_MS = 100;
/**
 * A report also passes when the bar has moved this fraction of the total since the last one: on
 * a fast machine a whole class can finish inside one interval, and a bar that jumps from class to
 * class hides where the time goes. Fifty steps at most keep the queue short all the same.
 */
export const PROGRESS_EVERY_FRACTION = 0.02;

/**
 * A throttled progress reporter (see PROGRESS_EVERY_MS and PROGRESS_EVERY_FRACTION); the last
 * report (done = total) always passes.
 */
export function throttle<P extends { done: number; total: number }>(onProgress?: (p: P) => void): ((p: P) => void) | undefined {
  if (!onProgress) return undefined;
  const due = progressGate();
  return (p) => {
    if (due(p.done, p.total)) void onProgress(p);
  };
}

/** Whether a report at done/total should pass now; it records the pass when it says yes. */
export function progressGate(): (done: number, total: number) => boolean {
  let lastAt = -Infinity;
  let lastDone = -Infinity;
  return (done, total) => {
    const now = performance.now();
    const moved = total > 0 && done - lastDone >= PROGRESS_EVERY_FRACTION * total;
    if (done < total && now - lastAt < PROGRESS_EVERY_MS && !moved) return false;
    lastAt = now;
    lastDone = done;
    return true;
  };
}
