import { expose } from 'comlink';
import { FeatureStore, type KnownKeys } from '../../store/feature-store.ts';
import { computeAll, readFiles, storeResults, type FileAnalysis, type Source } from './analyse.ts';

let storePromise: Promise<FeatureStore> | null = null;
const store = () => (storePromise ??= FeatureStore.open());

/**
 * The keys stored when this worker took the current run's first batch, plus what it stored since:
 * taken once a run, since the store changes between runs (other workers, other tabs).
 */
let snapshot: { run: number; keys: Promise<KnownKeys | null> } | null = null;

/** The batch's unknown files between the two stages; one batch per worker at a time. */
let pending = new Map<number, { sha256: string; source: Source }>();

const api = {
  /**
   * Stage one for a batch. Files cross as handles (no bytes copied) and are read here, off the main
   * thread. Returns each file's finished analysis, or null where its content is new and stage two
   * must compute it. `run` names the intake run the batch belongs to (see snapshot); without it
   * every key is looked up.
   */
  async read(files: File[], run?: number): Promise<(FileAnalysis | null)[]> {
    pending = new Map();
    if (run === undefined) snapshot = null;
    else if (snapshot?.run !== run) snapshot = { run, keys: store().then((s) => s.knownKeys()) };
    const known = snapshot ? await snapshot.keys : null;
    const outcomes = await readFiles(files, await store(), known);
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
    const entries = [...todo];
    const analyses = await computeAll(entries.map(([, item]) => item));
    const out = new Map(entries.map(([i], k) => [i, analyses[k]]));
    await storeResults([...out.values()], await store());
    const known = snapshot ? await snapshot.keys : null;
    for (const a of out.values()) {
      if (a.ok) known?.features.add(a.sha256);
      else if (a.sha256 !== null) known?.failures.add(a.sha256);
    }
    return out;
  },
  async storeStatus() {
    return (await store()).status;
  },
};

export type HashWorkerApi = typeof api;
expose(api);
