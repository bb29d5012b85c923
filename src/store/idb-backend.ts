import type { IDBPDatabase, IDBPTransaction } from 'idb';
import { FEATURE_VERSION, type StoredCheckpoint, type StoredFailure, type StoredFeatures, type StoredFile, type StoredModel, type WinnowDB } from './schema.ts';
import { fileKeyString, summary, type EmbeddingRow, type FeatureBackend, type FileStamp, type KnownKeys, type ModelSummary } from './backend.ts';

const fileKey = (stamp: FileStamp): [string, number, number] => [stamp.path, stamp.size, stamp.lastModified];

/**
 * The vector's own bytes. Structured clone keeps a view's whole buffer, so a row cut from a batch
 * would otherwise store the entire batch with it.
 */
function ownBytes(vector: Float32Array): Float32Array {
  return vector.byteOffset === 0 && vector.byteLength === vector.buffer.byteLength ? vector : vector.slice();
}

/**
 * Every embedding key whose modelKey is `${id}@…`. Keys are [modelKey, sha256] and arrays compare
 * element by element, so these are the keys from [`${id}@`] up to, not including, [`${id}A`]
 * ('A' is the character after '@').
 */
function modelVectorsRange(id: string): IDBKeyRange {
  return IDBKeyRange.bound([`${id}@`], [`${id}A`], false, true);
}

/**
 * Runs the requests `work` issues on `tx` and waits for the commit. Every promise is awaited together,
 * so a transaction that aborts (quota, a value that cannot be stored) rejects once, with no stray
 * unhandled rejections from the individual requests.
 */
async function inTransaction<Tx extends IDBPTransaction<WinnowDB, any, any>>(tx: Tx, work: (tx: Tx) => Promise<unknown>[]): Promise<void> {
  let requests: Promise<unknown>[];
  try {
    requests = work(tx);
  } catch (error) {
    // A put that throws synchronously (DataCloneError) leaves the transaction open: undo its earlier puts.
    tx.done.catch(() => {});
    try {
      tx.abort();
    } catch {
      // already finished
    }
    throw error;
  }
  await Promise.all([...requests, tx.done]);
}

/** Lookups of at least this many keys may read a small store whole (IdbBackend.getMany). */
const WHOLE_READ_MIN = 64;

/** IndexedDB through idb. One transaction per call; nothing unrelated is awaited inside one. */
export class IdbBackend implements FeatureBackend {
  constructor(private readonly db: IDBPDatabase<WinnowDB>) {}

  async getMany(sha256s: readonly string[]): Promise<Map<string, StoredFeatures>> {
    const tx = this.db.transaction('features', 'readonly');
    const found = new Map<string, StoredFeatures>();
    const read = async () => {
      // One getAll costs about what ten single gets do (each get is its own round trip to the
      // storage process), so when the store holds little more than what is asked, read it whole.
      if (sha256s.length >= WHOLE_READ_MIN && (await tx.store.count()) <= 2 * sha256s.length) {
        const wanted = new Set(sha256s);
        for (const value of await tx.store.getAll()) if (wanted.has(value.sha256)) found.set(value.sha256, value);
        return;
      }
      const values = await Promise.all(sha256s.map((key) => tx.store.get(key)));
      values.forEach((value, i) => value && found.set(sha256s[i], value));
    };
    await Promise.all([read(), tx.done]);
    return found;
  }

  putMany(list: readonly StoredFeatures[]): Promise<void> {
    // 'relaxed': this is a cache; a result lost to a power cut is recomputed, and commits are much faster.
    const tx = this.db.transaction('features', 'readwrite', { durability: 'relaxed' });
    return inTransaction(tx, (t) => list.map((features) => t.store.put(features)));
  }

  getFailure(sha256: string): Promise<StoredFailure | undefined> {
    return this.db.get('failures', sha256);
  }

  async getFailures(sha256s: readonly string[]): Promise<Map<string, StoredFailure>> {
    const tx = this.db.transaction('failures', 'readonly');
    const [values] = await Promise.all([Promise.all(sha256s.map((key) => tx.store.get(key))), tx.done]);
    const found = new Map<string, StoredFailure>();
    values.forEach((value, i) => value && found.set(sha256s[i], value));
    return found;
  }

  async getFiles(stamps: readonly FileStamp[]): Promise<(string | undefined)[]> {
    if (stamps.length === 0) return [];
    const tx = this.db.transaction('files', 'readonly');
    const read = async (): Promise<(string | undefined)[]> => {
      // The files of one folder lie side by side in key order (path first), so one getAll over the
      // span of the asked keys reads them all at the cost of a few single gets. Other folders' files
      // may sit inside the span: the read is capped, and keys past what it reached are fetched alone.
      const keys = stamps.map(fileKey);
      let [low, high] = [keys[0], keys[0]];
      for (const key of keys) {
        if (indexedDB.cmp(key, low) < 0) low = key;
        if (indexedDB.cmp(key, high) > 0) high = key;
      }
      const limit = 2 * keys.length + 16;
      const rows = await tx.store.getAll(IDBKeyRange.bound(low, high), limit);
      const reached = rows.length < limit ? high : fileKey(rows[rows.length - 1]);
      const byKey = new Map(rows.map((row) => [fileKeyString(row), row.sha256]));
      return Promise.all(
        stamps.map(async (stamp, i) => (indexedDB.cmp(keys[i], reached) <= 0 ? byKey.get(fileKeyString(stamp)) : (await tx.store.get(keys[i]))?.sha256)),
      );
    };
    const [found] = await Promise.all([read(), tx.done]);
    return found;
  }

