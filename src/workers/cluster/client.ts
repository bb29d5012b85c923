import { proxy, transfer, wrap, type Remote } from 'comlink';
import type { SemanticCutOptions } from '../../core/semantic.ts';
import type {
  ClusterCutProgress,
  ClusterCutResult,
  ClusterLargeInput,
  ClusterLargeProgress,
  ClusterLargeResult,
  ClusterLoadInput,
  ClusterLoadProgress,
  ClusterLoadResult,
  ClusterSimilarPairsInput,
  ClusterSimilarPairsProgress,
  ClusterSimilarPairsResult,
} from './types.ts';
import type { ClusterWorkerApi } from './cluster.worker.ts';

// The page's code takes the worker's message types from here, beside the client.
export type * from './types.ts';

export interface ClusterLoadOptions {
  /** Aborting terminates the worker (the clustering cannot be interrupted otherwise). */
  signal?: AbortSignal;
  onProgress?: (p: ClusterLoadProgress) => void;
}

export interface ClientCutResult extends ClusterCutResult {
  /** Increases with every cut() call; the caller keeps the result with the highest one. */
  seq: number;
  /** Wall time from the call to the answer, the trip to and from the worker included. */
  roundTripMs: number;
}

/** One worker and the means to fail everything still waiting on it when it goes. */
interface Session {
  worker: Worker;
  remote: Remote<ClusterWorkerApi>;
  /** Rejects when the worker is terminated; every call races it. */
  gone: Promise<never>;
  end: (reason: unknown) => void;
  loaded: boolean;
}

/**
 * The semantic clustering worker. load() clusters the classes once (minutes for large classes);
 * cut() then re-cuts cheaply as often as a slider asks. Each load starts a fresh worker, so a
 * superseded clustering stops at once and its matrices are freed with it.
 */
export class ClusteringClient {
  private session: Session | null = null;
  private seq = 0;

