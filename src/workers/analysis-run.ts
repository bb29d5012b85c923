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
 * Analyses every file on the pool, a few tasks ahead per worker so none waits on the next file's
 * read. A file whose worker dies is retried once on a fresh worker and then marked, so one bad file
 * never stops the run. Results arrive through onResult as they finish (order is not kept).
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
  const progress: StageProgress = { ...read };
  const report = () => onProgress({ ...read }, { ...progress });
  report();
  let next = 0;

  const analyseOne = async (id: number): Promise<void> => {
    const input = files[id];
    let counted = false;
    const call = async (api: Remote<HashWorkerApi>): Promise<FileAnalysis> => {
      const first = await api.read(input.file);
      if (!counted) {
        counted = true;
        read.done++;
        if (first.analysis?.cached) read.cached++;
        report();
      }
      return first.analysis ?? (await api.analyse());
    };
    let analysis: FileAnalysis;
    try {
      analysis = await pool.run(call, signal);
    } catch (error) {
      if (signal.aborted) throw error;
      analysis = error instanceof WorkerCrashedError ? await retryOnce(call, error) : failed(error);
    }
    progress.done++;
    if (analysis.cached) progress.cached++;
    if (!counted) read.done++;
    onResult({ input, id, analysis });
    report();
  };

  const retryOnce = async (call: (api: Remote<HashWorkerApi>) => Promise<FileAnalysis>, first: Error) => {
    try {
      return await pool.run(call, signal);
    } catch (again) {
      if (signal.aborted) throw again;
      return failed(again, `its worker stopped twice (${first.message})`);
    }
  };

  const lane = async () => {
    while (next < files.length) {
      signal.throwIfAborted();
      await analyseOne(next++);
    }
  };
  // More lanes than workers, so a freed worker is handed its next file without a round trip.
  await Promise.all(Array.from({ length: pool.size * 2 }, lane));
}

function failed(error: unknown, what?: string): FileAnalysis {
  const why = what ?? (error instanceof Error ? error.message : String(error));
  return { ok: false, sha256: null, cached: false, reason: 'analysis-failed', detail: `Winnow could not analyse this file: ${why}.` };
}