  putFiles(files: readonly StoredFile[]): Promise<void> {
    // 'relaxed' like the features: an entry lost to a power cut only means that file is read again.
    const tx = this.db.transaction('files', 'readwrite', { durability: 'relaxed' });
    return inTransaction(tx, (t) => files.map((file) => t.store.put(file)));
  }

  async putFailure(failure: StoredFailure): Promise<void> {
    await this.db.put('failures', failure);
  }

  getMeta(key: string): Promise<unknown> {
    return this.db.get('meta', key);
  }

  async setMeta(key: string, value: unknown): Promise<void> {
    await this.db.put('meta', value, key);
  }

  async getEmbeddings(modelKey: string, sha256s: readonly string[]): Promise<Map<string, Float32Array>> {
    const tx = this.db.transaction('embeddings', 'readonly');
    const [values] = await Promise.all([Promise.all(sha256s.map((sha256) => tx.store.get([modelKey, sha256]))), tx.done]);
    const found = new Map<string, Float32Array>();
    values.forEach((value, i) => value?.vector instanceof Float32Array && found.set(sha256s[i], value.vector));
    return found;
  }

  putEmbeddings(modelKey: string, rows: readonly EmbeddingRow[]): Promise<void> {
    const tx = this.db.transaction('embeddings', 'readwrite', { durability: 'relaxed' });
    const computedAt = Date.now();
    return inTransaction(tx, (t) => rows.map(({ sha256, vector }) => t.store.put({ modelKey, sha256, vector: ownBytes(vector), computedAt })));
  }

  async listModels(): Promise<ModelSummary[]> {
    // A cursor, not getAll: only one model's weights are held at a time while listing.
    const tx = this.db.transaction('models', 'readonly');
    const found: ModelSummary[] = [];
    for await (const cursor of tx.store) found.push(summary(cursor.value));
    await tx.done;
    return found;
  }

  getModel(id: string): Promise<StoredModel | undefined> {
    return this.db.get('models', id);
  }

  async putModel(model: StoredModel): Promise<void> {
    await this.db.put('models', model);
  }

  deleteModel(id: string): Promise<void> {
    const tx = this.db.transaction(['models', 'embeddings'], 'readwrite');
    return inTransaction(tx, (t) => [t.objectStore('models').delete(id), t.objectStore('embeddings').delete(modelVectorsRange(id))]);
  }

  getCheckpoint(runKey: string): Promise<StoredCheckpoint | undefined> {
    return this.db.get('checkpoints', runKey);
  }

  async putCheckpoint(checkpoint: StoredCheckpoint): Promise<void> {
    // Default durability: unlike the caches, a lost checkpoint costs the user an epoch of training.
    await this.db.put('checkpoints', checkpoint);
  }

  async deleteCheckpoint(runKey: string): Promise<void> {
    await this.db.delete('checkpoints', runKey);
  }

  count(): Promise<number> {
    return this.db.countFromIndex('features', 'featureVersion', FEATURE_VERSION);
  }
  async keys(max: number): Promise<KnownKeys | null> {
    const tx = this.db.transaction(['features', 'failures'], 'readonly');
    const read = async (): Promise<KnownKeys | null> => {
      const features = tx.objectStore('features');
      const failures = tx.objectStore('failures');
      const [nFeatures, nFailures] = await Promise.all([features.count(), failures.count()]);
      if (nFeatures + nFailures > max) return null;
      const [a, b] = await Promise.all([features.getAllKeys(), failures.getAllKeys()]);
      return { features: new Set(a), failures: new Set(b) };
    };
    const [known] = await Promise.all([read(), tx.done]);
    return known;
  }


  clear(): Promise<void> {
    const tx = this.db.transaction(['features', 'failures', 'embeddings', 'files'], 'readwrite');
    return inTransaction(tx, (t) => [
      t.objectStore('features').clear(),
      t.objectStore('failures').clear(),
      t.objectStore('embeddings').clear(),
      t.objectStore('files').clear(),
    ]);
  }

  async purgeStale(): Promise<number> {
    const tx = this.db.transaction(['features', 'failures'], 'readwrite');
    let deleted = 0;
    const others = [IDBKeyRange.upperBound(FEATURE_VERSION, true), IDBKeyRange.lowerBound(FEATURE_VERSION, true)];
    await inTransaction(tx, (t) =>
      (['features', 'failures'] as const).flatMap((name) =>
        others.map(async (range) => {
          const store = t.objectStore(name);
          const keys = await store.index('featureVersion').getAllKeys(range);
          deleted += keys.length;
          await Promise.all(keys.map((key) => store.delete(key)));
        }),
      ),
    );
    return deleted;
  }

  close(): void {
    this.db.close();
  }
}
