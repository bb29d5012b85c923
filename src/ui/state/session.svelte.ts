import { getContext, setContext } from 'svelte';
import type { Group } from '../../core/groups.ts';
import type { SemanticCut, SemanticCutOptions } from '../../core/semantic.ts';
import { needsEmbeddings, settingsFromQuery, type Settings } from '../../core/settings.ts';
import {
  computeSelection,
  keepAlso,
  keptExactCopies,
  NO_OVERRIDES,
  setKeeper,
  type Overrides,
  type Selection,
  type SelectionItem,
} from '../../core/selection.ts';
import type { IntakeFile } from '../../io/intake/collect.ts';
import { analyseAll, createHashPool, type StageProgress } from '../../workers/analysis-run.ts';
import { ClusteringClient } from '../../workers/cluster/client.ts';
import { EmbeddingClient, type EmbedderInfo } from '../../workers/embed/client.ts';
import type { FileAnalysis } from '../../workers/hash/analyse.ts';
import { GroupingClient } from '../../workers/group/client.ts';
import { centredRows, classInputs, cosineDistanceBetween, runEmbeddings, type RunEmbeddings } from './run-embeddings.ts';
import { throttled } from './throttle.ts';
import { revokeThumbUrls } from './thumbs.ts';

export type RunState = 'idle' | 'running' | 'done' | 'error';

/** Largest class size from which the clustering uses tfjs matrix products for its distances. */
const FAST_CLUSTERING_FROM = 3000;

/**
 * `?embedWorkers=1` caps the embedding workers: the bench's same-run reference for the wasm pool,
 * and a way out on a machine short of memory (each wasm worker holds its own model).
 */
const EMBED_WORKERS_CAP = Number(new URLSearchParams(globalThis.location?.search ?? '').get('embedWorkers')) || undefined;

/** The groups on screen and what produced them. */
export interface Grouping {
  groups: Group[];
  settings: Settings;
  /** Items that went into the grouping (analysed files only). */
  itemCount: number;
  ms: number;
  /** Semantic mode: the paper's statistics for this cut. */
  semantic?: Omit<SemanticCut, 'groups'>;
  /** Whether embeddings took part (near mode with embeddings, or semantic mode). */
  embedded: boolean;
}

/**
 * Everything about the current run. Big arrays are $state.raw and replaced, never mutated, so a
 * 50,000-file run does not become 50,000 reactive proxies.
 *
 * A run is: analyse (read, hash) → group by hashes, shown at once → if the settings need them,
 * embed (store-cached) → group again with embeddings (near mode) or cluster per class (semantic
 * mode). Settings moved afterwards re-cut without recomputing; only a setting that needs
 * embeddings the run does not have (another model, or switching to semantic) starts the embedding
 * stage again.
 */
export class Session {
  runState = $state<RunState>('idle');
  error = $state<string | null>(null);
  notice = $state<string | null>(null);
  settings = $state<Settings>(settingsFromQuery(new URLSearchParams(location.search)));
  rootName = $state('');
  ignoredCount = $state(0);
  files = $state.raw<IntakeFile[]>([]);
  /** Indexed by file id; null while the file is still being analysed. */
  results = $state.raw<(FileAnalysis | null)[]>([]);
  readProgress = $state.raw<StageProgress | null>(null);
  hashProgress = $state.raw<StageProgress | null>(null);
  embedProgress = $state.raw<StageProgress | null>(null);
  groupProgress = $state.raw<StageProgress | null>(null);
  grouping = $state.raw<Grouping | null>(null);
  embeddings = $state.raw<RunEmbeddings | null>(null);
  /** The model that embedded this run (or failed to load), for the model panel. */
  embedderInfo = $state.raw<EmbedderInfo | null>(null);
  embedError = $state<string | null>(null);
  /** The model id embedError is about: another model may well load, so it is tried. */
  private embedErrorModel: string | null = null;
  overrides = $state.raw<Overrides>(NO_OVERRIDES);
  storeMessage = $state<string | null>(null);

