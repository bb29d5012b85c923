import type { Remote } from 'comlink';
import type { IntakeFile } from '../io/intake/collect.ts';
import { FeatureStore, type KnownFile, type StoredFile } from '../store/feature-store.ts';
import type { FileAnalysis } from './hash/analyse.ts';
import type { HashWorkerApi } from './hash/hash.worker.ts';
import { WorkerCrashedError, WorkerPool } from './pool.ts';

export interface StageProgress {
  done: number;
  total: number;
  /** Files from the feature store, not recomputed. */
  cached: number;
  startedAt: number;
  /** performance.now() when the stage finished, if it has. */
  finishedAt?: number;
  /** Workers on the stage, where that varies (embedding: one per core on wasm). */
  workers?: number;
}

export interface AnalysedFile {
  input: IntakeFile;
  id: number;
  analysis: FileAnalysis;
}

export function createHashPool(size = WorkerPool.defaultSize()): WorkerPool<HashWorkerApi> {
  return new WorkerPool<HashWorkerApi>(
    () => new Worker(new URL('./hash/hash.worker.ts', import.meta.url), { type: 'module', name: 'winnow-hash' }),
    size,
  );
}

/**
 * Files go to the workers in small batches: one round trip and one store lookup per batch instead
 * of per file, which is what makes a cached re-run fast. A batch is capped in bytes too, since a
 * worker holds its batch's bytes between reading and decoding.
 */
const BATCH_FILES = 32;
const BATCH_BYTES = 32 * 1024 * 1024;

