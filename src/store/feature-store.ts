/**
 * The feature store: features and known failures by sha256, embeddings by model and sha256, the
 * user's own models, and checkpoints of unfinished training runs; in IndexedDB when the browser
 * allows it (idb-backend.ts), in memory when it does not (memory-backend.ts). Opening never throws and no method throws for a storage problem: the store degrades to memory and says so
 * in `status`, because losing the cache must never stop a run or lose a result that was already
 * computed.
 *
 * Used from the main thread and from workers (each opens its own connection), so it touches only
 * indexedDB, navigator.storage and timers: no window, no document.
 */
import { openDB, type IDBPDatabase } from 'idb';
import { DB_NAME, DB_VERSION, migrate, type StoredCheckpoint, type StoredFailure, type StoredFeatures, type StoredFile, type StoredModel, type WinnowDB } from './schema.ts';
import { isCurrent, type EmbeddingRow, type FeatureBackend, type FileStamp, type KnownFile, type KnownKeys, type ModelSummary } from './backend.ts';
import { IdbBackend } from './idb-backend.ts';
import { MemoryBackend } from './memory-backend.ts';

export type { StoredCheckpoint, StoredEmbedding, StoredFailure, StoredFeatures, StoredFile, StoredModel, TrainedModelInfo } from './schema.ts';
export type { EmbeddingRow, FeatureBackend, FileStamp, KnownFile, KnownKeys, ModelSummary } from './backend.ts';
export { MemoryBackend } from './memory-backend.ts';

/**
 * lastModified 0 (or less) is what a File made without a date carries (the bundled sample sets 0 on
 * purpose), so it says nothing about the content: such files are always read and never remembered.
 */
export const hasTrustedStamp = (stamp: { size: number; lastModified: number }): boolean => stamp.lastModified > 0 && stamp.size > 0;

export interface StoreStatus {
  /** True while results are written to IndexedDB and survive a reload; false when kept in memory only. */
  persistent: boolean;
  /** Why not, in words for the user; set whenever persistent is false. */
  message?: string;
}

export interface OpenOptions {
  /** Database name; tests use their own. */
  name?: string;
  /** How long to wait for another tab to let go of an older version before working in memory. */
  blockedTimeoutMs?: number;
  /** How long to wait for IndexedDB to open at all (some broken profiles never answer). */
  openTimeoutMs?: number;
}

const KEPT_IN_TAB = 'Results are kept only until this tab closes.';
const MESSAGES = {
  noIndexedDb: `This browser offers no IndexedDB here, so nothing can be saved between visits. ${KEPT_IN_TAB}`,
  privateWindow: `This browser does not allow saving data for this site (a private window, or site storage is blocked in the settings). ${KEPT_IN_TAB}`,
  newerVersion: `Saved results were written by a newer version of Winnow; reload this page to get it. ${KEPT_IN_TAB}`,
  blocked: `Another Winnow tab holds the saved results open with an older version; close or reload it to save results again. ${KEPT_IN_TAB}`,
  slow: `The browser's storage did not answer in time. ${KEPT_IN_TAB}`,
  versionChange: `A newer version of Winnow opened in another tab and took over the saved results; reload this tab to use them. Until then, results are kept only in this tab.`,
  terminated: `The browser closed the saved-results database (was site data cleared?). ${KEPT_IN_TAB}`,
  quota:
    'The storage space the browser gives this site is full, so new results are kept only in this tab until it closes; ' +
    'results saved before are still used. Clearing saved results frees the space.',
} as const;

function errorName(error: unknown): string {
  return typeof error === 'object' && error !== null && 'name' in error ? String((error as { name: unknown }).name) : '';
}

function describe(error: unknown): string {
  if (error instanceof Error || (typeof error === 'object' && error !== null && 'message' in error)) {
    const { name, message } = error as { name?: string; message?: string };
    return message ? `${name ?? 'Error'}: ${message}` : (name ?? 'Error');
  }
  return String(error);
}

function isQuotaError(error: unknown): boolean {
  const name = errorName(error);
  // Firefox reported its own name before it adopted the standard one.
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED';
}

function openFailureMessage(error: unknown): string {
  switch (errorName(error)) {
    case 'VersionError':
      return MESSAGES.newerVersion;
    case 'InvalidStateError':
    case 'SecurityError':
      return MESSAGES.privateWindow;
    case 'QuotaExceededError':
      return `The browser has no storage space left for this site. ${KEPT_IN_TAB}`;
    default:
      return `Saved results are unavailable (${describe(error)}). ${KEPT_IN_TAB}`;
  }
}

