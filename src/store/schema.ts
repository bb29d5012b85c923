/**
 * The IndexedDB schema of the feature store: what is kept between visits so a second run over the
 * same files decodes nothing. Everything is keyed by the file's SHA-256, never by its name or path:
 * a renamed or moved file is still a hit, and two copies of one file are computed once. The one
 * exception is the `files` store (version 4), which only says which SHA-256 a file at a path had.
 *
 * Two version numbers, for two different things:
 * - DB_VERSION is the shape of the database (stores, indexes). Raising it runs MIGRATIONS.
 * - FEATURE_VERSION is the meaning of the values (hash code, decoding, thumbnail size). Raising it
 *   needs no migration: entries carry the version they were made with, older ones read as misses,
 *   are recomputed and overwritten, and purgeStale() can delete the rest.
 */
import type { DBSchema, IDBPDatabase, IDBPTransaction, StoreNames } from 'idb';
import type { ImageFormat } from '../core/sniff.ts';
import type { ImageFeatures, SkipReason } from '../core/types.ts';
import type { EpochStats, TrainSettings } from '../ml/train/settings.ts';

export const DB_NAME = 'winnow';
export const DB_VERSION = 4;

/**
 * Bump whenever anything that produces StoredFeatures or StoredFailure changes its output: the hash
 * functions, decoding options, the sniffing/limits that refuse files, the thumbnail. Stale entries
 * are then recomputed instead of silently mixing two definitions of a hash in one comparison.
 */
// 2: truncated files explained from their structure; files over 512 MB refused (hashed in slices).
export const FEATURE_VERSION = 2;

/** One analysed file, as stored under its sha256. */
export interface StoredFeatures extends ImageFeatures {
  format: ImageFormat;
  /**
   * A small WebP or JPEG (or the image itself when it is that small) for the gallery, so results can
   * be shown without the original file. Encoded bytes with their type in thumbType; entries stored
   * by earlier builds hold a Blob, which is still shown as it is.
   */
  thumb: ArrayBuffer | Blob;
  /** The MIME type of `thumb` when it is bytes. */
  thumbType?: string;
  /**
   * Which decoder gave the pixels: the browser's (createImageBitmap) or the WebAssembly JPEG
   * decoder (identical pixels). Kept so the fast path's use can be seen and tested; absent in
   * entries from earlier builds.
   */
  decodedBy?: 'browser' | 'wasm';
  /**
   * The size the decoder produced when it was asked for a reduced copy (large JPEGs; decode.ts
   * reducedSize), from which the hashes and thumbnail were computed; absent when it decoded at full size.
   */
  decodedSize?: [number, number];
  /** Which Lanczos resize made the hash thumbnails (the same bytes either way; for diagnosis). */
  resizedBy?: 'simd' | 'typescript';
  thumbWidth: number;
  thumbHeight: number;
  /** Date.now() when computed. */
  computedAt: number;
  featureVersion: number;
}

/** A file known not to decode, so it is not decoded again (a corrupt 50 MB file costs seconds). */
export interface StoredFailure {
  sha256: string;
  reason: SkipReason;
  detail: string;
  featureVersion: number;
}

/**
 * One file's embedding under one model. modelKey = `${modelId}@${version}`: a new model version never
 * reads an old one's vectors. Embeddings carry no FEATURE_VERSION; anything that changes what a model
 * is fed (decoding, resizing) must change the modelKey instead.
 */
export interface StoredEmbedding {
  modelKey: string;
  sha256: string;
  /** Exactly the vector's own bytes: a view into a larger buffer would store all of that buffer. */
  vector: Float32Array;
  computedAt: number;
}

/** A user's own TensorFlow.js model ("bring your own model"); never leaves the machine. */
export interface StoredModel {
  /** 'user-' + the first 16 hex digits of the SHA-256 of model.json's bytes and the weights. */
  id: string;
  /** The name of the folder the user dropped. */
  name: string;
  format: 'graph' | 'layers';
  /** The parsed model.json, its weightsManifest paths rewritten to the one file 'weights.bin'. */
  modelJson: unknown;
  /** Every weights shard, concatenated in manifest order. */
  weights: ArrayBuffer;
  /** The chosen output node; '' means the model's own output (layers models). */
  outputNode: string;
  inputSize: number;
  inputRange: [number, number];
  dim: number;
  createdAt: number;
  /** Set when Winnow trained the model on the user's labelled images (issue 5), not when one was brought. */
  trained?: TrainedModelInfo;
}

/** How a model trained in the browser came about: enough to show it, compare runs and tell whether the data changed. */
export interface TrainedModelInfo {
  /** What the labelled files and their labels were (made by the page), to say "trained on this dataset". */
  fingerprint: string;
  fileCount: number;
  /** Class names, by label index. */
  classes: string[];
  settings: TrainSettings;
  history: EpochStats[];
  /** 0-based epoch whose weights were kept (the best validation loss). */
  bestEpoch: number;
  valAccuracy: number;
  /** 10-NN accuracy of the validation items among the training items, when measured. */
  valKnn10?: number;
  backend: string;
  /** Wall time of the training, over all sessions when it was resumed. */
  seconds: number;
  trainedAt: number;
}

/**
 * Version 3: where an unfinished training run stands after its last whole epoch, so a reload (or a
 * cancel) resumes it instead of starting over. Weights are in tf.io.encodeWeights' form and are
 * matched by position, not name. One per run; deleted when the run's model is saved.
 */
