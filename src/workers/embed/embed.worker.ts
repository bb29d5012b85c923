import * as tf from '@tensorflow/tfjs';
import { expose, transfer } from 'comlink';
import {
  chooseBackend,
  decodeOptions,
  embedBatch,
  findModel,
  loadEmbedder,
  loadRegistry,
  pixelsFromBitmap,
  type BackendName,
  type Embedder,
  type Pixels,
} from '../../ml/index.ts';

export interface EmbedderInfo {
  modelId: string;
  version: string;
  name: string;
  source: string;
  licence: string;
  dim: number;
  backend: string;
  loadMs: number;
}

let embedder: Embedder | null = null;
let info: EmbedderInfo | null = null;

const api = {
  /**
   * Picks the backend (or the forced one) and loads the model from our own origin, every file
   * checked against its recorded SHA-256 first. Loading again with the same settings is free.
   */
  async init(options: { modelId: string; backend?: BackendName }): Promise<EmbedderInfo> {
    if (embedder && info && info.modelId === options.modelId && (!options.backend || options.backend === info.backend)) return info;
    embedder?.dispose();
    embedder = null;
    const started = performance.now();
    const backend = await chooseBackend(options.backend);
    const entry = findModel(await loadRegistry(), options.modelId);
    embedder = await loadEmbedder(entry);
    info = {
      modelId: entry.id,
      version: entry.version,
      name: entry.name,
      source: entry.source,
      licence: entry.licence,
      dim: entry.dim,
      backend,
      loadMs: performance.now() - started,
    };
    return info;
  },

  /**
   * Embeddings of a batch of image files, row i for file i (n × dim, float32), sent back as a
   * transferable. A file that cannot be decoded gets a row of zeros and its index in `failed`.
   */
  async embed(files: Blob[]): Promise<{ vectors: Float32Array; dim: number; failed: number[] }> {
    if (!embedder) throw new Error('embed() before init()');
    const { entry, model } = embedder;
    const failed: number[] = [];
    const pixels: Pixels[] = [];
    const rows: number[] = [];
    for (let i = 0; i < files.length; i++) {
      try {
        const bitmap = await createImageBitmap(files[i], decodeOptions(entry));
        try {
          pixels.push(pixelsFromBitmap(bitmap));
          rows.push(i);
        } finally {
          bitmap.close();
        }
      } catch {
        failed.push(i);
      }
    }
    const embedded = await embedBatch(model, entry, pixels);
    const vectors = new Float32Array(files.length * entry.dim);
    rows.forEach((row, k) => vectors.set(embedded.subarray(k * entry.dim, (k + 1) * entry.dim), row * entry.dim));
    return transfer({ vectors, dim: entry.dim, failed }, [vectors.buffer]);
  },

  /** Live tensors, for leak checks: unchanged by embed() once the model is loaded. */
  tensorCount(): number {
    return tf.memory().numTensors;
  },
};

export type EmbedWorkerApi = typeof api;
expose(api);
