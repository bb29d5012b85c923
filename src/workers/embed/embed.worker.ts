import * as tf from '@tensorflow/tfjs';
import { expose, releaseProxy, transfer } from 'comlink';
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
import { loadUserEmbedder } from '../../ml/user-model.ts';
import { FeatureStore } from '../../store/feature-store.ts';

export interface EmbedderInfo {
  modelId: string;
  version: string;
  /** `${modelId}@${version}`: what the model's vectors are stored under. */
  modelKey: string;
  name: string;
  source: string;
  licence: string;
  dim: number;
  backend: string;
  loadMs: number;
}

export interface EmbedProgress {
  /** Files with their final row: from the store, embedded, or failed. */
  done: number;
  total: number;
  /** Of those done, the files whose vector came from the store. */
  cached: number;
}

export interface EmbedFilesResult {
  /** files.length × dim, row i for file i. */
  vectors: Float32Array;
  dim: number;
  /** Files that could not be decoded; their rows are zeros. */
  failed: number[];
  /** Files whose vector came from the store. */
  cached: number;
}

/** Files per model call and per store write: a cancel or reload loses at most one batch of work. */
const BATCH = 16;

/** User models are kept in the feature store under ids with this prefix, not in the registry. */
const USER_MODEL_PREFIX = 'user-';

let embedder: Embedder | null = null;
let info: EmbedderInfo | null = null;

let storePromise: Promise<FeatureStore> | null = null;
const store = () => (storePromise ??= FeatureStore.open());

// init() disposes the model an embedFiles() in flight would still be using: calls take turns.
let turn: Promise<unknown> = Promise.resolve();
function exclusive<T>(work: () => Promise<T>): Promise<T> {
  const result = turn.then(work);
  turn = result.catch(() => {});
  return result;
}

async function load(modelId: string): Promise<Embedder> {
  if (modelId.startsWith(USER_MODEL_PREFIX)) return loadUserEmbedder(await store(), modelId);
  return loadEmbedder(findModel(await loadRegistry(), modelId));
}

/**
 * Decodes straight to the model's input size and embeds, for one batch. Row k of the result is
 * blob k's embedding, zeros where it failed to decode.
 */