  /**
   * Clusters `input`. The vectors' buffers are transferred, not copied: afterwards they are
   * detached here (a vector that is a view into a larger buffer takes the whole buffer with it).
   * On abort, or when a newer load() replaces this one, rejects with the signal's reason (or an
   * AbortError) and so do the cuts still waiting. `input.fast` picks the tfjs distances (see
   * ClusterLoadInput); the result says which path ran.
   */
  async load(input: ClusterLoadInput, options: ClusterLoadOptions = {}): Promise<ClusterLoadResult> {
    const { signal, onProgress } = options;
    signal?.throwIfAborted();
    this.dispose(new DOMException('superseded by a newer load', 'AbortError'));
    const session = this.start();
    const onAbort = () => this.dispose(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const buffers = new Set<ArrayBuffer>();
      for (const c of input.classes) if (c.vectors.buffer instanceof ArrayBuffer) buffers.add(c.vectors.buffer);
      const result = await Promise.race([
        session.remote.load(transfer(input, [...buffers]), onProgress && proxy(onProgress)),
        session.gone,
      ]);
      session.loaded = true;
      return result;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * A cut of the loaded clustering. Cuts are answered in the order they were asked; `seq` lets a
   * caller that fires one per slider move drop any answer older than the newest it has shown.
   * A cut deeper than a large class's forest holds grows it first (see the worker's cut), which
   * can take as long as the load: `onProgress` follows that, and is never called otherwise.
   */
  async cut(options: SemanticCutOptions, { onProgress }: { onProgress?: (p: ClusterCutProgress) => void } = {}): Promise<ClientCutResult> {
    const session = this.session;
    if (!session) throw new Error('cut: nothing loaded');
    const seq = ++this.seq;
    const started = performance.now();
    // A cut asked for while load() still runs waits behind it in the worker's queue.
    const result = await Promise.race([session.remote.cut(options, onProgress && proxy(onProgress)), session.gone]);
    return { ...result, seq, roundTripMs: performance.now() - started };
  }

  /**
   * Cuts one class too large for a distance matrix (see the worker's cutLarge) in a worker of its
   * own, ended when the answer comes, so a loaded model and its cuts are untouched. The vectors'
   * buffer is transferred. Aborting terminates that worker and rejects with the signal's reason.
   */
  async cutLarge(
    input: ClusterLargeInput,
    options: { signal?: AbortSignal; onProgress?: (p: ClusterLargeProgress) => void } = {},
  ): Promise<ClusterLargeResult> {
    const { signal, onProgress } = options;
    signal?.throwIfAborted();
    const worker = new Worker(new URL('./cluster.worker.ts', import.meta.url), { type: 'module', name: 'winnow-cluster-large' });
    let fail: (reason: unknown) => void = () => {};
    const gone = new Promise<never>((_, reject) => (fail = reject));
    const onAbort = () => fail(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.addEventListener('error', (e) => fail(new Error(`clustering worker failed: ${e.message || 'unknown error'}`)));
    try {
      const remote = wrap<ClusterWorkerApi>(worker);
      const buffers = input.vectors.buffer instanceof ArrayBuffer ? [input.vectors.buffer] : [];
      return await Promise.race([remote.cutLarge(transfer(input, buffers), onProgress && proxy(onProgress)), gone]);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      worker.terminate();
    }
  }

  /**
   * Near mode's embedding pairs (see the worker's similarPairs) in a worker of its own, ended when
   * the answer comes, so a loaded model and its cuts are untouched and tfjs's memory goes with it.
   * The vectors' buffer is transferred. Aborting terminates that worker and rejects with the
   * signal's reason.
   */
  async similarPairs(
    input: ClusterSimilarPairsInput,
    options: { signal?: AbortSignal; onProgress?: (p: ClusterSimilarPairsProgress) => void } = {},
  ): Promise<ClusterSimilarPairsResult> {
    const { signal, onProgress } = options;
    signal?.throwIfAborted();
    const worker = new Worker(new URL('./cluster.worker.ts', import.meta.url), { type: 'module', name: 'winnow-pairs' });
    let fail: (reason: unknown) => void = () => {};
    const gone = new Promise<never>((_, reject) => (fail = reject));
    const onAbort = () => fail(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.addEventListener('error', (e) => fail(new Error(`embedding-pairs worker failed: ${e.message || 'unknown error'}`)));
    try {
      const remote = wrap<ClusterWorkerApi>(worker);
      const buffers = input.vectors.buffer instanceof ArrayBuffer ? [input.vectors.buffer] : [];
      return await Promise.race([remote.similarPairs(transfer(input, buffers), onProgress && proxy(onProgress)), gone]);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      worker.terminate();
    }
  }

  /** Whether a load() has finished and its model is still in the worker. */
  get loaded(): boolean {
    return this.session?.loaded ?? false;
  }

  /** Terminates the worker; calls still waiting on it reject with `reason`. */
  dispose(reason: unknown = new DOMException('clustering worker disposed', 'AbortError')): void {
    const session = this.session;
    if (!session) return;
    this.session = null;
    session.worker.terminate();
    session.end(reason);
  }

  private start(): Session {
    const worker = new Worker(new URL('./cluster.worker.ts', import.meta.url), { type: 'module', name: 'winnow-cluster' });
    let end: (reason: unknown) => void = () => {};
    // comlink's promises never settle once their worker is gone, so termination must be raced.
    const gone = new Promise<never>((_, reject) => (end = reject));
    gone.catch(() => {}); // nobody may be waiting when it rejects
    const session: Session = { worker, remote: wrap<ClusterWorkerApi>(worker), gone, end, loaded: false };
    // A worker that fails to start or dies (out of memory on a large class) raises no comlink
    // rejection either.
    worker.addEventListener('error', (e) => {
      if (this.session === session) this.dispose(new Error(`clustering worker failed: ${e.message || 'unknown error'}`));
    });
    this.session = session;
    return session;
  }
}
