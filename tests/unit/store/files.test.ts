/**
 * Schema version 4: a file's SHA-256 by its path, size and lastModified, so a re-run over an
 * unchanged folder reads nothing. The upgrade from version 3 only adds the files store; lookups
 * answer only with a current result, never for a file without a real date, and degrade like the
 * other stores when the disk fails.
 */
import { describe, expect, it } from 'vitest';
import { FeatureStore, MemoryBackend, type FileStamp, type StoredFile } from '../../../src/store/feature-store.ts';
import { DB_VERSION, FEATURE_VERSION, migrate, type UpgradeTransaction } from '../../../src/store/schema.ts';
import { databaseAt, storedFeatures, untouchableTransaction, type Stores } from './fixtures.ts';

const T = 1_700_000_000_000;
const stamp = (path: string, size = 100, lastModified = T): FileStamp => ({ path, size, lastModified });
const file = (path: string, sha256: string, size = 100, lastModified = T): StoredFile => ({ path, size, lastModified, sha256 });


const untouchable = untouchableTransaction(4);

describe('schema version 4', () => {
  it('is the current version', () => {
    expect(DB_VERSION).toBe(4);
  });

  it('takes a version 3 database to 4 by adding files keyed by path, size and lastModified, keeping everything else', () => {
    const v3: Stores = {
      features: { options: { keyPath: 'sha256' }, rows: new Map([['a', { sha256: 'a', featureVersion: 2 }]]) },
      failures: { options: { keyPath: 'sha256' }, rows: new Map([['b', { sha256: 'b' }]]) },
      meta: { rows: new Map([['settings', { mode: 'semantic' }]]) },
      embeddings: { options: { keyPath: ['modelKey', 'sha256'] }, rows: new Map([[['m@1', 'a'], { vector: new Float32Array([1]) }]]) },
      models: { options: { keyPath: 'id' }, rows: new Map([['user-1', { id: 'user-1' }]]) },
      checkpoints: { options: { keyPath: 'runKey' }, rows: new Map([['run', { runKey: 'run', epoch: 3 }]]) },
    };
    const before = structuredClone(v3);
    migrate(databaseAt(v3), 3, 4, untouchable);
    expect(Object.keys(v3)).toEqual(['features', 'failures', 'meta', 'embeddings', 'models', 'checkpoints', 'files']);
    expect(v3.files).toEqual({ options: { keyPath: ['path', 'size', 'lastModified'] }, rows: new Map() });
    for (const name of Object.keys(before)) expect(v3[name], name).toEqual(before[name]);
  });

  it('builds version 4 from nothing and from version 2 alike', () => {
    const fresh: Stores = {};
    migrate(databaseAt(fresh), 0, 4, {} as UpgradeTransaction);
    const fromTwo: Stores = {};
    migrate(databaseAt(fromTwo), 0, 2, {} as UpgradeTransaction);
    migrate(databaseAt(fromTwo), 2, 4, {} as UpgradeTransaction);
    expect(Object.keys(fromTwo)).toEqual(Object.keys(fresh));
  });
});

describe('file stamps in the feature store', () => {
  it('answers a stamp read before with its SHA-256 and the current features or failure, in order', async () => {
    const store = FeatureStore.inMemory();
    await store.putMany([storedFeatures('sa')]);
    await store.putFailure({ sha256: 'sb', reason: 'corrupt-image', detail: 'damaged', featureVersion: FEATURE_VERSION });
    await store.rememberFiles([file('a.jpg', 'sa'), file('b.jpg', 'sb')]);
    const [b, none, a] = await store.lookupFiles([stamp('b.jpg'), stamp('new.jpg'), stamp('a.jpg')]);
    expect(a).toEqual({ sha256: 'sa', features: storedFeatures('sa') });
    expect(b).toMatchObject({ sha256: 'sb', failure: { reason: 'corrupt-image' } });
    expect(none).toBeUndefined();
  });

  it('misses when any of path, size or lastModified differs', async () => {
    const store = FeatureStore.inMemory();
    await store.putMany([storedFeatures('sa')]);
    await store.rememberFiles([file('a.jpg', 'sa')]);
    expect(await store.lookupFiles([stamp('a.jpg', 101), stamp('a.jpg', 100, T + 1), stamp('b/a.jpg'), stamp('a.jpg')])).toEqual([
      undefined,
      undefined,
      undefined,
      { sha256: 'sa', features: storedFeatures('sa') },
    ]);
  });

  it('never remembers or answers a file without a real date (lastModified 0) or an empty file', async () => {
    const store = FeatureStore.inMemory();
    await store.putMany([storedFeatures('sa')]);
    await store.rememberFiles([file('a.jpg', 'sa', 100, 0), file('e.jpg', 'sa', 0, T)]);
    expect(await store.lookupFiles([stamp('a.jpg', 100, 0), stamp('e.jpg', 0, T)])).toEqual([undefined, undefined]);
  });

  it('misses when the result under the SHA-256 is of an older FEATURE_VERSION, or was cleared with the stamps', async () => {
    const store = FeatureStore.inMemory();
    await store.putMany([storedFeatures('old', FEATURE_VERSION - 1), storedFeatures('sa')]);
    await store.rememberFiles([file('old.jpg', 'old'), file('a.jpg', 'sa')]);
    expect(await store.lookupFiles([stamp('old.jpg'), stamp('a.jpg')])).toEqual([undefined, { sha256: 'sa', features: storedFeatures('sa') }]);
    await store.clear();
    await store.putMany([storedFeatures('sa')]);
    expect(await store.lookupFiles([stamp('a.jpg')])).toEqual([undefined]);
  });

  it('on a full disk keeps stamps in memory, and still reads the ones saved before', async () => {
    class Full extends MemoryBackend {
      fail: Error | null = null;
      override async putFiles(files: readonly StoredFile[]) {
        if (this.fail) throw this.fail;
        return super.putFiles(files);
      }
    }
    const disk = new Full();
    const store = FeatureStore.withBackend(disk);
    await store.putMany([storedFeatures('sa'), storedFeatures('sb')]);
    await store.rememberFiles([file('a.jpg', 'sa')]);
    disk.fail = new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    await store.rememberFiles([file('b.jpg', 'sb')]);
    expect(store.status.persistent).toBe(false);
    expect((await store.lookupFiles([stamp('a.jpg'), stamp('b.jpg')])).map((k) => k?.sha256)).toEqual(['sa', 'sb']);
  });

  it('a read error answers "unknown" (the file is read) instead of throwing', async () => {
    class Broken extends MemoryBackend {
      override async getFiles(): Promise<(string | undefined)[]> {
        throw new Error('disk gone');
      }
    }
    const store = FeatureStore.withBackend(new Broken());
    expect(await store.lookupFiles([stamp('a.jpg')])).toEqual([undefined]);
    expect(store.status.persistent).toBe(false);
  });
});