export interface StoredCheckpoint {
  /** Chosen by the page; one run at a time per key. */
  runKey: string;
  /** The training data's fingerprint: a checkpoint of other data is never resumed. */
  fingerprint: string;
  settings: TrainSettings;
  /** 0-based epoch last completed; training resumes at epoch + 1. */
  epoch: number;
  history: EpochStats[];
  modelWeights: ArrayBuffer;
  modelSpecs: WeightSpec[];
  optimizerWeights: ArrayBuffer;
  optimizerSpecs: WeightSpec[];
  /** The best validation epoch's weights, when that epoch is not `epoch`. */
  best?: { epoch: number; weights: ArrayBuffer; specs: WeightSpec[] };
  /** Indices into the run's items: which trained and which validated. */
  split: { train: Int32Array; validation: Int32Array };
  /** Training seconds spent so far, summed over sessions. */
  seconds: number;
  backend: string;
  updatedAt: number;
}

/**
 * Version 4: which content a file had when it was last read, so a re-run over an unchanged folder
 * takes each file's SHA-256 from here instead of reading and hashing it again. Keyed by all three
 * of path, size and lastModified: any change to one of them is a different key, hence a miss. The
 * one thing it cannot see is content rewritten with the same size and the same lastModified (see
 * docs/RELIABILITY.md). Carries no FEATURE_VERSION: a file's SHA-256 does not depend on our code.
 */
export interface StoredFile {
  /** The path below the folder the user gave, as in the manifest. */
  path: string;
  size: number;
  /** File.lastModified (ms); never 0, which is what a file with no real date carries. */
  lastModified: number;
  sha256: string;
}

/** One entry of a tfjs weights manifest (tf.io.WeightsManifestEntry), kept structural so the store needs no tfjs. */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  group?: string;
  quantization?: unknown;
}

export interface WinnowDB extends DBSchema {
  features: {
    key: string;
    value: StoredFeatures;
    /** Counting current entries and deleting stale ones without reading every value. */
    indexes: { featureVersion: number };
  };
  failures: {
    key: string;
    value: StoredFailure;
    indexes: { featureVersion: number };
  };
  /** Small settings and bookkeeping, by name (out-of-line keys). */
  meta: {
    key: string;
    value: unknown;
  };
  /** Version 2: one vector per model and file, so another model adds rows instead of replacing them. */
  embeddings: {
    key: [string, string];
    value: StoredEmbedding;
    /** One model's vectors, found without reading every row. */
    indexes: { modelKey: string };
  };
  /** Version 2: models the user brought, by id. */
  models: {
    key: string;
    value: StoredModel;
  };
  /** Version 3: unfinished training runs, by runKey. */
  checkpoints: {
    key: string;
    value: StoredCheckpoint;
  };
  /** Version 4: a file's SHA-256 by its path, size and lastModified. */
  files: {
    key: [string, number, number];
    value: StoredFile;
  };
}

export type UpgradeTransaction = IDBPTransaction<WinnowDB, StoreNames<WinnowDB>[], 'versionchange'>;

/**
 * Takes the database from version n-1 to n. Runs inside the versionchange transaction: create and
 * delete stores and indexes synchronously; a data rewrite may use `tx`, but must await nothing but
 * its requests, or the transaction commits under it.
 */
export type Migration = (db: IDBPDatabase<WinnowDB>, tx: UpgradeTransaction) => void;

/**
 * One migration per version, applied in order, so a database at any older version (or none) reaches
 * DB_VERSION. Adding version n is: raise DB_VERSION, add the stores to WinnowDB, add `n: (db) => …`.
 */
export const MIGRATIONS: Readonly<Record<number, Migration>> = {
  1: (db) => {
    // Keys are sha256 strings taken from the value itself (keyPath), so a put needs no separate key.
    db.createObjectStore('features', { keyPath: 'sha256' }).createIndex('featureVersion', 'featureVersion');
    db.createObjectStore('failures', { keyPath: 'sha256' }).createIndex('featureVersion', 'featureVersion');
    db.createObjectStore('meta');
  },
  // Only adds stores: a version 1 database keeps its features, failures and settings.
  2: (db) => {
    db.createObjectStore('embeddings', { keyPath: ['modelKey', 'sha256'] }).createIndex('modelKey', 'modelKey');
    db.createObjectStore('models', { keyPath: 'id' });
  },
  // Only adds a store: features, embeddings and models of version 2 stay as they are.
  3: (db) => {
    db.createObjectStore('checkpoints', { keyPath: 'runKey' });
  },
  // Only adds a store: everything of version 3 stays. Every file of the first run after it is read once more.
  4: (db) => {
    db.createObjectStore('files', { keyPath: ['path', 'size', 'lastModified'] });
  },
};

/** The upgrade callback for openDB: every migration after oldVersion, up to newVersion. */
export function migrate(db: IDBPDatabase<WinnowDB>, oldVersion: number, newVersion: number, tx: UpgradeTransaction): void {
  for (let version = oldVersion + 1; version <= newVersion; version++) {
    const step = MIGRATIONS[version];
    // A gap would leave the database half-built under a version number that claims otherwise.
    if (!step) throw new Error(`No migration to IndexedDB schema version ${version}.`);
    step(db, tx);
  }
}
