/**
 * Cancellation and progress hooks shared by the long-running clustering steps (distances,
 * linkage). They are plain callbacks rather than an AbortSignal so that the module stays free of
 * DOM types and works the same in Node, in a worker and in tests.
 */
export interface ProgressOptions {
  /** Polled every few million units of work (a few milliseconds); returning true aborts. */
  shouldStop?: () => boolean;
  /** Called at the same cadence and once at the end, with done ≤ total. */
  onProgress?: (done: number, total: number) => void;
}

/** Thrown when `shouldStop()` returned true. */
export class ClusterCancelledError extends Error {
  constructor() {
    super('clustering cancelled');
    this.name = 'ClusterCancelledError';
  }
}

/** Units of work (multiply-adds or matrix reads) between two polls. */
export const POLL_WORK = 1 << 22;
