import { expose } from 'comlink';
import { FeatureStore } from '../../store/feature-store.ts';
import { computeFeatures, readFiles, storeResults, type FileAnalysis, type Source } from './analyse.ts';

let storePromise: Promise<FeatureStore> | null = null;
const store = () => (storePromise ??= FeatureStore.open());

/** The batch's unknown files between the two stages; one batch per worker at a time. */
let pending = new Map<number, { sha256: string; source: Source }>();

const api = {
  /**
   * Stage one for a batch. Files cross as handles (no bytes copied) and are read here, off the main
   * thread. Returns each file's finished analysis, or null where its content is new and stage two
   * must compute it.
   */
  async read(files: File[]): Promise<(FileAnalysis | null)[]> {
    pending = new Map();
    const outcomes = await readFiles(files, await store());
    return outcomes.map((outcome, i) => {
      if (outcome.done) return outcome.analysis;
      pending.set(i, { sha256: outcome.sha256, source: outcome.source });
      return null;
    });
  },
  /** Stage two: analyses the batch's new files, by their index in the batch. */
  async analyse(): Promise<Map<number, FileAnalysis>> {
    const todo = pending;
    pending = new Map();
    const out = new Map<number, FileAnalysis>();
    for (const [i, { sha256, source }] of todo) out.set(i, await computeFeatures(sha256, source));
    await storeResults([...out.values()], await store());
    return out;
  },
  async storeStatus() {
    return (await store()).status;
  },
};

export type HashWorkerApi = typeof api;
expose(api);