/** Batches of these file ids (all of them by default), in order. */
export function batches(files: readonly IntakeFile[], ids: readonly number[] = files.map((_, id) => id)): number[][] {
  const out: number[][] = [];
  let batch: number[] = [];
  let bytes = 0;
  for (const id of ids) {
    const size = files[id].file.size;
    if (batch.length > 0 && (batch.length >= BATCH_FILES || bytes + size > BATCH_BYTES)) {
      out.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(id);
    bytes += size;
  }
  if (batch.length > 0) out.push(batch);
  return out;
}

/**
 * Files looked up by path, size and lastModified at a time: one chunk costs three readonly
 * transactions, and the workers start on the first chunk's unknown files while the next is looked up.
 */
const LOOKUP_FILES = 1000;

/** File stamps are written in transactions of about this many, as the workers finish them. */
const REMEMBER_FILES = 256;

let mainStore: Promise<FeatureStore> | null = null;

/** Numbers each run, so a worker knows when to take a new snapshot of the stored keys. */
let runs = 0;

/**
 * This thread's own connection to the feature store, opened on first use and kept, like each
 * worker's. It only answers "was this exact file read before?"; results are computed and stored
 * by the workers.
 */
function defaultStore(): Promise<FeatureStore> {
  return (mainStore ??= FeatureStore.open());
}

/** The analysis a file known to the store gets: the same a worker gives after reading and hashing it. */
function knownAnalysis(known: KnownFile): FileAnalysis {
  if (known.features) return { ok: true, sha256: known.sha256, cached: true, features: known.features };
  const { reason, detail } = known.failure;
  return { ok: false, sha256: known.sha256, cached: true, reason, detail };
}

/**
 * Analyses every file. A file whose path, size and lastModified are those of a file read before is
 * answered from the store on this thread, unread (a re-run over an unchanged folder touches no
 * file and starts no worker); the rest go to the pool in batches. A batch whose worker dies is
 * retried file by file on fresh workers, so the one file that killed it is marked and the rest go
 * on: one bad file never stops the run. Results arrive through onResult as they finish (order is
 * not kept).
 */
export async function analyseAll(
  files: IntakeFile[],
  pool: WorkerPool<HashWorkerApi>,
  options: {
    signal: AbortSignal;
    onResult: (result: AnalysedFile) => void;
    /** Read and content-keyed (SHA-256), then analysed (decoded and hashed, or taken from the store). */
    onProgress: (read: StageProgress, analysed: StageProgress) => void;
    /** Where file stamps are looked up and recorded; this thread's own connection by default. */
    store?: FeatureStore | Promise<FeatureStore>;
  },
): Promise<void> {
  const { signal, onResult, onProgress } = options;
  const run = ++runs;
  const store = await (options.store ?? defaultStore());
  signal.throwIfAborted();
  const read: StageProgress = { done: 0, total: files.length, cached: 0, startedAt: performance.now() };
  const analysed: StageProgress = { ...read };
  const report = () => onProgress({ ...read }, { ...analysed });
  report();

  // A batch retried after a crash may repeat files: each is counted and reported once.
  const wasRead = new Uint8Array(files.length);
  const finished = new Uint8Array(files.length);
  const finish = (id: number, analysis: FileAnalysis) => {
    if (finished[id]) return;
    finished[id] = 1;
    analysed.done++;
    if (analysis.cached) analysed.cached++;
    onResult({ input: files[id], id, analysis });
  };

  const runBatch = async (ids: number[]): Promise<void> => {
    const outcome = await pool.run(async (api: Remote<HashWorkerApi>) => {
      const first = await api.read(
        ids.map((id) => files[id].file),
        run,
      );
      first.forEach((a, i) => {
        if (wasRead[ids[i]]) return;
        wasRead[ids[i]] = 1;
        read.done++;
        if (a?.cached) read.cached++;
      });
      first.forEach((a, i) => a && finish(ids[i], a));
      report();
      const rest = first.some((a) => a === null) ? await api.analyse() : new Map<number, FileAnalysis>();
      return { first, rest };
    }, signal);
    outcome.rest.forEach((a, i) => finish(ids[i], a));
    report();
    // Only now, with the batch's results stored by its worker, is a file's stamp worth recording.
    ids.forEach((id, i) => {
      const sha256 = (outcome.first[i] ?? outcome.rest.get(i))?.sha256;
      if (sha256) remember(id, sha256);
    });
  };

  let stamps: StoredFile[] = [];
  const writes: Promise<void>[] = [];
  const flushStamps = () => {
    if (stamps.length > 0) writes.push(store.rememberFiles(stamps));
    stamps = [];
  };
  const remember = (id: number, sha256: string) => {
    const { file, path } = files[id];
    stamps.push({ path, size: file.size, lastModified: file.lastModified, sha256 });
    if (stamps.length >= REMEMBER_FILES) flushStamps();
  };

  const runSafely = async (ids: number[]): Promise<void> => {
    try {
      await runBatch(ids);
    } catch (error) {
      if (signal.aborted) throw error;
      if (ids.length > 1 && error instanceof WorkerCrashedError) {
        // Some files of the batch may be finished already; the split retries only the rest.
        for (const id of ids) if (!finished[id]) await runSafely([id]);
        return;
      }
      failed(ids, error).forEach(([id, a]) => {
        if (!wasRead[id]) {
          wasRead[id] = 1;
          read.done++;
        }
        finish(id, a);
      });
      report();
    }
  };

  // Batches of unknown files, filled chunk by chunk by the lookup while the lanes take from it.
  const queue: number[][] = [];
  let next = 0;
  let lookingUp = true;
  let wake: (() => void)[] = [];
  const wakeLanes = () => {
    const waiting = wake;
    wake = [];
    waiting.forEach((resolve) => resolve());
  };

  const lookUp = async () => {
    try {
      for (let start = 0; start < files.length; start += LOOKUP_FILES) {
        const ids = files.slice(start, start + LOOKUP_FILES).map((_, k) => start + k);
        const known = await store.lookupFiles(ids.map((id) => ({ path: files[id].path, size: files[id].file.size, lastModified: files[id].file.lastModified })));
        signal.throwIfAborted();
        const unknown: number[] = [];
        known.forEach((k, i) => {
          const id = ids[i];
          if (!k) {
            unknown.push(id);
            return;
          }
          wasRead[id] = 1;
          read.done++;
          read.cached++;
          finish(id, knownAnalysis(k));
        });
        report();
        queue.push(...batches(files, unknown));
        wakeLanes();
      }
    } finally {
      lookingUp = false;
      wakeLanes();
    }
  };

  const lane = async () => {
    for (;;) {
      signal.throwIfAborted();
      if (next < queue.length) await runSafely(queue[next++]);
      else if (lookingUp) await new Promise<void>((resolve) => wake.push(resolve));
      else return;
    }
  };
  try {
    // More lanes than workers, so a freed worker is handed its next batch without a round trip.
    await Promise.all([lookUp(), ...Array.from({ length: pool.size * 2 }, lane)]);
  } finally {
    flushStamps();
  }
  // The store never throws; waiting here means the next run finds every stamp of this one.
  await Promise.all(writes);
}

function failed(ids: number[], error: unknown): [number, FileAnalysis][] {
  const why = error instanceof WorkerCrashedError ? `its worker stopped (${error.message})` : error instanceof Error ? error.message : String(error);
  return ids.map((id) => [id, { ok: false, sha256: null, cached: false, reason: 'analysis-failed', detail: `Winnow could not analyse this file: ${why}.` }]);
}
