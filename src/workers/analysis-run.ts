import type { Remote } from 'comlink';
import type { IntakeFile } from '../io/intake/collect.ts';
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
const BATCH_FILES = 16;
const BATCH_BYTES = 32 * 1024 * 1024;

export function batches(files: readonly IntakeFile[]): number[][] {
  const out: number[][] = [];
  let batch: number[] = [];
  let bytes = 0;
  files.forEach((f, id) => {
    if (batch.length > 0 && (batch.length >= BATCH_FILES || bytes + f.file.size > BATCH_BYTES)) {
      out.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(id);
    bytes += f.file.size;
  });
  if (batch.length > 0) out.push(batch);
  return out;
}

/**
 * Analyses every file on the pool. A batch whose worker dies is retried file by file on fresh
 * workers, so the one file that killed it is marked and the rest go on: one bad file never stops
 * the run. Results arrive through onResult as they finish (order is not kept).
 */
export async function analyseAll(
  files: IntakeFile[],
  pool: WorkerPool<HashWorkerApi>,
  options: {
    signal: AbortSignal;
    onResult: (result: AnalysedFile) => void;
    /** Read and content-keyed (SHA-256), then analysed (decoded and hashed, or taken from the store). */
    onProgress: (read: StageProgress, analysed: StageProgress) => void;
  },
): Promise<void> {
  const { signal, onResult, onProgress } = options;
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
      const first = await api.read(ids.map((id) => files[id].file));
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

  const queue = batches(files);
  let next = 0;
  const lane = async () => {
    while (next < queue.length) {
      signal.throwIfAborted();
      await runSafely(queue[next++]);
    }
  };
  // More lanes than workers, so a freed worker is handed its next batch without a round trip.
  await Promise.all(Array.from({ length: pool.size * 2 }, lane));
}

function failed(ids: number[], error: unknown): [number, FileAnalysis][] {
  const why = error instanceof WorkerCrashedError ? `its worker stopped (${error.message})` : error instanceof Error ? error.message : String(error);
  return ids.map((id) => [id, { ok: false, sha256: null, cached: false, reason: 'analysis-failed', detail: `Winnow could not analyse this file: ${why}.` }]);
}
