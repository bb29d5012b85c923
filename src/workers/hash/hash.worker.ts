import { expose } from 'comlink';
import { FeatureStore } from '../../store/feature-store.ts';
import { computeFeatures, readFile, type FileAnalysis } from './analyse.ts';

let storePromise: Promise<FeatureStore> | null = null;
const store = () => (storePromise ??= FeatureStore.open());

/** Bytes of the file between its two stages; the pool gives a worker one file at a time. */
let pending: { sha256: string; bytes: ArrayBuffer } | null = null;

const api = {
  /**
   * Stage one. Files cross as handles (no bytes copied) and are read here, off the main thread.
   * Returns the finished analysis when the store already knows the content.
   */
  async read(file: File): Promise<{ sha256: string | null; analysis: FileAnalysis | null }> {
    pending = null;
    const outcome = await readFile(file, await store());
    if (outcome.done) return { sha256: outcome.analysis.sha256, analysis: outcome.analysis };
    pending = { sha256: outcome.sha256, bytes: outcome.bytes };
    return { sha256: outcome.sha256, analysis: null };
  },
  /** Stage two, on the bytes kept from read(). */
  async analyse(): Promise<FileAnalysis> {
    if (!pending) throw new Error('analyse() called without a read file');
    const { sha256, bytes } = pending;
    pending = null;
    return computeFeatures(sha256, bytes, await store());
  },
  async storeStatus() {
    return (await store()).status;
  },
};

export type HashWorkerApi = typeof api;
expose(api);
