import { transfer, wrap, type Remote } from 'comlink';
import type { EvalWorkerApi } from './eval.worker.ts';

export interface KnnInput {
  train: Float32Array;
  trainLabels: Int32Array;
  test: Float32Array;
  testLabels: Int32Array;
  dim: number;
  k?: number;
}

/** One short-lived worker per measurement: the buffers are transferred in and freed with it. */
export async function knnInWorker(input: KnnInput, signal?: AbortSignal): Promise<{ accuracy: number; correct: number; total: number }> {
  signal?.throwIfAborted();
  const worker = new Worker(new URL('./eval.worker.ts', import.meta.url), { type: 'module', name: 'winnow-eval' });
  const remote: Remote<EvalWorkerApi> = wrap<EvalWorkerApi>(worker);
  const stopped = new Promise<never>((_, reject) => {
    worker.addEventListener('error', (e) => reject(new Error(`evaluation worker failed: ${(e as ErrorEvent).message || 'unknown error'}`)));
    signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
  try {
    const buffers = [input.train.buffer, input.test.buffer, input.trainLabels.buffer, input.testLabels.buffer] as ArrayBuffer[];
    return await Promise.race([remote.knn(transfer(input, [...new Set(buffers)])), stopped]);
  } finally {
    worker.terminate();
  }
}
