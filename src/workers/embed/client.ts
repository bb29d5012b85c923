import { proxy, wrap, type Remote } from 'comlink';
import type { BackendName } from '../../ml/backend.ts';
import { WorkerCrashedError } from '../pool.ts';
import type { EmbedderInfo, EmbedWorkerApi } from './embed.worker.ts';
import { CHUNK, chunks, distinctContents, embedWorkerCount } from './plan.ts';

export type { EmbedderInfo } from './embed.worker.ts';

export interface EmbedProgress {
  /** Files with their final row: from the store, embedded, or failed. */
  done: number;
  total: number;
  /** Of those done, the files whose vector came from the store. */
  cached: number;
  /** Workers embedding (1 on a GPU backend; up to one per core on wasm). */
  workers: number;
}

export interface EmbedAllOptions {
  modelId: string;
  backend?: BackendName;
  /** Aborting terminates the workers at once (a model call cannot be interrupted otherwise). */
  signal?: AbortSignal;
  /** After the store lookup and after every batch. */
  onProgress?: (progress: EmbedProgress) => void;
  /** At most this many workers (default: as many as plan.ts finds worth it). */
  maxWorkers?: number;
}

export interface EmbedAllResult {
  info: EmbedderInfo;
  /** files.length × dim, row i for file i. */
  vectors: Float32Array;
  dim: number;
  /** Files that could not be decoded; their rows are zeros. */
  failed: number[];
  /** Files whose vector came from the store. */
  cached: number;
  /** Workers that embedded. */
  workers: number;
}

/** One embedding worker; `call` rejects the calls in flight when it dies, since comlink's would never settle. */
class EmbedWorker {
  readonly remote: Remote<EmbedWorkerApi>;
  private readonly crashed: Promise<never>;
  dead = false;

  constructor(private readonly worker: Worker) {
    this.crashed = new Promise<never>((_, reject) => {
      const fail = (event: Event) => {
        if (this.dead) return;
        this.terminate();
        const message = (event as ErrorEvent).message;
        reject(new WorkerCrashedError(typeof message === 'string' && message ? message : 'the embedding worker stopped'));
      };
      worker.addEventListener('error', fail);
      worker.addEventListener('messageerror', fail);
    });
    // Nobody may be waiting when it crashes; the next call starts a fresh worker anyway.
    this.crashed.catch(() => {});
    this.remote = wrap<EmbedWorkerApi>(worker);
  }

  call<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.crashed]);
  }

  terminate(): void {
    this.dead = true;
    this.worker.terminate();
  }
}

const startEmbedWorker = (name: string) => new Worker(new URL('./embed.worker.ts', import.meta.url), { type: 'module', name });

const hardwareCores = () => globalThis.navigator?.hardwareConcurrency || 1;
/** Chromium's rough figure for the machine's memory (GiB); undefined where the browser does not say. */
const deviceMemory = () => (globalThis.navigator as { deviceMemory?: number } | undefined)?.deviceMemory;

/** Contents per store lookup: bounds the copy in flight (2,048 × 1,792 floats = 15 MB). */
const LOOKUP_SLICE = 2048;

/** Workers started in one call to replace dead ones, beyond which the call gives up. */
const MAX_REPLACEMENTS = 4;

/** Work for one call: contents in a chunk, or one content retried alone after its chunk killed a worker. */
interface Job {
  contents: string[];
  alone: boolean;
}

/**
 * The embedding workers. The first starts on first use (tfjs and the model weigh megabytes; a run
 * that never needs embeddings never loads them) and keeps its model between calls. On wasm, a call
 * with enough new images starts helpers, one per further core, that share the work and end with
 * the call. Terminating frees the models and the backends.
 */
export class EmbeddingClient {
  private primary: EmbedWorker | null = null;
  private helpers = new Set<EmbedWorker>();
  private started = 0;

  private readonly createWorker: (name: string) => Worker;
  private readonly cores: () => number;
  private readonly memoryGiB: () => number | undefined;

  /** The thread boundary, the core count and the memory, which tests in Node hand in. */
  constructor(options: { createWorker?: (name: string) => Worker; cores?: number; memoryGiB?: number } = {}) {
    this.createWorker = options.createWorker ?? startEmbedWorker;
    this.cores = options.cores === undefined ? hardwareCores : () => options.cores!;
    this.memoryGiB = options.memoryGiB === undefined ? deviceMemory : () => options.memoryGiB;
  }

  private spawn(): EmbedWorker {
    const index = this.started++;
    return new EmbedWorker(this.createWorker(index === 0 ? 'winnow-embed' : `winnow-embed-${index}`));
  }

  private primaryWorker(): EmbedWorker {
    if (!this.primary || this.primary.dead) this.primary = this.spawn();
    return this.primary;
  }

  api(): Remote<EmbedWorkerApi> {
    return this.primaryWorker().remote;
  }

  /**
   * Loads the model (a no-op when it is loaded already) and embeds every file, taking what the
   * feature store has and storing what is new batch by batch, each distinct content once. Rejects
   * with the signal's reason on abort, having terminated the workers; the next call starts afresh.
   * A worker that dies hands its chunk back, to be retried one content at a time; a content that
   * kills a worker on its own is reported in `failed`, like one that cannot be decoded.
   */
  async embedAll(files: readonly { sha256: string; file: Blob }[], options: EmbedAllOptions): Promise<EmbedAllResult> {
    const { modelId, backend, signal, onProgress } = options;
    signal?.throwIfAborted();
    let onAbort = () => {};
    // comlink's promises never settle once their worker is gone, so the abort must win the race.
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        this.dispose();
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => {});
    const settle = <T>(worker: EmbedWorker, call: Promise<T>) => Promise.race([worker.call(call), aborted]);

