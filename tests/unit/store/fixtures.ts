/**
 * Shared fixtures for the store tests: a feature record, and a stand-in for an IndexedDB
 * database inside its versionchange transaction (stores with their rows, so a migration that
 * dropped, cleared or rewrote one would show).
 */
import type { HashSet } from '../../../src/core/types.ts';
import type { StoredFeatures } from '../../../src/store/feature-store.ts';
import { FEATURE_VERSION, type migrate, type UpgradeTransaction } from '../../../src/store/schema.ts';

const hashes: HashSet = { phash: '0123456789abcdef', dhash: 'fedcba9876543210', ahash: 'ffffffff00000000', whash: '00000000ffffffff' };

/** A 40×30 JPEG's record under this key, its thumbnail a Blob as earlier builds stored it. */
export const storedFeatures = (sha256: string, featureVersion = FEATURE_VERSION): StoredFeatures => ({
  sha256,
  width: 40,
  height: 30,
  format: 'jpeg',
  hashes,
  mirrored: hashes,
  thumb: new Blob([sha256]),
  thumbWidth: 40,
  thumbHeight: 30,
  computedAt: 1,
  featureVersion,
});

export type Stores = Record<string, { options?: IDBObjectStoreParameters; rows: Map<unknown, unknown> }>;

export function databaseAt(stores: Stores) {
  const db = {
    get objectStoreNames() {
      const names = Object.keys(stores);
      return { contains: (n: string) => names.includes(n), length: names.length, item: (i: number) => names[i] };
    },
    createObjectStore(name: string, options?: IDBObjectStoreParameters) {
      if (stores[name]) throw new DOMException(`store ${name} exists`, 'ConstraintError');
      stores[name] = { options, rows: new Map() };
      return { createIndex: () => {} };
    },
    deleteObjectStore(name: string) {
      delete stores[name];
    },
  };
  return db as unknown as Parameters<typeof migrate>[0];
}

/** An upgrade transaction that throws on any use: the migration to `version` must not need one. */
export function untouchableTransaction(version: number): UpgradeTransaction {
  return new Proxy({} as UpgradeTransaction, {
    get: (_, prop) => {
      throw new Error(`migration ${version} used the upgrade transaction (${String(prop)})`);
    },
  });
}
