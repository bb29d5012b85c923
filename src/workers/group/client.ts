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

  private api(): Remote<GroupWorkerApi> {
    if (!this.remote) {
      this.worker = new Worker(new URL('./group.worker.ts', import.meta.url), { type: 'module', name: 'winnow-group' });
      this.remote = wrap<GroupWorkerApi>(this.worker);
      void this.remote.load(this.items);
    }
    return this.remote;
  }

  async load(files: readonly IntakeFile[], results: readonly (FileAnalysis | null)[]): Promise<number> {
    this.items = groupItems(files, results);
    if (this.remote) await this.remote.load(this.items);
    else this.api();
    return this.items.length;
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