    try {
      const primary = this.primaryWorker();
      const info = await settle(primary, primary.remote.init({ modelId, backend }));
      const { dim, modelKey } = info;
      const contents = distinctContents(files);
      const vectors = new Float32Array(files.length * dim);
      const failed: number[] = [];
      const progress: EmbedProgress = { done: 0, total: files.length, cached: 0, workers: 1 };
      const report = () => onProgress?.({ ...progress });
      const rowsOf = (sha256: string) => contents.rows.get(sha256)!;
      const rowCount = (list: readonly string[]) => list.reduce((sum, sha256) => sum + rowsOf(sha256).length, 0);

      // In slices: 50,000 stored vectors at once would be a second copy of the 358 MB result.
      const found = new Set<string>();
      for (const slice of chunks(contents.order, LOOKUP_SLICE)) {
        const stored = await settle(primary, primary.remote.lookup(slice, modelKey));
        stored.found.forEach((sha256, k) => {
          const vector = stored.vectors.subarray(k * dim, (k + 1) * dim);
          for (const row of rowsOf(sha256)) vectors.set(vector, row * dim);
          found.add(sha256);
        });
        progress.done = progress.cached = progress.cached + rowCount(stored.found);
        report();
      }
      if (contents.order.length === 0) report();

      const missing = contents.order.filter((sha256) => !found.has(sha256));
      const queue: Job[] = chunks(missing, CHUNK).map((list) => ({ contents: list, alone: false }));
      const wanted = Math.max(1, Math.min(options.maxWorkers ?? Infinity, embedWorkerCount(info.backend, missing.length, this.cores(), this.memoryGiB())));
      let lastCrash: unknown = null;

      const drain = async (worker: EmbedWorker): Promise<void> => {
        while (queue.length > 0 && !worker.dead) {
          const job = queue.shift()!;
          // Rows reported for this job so far: taken back if it has to be done again.
          let counted = 0;
          let cursor = 0;
          let settled = false;
          // Batch reports come on their own port and may arrive after the answer: late ones are dropped.
          const onBatch = (finished: number) => {
            if (settled) return;
            const rows = rowCount(job.contents.slice(cursor, cursor + finished));
            cursor += finished;
            counted += rows;
            progress.done += rows;
            report();
          };
          const items = job.contents.map((sha256) => ({ sha256, file: contents.first.get(sha256)! }));
          try {
            const answer = await settle(worker, worker.remote.embedAndStore(items, modelKey, proxy(onBatch)));
            settled = true;
            const bad = new Set(answer.failed);
            job.contents.forEach((sha256, k) => {
              if (bad.has(k)) failed.push(...rowsOf(sha256));
              else for (const row of rowsOf(sha256)) vectors.set(answer.vectors.subarray(k * dim, (k + 1) * dim), row * dim);
            });
            progress.done += rowCount(job.contents) - counted;
            report();
          } catch (error) {
            settled = true;
            if (signal?.aborted || !(error instanceof WorkerCrashedError)) throw error;
            lastCrash = error;
            // Said in the console only: the run goes on, and the user loses nothing unless a file fails alone.
            console.warn(
              job.alone
                ? `An embedding worker stopped (${error.message}) on one image by itself; that image is reported as unreadable.`
                : `An embedding worker stopped (${error.message}); its ${job.contents.length} images are retried one at a time.`,
            );
            progress.done -= counted;
            if (job.alone) {
              failed.push(...rowsOf(job.contents[0]));
              progress.done += rowCount(job.contents);
              report();
            } else {
              // Batches it had stored are embedded again: a few images cost less than asking the store.
              queue.push(...job.contents.map((sha256) => ({ contents: [sha256], alone: true })));
            }
            return;
          }
        }
      };

      const ready: EmbedWorker[] = [primary];
      /** A worker with the model loaded, or null if it could not start (memory, a crash): fewer hands. */
      const join = async (): Promise<EmbedWorker | null> => {
        const worker = this.spawn();
        this.helpers.add(worker);
        try {
          // The backend the first worker settled on: no second probe of the GPUs.
          await settle(worker, worker.remote.init({ modelId, backend: info.backend as BackendName }));
        } catch (error) {
          if (signal?.aborted) throw error;
          worker.terminate();
          this.helpers.delete(worker);
          lastCrash = error;
          return null;
        }
        progress.workers = ready.push(worker);
        return worker;
      };

      await Promise.all([
        drain(primary),
        ...Array.from({ length: wanted - 1 }, async () => {
          const worker = await join();
          if (worker) await drain(worker);
        }),
      ]);
      // Work handed back after the others had finished: whoever is alive takes it, or a fresh worker.
      let replacements = 0;
      while (queue.length > 0) {
        const alive = ready.filter((worker) => !worker.dead);
        if (alive.length === 0) {
          if (replacements++ >= MAX_REPLACEMENTS) throw lastCrash ?? new WorkerCrashedError('the embedding workers stopped');
          const worker = await join();
          if (worker) alive.push(worker);
          else continue;
        }
        await Promise.all(alive.map(drain));
      }
      failed.sort((a, b) => a - b);
      // A helper that outlived a dead first worker keeps the model for the next call.
      if (primary.dead) {
        const heir = ready.find((worker) => !worker.dead && worker !== primary);
        if (heir) {
          this.helpers.delete(heir);
          this.primary = heir;
        }
      }
      return { info, vectors, dim, failed, cached: progress.cached, workers: progress.workers };
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.endHelpers();
    }
  }

  private endHelpers(): void {
    for (const worker of this.helpers) worker.terminate();
    this.helpers.clear();
  }

  dispose(): void {
    this.primary?.terminate();
    this.primary = null;
    this.endHelpers();
  }
}