  private selectionInput = $derived(selectionItems(this.files, this.results));

  /** Final status of every file: recomputed whenever groups or the user's choices change. */
  selection = $derived.by((): Selection | null => {
    if (!this.grouping) return null;
    const embeddings = this.embeddings;
    return computeSelection(this.selectionInput, this.grouping.groups, this.overrides, {
      hash: this.grouping.settings.hash,
      threshold: this.grouping.settings.threshold,
      semanticDistance: embeddings ? cosineDistanceBetween(embeddings) : undefined,
    });
  });

  /** Kept files whose bytes another kept file has (see keptExactCopies): the summary says why. */
  keptCopies = $derived(this.selection ? keptExactCopies(this.selectionInput, this.selection.statuses).length : 0);

  private pool = createHashPool();
  /** Near mode's embedding pairs of large runs come from tfjs products in a clustering worker. */
  private grouper = new GroupingClient((input, options) => this.clusterer.similarPairs(input, options));
  private embedder = new EmbeddingClient();
  private clusterer = new ClusteringClient();
  /** The embeddings the clustering worker holds, so a re-cut does not re-cluster. */
  private clustered: RunEmbeddings | null = null;
  private grouperLoaded = false;
  private controller: AbortController | null = null;
  private pending: (FileAnalysis | null)[] = [];
  private groupJob = 0;
  private latestProgress: [StageProgress, StageProgress] | null = null;
  private publish = throttled(() => {
    this.results = this.pending.slice();
    if (this.latestProgress) [this.readProgress, this.hashProgress] = this.latestProgress;
  });

  /** A new folder replaces the current run at once; whatever the store holds is reused. */
  async start(files: IntakeFile[], info: { rootName: string; ignored: number }): Promise<void> {
    this.abortRun();
    const controller = new AbortController();
    this.controller = controller;
    this.runState = 'running';
    this.error = null;
    this.notice = null;
    this.embedError = null;
    this.embedErrorModel = null;
    this.rootName = info.rootName;
    this.ignoredCount = info.ignored;
    this.files = files;
    this.pending = new Array(files.length).fill(null);
    this.results = this.pending.slice();
    this.grouping = null;
    this.embeddings = null;
    this.clustered = null;
    this.grouperLoaded = false;
    this.embedProgress = null;
    this.groupProgress = null;
    this.latestProgress = null;
    this.overrides = NO_OVERRIDES;
    revokeThumbUrls();
    this.storeMessage = null;
    this.refreshStoreMessage();
    try {
      await analyseAll(files, this.pool, {
        signal: controller.signal,
        onResult: ({ id, analysis }) => {
          this.pending[id] = analysis;
          this.publish.schedule();
        },
        onProgress: (read, hashed) => {
          this.latestProgress = [read, hashed];
          this.publish.schedule();
        },
      });
      this.publish.flush();
      // A write may have failed during the run (quota): say so now, not on the next run.
      this.refreshStoreMessage();
      // The bars' clocks stop here, not when the whole run (embedding included) ends.
      const finishedAt = performance.now();
      if (this.readProgress) this.readProgress = { ...this.readProgress, finishedAt };
      if (this.hashProgress) this.hashProgress = { ...this.hashProgress, finishedAt };
      await this.finish(controller, { hashGroupsFirst: true });
    } catch (error) {
      this.publish.flush();
      this.fail(controller, error);
    }
  }

