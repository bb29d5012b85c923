/**
 * Embeddings and the user's own models in the feature store, in Node: the memory backend, and a
 * backend that fails on cue for a full or broken disk. The IndexedDB side (compound keys, the
 * delete range, a real v1 → v2 upgrade) needs a browser.
 */
import { describe, expect, it } from 'vitest';
import {
  FeatureStore,
  MemoryBackend,
  type EmbeddingRow,
  type StoredModel,
} from '../../../src/store/feature-store.ts';
import { storedFeatures } from './fixtures.ts';

const MOBILENET = 'mobilenetv2-mid@4.4.0';
const vec = (...values: number[]) => new Float32Array(values);
const row = (sha256: string, ...values: number[]): EmbeddingRow => ({ sha256, vector: vec(...values) });

const model = (id: string, createdAt = 1): StoredModel => ({
  id,
  name: `folder of ${id}`,
  format: 'graph',
  modelJson: { modelTopology: {}, weightsManifest: [{ paths: ['weights.bin'], weights: [] }] },
  weights: new Uint8Array([1, 2, 3, 4]).buffer,
  outputNode: 'embedding',
  inputSize: 224,
  inputRange: [0, 1],
  dim: 3,
  createdAt,
});


/** A backend that works until told to fail, and counts the writes that reached it. */
class FlakyBackend extends MemoryBackend {
  failWrites: Error | null = null;
  failReads: Error | null = null;
  failDeletes: Error | null = null;
  writes = 0;
  closed = false;
  override async putEmbeddings(modelKey: string, rows: readonly EmbeddingRow[]) {
    if (this.failWrites) throw this.failWrites;
    this.writes += rows.length;
    return super.putEmbeddings(modelKey, rows);
  }
  override async putModel(m: StoredModel) {
    if (this.failWrites) throw this.failWrites;
    this.writes++;
    return super.putModel(m);
  }
  override async getEmbeddings(modelKey: string, keys: readonly string[]) {
    if (this.failReads) throw this.failReads;
    return super.getEmbeddings(modelKey, keys);
  }
  override async listModels() {
    if (this.failReads) throw this.failReads;
    return super.listModels();
  }
  override async getModel(id: string) {
    if (this.failReads) throw this.failReads;
    return super.getModel(id);
  }
  override async deleteModel(id: string) {
    if (this.failDeletes) throw this.failDeletes;
    return super.deleteModel(id);
  }
  override close() {
    this.closed = true;
  }
}

const quota = () => new DOMException('The quota has been exceeded.', 'QuotaExceededError');

describe('embeddings in memory', () => {
  it('keeps one vector per model and file; a model key reads only its own', async () => {
    const store = FeatureStore.inMemory();
    await store.putEmbeddings(MOBILENET, [row('a', 1, 2, 3), row('b', 4, 5, 6)]);
    await store.putEmbeddings('mobilenetv2-mid@4.5.0', [row('a', 9, 9, 9)]);
    const found = await store.getEmbeddings(MOBILENET, ['a', 'missing', 'b', 'a']);
    expect([...found.keys()].sort()).toEqual(['a', 'b']);
    expect(found.get('a')).toEqual(vec(1, 2, 3));
    expect(found.get('b')).toEqual(vec(4, 5, 6));
    expect((await store.getEmbeddings('mobilenetv2-mid@4.5.0', ['a', 'b'])).get('a')).toEqual(vec(9, 9, 9));
    expect(await store.getEmbeddings('other@1', ['a'])).toEqual(new Map());
    await store.putEmbeddings(MOBILENET, [row('a', 7, 7, 7)]); // a recomputed vector replaces the old one
    expect((await store.getEmbeddings(MOBILENET, ['a'])).get('a')).toEqual(vec(7, 7, 7));
  });

  it('keeps a copy holding only the vector, not the buffer it came in', async () => {
    const store = FeatureStore.inMemory();
    const batch = vec(1, 2, 3, 4, 5, 6);
    await store.putEmbeddings(MOBILENET, [
      { sha256: 'a', vector: batch.subarray(0, 3) },
      { sha256: 'b', vector: batch.subarray(3, 6) },
    ]);
    batch.fill(0); // e.g. the batch buffer reused, or transferred away
    const found = await store.getEmbeddings(MOBILENET, ['a', 'b']);
    expect(found.get('a')).toEqual(vec(1, 2, 3));
    expect(found.get('b')!.buffer.byteLength).toBe(3 * 4);
  });

  it('writes nothing for an empty batch', async () => {
    const disk = new FlakyBackend();
    const store = FeatureStore.withBackend(disk);
    disk.failWrites = quota();
    await store.putEmbeddings(MOBILENET, []);
    expect(store.status).toEqual({ persistent: true });
  });

  it('clear() forgets features and vectors but keeps models and settings', async () => {
    const store = FeatureStore.inMemory();
    await store.put(storedFeatures('a'));
    await store.putEmbeddings(MOBILENET, [row('a', 1, 2, 3)]);
    await store.putModel(model('user-0123456789abcdef'));
    await store.setMeta('settings', { mode: 'semantic' });
    await store.clear();
    expect(await store.getMany(['a'])).toEqual(new Map());
    expect(await store.getEmbeddings(MOBILENET, ['a'])).toEqual(new Map());
    expect((await store.listModels()).map((m) => m.id)).toEqual(['user-0123456789abcdef']);
    expect(await store.getMeta('settings')).toEqual({ mode: 'semantic' });
  });
});

