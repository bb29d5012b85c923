import type { StoredCheckpoint, StoredEmbedding, StoredFailure, StoredFeatures, StoredFile, StoredModel } from './schema.ts';
import { fileKeyString, isCurrent, summary, type EmbeddingRow, type FeatureBackend, type FileStamp, type KnownKeys, type ModelSummary } from './backend.ts';

/** `${id}@…` is one of this model's keys. */
const madeBy = (modelKey: string, id: string): boolean => modelKey.startsWith(`${id}@`);

/**
 * The fallback, and the overflow once IndexedDB is full. Values are kept as given (Blobs included),
 * except vectors, which are copied: the caller may transfer or reuse the buffer they came in.
 */
export class MemoryBackend implements FeatureBackend {
  private readonly features = new Map<string, StoredFeatures>();
  private readonly failures = new Map<string, StoredFailure>();
  private readonly meta = new Map<string, unknown>();
  /** modelKey → sha256 → vector. */
  private readonly embeddings = new Map<string, Map<string, StoredEmbedding>>();
  private readonly models = new Map<string, StoredModel>();
  private readonly checkpoints = new Map<string, StoredCheckpoint>();
  private readonly files = new Map<string, string>();

  async getMany(sha256s: readonly string[]): Promise<Map<string, StoredFeatures>> {
    const found = new Map<string, StoredFeatures>();
    for (const key of sha256s) {
      const value = this.features.get(key);
      if (value) found.set(key, value);
    }
    return found;
  }

  async putMany(list: readonly StoredFeatures[]): Promise<void> {
    for (const features of list) this.features.set(features.sha256, features);
  }

  async getFailure(sha256: string): Promise<StoredFailure | undefined> {
    return this.failures.get(sha256);
  }

  async getFailures(sha256s: readonly string[]): Promise<Map<string, StoredFailure>> {
    const found = new Map<string, StoredFailure>();
    for (const key of sha256s) {
      const value = this.failures.get(key);
      if (value) found.set(key, value);
    }
    return found;
  }

  async putFailure(failure: StoredFailure): Promise<void> {
    this.failures.set(failure.sha256, failure);
  }

  async getFiles(stamps: readonly FileStamp[]): Promise<(string | undefined)[]> {
    return stamps.map((stamp) => this.files.get(fileKeyString(stamp)));
  }

  async putFiles(files: readonly StoredFile[]): Promise<void> {
    for (const file of files) this.files.set(fileKeyString(file), file.sha256);
  }

  async getMeta(key: string): Promise<unknown> {
    return this.meta.get(key);
  }

  async setMeta(key: string, value: unknown): Promise<void> {
    this.meta.set(key, value);
  }

  async getEmbeddings(modelKey: string, sha256s: readonly string[]): Promise<Map<string, Float32Array>> {
    const found = new Map<string, Float32Array>();
    const rows = this.embeddings.get(modelKey);
    if (!rows) return found;
    for (const sha256 of sha256s) {
      const row = rows.get(sha256);
      if (row) found.set(sha256, row.vector);
    }
    return found;
  }

  async putEmbeddings(modelKey: string, rows: readonly EmbeddingRow[]): Promise<void> {
    let stored = this.embeddings.get(modelKey);
    if (!stored) this.embeddings.set(modelKey, (stored = new Map()));
    const computedAt = Date.now();
    for (const { sha256, vector } of rows) stored.set(sha256, { modelKey, sha256, vector: vector.slice(), computedAt });
  }

  async listModels(): Promise<ModelSummary[]> {
    return [...this.models.values()].map(summary);
  }

  async getModel(id: string): Promise<StoredModel | undefined> {
    return this.models.get(id);
  }

  async putModel(model: StoredModel): Promise<void> {
    this.models.set(model.id, model);
  }

  async deleteModel(id: string): Promise<void> {
    this.models.delete(id);
    for (const modelKey of [...this.embeddings.keys()]) if (madeBy(modelKey, id)) this.embeddings.delete(modelKey);
  }

  async getCheckpoint(runKey: string): Promise<StoredCheckpoint | undefined> {
    return this.checkpoints.get(runKey);
  }

  async putCheckpoint(checkpoint: StoredCheckpoint): Promise<void> {
    this.checkpoints.set(checkpoint.runKey, checkpoint);
  }

  async deleteCheckpoint(runKey: string): Promise<void> {
    this.checkpoints.delete(runKey);
  }

  async count(): Promise<number> {
    let n = 0;
    for (const value of this.features.values()) if (isCurrent(value)) n++;
    return n;
  }

  async keys(max: number): Promise<KnownKeys | null> {
    if (this.features.size + this.failures.size > max) return null;
    return { features: new Set(this.features.keys()), failures: new Set(this.failures.keys()) };
  }

  async clear(): Promise<void> {
    this.features.clear();
    this.failures.clear();
    this.embeddings.clear();
    this.files.clear();
  }

  async purgeStale(): Promise<number> {
    let deleted = 0;
    for (const map of [this.features, this.failures] as Map<string, { featureVersion: number }>[]) {
      for (const [key, value] of map) if (!isCurrent(value) && map.delete(key)) deleted++;
    }
    return deleted;
  }

  close(): void {}
}
