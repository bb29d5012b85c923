/**
 * The IndexedDB schema of the feature store: what is kept between visits so a second run over the
 * same files decodes nothing. Everything is keyed by the file's SHA-256, never by its name or path:
 * a renamed or moved file is still a hit, and two copies of one file are computed once.
 *
 * Two version numbers, for two different things:
 * - DB_VERSION is the shape of the database (stores, indexes). Raising it runs MIGRATIONS.
 * - FEATURE_VERSION is the meaning of the values (hash code, decoding, thumbnail size). Raising it
 *   needs no migration: entries carry the version they were made with, older ones read as misses,
 *   are recomputed and overwritten, and purgeStale() can delete the rest.
 */
import type { DBSchema, IDBPDatabase, IDBPTransaction, StoreNames } from 'idb';
import type { ImageFormat } from '../core/sniff.ts';
import type { ImageFeatures, SkipReason } from '../core/types.ts';

export const DB_NAME = 'winnow';
export const DB_VERSION = 1;

/**
 * Bump whenever anything that produces StoredFeatures or StoredFailure changes its output: the hash
 * functions, decoding options, the sniffing/limits that refuse files, the thumbnail. Stale entries
 * are then recomputed instead of silently mixing two definitions of a hash in one comparison.
 */
export const FEATURE_VERSION = 1;

/** One analysed file, as stored under its sha256. */
export interface StoredFeatures extends ImageFeatures {
  format: ImageFormat;
  /** A small WebP (or JPEG) for the gallery, so results can be shown without the original file. */
  thumb: Blob;
  thumbWidth: number;
  thumbHeight: number;
  /** Date.now() when computed. */
  computedAt: number;
  featureVersion: number;
}

/** A file known not to decode, so it is not decoded again (a corrupt 50 MB file costs seconds). */
export interface StoredFailure {
  sha256: string;
  reason: SkipReason;
  detail: string;
  featureVersion: number;
}

export interface WinnowDB extends DBSchema {
  features: {
    key: string;
    value: StoredFeatures;
    /** Counting current entries and deleting stale ones without reading every value. */
    indexes: { featureVersion: number };
  };
  failures: {
    key: string;
    value: StoredFailure;
    indexes: { featureVersion: number };
  };
  /** Small settings and bookkeeping, by name (out-of-line keys). */
  meta: {
    key: string;
    value: unknown;
  };
  // Version 2 (semantic clustering) adds, with migration 2 below:
  // embeddings: {
  //   /** [modelId, sha256]: one vector per model and file, so a new model adds rows instead of replacing. */
  //   key: [string, string];
  //   value: { modelId: string; sha256: string; vector: Float32Array; computedAt: number };
  //   indexes: { modelId: string };
  // };
}

export type UpgradeTransaction = IDBPTransaction<WinnowDB, StoreNames<WinnowDB>[], 'versionchange'>;

/**
 * Takes the database from version n-1 to n. Runs inside the versionchange transaction: create and
 * delete stores and indexes synchronously; a data rewrite may use `tx`, but must await nothing but
 * its requests, or the transaction commits under it.
 */
export type Migration = (db: IDBPDatabase<WinnowDB>, tx: UpgradeTransaction) => void;

/**
 * One migration per version, applied in order, so a database at any older version (or none) reaches
 * DB_VERSION. Adding version 2 is: raise DB_VERSION, add the store to WinnowDB, add `2: (db) => …`.
 */
export const MIGRATIONS: Readonly<Record<number, Migration>> = {
  1: (db) => {
    // Keys are sha256 strings taken from the value itself (keyPath), so a put needs no separate key.
    db.createObjectStore('features', { keyPath: 'sha256' }).createIndex('featureVersion', 'featureVersion');
    db.createObjectStore('failures', { keyPath: 'sha256' }).createIndex('featureVersion', 'featureVersion');
    db.createObjectStore('meta');
  },
  // 2: (db) => {
  //   db.createObjectStore('embeddings', { keyPath: ['modelId', 'sha256'] }).createIndex('modelId', 'modelId');
  // },
};

/** The upgrade callback for openDB: every migration after oldVersion, up to newVersion. */
export function migrate(db: IDBPDatabase<WinnowDB>, oldVersion: number, newVersion: number, tx: UpgradeTransaction): void {
  for (let version = oldVersion + 1; version <= newVersion; version++) {
    const step = MIGRATIONS[version];
    // A gap would leave the database half-built under a version number that claims otherwise.
    if (!step) throw new Error(`No migration to IndexedDB schema version ${version}.`);
    step(db, tx);
  }
}
