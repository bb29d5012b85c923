import { proxy, wrap, type Remote } from 'comlink';
import type { BackendName } from '../../ml/backend.ts';
import { WorkerCrashedError } from '../pool.ts';
import type { EmbedderInfo, EmbedFilesResult, EmbedProgress, EmbedWorkerApi } from './embed.worker.ts';

export type { EmbedderInfo, EmbedFilesResult, EmbedProgress } from './embed.worker.ts';

export interface EmbedAllOptions {
  modelId: string;
  backend?: BackendName;
  /** Aborting terminates the worker at once (a model call cannot be interrupted otherwise). */
  signal?: AbortSignal;
  /** After the store lookup and after every batch. */
  onProgress?: (progress: EmbedProgress) => void;
}

export interface EmbedAllResult extends EmbedFilesResult {
  info: EmbedderInfo;
}

/**
 * The embedding worker, started on first use (tfjs and the model weigh megabytes; a run that
 * never needs embeddings never loads them). Terminating it frees the model and the backend.
 */
export class EmbeddingClient {
  private worker: Worker | null = null;
  private remote: Remote<EmbedWorkerApi> | null = null;
  /** Rejects the calls in flight when the worker dies, since comlink's promises would never settle. */
  private crashed: Promise<never> | null = null;

  api(): Remote<EmbedWorkerApi> {
    if (!this.remote) {
      const worker = new Worker(new URL('./embed.worker.ts', import.meta.url), { type: 'module', name: 'winnow-embed' });
      this.crashed = new Promise<never>((_, reject) => {
        const fail = (event: Event) => {
          if (this.worker !== worker) return;
          this.dispose();
          reject(new WorkerCrashedError(typeof (event as { message?: unknown }).message === 'string' && (event as ErrorEvent).message ? (event as ErrorEvent).message : 'the embedding worker stopped'));
        };
        worker.addEventListener('error', fail);
        worker.addEventListener('messageerror', fail);
      });
      // Nobody may be waiting when it crashes; the next call starts a fresh worker anyway.
      this.crashed.catch(() => {});
      this.worker = worker;
      this.remote = wrap<EmbedWorkerApi>(worker);
    }
    return this.remote;
  }

  /**
   * Loads the model (a no-op when it is loaded already) and embeds every file, taking what the
   * feature store has and storing what is new as it goes. Rejects with the signal's reason on
   * abort, having terminated the worker; the next call starts a fresh one.
   */
  async embedAll(files: readonly { sha256: string; file: Blob }[], options: EmbedAllOptions): Promise<EmbedAllResult> {
    const { modelId, backend, signal, onProgress } = options;
    signal?.throwIfAborted();
    const api = this.api();
    const crashed = this.crashed!;
    let onAbort = () => {};
    // comlink's promise never settles once its worker is gone, so the abort must win the race.
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        this.dispose();
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    const settle = <T>(call: Promise<T>) => Promise.race([call, aborted, crashed]);
    try {
      const info = await settle(api.init({ modelId, backend }));
      // Blobs cross as handles; only the result's vectors are big, and they come back transferred.
      const result = await settle(api.embedFiles([...files], info.modelKey, onProgress ? proxy(onProgress) : undefined));
      return { info, ...result };
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  dispose(): void {
    this.worker?.terminate();
    this.worker = null;
    this.remote = null;
    this.crashed = null;
  }
}
