/**
 * The store's fallback logic, in Node: here there is no IndexedDB, so open() must degrade to memory,
 * and a backend that fails on cue stands in for a full or broken disk. Persistence across reloads,
 * blocked upgrades and real quota errors are for the browser tests.
 */
import { describe, expect, it } from 'vitest';
import { FeatureStore, MemoryBackend, type StoredFailure, type StoredFeatures } from '../../../src/store/feature-store.ts';
import { DB_VERSION, FEATURE_VERSION, migrate, MIGRATIONS, type UpgradeTransaction } from '../../../src/store/schema.ts';
import { storedFeatures } from './fixtures.ts';

const failure = (sha256: string, featureVersion = FEATURE_VERSION): StoredFailure => ({ sha256, reason: 'corrupt-image', detail: 'damaged', featureVersion });

/** A backend that works until told to fail, and counts what reached it. */
class FlakyBackend extends MemoryBackend {
  failWrites: Error | null = null;
  failReads: Error | null = null;
  writes = 0;
  closed = false;
  override async putMany(list: readonly StoredFeatures[]) {
    if (this.failWrites) throw this.failWrites;
    this.writes += list.length;
    return super.putMany(list);
  }
  override async putFailure(f: StoredFailure) {
    if (this.failWrites) throw this.failWrites;
    this.writes++;
    return super.putFailure(f);
  }
  override async getMany(keys: readonly string[]) {
    if (this.failReads) throw this.failReads;
    return super.getMany(keys);
  }
  override close() {
    this.closed = true;
  }
}

describe('FeatureStore without IndexedDB (Node)', () => {
  it('opens in memory and says why', async () => {
    const store = await FeatureStore.open();
    expect(store.status).toEqual({ persistent: false, message: expect.stringContaining('no IndexedDB') });
    expect(store.status.message).toContain('kept only until this tab closes');
  });

  it('keeps features, failures and settings for the session', async () => {
    const store = await FeatureStore.open();
    await store.putMany([storedFeatures('a'), storedFeatures('b')]);
    await store.put(storedFeatures('c'));
    const found = await store.getMany(['a', 'c', 'missing', 'a']);
    expect([...found.keys()].sort()).toEqual(['a', 'c']);
    expect(found.get('a')).toEqual(storedFeatures('a'));
    expect(await store.count()).toBe(3);
    await store.putFailure(failure('bad'));
    expect(await store.getFailure('bad')).toEqual(failure('bad'));
    expect(await store.getFailure('a')).toBeUndefined();
    await store.setMeta('settings', { threshold: 10 });
    expect(await store.getMeta('settings')).toEqual({ threshold: 10 });
    await store.clear();
    expect(await store.getMany(['a'])).toEqual(new Map());
    expect(await store.getFailure('bad')).toBeUndefined();
    expect(await store.getMeta('settings')).toEqual({ threshold: 10 }); // settings survive clear()
    expect(await store.estimate()).toBeNull(); // Node has no navigator.storage: null, not a throw
  });

  it('treats entries of another feature version as misses, and purges them', async () => {
    const store = FeatureStore.inMemory();
    await store.putMany([storedFeatures('old', FEATURE_VERSION - 1), storedFeatures('new')]);
    await store.putFailure(failure('oldbad', FEATURE_VERSION + 1));
    expect([...(await store.getMany(['old', 'new'])).keys()]).toEqual(['new']);
    expect(await store.getFailure('oldbad')).toBeUndefined();
    expect(await store.count()).toBe(1);
    expect(await store.purgeStale()).toBe(2);
  });
});