describe('user models in memory', () => {
  it('lists models oldest first without their weights or model.json, and gets one whole', async () => {
    const store = FeatureStore.inMemory();
    await store.putModel(model('user-bbbbbbbbbbbbbbbb', 20));
    await store.putModel(model('user-aaaaaaaaaaaaaaaa', 10));
    const listed = await store.listModels();
    expect(listed.map((m) => m.id)).toEqual(['user-aaaaaaaaaaaaaaaa', 'user-bbbbbbbbbbbbbbbb']);
    expect(listed[0]).not.toHaveProperty('weights');
    expect(listed[0]).not.toHaveProperty('modelJson');
    const { weights: _weights, modelJson: _modelJson, ...rest } = model('user-aaaaaaaaaaaaaaaa', 10);
    expect(listed[0]).toEqual(rest);
    expect(await store.getModel('user-aaaaaaaaaaaaaaaa')).toEqual(model('user-aaaaaaaaaaaaaaaa', 10));
    expect(await store.getModel('user-none')).toBeUndefined();
  });

  it("deleting a model forgets it and every vector it made, and no other model's", async () => {
    const store = FeatureStore.inMemory();
    await store.putModel(model('user-1'));
    await store.putModel(model('user-10'));
    await store.putEmbeddings('user-1@1', [row('a', 1, 1, 1)]);
    await store.putEmbeddings('user-1@2', [row('a', 2, 2, 2)]);
    await store.putEmbeddings('user-10@1', [row('a', 3, 3, 3)]);
    await store.putEmbeddings(MOBILENET, [row('a', 4, 4, 4)]);
    await store.deleteModel('user-1');
    expect((await store.listModels()).map((m) => m.id)).toEqual(['user-10']);
    expect(await store.getModel('user-1')).toBeUndefined();
    expect(await store.getEmbeddings('user-1@1', ['a'])).toEqual(new Map());
    expect(await store.getEmbeddings('user-1@2', ['a'])).toEqual(new Map());
    expect((await store.getEmbeddings('user-10@1', ['a'])).get('a')).toEqual(vec(3, 3, 3));
    expect((await store.getEmbeddings(MOBILENET, ['a'])).get('a')).toEqual(vec(4, 4, 4));
    await store.deleteModel('user-none'); // not there: nothing to do, no error
  });
});

