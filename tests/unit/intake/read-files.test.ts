/**
 * Stage one of the hash worker (readFiles) in Node: small files are read as one joint Blob and cut
 * apart, and a snapshot of the stored keys spares the store lookups of keys it does not hold.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { FeatureStore, MemoryBackend, type StoredFailure } from '../../../src/store/feature-store.ts';
import { FEATURE_VERSION } from '../../../src/store/schema.ts';
import { readFiles } from '../../../src/workers/hash/analyse.ts';
import { storedFeatures } from '../store/fixtures.ts';

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** A memory backend that counts the keys it is asked for. */
class CountingBackend extends MemoryBackend {
  asked = 0;
  override async getMany(keys: readonly string[]) {
    this.asked += keys.length;
    return super.getMany(keys);
  }
  override async getFailures(keys: readonly string[]) {
    this.asked += keys.length;
    return super.getFailures(keys);
  }
}

describe('readFiles', () => {
  test('a batch read jointly gives every file its own bytes and SHA-256, empty files and all', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 0, maxLength: 300 }), { minLength: 1, maxLength: 12 }), async (contents) => {
        const outcomes = await readFiles(
          contents.map((c) => new Blob([c])),
          FeatureStore.inMemory(),
        );
        outcomes.forEach((outcome, i) => {
          if (contents[i].length === 0) {
            expect(outcome).toMatchObject({ done: true, analysis: { ok: false, reason: 'empty-file' } });
            return;
          }
          expect(outcome.done).toBe(false);
          if (outcome.done) return;
          expect(outcome.sha256).toBe(sha(contents[i]));
          expect(new Uint8Array(outcome.source as ArrayBuffer)).toEqual(contents[i]);
        });
      }),
      { numRuns: 60 },
    );
  });

  test('with a snapshot of the stored keys, only keys in it are looked up; the answers are those of a full lookup', async () => {
    const files = ['stored', 'failed', 'new one', 'another new one'].map((text) => new TextEncoder().encode(text));
    const [stored, failed] = files.map(sha);
    const backend = new CountingBackend();
    await backend.putMany([storedFeatures(stored)]);
    const failure: StoredFailure = { sha256: failed, reason: 'corrupt-image', detail: 'damaged', featureVersion: FEATURE_VERSION };
    await backend.putFailure(failure);
    const store = FeatureStore.withBackend(backend);
    const blobs = files.map((f) => new Blob([f]));

    const full = await readFiles(blobs, store);
    const askedInFull = backend.asked;
    backend.asked = 0;
    const known = await store.knownKeys();
    expect(known).not.toBeNull();
    expect([...known!.features]).toEqual([stored]);
    expect([...known!.failures]).toEqual([failed]);
    const spared = await readFiles(blobs, store, known);
    expect(spared).toEqual(full);
    expect(askedInFull).toBe(4 + 3); // every key for features, the three without for failures
    expect(backend.asked).toBe(2); // only the two the snapshot holds
    expect(full.map((o) => o.done)).toEqual([true, true, false, false]);

    // A key stored after the snapshot reads as new: computed again, which is harmless.
    await backend.putMany([storedFeatures(sha(files[2]))]);
    expect((await readFiles(blobs, store, known))[2].done).toBe(false);
    expect((await readFiles(blobs, store))[2].done).toBe(true);
  });

  test('a store holding more keys than the cap gives no snapshot, so every key is looked up', async () => {
    const backend = new MemoryBackend();
    await backend.putMany(['a', 'b', 'c'].map((k) => storedFeatures(k.repeat(64))));
    const store = FeatureStore.withBackend(backend);
    expect(await store.knownKeys(2)).toBeNull();
    expect((await store.knownKeys(3))?.features.size).toBe(3);
  });
});