const unreadable = (error: unknown): string => `Saved results could not be read (${describe(error)}). ${KEPT_IN_TAB}`;

const byCreation = (a: ModelSummary, b: ModelSummary): number => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Reads look in memory first, then on disk; writes go to disk while it works and to memory after.
 * Three states: disk read-write (persistent), disk read-only after a write failed (quota: what was
 * saved is still used), and memory only (no IndexedDB, or the connection was closed or lost).
 */
export class FeatureStore {
  readonly #memory = new MemoryBackend();
  #disk: FeatureBackend | null;
  #writable: boolean;
  #status: StoreStatus;

  private constructor(disk: FeatureBackend | null, status: StoreStatus) {
    this.#disk = disk;
    this.#writable = disk !== null;
    this.#status = status;
  }

  /**
   * Opens the IndexedDB store, or, when that cannot be had, an in-memory one with the reason in
   * `status.message`. Never rejects. Waits at most `blockedTimeoutMs` for an older tab that blocks an
   * upgrade, and `openTimeoutMs` in all; a connection that opens after it gave up is closed at once.
   */
  static open(options: OpenOptions = {}): Promise<FeatureStore> {
    const { name = DB_NAME, blockedTimeoutMs = 3_000, openTimeoutMs = 10_000 } = options;
    if (typeof indexedDB === 'undefined' || !indexedDB) return Promise.resolve(FeatureStore.inMemory(MESSAGES.noIndexedDb));

    return new Promise<FeatureStore>((resolve) => {
      let settled = false;
      let store: FeatureStore | null = null;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const fallBack = (message: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(FeatureStore.inMemory(message));
      };
      const giveUpAfter = (ms: number, message: string) => {
        clearTimeout(timer);
        timer = setTimeout(() => fallBack(message), ms);
      };
      giveUpAfter(openTimeoutMs, MESSAGES.slow);

      let opening: Promise<IDBPDatabase<WinnowDB>>;
      try {
        opening = openDB<WinnowDB>(name, DB_VERSION, {
          upgrade(db, oldVersion, newVersion, tx) {
            // The upgrade has exclusive access and is progressing: a long migration is not a hang.
            clearTimeout(timer);
            migrate(db, oldVersion, newVersion ?? DB_VERSION, tx);
          },
          // An older connection in another tab must close before our upgrade can run.
          blocked: () => giveUpAfter(blockedTimeoutMs, MESSAGES.blocked),
          // We are that older connection for a newer tab: let go so it can upgrade, and carry on in memory.
          blocking: () => {
            if (store) store.#loseDisk(MESSAGES.versionChange);
          },
          terminated: () => {
            if (store) store.#loseDisk(MESSAGES.terminated);
          },
        });
      } catch (error) {
        fallBack(openFailureMessage(error)); // e.g. SecurityError thrown synchronously on an opaque origin
        return;
      }
      opening.then(
        (db) => {
          if (settled) {
            db.close(); // we gave up waiting; holding it would block the next upgrade
            return;
          }
          settled = true;
          clearTimeout(timer);
          store = new FeatureStore(new IdbBackend(db), { persistent: true });
          resolve(store);
        },
        (error) => fallBack(openFailureMessage(error)),
      );
    });
  }

  /** A store that keeps everything in memory, e.g. where IndexedDB is unavailable. */
  static inMemory(message = `Saving between visits is off. ${KEPT_IN_TAB}`): FeatureStore {
    return new FeatureStore(null, { persistent: false, message });
  }

  /** @internal A store over a given backend, for tests of the fallback behaviour. */
  static withBackend(backend: FeatureBackend): FeatureStore {
    return new FeatureStore(backend, { persistent: true });
  }