  /**
   * Stops every worker at once. Nothing finished is lost: the files analysed so far are grouped
   * and can be reviewed and exported (the rest are listed as not analysed), and the store keeps
   * them, and every embedding batch finished, for the next run.
   */
  cancel(): void {
    if (this.runState !== 'running') return;
    this.abortRun();
    this.publish.flush();
    const analysed = this.pending.filter((r) => r !== null).length;
    const embedding = this.embedProgress !== null && this.embeddings === null;
    // Grouping again with the embeddings would restart the very pair search the user just stopped.
    // The same holds for semantic mode's clustering.
    const comparing = !embedding && this.embeddings !== null && this.settings.mode !== 'exact' && this.groupProgress !== null && this.groupProgress.finishedAt === undefined;
    this.notice = embedding
      ? `Cancelled while embedding: the groups below use hashes only (exact copies in semantic mode). Embeddings finished so far are stored and will not be computed again.`
      : comparing
        ? this.settings.mode === 'semantic'
          ? `Cancelled while clustering: the groups below are exact copies only. Move the keep slider to cluster again.`
          : `Cancelled while comparing embeddings: the groups below use hashes only. Move a slider or change a setting to compare again.`
        : `Cancelled: ${analysed.toLocaleString()} of ${this.files.length.toLocaleString()} files were analysed; those are grouped below and kept in the store for the next run.`;
    const controller = new AbortController();
    this.controller = controller;
    this.groupNow(controller.signal, { hashesOnly: comparing })
      .then(() => {
        if (this.controller === controller) this.runState = 'done';
      })
      .catch((error) => this.fail(controller, error))
      .finally(() => {
        if (this.controller === controller) this.controller = null;
      });
  }

  /** Settings moved: re-cut the groups, or embed first if these settings need embeddings the run lacks. */
  settingsChanged(): void {
    if (this.runState !== 'done' || !this.grouping) return;
    const s = this.settings;
    if (needsEmbeddings(s) && !this.hasEmbeddingsFor(s.model) && this.embedErrorModel !== s.model) {
      void this.rerun();
      return;
    }
    void this.regroup();
  }

  /** Embeds (if needed) and groups again with the current settings, as a cancellable run. */
  async rerun(): Promise<void> {
    if (this.runState === 'running' || this.files.length === 0) return;
    this.abortRun();
    const controller = new AbortController();
    this.controller = controller;
    this.runState = 'running';
    this.error = null;
    this.embedError = null;
    this.embedErrorModel = null;
    try {
      await this.finish(controller, { hashGroupsFirst: false });
    } catch (error) {
      this.fail(controller, error);
    }
  }

  chooseKeeper(groupId: number, itemId: number): void {
    this.overrides = setKeeper(this.overrides, groupId, itemId);
  }

  toggleKeepAlso(itemId: number): void {
    this.overrides = keepAlso(this.overrides, itemId, !this.overrides.keepAlso.has(itemId));
  }

  dispose(): void {
    this.abortRun();
    this.pool.terminateAll();
    this.grouper.dispose();
    this.embedder.dispose();
    this.clusterer.dispose();
  }

  /** The store's state as the workers see it (each worker has its own connection). */
  private refreshStoreMessage(): void {
    void this.pool
      .run((api) => api.storeStatus())
      .then((status) => {
        if (status.message || !this.storeMessage) this.storeMessage = status.message ?? null;
      })
      .catch(() => {});
  }

  private hasEmbeddingsFor(model: string): boolean {
    return this.embeddings !== null && this.embeddings.info.modelId === model;
  }

  private async finish(controller: AbortController, options: { hashGroupsFirst: boolean }): Promise<void> {
    const signal = controller.signal;
    const settings = this.snapshot();
    if (options.hashGroupsFirst && settings.mode !== 'semantic') await this.groupNow(signal);
    if (needsEmbeddings(settings) && !this.hasEmbeddingsFor(settings.model)) {
      try {
        await this.embedNow(settings, signal);
      } catch (error) {
        if (signal.aborted) throw error;
        // A model that cannot load must not cost the user the hash results: say so and go on.
        this.embedError = `Embeddings unavailable: ${error instanceof Error ? error.message : String(error)}. Groups use hashes only.`;
        this.embedErrorModel = settings.model;
      }
    }
    await this.groupNow(signal);
    if (this.controller === controller) {
      this.controller = null;
      this.runState = 'done';
    }
  }

  private fail(controller: AbortController, error: unknown): void {
    if (controller.signal.aborted) return;
    if (this.controller === controller) this.controller = null;
    this.runState = 'error';
    this.error = error instanceof Error ? error.message : String(error);
  }

