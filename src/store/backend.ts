/**
 * Where the feature store's values live (FeatureBackend) and what both backends share. IndexedDB
 * (idb-backend.ts) and memory (memory-backend.ts) implement it; FeatureStore (feature-store.ts)
 * puts the two together.
 */
import { FEATURE_VERSION, type StoredCheckpoint, type StoredFailure, type StoredFeatures, type StoredFile, type StoredModel } from './schema.ts';

/** What identifies a file on disk without reading it. */
export type FileStamp = Omit<StoredFile, 'sha256'>;

/** A file the store recognises by its stamp: its SHA-256 and the current result stored under it. */
export type KnownFile = { sha256: string; features: StoredFeatures; failure?: undefined } | { sha256: string; features?: undefined; failure: StoredFailure };

/** A stored model without its bytes: enough to list and choose one. */
export type ModelSummary = Omit<StoredModel, 'weights' | 'modelJson'>;

/** One vector to store under a model; the store stamps the time. */
export interface EmbeddingRow {
  sha256: string;
  vector: Float32Array;
}


/** The keys a store holds, for answering "certainly not stored" without a lookup per key. */
export interface KnownKeys {
  features: Set<string>;
  failures: Set<string>;
}

/** Where values live. IndexedDB and memory implement it; tests can inject one that fails on cue. */
export interface FeatureBackend {
  getMany(sha256s: readonly string[]): Promise<Map<string, StoredFeatures>>;
  putMany(list: readonly StoredFeatures[]): Promise<void>;
  getFailure(sha256: string): Promise<StoredFailure | undefined>;
  /** The failures found, by sha256; one transaction. */
  getFailures(sha256s: readonly string[]): Promise<Map<string, StoredFailure>>;
  putFailure(failure: StoredFailure): Promise<void>;
  /** The SHA-256 recorded for each stamp, in order; undefined where none. One transaction. */
  getFiles(stamps: readonly FileStamp[]): Promise<(string | undefined)[]>;
  putFiles(files: readonly StoredFile[]): Promise<void>;
  getMeta(key: string): Promise<unknown>;
  setMeta(key: string, value: unknown): Promise<void>;
  /** Vectors found under this model, by sha256. */
  getEmbeddings(modelKey: string, sha256s: readonly string[]): Promise<Map<string, Float32Array>>;
  putEmbeddings(modelKey: string, rows: readonly EmbeddingRow[]): Promise<void>;
  listModels(): Promise<ModelSummary[]>;
  getModel(id: string): Promise<StoredModel | undefined>;
  putModel(model: StoredModel): Promise<void>;
  /** The model and every vector it made. */
  deleteModel(id: string): Promise<void>;
  getCheckpoint(runKey: string): Promise<StoredCheckpoint | undefined>;
  putCheckpoint(checkpoint: StoredCheckpoint): Promise<void>;
  deleteCheckpoint(runKey: string): Promise<void>;
  /** Entries of the current FEATURE_VERSION. */
  count(): Promise<number>;
  /**
   * Every key of the features and failures stores (any version), or null when there are more than
   * `max` in all: one readonly transaction.
   */
  keys(max: number): Promise<KnownKeys | null>;
  /** Features, failures, embeddings and files; meta (settings) and models stay. */
  clear(): Promise<void>;
  /** Deletes entries of any other FEATURE_VERSION; returns how many. */
  purgeStale(): Promise<number>;
  close(): void;
}

export const fileKeyString = (stamp: FileStamp): string => `${stamp.size}\0${stamp.lastModified}\0${stamp.path}`;

export const isCurrent = (value: { featureVersion: number } | undefined): boolean => value?.featureVersion === FEATURE_VERSION;

export function summary(model: StoredModel): ModelSummary {
  const { weights: _weights, modelJson: _modelJson, ...rest } = model;
  return rest;
}