describe('embeddings and models falling back', () => {
  it('on a full disk: the batch and everything after stay in memory; vectors saved before are still read', async () => {
    const disk = new FlakyBackend();
    const store = FeatureStore.withBackend(disk);
    await store.putEmbeddings(MOBILENET, [row('saved', 1, 1, 1)]);
    disk.failWrites = quota();
    await store.putEmbeddings(MOBILENET, [row('x', 2, 2, 2), row('y', 3, 3, 3)]);
    expect(store.status.persistent).toBe(false);
    expect(store.status.message).toMatch(/storage space .* is full/);
    disk.failWrites = null;
    await store.putEmbeddings(MOBILENET, [row('z', 4, 4, 4)]);
    expect(disk.writes).toBe(1);
    const found = await store.getEmbeddings(MOBILENET, ['saved', 'x', 'y', 'z']);
    expect([...found.keys()].sort()).toEqual(['saved', 'x', 'y', 'z']);
    expect(found.get('saved')).toEqual(vec(1, 1, 1));
  });

  it('a model too big for the disk is kept in memory and listed with the saved ones', async () => {
    const disk = new FlakyBackend();
    const store = FeatureStore.withBackend(disk);
    await store.putModel(model('user-saved', 1));
    disk.failWrites = quota();
    await store.putModel(model('user-big', 2));
    expect(store.status.message).toMatch(/storage space .* is full/);
    expect((await store.listModels()).map((m) => m.id)).toEqual(['user-saved', 'user-big']);
    expect((await store.getModel('user-big'))?.name).toBe('folder of user-big');
    expect((await store.getModel('user-saved'))?.name).toBe('folder of user-saved');
  });

  it('deleting after a full disk still deletes on disk (that frees space)', async () => {
    const disk = new FlakyBackend();
    const store = FeatureStore.withBackend(disk);
    await store.putModel(model('user-saved'));
    await store.putEmbeddings('user-saved@1', [row('a', 1, 1, 1)]);
    disk.failWrites = quota();
    await store.putEmbeddings(MOBILENET, [row('a', 1, 1, 1)]);
    await store.deleteModel('user-saved');
    expect(await disk.getModel('user-saved')).toBeUndefined();
    expect(await disk.getEmbeddings('user-saved@1', ['a'])).toEqual(new Map());
    expect(await store.listModels()).toEqual([]);
  });

  it('a delete the disk refuses closes it, so the model is not listed again from there', async () => {
    const disk = new FlakyBackend();
    const store = FeatureStore.withBackend(disk);
    await store.putModel(model('user-saved'));
    disk.failDeletes = new DOMException('The transaction was aborted.', 'AbortError');
    await store.deleteModel('user-saved');
    expect(disk.closed).toBe(true);
    expect(store.status).toEqual({ persistent: false, message: expect.stringContaining('could not be deleted (AbortError') });
    expect(await store.listModels()).toEqual([]);
  });

  it('on a read error: closes the connection and goes on in memory', async () => {
    const reads: [string, (store: FeatureStore) => Promise<unknown>, unknown][] = [
      ['getEmbeddings', (store) => store.getEmbeddings(MOBILENET, ['a']), new Map()],
      ['listModels', (store) => store.listModels(), []],
      ['getModel', (store) => store.getModel('user-saved'), undefined],
    ];
    for (const [name, read, empty] of reads) {
      const disk = new FlakyBackend();
      const store = FeatureStore.withBackend(disk);
      await store.putEmbeddings(MOBILENET, [row('a', 1, 1, 1)]);
      await store.putModel(model('user-saved'));
      disk.failReads = new DOMException('The database connection is closing.', 'InvalidStateError');
      expect(await read(store), name).toEqual(empty);
      expect(disk.closed, name).toBe(true);
      expect(store.status, name).toEqual({ persistent: false, message: expect.stringContaining('could not be read') });
      await store.putEmbeddings(MOBILENET, [row('b', 2, 2, 2)]);
      expect((await store.getEmbeddings(MOBILENET, ['b'])).get('b'), name).toEqual(vec(2, 2, 2));
    }
  });

  it('without IndexedDB (Node) it all works in memory', async () => {
    const store = await FeatureStore.open();
    expect(store.status.persistent).toBe(false);
    await store.putEmbeddings(MOBILENET, [row('a', 1, 2, 3)]);
    await store.putModel(model('user-x'));
    expect((await store.getEmbeddings(MOBILENET, ['a'])).get('a')).toEqual(vec(1, 2, 3));
    expect((await store.listModels()).map((m) => m.id)).toEqual(['user-x']);
  });
});
