import { proxy, wrap, type Remote } from 'comlink';
import { WorkerCrashedError } from '../pool.ts';
import type { LoadItem, LoadResult, TimeStepsRequest, TrainAndTestRequest, TrainOutcome, TrainProgress, TrainRequest, TrainWorkerApi } from './train.worker.ts';

export type { LoadItem, LoadResult, TimeStepsRequest, TrainAndTestRequest, TrainOutcome, TrainProgress, TrainRequest } from './train.worker.ts';
export type { EpochStats, TrainSettings } from '../../ml/train/settings.ts';

/**
 * The training worker, one per client, started on first use. It keeps the decoded images between
 * calls, so load() once and then train, time or run the experiment as often as needed.
 *
 * Two ways to stop: cancel() asks the run to stop after its current step, and train() then
 * resolves with status 'cancelled' (its last epoch checkpoint kept). Aborting a call's signal
 * terminates the worker at once and rejects with the signal's reason; checkpoints are written
 * whole at epoch ends, so that loses at most the epoch in progress, but it also drops the decoded
 * images: the next call starts a fresh worker that needs load() again.
 */
export class TrainingClient {
  private worker: Worker | null = null;
  private remote: Remote<TrainWorkerApi> | null = null;
  /** Rejects the calls in flight when the worker dies or is disposed, since comlink's promises would never settle. */
  private crashed: Promise<never> | null = null;
  private stop: ((reason: unknown) => void) | null = null;

  private api(): { api: Remote<TrainWorkerApi>; crashed: Promise<never> } {
    if (!this.remote) {
      const worker = new Worker(new URL('./train.worker.ts', import.meta.url), { type: 'module', name: 'winnow-train' });
      this.crashed = new Promise<never>((_, reject) => {
        this.stop = reject;
        const fail = (event: Event) => {
          if (this.worker !== worker) return;
          const message = (event as { message?: unknown }).message;
          reject(new WorkerCrashedError(typeof message === 'string' && message ? message : 'the training worker stopped (out of memory?)'));
          this.dispose();
        };
        worker.addEventListener('error', fail);
        worker.addEventListener('messageerror', fail);
      });
      // Nobody may be waiting when it crashes; the next call starts a fresh worker anyway.
      this.crashed.catch(() => {});
      this.worker = worker;
      this.remote = wrap<TrainWorkerApi>(worker);
    }
    return { api: this.remote, crashed: this.crashed! };
  }

  /** Runs one call so that an abort or a crash settles it even though comlink's promise never would. */
  private async call<T>(signal: AbortSignal | undefined, work: (api: Remote<TrainWorkerApi>) => Promise<T>): Promise<T> {
    signal?.throwIfAborted();
    const { api, crashed } = this.api();
    let onAbort = () => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        reject(signal!.reason);
        this.dispose();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => {});
    try {
      return await Promise.race([work(api), aborted, crashed]);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Decodes the images to inputSize² in the worker and keeps them there; later index lists refer
   * to positions in `items`. Files cross as handles, so nothing is copied here.
   */
  load(items: readonly LoadItem[], opts: { inputSize: number }, onProgress?: (done: number, total: number) => void, signal?: AbortSignal): Promise<LoadResult> {
    return this.call(signal, (api) => api.load([...items], opts, onProgress ? proxy(onProgress) : undefined));
  }

  /** Trains, resumes or finishes a run; see TrainRequest and TrainOutcome. Progress at most ~4 times a second. */
  train(req: TrainRequest, onProgress: (p: TrainProgress) => void, signal?: AbortSignal): Promise<TrainOutcome> {
    return this.call(signal, (api) => api.train(req, proxy(onProgress)));
  }

  /** One network of the Figure 2 experiment: its test accuracy; nothing is kept. */
  trainAndTest(req: TrainAndTestRequest, onProgress?: (p: TrainProgress) => void, signal?: AbortSignal): Promise<{ testAccuracy: number; history: TrainOutcome['history']; seconds: number }> {
    return this.call(signal, (api) => api.trainAndTest(req, onProgress ? proxy(onProgress) : undefined));
  }

  /** Measured seconds per training and per test image with these settings, for a duration estimate. */
  timeSteps(req: TimeStepsRequest, signal?: AbortSignal): Promise<{ secondsPerImage: number; secondsPerTestImage: number }> {
    return this.call(signal, (api) => api.timeSteps(req));
  }

  /** Holds the run before its next step. A no-op without a worker. */
  async pause(): Promise<void> {
    await this.remote?.pause();
  }

  async resume(): Promise<void> {
    await this.remote?.resume();
  }

  /** Stops the running call after its current step; train() then resolves with status 'cancelled'. */
  async cancel(): Promise<void> {
    await this.remote?.cancel();
  }

  /** Terminates the worker: frees the images, the network and the backend. Calls in flight reject with an AbortError. */
  dispose(): void {
    this.stop?.(new DOMException('The training worker was stopped', 'AbortError'));
    this.stop = null;
    this.worker?.terminate();
    this.worker = null;
    this.remote = null;
    this.crashed = null;
  }
}
