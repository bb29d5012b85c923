/**
 * Schema version 3: training checkpoints by runKey and the `trained` description of a model made in
 * the browser. The upgrade from version 2 only adds the checkpoints store, so a version 2
 * database keeps its features, embeddings and models; checkpoints behave like the other stores
 * when the disk is full or fails (memory takes over, and says so).
 */
import { describe, expect, it } from 'vitest';
import { FeatureStore, MemoryBackend, type StoredCheckpoint, type StoredModel } from '../../../src/store/feature-store.ts';
import { DB_VERSION, migrate, type UpgradeTransaction } from '../../../src/store/schema.ts';
import { defaultTrainSettings } from '../../../src/ml/train/settings.ts';
import { databaseAt, untouchableTransaction } from './fixtures.ts';

const settings = defaultTrainSettings({ count: 1000, classes: 10, medianSide: 32 });

const checkpoint = (runKey: string, epoch = 0): StoredCheckpoint => ({
  runKey,
  fingerprint: 'fp',
  settings,
  epoch,
  history: Array.from({ length: epoch + 1 }, (_, e) => ({ epoch: e, lr: 0.1, loss: 1, accuracy: 0.5, valLoss: 1, valAccuracy: 0.5, trainSeconds: 1, seconds: 1.2 })),
  modelWeights: new Uint8Array([1, 2, 3, 4]).buffer,
  modelSpecs: [{ name: '0:conv/kernel', shape: [1], dtype: 'float32' }],
  optimizerWeights: new Uint8Array([5, 6, 7, 8]).buffer,
  optimizerSpecs: [{ name: '0:iter', shape: [], dtype: 'int32' }],
  split: { train: Int32Array.of(0, 2, 3), validation: Int32Array.of(1) },
  seconds: 1.2 * (epoch + 1),
  backend: 'wasm',
  updatedAt: 1,
});


const untouchable = untouchableTransaction(3);

describe('schema version 3', () => {
  it('is followed by version 4 only', () => {
    expect(DB_VERSION).toBe(4);
  });

  it('takes a version 2 database to 3 by adding checkpoints by runKey, keeping features, embeddings and models', () => {
    const v2 = {
      features: { options: { keyPath: 'sha256' }, rows: new Map([['a', { sha256: 'a', featureVersion: 2 }]]) },
      failures: { options: { keyPath: 'sha256' }, rows: new Map([['b', { sha256: 'b' }]]) },
      meta: { rows: new Map([['settings', { mode: 'semantic' }]]) },
      embeddings: { options: { keyPath: ['modelKey', 'sha256'] }, rows: new Map([[['m@1', 'a'], { vector: new Float32Array([1]) }]]) },
      models: { options: { keyPath: 'id' }, rows: new Map([['user-1', { id: 'user-1' }]]) },
    } as Record<string, { options?: IDBObjectStoreParameters; rows: Map<unknown, unknown> }>;
    const before = structuredClone(v2);
    migrate(databaseAt(v2), 2, 3, untouchable);
    expect(Object.keys(v2)).toEqual(['features', 'failures', 'meta', 'embeddings', 'models', 'checkpoints']);
    expect(v2.checkpoints).toEqual({ options: { keyPath: 'runKey' }, rows: new Map() });
    for (const name of Object.keys(before)) expect(v2[name], name).toEqual(before[name]);
  });

  it('builds version 3 from nothing and from version 1 alike', () => {
    const fresh = {};
    migrate(databaseAt(fresh), 0, 3, {} as UpgradeTransaction);
    const fromOne = {};
    migrate(databaseAt(fromOne), 0, 1, {} as UpgradeTransaction);
    migrate(databaseAt(fromOne), 1, 3, {} as UpgradeTransaction);
    expect(Object.keys(fromOne)).toEqual(Object.keys(fresh));
  });
});

describe('checkpoints in the feature store', () => {
  it('keeps one checkpoint per run, replaced by the next epoch and gone once deleted', async () => {
    const store = FeatureStore.inMemory();
    expect(await store.getCheckpoint('run')).toBeUndefined();
    await store.putCheckpoint(checkpoint('run', 0));
    await store.putCheckpoint(checkpoint('other', 0));
    await store.putCheckpoint(checkpoint('run', 1));
    expect((await store.getCheckpoint('run'))?.epoch).toBe(1);
    expect((await store.getCheckpoint('run'))?.split.train).toEqual(Int32Array.of(0, 2, 3));
    await store.deleteCheckpoint('run');
    expect(await store.getCheckpoint('run')).toBeUndefined();
    expect((await store.getCheckpoint('other'))?.epoch).toBe(0);
  });

  it('clear() keeps checkpoints, as it keeps models: they are the user’s work, not a cache', async () => {
    const store = FeatureStore.inMemory();
    await store.putCheckpoint(checkpoint('run'));
    await store.clear();
    expect(await store.getCheckpoint('run')).toBeDefined();
  });

  it('on a full disk keeps the checkpoint in memory, and a newer one saved to disk later is not shadowed', async () => {
    class Flaky extends MemoryBackend {
      fail: Error | null = null;
      override async putCheckpoint(c: StoredCheckpoint) {
        if (this.fail) throw this.fail;
        return super.putCheckpoint(c);
      }
    }
    const disk = new Flaky();
    const store = FeatureStore.withBackend(disk);
    await store.putCheckpoint(checkpoint('run', 0));
    expect((await disk.getCheckpoint('run'))?.epoch).toBe(0);
    disk.fail = new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    await store.putCheckpoint(checkpoint('run', 1));
    expect(store.status.persistent).toBe(false);
    expect((await store.getCheckpoint('run'))?.epoch).toBe(1);
    // Deleting still reaches the disk, which is what frees the space.
    await store.deleteCheckpoint('run');
    expect(await disk.getCheckpoint('run')).toBeUndefined();
    expect(await store.getCheckpoint('run')).toBeUndefined();
  });

  it('a read error falls back to memory and answers "none" instead of throwing', async () => {
    class Broken extends MemoryBackend {
      override async getCheckpoint(): Promise<StoredCheckpoint | undefined> {
        throw new Error('disk gone');
      }
    }
    const store = FeatureStore.withBackend(new Broken());
    expect(await store.getCheckpoint('run')).toBeUndefined();
    expect(store.status.persistent).toBe(false);
  });

  it('stores a trained model’s description with it', async () => {
    const store = FeatureStore.inMemory();
    const m: StoredModel = {
      id: 'user-trained-1',
      name: 'trained on this dataset',
      format: 'layers',
      modelJson: {},
      weights: new ArrayBuffer(4),
      outputNode: 'embedding',
      inputSize: 32,
      inputRange: [0, 1],
      dim: 64,
      createdAt: 1,
      trained: { fingerprint: 'fp', fileCount: 10, classes: ['a', 'b'], settings, history: [], bestEpoch: 0, valAccuracy: 0.9, backend: 'wasm', seconds: 3, trainedAt: 2 },
    };
    await store.putModel(m);
    expect((await store.listModels())[0].trained?.valAccuracy).toBe(0.9);
  });
});
