import { transfer, wrap, type Remote } from 'comlink';
import type { Group, GroupItem } from '../../core/groups.ts';
import type { Settings } from '../../core/settings.ts';
import type { IntakeFile } from '../../io/intake/collect.ts';
import type { BackendName } from '../../ml/backend.ts';
import type { SimilarPairArrays } from '../../ml/similar-pairs-tf.ts';
import type { FileAnalysis } from '../hash/analyse.ts';
import { embeddedRows, MAX_SIMILAR_PAIRS, searchFloor, TFJS_PAIRS_FROM } from './embedding-pairs.ts';
import type { GroupWorkerApi } from './group.worker.ts';

/**
 * Embeddings as the client keeps them: a way to make the rows rather than the rows, since it
 * needs them only to start a worker (after a cancel) or a pair search, and a kept copy beside the
 * page's and the worker's would be 358 MB more at 50,000 images × 1,792.
 */
export interface EmbeddingSource {
  ids: number[];
  dim: number;
  /** A new ids.length × dim array of mean-centred rows, in the order of `ids`, each call. */
  rows(): Float32Array;
}

/** Fresh rows for the worker, moved rather than cloned. */
function forWorker(source: EmbeddingSource) {
  const vectors = source.rows();
  return transfer({ ids: source.ids, dim: source.dim, vectors }, [vectors.buffer]);
}

export interface Grouping {
  groups: Group[];
  settings: Settings;
  /** Items that went into the grouping (analysed files only). */
  itemCount: number;
  ms: number;
}

/**
 * Finds the embedding pairs of `n` rows at or above `minSimilarity` exactly as core's similarPairs
 * does, elsewhere than the grouping worker (ClusteringClient.similarPairs: tfjs products in a
 * worker of their own). May take `vectors` (transfer).
 */
export type SimilarPairFinder = (
  input: { vectors: Float32Array; n: number; dim: number; minSimilarity: number; maxPairs: number; backend?: BackendName },
  options: { signal: AbortSignal; onProgress?: (p: { done: number; total: number }) => void },
) => Promise<SimilarPairArrays>;

/** Progress of a grouping: the embedding-pair search as a fraction of the pairs compared. */
export type GroupProgress = (fraction: number) => void;

/** Items for grouping: every analysed file, by its run id. */
export function groupItems(files: readonly IntakeFile[], results: readonly (FileAnalysis | null)[]): GroupItem[] {
  const items: GroupItem[] = [];
  for (let id = 0; id < files.length; id++) {
    const result = results[id];
    if (!result?.ok) continue;
    const f = result.features;
    items.push({
      id,
      path: files[id].path,
      label: files[id].label,
      sha256: f.sha256,
      width: f.width,
      height: f.height,
      size: files[id].file.size,
      hashes: f.hashes,
      mirrored: f.mirrored,
    });
  }
  return items;
}

/** Embedding pairs found by the finder down to `floor`, in embeddedRows' row numbering. */
type FoundPairs = SimilarPairArrays & { floor: number };

/**
 * The grouping worker, kept for the life of the page so its pair cache serves every slider move.
 * An abort terminates it (a long pair search cannot be interrupted otherwise); the next call
 * starts a fresh one and reloads the items.
 *
 * With a `findSimilarPairs` and at least TFJS_PAIRS_FROM embedded items, near mode's embedding
 * pairs are found by it (tfjs, with progress and a cancel) and handed to the grouping worker, which
 * then never runs its O(n²d) loops nor loads tfjs; the pairs are the ones those loops would give.
 */
export class GroupingClient {
  private worker: Worker | null = null;
  private remote: Remote<GroupWorkerApi> | null = null;
  private items: GroupItem[] = [];
  private embeddings: EmbeddingSource | null = null;
  /** Pairs the worker holds (or is sent on restart); null when it searches on its own. */
  private found: FoundPairs | null = null;
  /** The search under way, dropped when the items or embeddings change. */
  private finding: { floor: number; done: Promise<void>; controller: AbortController } | null = null;

  constructor(private readonly findSimilarPairs?: SimilarPairFinder) {}

  private api(): Remote<GroupWorkerApi> {
    if (!this.remote) {
      this.worker = new Worker(new URL('./group.worker.ts', import.meta.url), { type: 'module', name: 'winnow-group' });
      this.remote = wrap<GroupWorkerApi>(this.worker);
      void this.remote.load(this.items);
      // A fresh worker (after a cancel) gets the rows made again.
      if (this.embeddings) void this.remote.setEmbeddings(forWorker(this.embeddings));
      if (this.embeddings && this.found) void this.remote.setSimilarPairs(copyPairs(this.found));
    }
    return this.remote;
  }

