/**
 * Measures how well an embedder understands the user's classes: 10-NN label accuracy of the
 * validation images against the training images. A worker because 1,000 × 9,000 rows of 1,792
 * values is ~16 GFLOP, seconds of work the page must not freeze for.
 */
import { expose } from 'comlink';
import { knnAccuracy } from '../../core/experiment/knn.ts';

const api = {
  knn(o: { train: Float32Array; trainLabels: Int32Array; test: Float32Array; testLabels: Int32Array; dim: number; k?: number }) {
    return knnAccuracy(o);
  },
};

export type EvalWorkerApi = typeof api;
expose(api);
