/**
 * Coalesces bursts of calls (one per finished file) into a few UI updates a second. A timer rather
 * than requestAnimationFrame, because a run in a background tab must still reach its end state.
 */
export function throttled(fn: () => void, ms = 80): { schedule: () => void; flush: () => void } {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const run = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    fn();
  };
  return {
    schedule() {
      if (timer === null) timer = setTimeout(run, ms);
    },
    flush: run,
  };
}
