import { getContext, setContext } from 'svelte';
import { settingsFromQuery, type Settings } from '../../core/settings.ts';
import {
  computeSelection,
  keepAlso,
  NO_OVERRIDES,
  setKeeper,
  type Overrides,
  type Selection,
  type SelectionItem,
} from '../../core/selection.ts';
import type { IntakeFile } from '../../io/intake/collect.ts';
import { analyseAll, createHashPool, type StageProgress } from '../../workers/analysis-run.ts';
import type { FileAnalysis } from '../../workers/hash/analyse.ts';
import { GroupingClient, type Grouping } from '../../workers/group/client.ts';
import { throttled } from './throttle.ts';
import { revokeThumbUrls } from './thumbs.ts';

export type RunState = 'idle' | 'running' | 'done' | 'error';

/**
 * Everything about the current run. Big arrays are $state.raw and replaced, never mutated, so a
 * 50,000-file run does not become 50,000 reactive proxies.
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
  groupProgress = $state.raw<StageProgress | null>(null);
  grouping = $state.raw<Grouping | null>(null);
  overrides = $state.raw<Overrides>(NO_OVERRIDES);
  storeMessage = $state<string | null>(null);

  /** Final status of every file: recomputed whenever groups or the user's choices change. */
  selection = $derived.by((): Selection | null => {
    if (!this.grouping) return null;
    return computeSelection(selectionItems(this.files, this.results), this.grouping.groups, this.overrides, {
      hash: this.grouping.settings.hash,
      threshold: this.grouping.settings.threshold,
    });
  });

  private pool = createHashPool();
  private grouper = new GroupingClient();
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
    this.rootName = info.rootName;
    this.ignoredCount = info.ignored;
    this.files = files;
    this.pending = new Array(files.length).fill(null);
    this.results = this.pending.slice();
    this.grouping = null;
    this.groupProgress = null;
    this.latestProgress = null;
    this.overrides = NO_OVERRIDES;
    revokeThumbUrls();
    void this.pool.run((api) => api.storeStatus()).then((status) => (this.storeMessage = status.message ?? null));
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
      await this.groupNow(controller.signal);
      if (this.controller === controller) {
        this.controller = null;
        this.runState = 'done';
      }
    } catch (error) {
      this.publish.flush();
      if (controller.signal.aborted) return;
      this.controller = null;
      this.runState = 'error';
      this.error = error instanceof Error ? error.message : String(error);
    }
  }

  /**
   * Stops every worker at once. Nothing finished is lost: the files analysed so far are grouped
   * and can be reviewed and exported (the rest are listed as not analysed), and the store keeps
   * them for the next run.
   */
  cancel(): void {
    if (this.runState !== 'running') return;
    this.abortRun();
    this.publish.flush();
    const analysed = this.pending.filter((r) => r !== null).length;
    this.notice = `Cancelled: ${analysed.toLocaleString()} of ${this.files.length.toLocaleString()} files were analysed; those are grouped below and kept in the store for the next run.`;
    const controller = new AbortController();
    this.controller = controller;
    this.groupNow(controller.signal)
      .then(() => {
        if (this.controller === controller) this.runState = 'done';
      })
      .catch((error) => {
        if (controller.signal.aborted) return;
        this.runState = 'error';
        this.error = String(error?.message ?? error);
      })
      .finally(() => {
        if (this.controller === controller) this.controller = null;
      });
  }

  /** Settings moved: re-cut the groups (the pair search is cached in the worker). */
  settingsChanged(): void {
    if (this.runState !== 'done' || !this.grouping) return;
    void this.regroup();
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
  }

  private abortRun(): void {
    this.controller?.abort(new DOMException('Cancelled', 'AbortError'));
    this.controller = null;
  }

  private async groupNow(signal: AbortSignal): Promise<void> {
    const count = await this.grouper.load(this.files, this.pending);
    const startedAt = performance.now();
    this.groupProgress = { done: 0, total: count, cached: 0, startedAt };
    const grouping = await this.grouper.group($state.snapshot(this.settings) as Settings, signal);
    this.groupProgress = { done: count, total: count, cached: 0, startedAt };
    this.grouping = grouping;
  }

  /** A newer call makes an older answer stale, so a fast slider never shows an old cut. */
  private async regroup(): Promise<void> {
    const job = ++this.groupJob;
    const grouping = await this.grouper.group($state.snapshot(this.settings) as Settings);
    if (job === this.groupJob) this.grouping = grouping;
  }
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
