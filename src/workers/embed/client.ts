import { wrap, type Remote } from 'comlink';
import type { EmbedWorkerApi } from './embed.worker.ts';

/**
 * The embedding worker, started on first use (tfjs and the model weigh megabytes; a run that
 * never needs embeddings never loads them). Terminating it frees the model and the backend.
 */
export class EmbeddingClient {
  private worker: Worker | null = null;
  private remote: Remote<EmbedWorkerApi> | null = null;

  api(): Remote<EmbedWorkerApi> {
    if (!this.remote) {
      this.worker = new Worker(new URL('./embed.worker.ts', import.meta.url), { type: 'module', name: 'winnow-embed' });
      this.remote = wrap<EmbedWorkerApi>(this.worker);
    }
    return this.remote;
  }

  dispose(): void {
    this.worker?.terminate();
    this.worker = null;
    this.remote = null;
  }
}