  private snapshot(): Settings {
    return $state.snapshot(this.settings) as Settings;
  }

  private async embedNow(settings: Settings, signal: AbortSignal): Promise<void> {
    const ids: number[] = [];
    const files: { sha256: string; file: Blob }[] = [];
    this.pending.forEach((r, id) => {
      if (r?.ok) {
        ids.push(id);
        files.push({ sha256: r.sha256, file: this.files[id].file });
      }
    });
    const startedAt = performance.now();
    this.embedProgress = { done: 0, total: files.length, cached: 0, startedAt };
    this.embeddings = null;
    const answer = await this.embedder.embedAll(files, {
      modelId: settings.model,
      backend: settings.backend ?? undefined,
      signal,
      onProgress: (p) => (this.embedProgress = { done: p.done, total: p.total, cached: p.cached, startedAt, workers: p.workers }),
      maxWorkers: EMBED_WORKERS_CAP,
    });
    // The worker's wasm memory (model and activations, a few hundred MB) would otherwise sit through
    // the clustering; the next run that needs the model loads it again (0.2–0.3 s here, the panel's "loaded in").
    this.embedder.dispose();
    this.embedderInfo = answer.info;
    this.embedProgress = { done: files.length, total: files.length, cached: answer.cached, startedAt, finishedAt: performance.now(), workers: answer.workers };
    this.embeddings = runEmbeddings(ids, answer, answer.info);
    if (this.embeddings.failed.length > 0) {
      this.notice = `${this.embeddings.failed.length.toLocaleString()} image(s) could not be read by the model; they are kept and take part only in hash grouping.`;
    }
  }

  /** Groups with the current settings: hashes (+ embeddings) in near/exact mode, clusters in semantic mode. */
  private async groupNow(signal: AbortSignal, options: { hashesOnly?: boolean } = {}): Promise<void> {
    const settings = this.snapshot();
    const startedAt = performance.now();
    const embeddings = options.hashesOnly ? null : this.embeddings;
    if (settings.mode === 'semantic' && embeddings) {
      const total = embeddings.ids.length;
      this.groupProgress = { done: 0, total, cached: 0, startedAt };
      await this.clusterNow(embeddings, signal, startedAt);
      const cut = await this.clusterer.cut(cutOptions(settings), {
        onProgress: (p) => (this.groupProgress = { done: p.done, total: p.total, cached: 0, startedAt }),
      });
      this.groupProgress = { done: total, total, cached: 0, startedAt, finishedAt: performance.now() };
      this.grouping = semanticGrouping(cut, settings, total, performance.now() - startedAt);
      return;
    }
    const count = await this.loadGrouper(embeddings);
    this.groupProgress = { done: 0, total: count, cached: 0, startedAt };
    // The embedding-pair search (large runs) is the only slow part: the bar follows its fraction.
    const onPairs = (fraction: number) => (this.groupProgress = { done: Math.floor(fraction * count), total: count, cached: 0, startedAt });
    const grouping = await this.groupByHashes(settings, embeddings, signal, onPairs);
    this.groupProgress = { done: count, total: count, cached: 0, startedAt, finishedAt: performance.now() };
    this.grouping = grouping;
    // The grouper now holds no embeddings: the next regroup loads them again.
    if (options.hashesOnly) this.grouperLoaded = false;
  }

  /** Hash (+ embedding pair) groups; semantic mode without embeddings (model failed, cancelled) gets exact copies. */
  private async groupByHashes(settings: Settings, embeddings: RunEmbeddings | null, signal?: AbortSignal, onPairs?: (fraction: number) => void): Promise<Grouping> {
    const effective: Settings = settings.mode === 'semantic' ? { ...settings, mode: 'exact' } : settings;
    const grouping = await this.grouper.group(effective, signal, onPairs);
    return { ...grouping, settings, embedded: effective.mode === 'near' && effective.embeddings && embeddings !== null };
  }

