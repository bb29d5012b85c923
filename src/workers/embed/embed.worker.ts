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

/** Files per store write (and per model call on a GPU): a cancel or reload loses at most one batch of work. */
const BATCH = 16;

/**
 * Images per model call. On wasm and cpu the batch hardly changes the time per image
 * (bench/embed-batch: 52.5 ms at 1, 52.2 at 16) while the activations grow with it, and a wasm
 * memory never shrinks once grown: with one worker per core that is paid once per core.
 * GPU backends gain from bigger dispatches.
 */
const WASM_MODEL_BATCH = 4;
const modelBatch = (backend: string) => (backend === 'wasm' || backend === 'cpu' ? WASM_MODEL_BATCH : BATCH);

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
  const step = modelBatch(info?.backend ?? '');
  const embedded = new Float32Array(pixels.length * entry.dim);
  for (let start = 0; start < pixels.length; start += step) {
    embedded.set(await embedBatch(model, entry, pixels.slice(start, start + step)), start * entry.dim);
  }
  // Always a fresh array of exactly these rows, so that transferring its buffer takes nothing else.
  const vectors = new Float32Array(blobs.length * entry.dim);
  rows.forEach((row, k) => vectors.set(embedded.subarray(k * entry.dim, (k + 1) * entry.dim), row * entry.dim));
  return { vectors, failed };
}

/** The loaded model, which must be the one whose vectors are stored under `modelKey`. */
function loadedFor(modelKey: string, call: string): Embedder {
  if (!embedder || !info) throw new Error(`${call}() before init()`);
  // Vectors stored under another model's key would be read as that model's for good.
  if (modelKey !== info.modelKey) throw new Error(`${call}() for ${modelKey}, but the loaded model is ${info.modelKey}`);
  return embedder;
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
   * The stored vectors under `modelKey` for these contents: `found` lists the contents that have
   * one, row k of `vectors` (found.length × dim, transferred) is found[k]'s. A vector of another
   * width cannot be this model's and counts as missing, so it is recomputed and overwritten.
   */
  lookup(sha256s: string[], modelKey: string): Promise<{ found: string[]; vectors: Float32Array }> {
    return exclusive(async () => {
      const { dim } = loadedFor(modelKey, 'lookup').entry;
      const stored = await (await store()).getEmbeddings(modelKey, sha256s);
      const found = sha256s.filter((sha256) => stored.get(sha256)?.length === dim);
      const vectors = new Float32Array(found.length * dim);
      found.forEach((sha256, k) => vectors.set(stored.get(sha256)!, k * dim));
      return transfer({ found, vectors }, [vectors.buffer]);
    });
  },

  /**
   * Embeds these contents and stores each batch's vectors before going on, so a cancel or reload
   * loses at most the batch in progress; row k of `vectors` (transferred) is item k's. A file
   * that cannot be decoded gets a row of zeros and its index in `failed`, and nothing is stored
   * for it (the next run tries again). `onBatch` gets how many items each stored batch finished.
   */
  embedAndStore(
    items: { sha256: string; file: Blob }[],
    modelKey: string,
    onBatch?: (finished: number) => void,
  ): Promise<{ vectors: Float32Array; failed: number[] }> {
    return exclusive(async () => {
      try {
        const current = loadedFor(modelKey, 'embedAndStore');
        const { dim } = current.entry;
        const db = await store();
        const vectors = new Float32Array(items.length * dim);
        const failed: number[] = [];
        for (let start = 0; start < items.length; start += BATCH) {
          const batch = items.slice(start, start + BATCH);
          const embedded = await embedBlobs(current, batch.map((item) => item.file));
          const bad = new Set(embedded.failed);
          const fresh: { sha256: string; vector: Float32Array }[] = [];
          batch.forEach(({ sha256 }, k) => {
            if (bad.has(k)) {
              failed.push(start + k);
              return;
            }
            const vector = embedded.vectors.subarray(k * dim, (k + 1) * dim);
            vectors.set(vector, (start + k) * dim);
            fresh.push({ sha256, vector });
          });
          // Stored before it is reported: progress the page has seen is never lost to a cancel.
          await db.putEmbeddings(modelKey, fresh);
          // Not awaited: the page's progress bar must not hold up the model. Nothing to do if it is gone.
          if (onBatch) Promise.resolve(onBatch(batch.length)).catch(() => {});
        }
        return transfer({ vectors, failed }, [vectors.buffer]);
      } finally {
        release(onBatch);
      }
    });
  },

  /** Live tensors, for leak checks: unchanged by embed() and embedAndStore() once the model is loaded. */
  tensorCount(): number {
    return tf.memory().numTensors;
  },
};

export type EmbedWorkerApi = typeof api;
expose(api);