  /** New items drop any embeddings set before: they belonged to the previous items. */
  async load(files: readonly IntakeFile[], results: readonly (FileAnalysis | null)[]): Promise<number> {
    this.items = groupItems(files, results);
    this.embeddings = null;
    this.dropPairs();
    if (this.remote) await this.remote.load(this.items);
    else this.api();
    return this.items.length;
  }

  /** Mean-centred embeddings of (some of) the loaded items, rows in the order of `ids`. */
  async setEmbeddings(embeddings: EmbeddingSource | null): Promise<void> {
    this.embeddings = embeddings;
    this.dropPairs();
    if (!embeddings) {
      // Dropping them is a reload: the worker has no "forget" and needs none.
      if (this.remote) await this.remote.load(this.items);
      return;
    }
    if (this.remote) await this.remote.setEmbeddings(forWorker(embeddings));
    else this.api(); // a fresh worker is sent them as it starts
  }

  /**
   * Groups with `settings`. `onProgress` hears of a tfjs embedding-pair search this call starts
   * (fractions from 0 to 1); there is none for small sets, re-cuts, or hash-only grouping.
   */
  async group(settings: Settings, signal?: AbortSignal, onProgress?: GroupProgress): Promise<Grouping> {
    const started = performance.now();
    signal?.throwIfAborted();
    let api = this.api();
    let onAbort = () => {};
    // comlink's promise never settles once its worker is gone, so the abort must win the race.
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        this.dispose();
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([this.pairsFor(settings, onProgress), aborted]);
      api = this.api(); // the search may have outlived a worker restarted meanwhile
      const groups = await Promise.race([
        api.group({
          mode: settings.mode,
          hash: settings.hash,
          threshold: settings.threshold,
          keeper: [...settings.keeper],
          linkage: settings.linkage,
          perClass: settings.perClass,
          embeddings: settings.embeddings,
          similarity: settings.similarity,
        }),
        aborted,
      ]);
      return { groups, settings, itemCount: this.items.length, ms: performance.now() - started };
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Terminates the grouping worker and any pair search under way (its caller rejects). */
  dispose(): void {
    this.finding?.controller.abort(new DOMException('grouping worker disposed', 'AbortError'));
    this.finding = null;
    this.worker?.terminate();
    this.worker = null;
    this.remote = null;
  }

  /**
   * Sends the worker the embedding pairs `settings` need, found by findSimilarPairs, unless the
   * worker is better off searching itself (no finder, few rows) or holds them already. Calls that
   * need no deeper a search than one under way wait for it instead of starting another.
   */
  private async pairsFor(settings: Settings, onProgress?: GroupProgress): Promise<void> {
    const embeddings = this.embeddings;
    if (settings.mode !== 'near' || !settings.embeddings || !embeddings || !this.findSimilarPairs) return;
    const bar = settings.similarity;
    if (this.found && this.found.floor <= bar) return;
    if (!this.finding || this.finding.floor > bar) {
      // Making the rows costs O(n·d): not on every slider move of a set too small for the finder.
      if (embeddings.ids.length < TFJS_PAIRS_FROM) return;
      const rows = embeddedRows(this.items, { ids: embeddings.ids, dim: embeddings.dim, vectors: embeddings.rows() });
      const n = rows.positions.length;
      if (n < TFJS_PAIRS_FROM) return;
      this.finding?.controller.abort(new DOMException('superseded by a deeper search', 'AbortError'));
      const floor = searchFloor(bar);
      const controller = new AbortController();
      const job = { floor, controller, done: Promise.resolve() };
      const input = { vectors: rows.vectors, n, dim: rows.dim, minSimilarity: floor, maxPairs: MAX_SIMILAR_PAIRS, backend: settings.backend ?? undefined };
      const report = onProgress && ((p: { done: number; total: number }) => onProgress(p.total > 0 ? p.done / p.total : 1));
      job.done = this.findSimilarPairs(input, { signal: controller.signal, onProgress: report })
        .then(async (pairs) => {
          if (this.finding !== job) throw controller.signal.reason ?? new DOMException('superseded', 'AbortError');
          this.found = { ...pairs, floor };
          if (this.remote) await this.remote.setSimilarPairs(copyPairs(this.found));
        })
        .finally(() => {
          if (this.finding === job) this.finding = null;
        });
      this.finding = job;
    }
    await this.finding.done;
  }

  /** The embeddings or items changed: pairs found or being found are for the old ones. */
  private dropPairs(): void {
    this.finding?.controller.abort(new DOMException('embeddings replaced', 'AbortError'));
    this.finding = null;
    this.found = null;
  }
}

/** A copy for the worker: the client keeps its own for a restart. */
function copyPairs(p: FoundPairs): FoundPairs {
  return { floor: p.floor, a: p.a.slice(), b: p.b.slice(), similarity: p.similarity.slice() };
}