  private async loadGrouper(embeddings: RunEmbeddings | null): Promise<number> {
    const count = await this.grouper.load(this.files, this.pending);
    if (embeddings) await this.grouper.setEmbeddings({ ids: embeddings.ids, dim: embeddings.dim, rows: () => centredRows(embeddings) });
    this.grouperLoaded = true;
    return count;
  }

  private async clusterNow(embeddings: RunEmbeddings, signal: AbortSignal, startedAt: number): Promise<void> {
    if (this.clustered === embeddings && this.clusterer.loaded) return;
    this.clustered = null;
    const classes = classInputs(embeddings, (id) => this.files[id].label);
    // Below a few thousand images per class the exact float64 distances take a second or two;
    // above, the tfjs products (refined in float64 where merges are decided) save most of the time.
    const fast = classes.some((c) => c.ids.length >= FAST_CLUSTERING_FROM);
    await this.clusterer.load(
      { dim: embeddings.dim, classes, fast, backend: this.settings.backend ?? undefined },
      { signal, onProgress: (p) => (this.groupProgress = { done: p.done, total: p.total, cached: 0, startedAt }) },
    );
    this.clustered = embeddings;
  }

  private abortRun(): void {
    this.controller?.abort(new DOMException('Cancelled', 'AbortError'));
    this.controller = null;
  }

  /** A newer call makes an older answer stale, so a fast slider never shows an old cut. */
  private async regroup(): Promise<void> {
    const job = ++this.groupJob;
    const settings = this.snapshot();
    const embeddings = this.embeddings;
    try {
      if (settings.mode === 'semantic' && embeddings && this.clustered === embeddings && this.clusterer.loaded) {
        const started = performance.now();
        // A cut deeper than a large class's forest holds searches for more pairs first (as slow
        // as the clustering): the bar follows it, stale job or not, since the worker runs cuts one
        // at a time and this is the one being waited for. Other cuts report nothing.
        let searching = false;
        const cut = await this.clusterer
          .cut(cutOptions(settings), {
            onProgress: (p) => {
              searching = true;
              this.groupProgress = { done: p.done, total: p.total, cached: 0, startedAt: started };
            },
          })
          .finally(() => {
            if (searching && this.groupProgress) this.groupProgress = { ...this.groupProgress, finishedAt: performance.now() };
          });
        if (job === this.groupJob) this.grouping = semanticGrouping(cut, settings, embeddings.ids.length, performance.now() - started);
        return;
      }
      if (settings.mode === 'semantic' && embeddings) {
        void this.rerun(); // clustering needed: a cancellable run with progress
        return;
      }
      if (!this.grouperLoaded) await this.loadGrouper(embeddings);
      const grouping = await this.groupByHashes(settings, embeddings);
      if (job === this.groupJob) this.grouping = grouping;
    } catch (error) {
      if (job === this.groupJob) this.error = error instanceof Error ? error.message : String(error);
    }
  }
}

function cutOptions(settings: Settings): SemanticCutOptions {
  return settings.semanticCut === 'distance'
    ? { threshold: settings.distance }
    : { keep: settings.keep, keepByClass: { ...settings.keepByClass } };
}

function semanticGrouping(cut: SemanticCut & { ms: number }, settings: Settings, itemCount: number, ms: number): Grouping {
  const { groups, ...stats } = cut;
  return { groups, settings, itemCount, ms, semantic: stats, embedded: true };
}

function selectionItems(files: readonly IntakeFile[], results: readonly (FileAnalysis | null)[]): SelectionItem[] {
  return files.map((file, id) => {
    const result = results[id];
    const base = { id, path: file.path, label: file.label };
    if (!result) return { ...base, sha256: null, skip: { reason: 'not-analysed' as const, detail: 'the run was cancelled before this file was analysed' } };
    if (!result.ok) return { ...base, sha256: result.sha256, skip: { reason: result.reason, detail: result.detail } };
    return { ...base, sha256: result.sha256, hashes: result.features.hashes, mirrored: result.features.mirrored };
  });
}

const KEY = Symbol('winnow-session');
export const setSession = (session: Session) => setContext(KEY, session);
export const getSession = () => getContext<Session>(KEY);