  /** A copy: safe to hand across a worker boundary or into UI state. */
  get status(): StoreStatus {
    return { ...this.#status };
  }

  /** Current-version features for the keys found; one readonly transaction for all of them. */
  async getMany(sha256s: readonly string[]): Promise<Map<string, StoredFeatures>> {
    const keys = [...new Set(sha256s)];
    const found = new Map<string, StoredFeatures>();
    for (const [key, value] of await this.#memory.getMany(keys)) if (isCurrent(value)) found.set(key, value);
    const missing = keys.filter((key) => !found.has(key));
    const disk = this.#disk;
    if (disk && missing.length > 0) {
      try {
        for (const [key, value] of await disk.getMany(missing)) if (isCurrent(value)) found.set(key, value);
      } catch (error) {
        this.#loseDisk(unreadable(error));
      }
    }
    return found;
  }

  put(features: StoredFeatures): Promise<void> {
    return this.putMany([features]);
  }

  /** All in one transaction. If the disk refuses (quota), they and everything after go to memory. */
  async putMany(list: readonly StoredFeatures[]): Promise<void> {
    if (list.length === 0) return;
    if (await this.#tryDisk((disk) => disk.putMany(list))) return;
    await this.#memory.putMany(list);
  }

  async getFailure(sha256: string): Promise<StoredFailure | undefined> {
    const inMemory = await this.#memory.getFailure(sha256);
    if (isCurrent(inMemory)) return inMemory;
    const disk = this.#disk;
    if (!disk) return undefined;
    try {
      const stored = await disk.getFailure(sha256);
      return isCurrent(stored) ? stored : undefined;
    } catch (error) {
      this.#loseDisk(unreadable(error));
      return undefined;
    }
  }

  async putFailure(failure: StoredFailure): Promise<void> {
    if (await this.#tryDisk((disk) => disk.putFailure(failure))) return;
    await this.#memory.putFailure(failure);
  }

  /** Current-version failures for the keys found; one readonly transaction for all of them. */
  async getFailures(sha256s: readonly string[]): Promise<Map<string, StoredFailure>> {
    const keys = [...new Set(sha256s)];
    const found = new Map<string, StoredFailure>();
    for (const [key, value] of await this.#memory.getFailures(keys)) if (isCurrent(value)) found.set(key, value);
    const missing = keys.filter((key) => !found.has(key));
    const disk = this.#disk;
    if (disk && missing.length > 0) {
      try {
        for (const [key, value] of await disk.getFailures(missing)) if (isCurrent(value)) found.set(key, value);
      } catch (error) {
        this.#loseDisk(unreadable(error));
      }
    }
    return found;
  }

  /**
   * What the store knows of each file without reading it: where its path, size and lastModified are
   * those of a file read before, its SHA-256 then and the current features or failure stored under
   * that; undefined otherwise (never seen, changed, no trusted date, or its result is gone or of an
   * older FEATURE_VERSION). Three readonly transactions for the whole list.
   */
  async lookupFiles(stamps: readonly FileStamp[]): Promise<(KnownFile | undefined)[]> {
    const shas: (string | undefined)[] = stamps.map(() => undefined);
    const trusted = stamps.flatMap((stamp, i) => (hasTrustedStamp(stamp) ? [i] : []));
    if (trusted.length === 0) return shas.map(() => undefined);
    const asked = trusted.map((i) => stamps[i]);
    const fromMemory = await this.#memory.getFiles(asked);
    const onDisk = fromMemory.flatMap((sha, k) => (sha === undefined ? [k] : []));
    trusted.forEach((i, k) => (shas[i] = fromMemory[k]));
    const disk = this.#disk;
    if (disk && onDisk.length > 0) {
      try {
        const found = await disk.getFiles(onDisk.map((k) => asked[k]));
        onDisk.forEach((k, j) => (shas[trusted[k]] = found[j]));
      } catch (error) {
        this.#loseDisk(unreadable(error));
      }
    }
    const known = shas.filter((sha): sha is string => sha !== undefined);
    const features = known.length > 0 ? await this.getMany(known) : new Map<string, StoredFeatures>();
    const withoutFeatures = known.filter((sha) => !features.has(sha));
    const failures = withoutFeatures.length > 0 ? await this.getFailures(withoutFeatures) : new Map<string, StoredFailure>();
    return shas.map((sha): KnownFile | undefined => {
      if (sha === undefined) return undefined;
      const hit = features.get(sha);
      if (hit) return { sha256: sha, features: hit };
      const failure = failures.get(sha);
      return failure ? { sha256: sha, failure } : undefined;
    });
  }

  /**
   * Records each file's SHA-256 under its path, size and lastModified, in one transaction; files
   * without a trusted stamp are left out. If the disk refuses (quota), they and everything after go
   * to memory.
   */
  async rememberFiles(files: readonly StoredFile[]): Promise<void> {
    const list = files.filter(hasTrustedStamp);
    if (list.length === 0) return;
    if (await this.#tryDisk((disk) => disk.putFiles(list))) return;
    await this.#memory.putFiles(list);
  }

  /** A small setting or note by name; undefined when never set. */
  async getMeta<T = unknown>(key: string): Promise<T | undefined> {
    const inMemory = await this.#memory.getMeta(key);
    const disk = this.#disk;
    if (inMemory !== undefined || !disk) return inMemory as T | undefined;
    try {
      return (await disk.getMeta(key)) as T | undefined;
    } catch (error) {
      this.#loseDisk(unreadable(error));
      return undefined;
    }
  }

  async setMeta(key: string, value: unknown): Promise<void> {
    if (await this.#tryDisk((disk) => disk.setMeta(key, value))) return;
    await this.#memory.setMeta(key, value);
  }

  /**
   * Vectors stored under this model for the files found, by sha256; one readonly transaction. The
   * arrays are the store's own in memory: copy before changing one.
   */
  async getEmbeddings(modelKey: string, sha256s: readonly string[]): Promise<Map<string, Float32Array>> {
    const keys = [...new Set(sha256s)];
    const found = await this.#memory.getEmbeddings(modelKey, keys);
    const missing = keys.filter((key) => !found.has(key));
    const disk = this.#disk;
    if (disk && missing.length > 0) {
      try {
        for (const [key, vector] of await disk.getEmbeddings(modelKey, missing)) found.set(key, vector);
      } catch (error) {
        this.#loseDisk(unreadable(error));
      }
    }
    return found;
  }

  /** All in one transaction. If the disk refuses (quota), they and everything after go to memory. */
  async putEmbeddings(modelKey: string, rows: readonly EmbeddingRow[]): Promise<void> {
    if (rows.length === 0) return;
    if (await this.#tryDisk((disk) => disk.putEmbeddings(modelKey, rows))) return;
    await this.#memory.putEmbeddings(modelKey, rows);
  }

  /** The user's models, oldest first, without their weights. */
  async listModels(): Promise<ModelSummary[]> {
    const byId = new Map<string, ModelSummary>();
    const disk = this.#disk;
    if (disk) {
      try {
        for (const model of await disk.listModels()) byId.set(model.id, model);
      } catch (error) {
        this.#loseDisk(unreadable(error));
      }
    }
    for (const model of await this.#memory.listModels()) byId.set(model.id, model);
    return [...byId.values()].sort(byCreation);
  }

  async getModel(id: string): Promise<StoredModel | undefined> {
    const inMemory = await this.#memory.getModel(id);
    const disk = this.#disk;
    if (inMemory || !disk) return inMemory;
    try {
      return await disk.getModel(id);
    } catch (error) {
      this.#loseDisk(unreadable(error));
      return undefined;
    }
  }

  /** If the disk refuses (a model is megabytes: quota is likely), it and everything after go to memory. */
  async putModel(model: StoredModel): Promise<void> {
    if (await this.#tryDisk((disk) => disk.putModel(model))) return;
    await this.#memory.putModel(model);
  }

  /**
   * Forgets the model and every vector it made, which nothing can read without it. Tried on disk
   * even after a quota stop: deleting is what frees space.
   */
  async deleteModel(id: string): Promise<void> {
    await this.#memory.deleteModel(id);
    const disk = this.#disk;
    if (!disk) return;
    try {
      await disk.deleteModel(id);
    } catch (error) {
      // Left on disk it would still be listed; memory only is the honest state.
      this.#loseDisk(`A saved model could not be deleted (${describe(error)}). ${KEPT_IN_TAB}`);
    }
  }

  /** The unfinished training run saved under this key, if any. */
  async getCheckpoint(runKey: string): Promise<StoredCheckpoint | undefined> {
    const inMemory = await this.#memory.getCheckpoint(runKey);
    const disk = this.#disk;
    if (inMemory || !disk) return inMemory;
    try {
      return await disk.getCheckpoint(runKey);
    } catch (error) {
      this.#loseDisk(unreadable(error));
      return undefined;
    }
  }

  /**
   * Replaces the run's checkpoint. If the disk refuses (quota), it goes to memory, where it still
   * serves a resume after a cancel in this tab, though not after a reload.
   */
  async putCheckpoint(checkpoint: StoredCheckpoint): Promise<void> {
    if (await this.#tryDisk((disk) => disk.putCheckpoint(checkpoint))) {
      // A memory copy from before a quota stop would shadow this newer one.
      await this.#memory.deleteCheckpoint(checkpoint.runKey);
      return;
    }
    await this.#memory.putCheckpoint(checkpoint);
  }

  /** Forgets the run's checkpoint; tried on disk even after a quota stop, since deleting frees space. */
  async deleteCheckpoint(runKey: string): Promise<void> {
    await this.#memory.deleteCheckpoint(runKey);
    const disk = this.#disk;
    if (!disk) return;
    try {
      await disk.deleteCheckpoint(runKey);
    } catch (error) {
      // Left on disk it would be resumed later; memory only is the honest state.
      this.#loseDisk(`A training checkpoint could not be deleted (${describe(error)}). ${KEPT_IN_TAB}`);
    }
  }

  /** Stored current-version features, on disk and in memory. */
  /**
   * A snapshot of the keys stored (memory and disk), so that a batch of new files needs no lookup
   * at all: a key missing from it is certainly not stored, or was stored after it was taken (then
   * it is computed again, which is harmless). Null when the store holds more than `max` keys or
   * cannot say; then every key is looked up.
   */
  async knownKeys(max = 250_000): Promise<KnownKeys | null> {
    const inMemory = await this.#memory.keys(max);
    if (!inMemory) return null;
    const disk = this.#disk;
    if (!disk) return inMemory;
    try {
      const onDisk = await disk.keys(max);
      if (!onDisk) return null;
      for (const key of inMemory.features) onDisk.features.add(key);
      for (const key of inMemory.failures) onDisk.failures.add(key);
      return onDisk;
    } catch (error) {
      this.#loseDisk(unreadable(error));
      return null;
    }
  }

  async count(): Promise<number> {
    let onDisk = 0;
    const disk = this.#disk;
    if (disk) {
      try {
        onDisk = await disk.count();
      } catch (error) {
        this.#loseDisk(unreadable(error));
      }
    }
    return onDisk + (await this.#memory.count());
  }

  /**
   * Forgets all features, failures, embeddings and file stamps (settings in meta and the user's models stay).
   * After a quota stop, writing resumes.
   */
  async clear(): Promise<void> {
    await this.#memory.clear();
    const disk = this.#disk;
    if (!disk) return;
    try {
      await disk.clear();
      if (!this.#writable) {
        this.#writable = true; // the space is free again
        this.#status = { persistent: true };
      }
    } catch (error) {
      this.#loseDisk(`Saved results could not be cleared (${describe(error)}). ${KEPT_IN_TAB}`);
    }
  }

  /** Deletes entries made by another FEATURE_VERSION, which are never read again; returns how many. */
  async purgeStale(): Promise<number> {
    let deleted = await this.#memory.purgeStale();
    const disk = this.#disk;
    if (disk && this.#writable) {
      try {
        deleted += await disk.purgeStale();
      } catch {
        // Stale entries are harmless (they read as misses); leave them for next time.
      }
    }
    return deleted;
  }

  /** Usage and quota of this origin's storage, or null where the browser does not say. */
  async estimate(): Promise<StorageEstimate | null> {
    try {
      const storage = globalThis.navigator?.storage;
      return storage && typeof storage.estimate === 'function' ? await storage.estimate() : null;
    } catch {
      return null;
    }
  }

  /** Closes the connection; the store keeps working in memory. */
  close(): void {
    this.#loseDisk(`The saved-results database was closed. ${KEPT_IN_TAB}`);
  }

  /** Runs a write on disk when writable; on failure stops disk writes for good and returns false. */
  async #tryDisk(write: (disk: FeatureBackend) => Promise<void>): Promise<boolean> {
    const disk = this.#disk;
    if (!disk || !this.#writable) return false;
    try {
      await write(disk);
      return true;
    } catch (error) {
      // Only the first failure sets the message; later writes already go to memory.
      if (this.#writable && this.#disk === disk) {
        this.#writable = false;
        this.#status = {
          persistent: false,
          message: isQuotaError(error)
            ? MESSAGES.quota
            : `Results could not be saved (${describe(error)}), so new ones are kept only in this tab until it closes; results saved before are still used.`,
        };
      }
      return false;
    }
  }

  #loseDisk(message: string): void {
    const disk = this.#disk;
    if (!disk) return;
    this.#disk = null;
    this.#writable = false;
    this.#status = { persistent: false, message };
    try {
      disk.close();
    } catch {
      // closing twice is harmless
    }
  }
}