async function embedBlobs(current: Embedder, blobs: readonly Blob[]): Promise<{ vectors: Float32Array; failed: number[] }> {
  const { entry, model } = current;
  const failed: number[] = [];
  const pixels: Pixels[] = [];
  const rows: number[] = [];
  for (let i = 0; i < blobs.length; i++) {
    try {
      const bitmap = await createImageBitmap(blobs[i], decodeOptions(entry));
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
  // Always a fresh array of exactly these rows, so that transferring its buffer takes nothing else.
  const vectors = new Float32Array(blobs.length * entry.dim);
  rows.forEach((row, k) => vectors.set(embedded.subarray(k * entry.dim, (k + 1) * entry.dim), row * entry.dim));
  return { vectors, failed };
}

/** A comlink callback holds a MessagePort until released; a plain function has nothing to release. */
function release(callback: unknown): void {
  if (typeof callback !== 'function') return;
  try {
    (callback as { [releaseProxy]?: () => void })[releaseProxy]?.();
  } catch {
    // already released
  }
}

const api = {
  /**
   * Picks the backend (or the forced one) and loads the model: a registry model from our own
   * origin, every file checked against its recorded SHA-256 first, or a user's model ('user-…')
   * from the feature store. Loading again with the same settings is free.
   */
  init(options: { modelId: string; backend?: BackendName }): Promise<EmbedderInfo> {
    return exclusive(async () => {
      if (embedder && info && info.modelId === options.modelId && (!options.backend || options.backend === info.backend)) return info;
      embedder?.dispose();
      embedder = null;
      info = null;
      const started = performance.now();
      const backend = await chooseBackend(options.backend);
      const loaded = await load(options.modelId);
      const { entry } = loaded;
      embedder = loaded;
      info = {
        modelId: entry.id,
        version: entry.version,
        modelKey: `${entry.id}@${entry.version}`,
        name: entry.name,
        source: entry.source,
        licence: entry.licence,
        dim: entry.dim,
        backend,
        loadMs: performance.now() - started,
      };
      return info;
    });
  },

  /**
   * Embeddings of a batch of image files, row i for file i (n × dim, float32), sent back as a
   * transferable. A file that cannot be decoded gets a row of zeros and its index in `failed`.
   * Nothing is read from or written to the store.
   */
  embed(files: Blob[]): Promise<{ vectors: Float32Array; dim: number; failed: number[] }> {
    return exclusive(async () => {
      if (!embedder) throw new Error('embed() before init()');
      const { vectors, failed } = await embedBlobs(embedder, files);
      return transfer({ vectors, dim: embedder.entry.dim, failed }, [vectors.buffer]);
    });
  },

  /**
   * Embeddings of files known by their SHA-256, row i for file i, sent back as a transferable.
   * Each distinct content is embedded once, and only if the store has no vector for it under
   * `modelKey`; new vectors are stored batch by batch as they are made, so a cancel or reload
   * loses at most the batch in progress. A file that cannot be decoded gets a row of zeros and its
   * index in `failed`, and nothing is stored for it (the next run tries again).
   */
  embedFiles(
    files: { sha256: string; file: Blob }[],
    modelKey: string,
    onProgress?: (progress: EmbedProgress) => void,
  ): Promise<EmbedFilesResult> {
    return exclusive(async () => {
      try {
        if (!embedder || !info) throw new Error('embedFiles() before init()');
        // Vectors stored under another model's key would be read as that model's for good.
        if (modelKey !== info.modelKey) throw new Error(`embedFiles() for ${modelKey}, but the loaded model is ${info.modelKey}`);
        const current = embedder;
        const { dim } = current.entry;
        const progress: EmbedProgress = { done: 0, total: files.length, cached: 0 };
        const report = () => {
          // Not awaited: the page's progress bar must not hold up the model. Nothing to do if it is gone.
          if (onProgress) Promise.resolve(onProgress({ ...progress })).catch(() => {});
        };

        const rowsOf = new Map<string, number[]>();
        files.forEach(({ sha256 }, i) => {
          const rows = rowsOf.get(sha256);
          if (rows) rows.push(i);
          else rowsOf.set(sha256, [i]);
        });
        const vectors = new Float32Array(files.length * dim);
        const failed: number[] = [];
        const fill = (sha256: string, vector: Float32Array) => {
          for (const row of rowsOf.get(sha256)!) vectors.set(vector, row * dim);
        };

        const db = await store();
        const misses: string[] = [];
        const stored = await db.getEmbeddings(modelKey, [...rowsOf.keys()]);
        for (const [sha256, rows] of rowsOf) {
          const vector = stored.get(sha256);
          // A vector of another width cannot be this model's: recompute and overwrite it.
          if (vector?.length === dim) {
            fill(sha256, vector);
            progress.done += rows.length;
            progress.cached += rows.length;
          } else {
            misses.push(sha256);
          }
        }
        report();

        // The first file with each content stands for all its copies.
        const blobOf = new Map<string, Blob>();
        for (const { sha256, file } of files) if (!blobOf.has(sha256)) blobOf.set(sha256, file);
        for (let start = 0; start < misses.length; start += BATCH) {
          const batch = misses.slice(start, start + BATCH);
          const embedded = await embedBlobs(current, batch.map((sha256) => blobOf.get(sha256)!));
          const bad = new Set(embedded.failed);
          const fresh: { sha256: string; vector: Float32Array }[] = [];
          batch.forEach((sha256, k) => {
            const rows = rowsOf.get(sha256)!;
            progress.done += rows.length;
            if (bad.has(k)) {
              failed.push(...rows);
              return;
            }
            const vector = embedded.vectors.subarray(k * dim, (k + 1) * dim);
            fill(sha256, vector);
            fresh.push({ sha256, vector });
          });
          // Stored before it is reported: progress the page has seen is never lost to a cancel.
          await db.putEmbeddings(modelKey, fresh);
          report();
        }
        failed.sort((a, b) => a - b);
        return transfer({ vectors, dim, failed, cached: progress.cached }, [vectors.buffer]);
      } finally {
        release(onProgress);
      }
    });
  },

  /** Live tensors, for leak checks: unchanged by embed() and embedFiles() once the model is loaded. */
  tensorCount(): number {
    return tf.memory().numTensors;
  },
};

export type EmbedWorkerApi = typeof api;
expose(api);
