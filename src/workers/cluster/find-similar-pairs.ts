import { transfer } from 'comlink';
import type { SimilarPairArrays } from '../../ml/similar-pairs-tf.ts';
import { progressGate } from './progress.ts';
import { loadTfjsPath } from './tfjs-path.ts';
import type { ClusterSimilarPairsInput, ClusterSimilarPairsProgress, ClusterSimilarPairsResult } from './types.ts';

/**
 * Every pair of rows with cosine similarity ≥ minSimilarity (the worker's similarPairs call), by
 * tfjs products where they are exact enough, by core's float64 loops where not.
 */
export async function findSimilarPairs(
  input: ClusterSimilarPairsInput,
  onProgress?: (p: ClusterSimilarPairsProgress) => void,
): Promise<ClusterSimilarPairsResult> {
  const started = performance.now();
  const { vectors, n, dim, minSimilarity, maxPairs } = input;
  if (vectors.length !== n * dim) throw new RangeError(`similarPairs: ${vectors.length} values, expected ${n}×${dim}`);
  const due = progressGate();
  const report = (done: number, total: number) => {
    if (onProgress && due(done, total)) void onProgress({ done, total });
  };
  const tfjs = await loadTfjsPath(input.backend);
  const { similarPairsTf, pairArrays } = await import('../../ml/similar-pairs-tf.ts');
  let pairs: SimilarPairArrays;
  let path: string;
  // As in load(): the cpu backend multiplies in JS float32, slower than the float64 loops, and a
  // float16 webgl breaks the candidate bound, so both run the loops (tfjs is loaded by then anyway).
  if (tfjs.backend !== 'cpu' && tfjs.float32) {
    pairs = await similarPairsTf(vectors, n, dim, minSimilarity, { maxPairs, onProgress: report });
    path = `tfjs-${tfjs.backend}`;
  } else {
    const { similarPairs } = await import('../../core/similar-pairs.ts');
    pairs = pairArrays(similarPairs(vectors, n, dim, minSimilarity, { maxPairs, onProgress: report }));
    path = 'float64';
  }
  const result: ClusterSimilarPairsResult = { ...pairs, ms: performance.now() - started, path };
  return transfer(result, [pairs.a.buffer, pairs.b.buffer, pairs.similarity.buffer] as ArrayBuffer[]);
}
