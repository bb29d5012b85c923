import { wrap, type Remote } from 'comlink';
import type { Group, GroupItem } from '../../core/groups.ts';
import type { Settings } from '../../core/settings.ts';
import type { IntakeFile } from '../../io/intake/collect.ts';
import type { FileAnalysis } from '../hash/analyse.ts';
import type { GroupWorkerApi } from './group.worker.ts';

export interface Grouping {
  groups: Group[];
  settings: Settings;
  /** Items that went into the grouping (analysed files only). */
  itemCount: number;
  ms: number;
}

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

/**
 * The grouping worker, kept for the life of the page so its pair cache serves every slider move.
 * An abort terminates it (a long pair search cannot be interrupted otherwise); the next call
 * starts a fresh one and reloads the items.
 */
export class GroupingClient {
  private worker: Worker | null = null;
  private remote: Remote<GroupWorkerApi> | null = null;
  private items: GroupItem[] = [];
  private embeddings: { ids: number[]; vectors: Float32Array; dim: number } | null = null;

  private api(): Remote<GroupWorkerApi> {
    if (!this.remote) {
      this.worker = new Worker(new URL('./group.worker.ts', import.meta.url), { type: 'module', name: 'winnow-group' });
      this.remote = wrap<GroupWorkerApi>(this.worker);
      void this.remote.load(this.items);
      // A fresh worker (after a cancel) gets a copy: the client keeps its own for the next restart.
      if (this.embeddings) void this.remote.setEmbeddings({ ...this.embeddings, vectors: this.embeddings.vectors.slice() });
    }
    return this.remote;
  }

  /** New items drop any embeddings set before: they belonged to the previous items. */
  async load(files: readonly IntakeFile[], results: readonly (FileAnalysis | null)[]): Promise<number> {
    this.items = groupItems(files, results);
    this.embeddings = null;
    if (this.remote) await this.remote.load(this.items);
    else this.api();
    return this.items.length;
  }

  /** Mean-centred embeddings of (some of) the loaded items, rows in the order of `ids`. */
  async setEmbeddings(embeddings: { ids: number[]; vectors: Float32Array; dim: number } | null): Promise<void> {
    this.embeddings = embeddings;
    if (!embeddings) {
      // Dropping them is a reload: the worker has no "forget" and needs none.
      if (this.remote) await this.remote.load(this.items);
      return;
    }
    if (this.remote) await this.remote.setEmbeddings({ ...embeddings, vectors: embeddings.vectors.slice() });
    else this.api(); // a fresh worker is sent them as it starts
  }

  async group(settings: Settings, signal?: AbortSignal): Promise<Grouping> {
    const started = performance.now();
    signal?.throwIfAborted();
    const api = this.api();
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

  dispose(): void {
    this.worker?.terminate();
    this.worker = null;
    this.remote = null;
  }
}