describe('FeatureStore falling back', () => {
  it('on a full disk: keeps the batch in memory, stops writing to disk, still reads what was saved', async () => {
    const disk = new FlakyBackend();
    const store = FeatureStore.withBackend(disk);
    expect(store.status).toEqual({ persistent: true });
    await store.putMany([storedFeatures('saved')]);

    disk.failWrites = new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    await store.putMany([storedFeatures('x'), storedFeatures('y')]);
    expect(store.status.persistent).toBe(false);
    expect(store.status.message).toMatch(/storage space .* is full/);
    expect(store.status.message).toContain('results saved before are still used');

    disk.failWrites = null; // even if the disk would take it now, the run stays in memory
    await store.put(storedFeatures('z'));
    await store.putFailure(failure('bad'));
    expect(disk.writes).toBe(1);
    const found = await store.getMany(['saved', 'x', 'y', 'z']);
    expect([...found.keys()].sort()).toEqual(['saved', 'x', 'y', 'z']);
    expect(await store.getFailure('bad')).toEqual(failure('bad'));
    expect(await store.count()).toBe(4);
  });

  it('on another write error: same, with the error in the message', async () => {
    const disk = new FlakyBackend();
    const store = FeatureStore.withBackend(disk);
    disk.failWrites = new DOMException('Error preparing Blob/File data to be stored in object store', 'UnknownError');
    await store.putFailure(failure('bad'));
    expect(store.status).toEqual({ persistent: false, message: expect.stringContaining('UnknownError: Error preparing Blob') });
    expect(await store.getFailure('bad')).toEqual(failure('bad'));
  });

  it('clear() after a full disk frees the space and resumes saving', async () => {
    const disk = new FlakyBackend();
    const store = FeatureStore.withBackend(disk);
    disk.failWrites = new DOMException('full', 'QuotaExceededError');
    await store.put(storedFeatures('a'));
    disk.failWrites = null;
    await store.clear();
    expect(store.status).toEqual({ persistent: true });
    await store.put(storedFeatures('b'));
    expect(disk.writes).toBe(1);
  });

  it('on a read error: closes the connection and goes on in memory', async () => {
    const disk = new FlakyBackend();
    const store = FeatureStore.withBackend(disk);
    await store.put(storedFeatures('a'));
    disk.failReads = new DOMException('The database connection is closing.', 'InvalidStateError');
    expect(await store.getMany(['a'])).toEqual(new Map());
    expect(disk.closed).toBe(true);
    expect(store.status).toEqual({ persistent: false, message: expect.stringContaining('could not be read') });
    await store.put(storedFeatures('b'));
    expect([...(await store.getMany(['b'])).keys()]).toEqual(['b']);
  });

  it('status is a copy', () => {
    const store = FeatureStore.inMemory('off');
    (store.status as { persistent: boolean }).persistent = true;
    expect(store.status).toEqual({ persistent: false, message: 'off' });
  });
});

describe('schema migrations', () => {
  function fakeDb() {
    const created: { name: string; options?: IDBObjectStoreParameters; indexes: string[] }[] = [];
    const db = {
      createObjectStore(name: string, options?: IDBObjectStoreParameters) {
        const store = { name, options, indexes: [] as string[] };
        created.push(store);
        return { createIndex: (index: string) => store.indexes.push(index) };
      },
    };
    return { db: db as unknown as Parameters<typeof migrate>[0], created };
  }
  const tx = {} as UpgradeTransaction;

  it('has one migration for every version up to DB_VERSION', () => {
    for (let v = 1; v <= DB_VERSION; v++) expect(MIGRATIONS[v], `migration ${v}`).toBeTypeOf('function');
  });

  it('builds version 1 from nothing: features and failures by sha256, meta by name', () => {
    const { db, created } = fakeDb();
    migrate(db, 0, 1, tx);
    expect(created).toEqual([
      { name: 'features', options: { keyPath: 'sha256' }, indexes: ['featureVersion'] },
      { name: 'failures', options: { keyPath: 'sha256' }, indexes: ['featureVersion'] },
      { name: 'meta', options: undefined, indexes: [] },
    ]);
  });

  it('takes version 1 to 2 by adding embeddings by [modelKey, sha256] and models by id, touching nothing there', () => {
    const { db, created } = fakeDb();
    const deleted: string[] = [];
    (db as unknown as { deleteObjectStore: (name: string) => void }).deleteObjectStore = (name) => deleted.push(name);
    // Any use of the upgrade transaction would be a data rewrite: version 2 must need none.
    const untouchable = new Proxy({} as UpgradeTransaction, {
      get: (_, prop) => {
        throw new Error(`migration 2 used the upgrade transaction (${String(prop)})`);
      },
    });
    migrate(db, 1, 2, untouchable);
    expect(created).toEqual([
      { name: 'embeddings', options: { keyPath: ['modelKey', 'sha256'] }, indexes: ['modelKey'] },
      { name: 'models', options: { keyPath: 'id' }, indexes: [] },
    ]);
    expect(deleted).toEqual([]);
  });

  it('builds the current version from nothing', () => {
    const { db, created } = fakeDb();
    migrate(db, 0, DB_VERSION, tx);
    expect(created.map((store) => store.name)).toEqual(['features', 'failures', 'meta', 'embeddings', 'models', 'checkpoints', 'files']);
  });

  it('runs nothing when current, and refuses a version it has no migration for', () => {
    const { db, created } = fakeDb();
    migrate(db, DB_VERSION, DB_VERSION, tx);
    expect(created).toEqual([]);
    expect(() => migrate(db, DB_VERSION, DB_VERSION + 1, tx)).toThrow(`No migration to IndexedDB schema version ${DB_VERSION + 1}`);
  });
});
