import { expose } from 'comlink';
import { groupsFromPrepared, prepareGrouping, type Group, type GroupItem, type PreparedGrouping } from '../../core/groups.ts';
import type { Settings } from '../../core/settings.ts';

/**
 * The pair search is the only costly step and does not depend on the threshold below the one it
 * ran with, so it runs once up to PAIR_SEARCH_FLOOR (or the asked threshold, if higher) and the
 * slider then only re-cuts. Above ~20 bits random 64-bit hashes start to pair up by chance, so the
 * floor stays well below that.
 */
const PAIR_SEARCH_FLOOR = 16;

let items: GroupItem[] = [];
let prepared: PreparedGrouping | null = null;

const api = {
  load(next: GroupItem[]): void {
    items = next;
    prepared = null;
  },

  group(settings: Pick<Settings, 'mode' | 'hash' | 'threshold' | 'keeper' | 'linkage' | 'perClass'>): Group[] {
    const near = settings.mode === 'near';
    const needed = near ? settings.threshold : -1;
    const fits =
      prepared !== null &&
      prepared.perClass === settings.perClass &&
      (!near || (prepared.hash === settings.hash && prepared.maxThreshold >= needed));
    if (!fits) {
      prepared = prepareGrouping(items, {
        hash: settings.hash,
        perClass: settings.perClass,
        maxThreshold: near ? Math.max(needed, PAIR_SEARCH_FLOOR) : -1,
      });
    }
    return groupsFromPrepared(prepared!, {
      mode: settings.mode,
      threshold: settings.threshold,
      keeperRule: settings.keeper,
      linkage: settings.linkage,
    });
  },
};

export type GroupWorkerApi = typeof api;
expose(api);
