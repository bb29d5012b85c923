/**
 * The user's decisions on top of the automatic grouping, and the final status of every file.
 *
 * Recomputed on every slider move for up to ~50k items, so everything here is one pass over the
 * items plus one over the group members: no sorting, no pairwise work. Overrides are plain data
 * (immutable; the helpers return new objects) so they survive a regrouping; an override that no
 * longer fits the current groups (its item moved to another group or became unique) is ignored.
 */
import { distanceAt, packHashInto } from './hamming.ts';
import type { Group, GroupKind } from './groups.ts';
import type { HashKind, HashSet, SkipReason } from './types.ts';

export interface SelectionItem {
  id: number;
  path: string;
  label: string;
  /** null when the file could not be read. */
  sha256: string | null;
  /** Needed only to recompute distances when the user picks another keeper. */
  hashes?: HashSet;
  mirrored?: HashSet;
  /**
   * Set when the file was not analysed. Usually a SkipReason; other stable strings (e.g. a run
   * cancelled before the file was reached) pass through to the manifest unchanged.
   */
  skip?: { reason: SkipReason | (string & {}); detail?: string } | null;
}

export interface Overrides {
  /** Group id → item id the user chose as keeper. */
  readonly keepers: ReadonlyMap<number, number>;
  /** Items kept in addition to their group's keeper. */
  readonly keepAlso: ReadonlySet<number>;
}

export const NO_OVERRIDES: Overrides = { keepers: new Map(), keepAlso: new Set() };

export function setKeeper(overrides: Overrides, groupId: number, itemId: number): Overrides {
  const keepers = new Map(overrides.keepers);
  keepers.set(groupId, itemId);
  return { keepers, keepAlso: overrides.keepAlso };
}

/** Back to the automatic keeper for that group. */
export function clearKeeper(overrides: Overrides, groupId: number): Overrides {
  const keepers = new Map(overrides.keepers);
  keepers.delete(groupId);
  return { keepers, keepAlso: overrides.keepAlso };
}

/** Keep (or stop keeping) an item besides its group's keeper. */
export function keepAlso(overrides: Overrides, itemId: number, keep = true): Overrides {
  const set = new Set(overrides.keepAlso);
  if (keep) set.add(itemId);
  else set.delete(itemId);
  return { keepers: overrides.keepers, keepAlso: set };
}

export type ItemStatusKind = 'kept' | 'removed' | 'skipped';

export interface ItemStatus {
  id: number;
  status: ItemStatusKind;
  /** Human-readable and written to the manifest. */
  reason: string;
  group: number | null;
  groupKind: GroupKind | null;
  /** Effective keeper (after overrides) of the item's group. */
  keeper: number | null;
  /**
   * Distance to the effective keeper: Hamming bits in 'exact' and 'near' groups, cosine distance
   * (1 − cos) in 'semantic' ones. null outside groups, or when it cannot be recomputed.
   */
  distance: number | null;
}

export interface Counts {
  total: number;
  kept: number;
  removed: number;
  skipped: number;
}

export interface Selection {
  /** One per input item, in input order. */
  statuses: ItemStatus[];
  counts: Counts & { byLabel: Record<string, Counts> };
  /** Group id → effective keeper item id. */
  keepers: Map<number, number>;
  /** Group id → distances to the effective keeper (item id → distance). */
  distances: Map<number, Map<number, number>>;
}

export interface SelectionSettings {
  hash: HashKind;
  threshold: number;
  /** Must match the grouping's setting; default true. */
  mirror?: boolean;
  /**
   * Cosine distance between two items (by id) for 'semantic' groups whose keeper the user
   * changed: the embeddings live with the clustering, not here. Without it (or when it returns
   * null) those distances are null; groups with their automatic keeper keep the group's own.
   */
  semanticDistance?: (a: number, b: number) => number | null;
}

export const REASON_BEST = 'kept: best of group';
export const REASON_USER = 'kept: user choice';
export const REASON_UNIQUE = 'kept: unique';

/** Flip-invariant distance from hex hashes, for the few groups whose keeper the user changed. */
function hexDistance(
  a: SelectionItem,
  b: SelectionItem,
  hash: HashKind,
  mirror: boolean,
  scratch: Uint32Array,
): number | null {
  if (!a.hashes || !b.hashes) return null;
  packHashInto(a.hashes[hash], scratch, 0);
  packHashInto(b.hashes[hash], scratch, 1);
  let d = distanceAt(scratch, 0, scratch, 1);
  if (mirror && a.mirrored && b.mirrored && d > 0) {
    packHashInto(a.mirrored[hash], scratch, 2);
    packHashInto(b.mirrored[hash], scratch, 3);
    d = Math.min(d, distanceAt(scratch, 0, scratch, 3), distanceAt(scratch, 2, scratch, 1));
  }
  return d;
}

/**
 * Kept items whose bytes an earlier kept item already has (ids, input order). A selection can keep
 * copies: semantic clustering keeps round(keep × n) images in each class and never compares across
 * classes, near mode can be limited to each class folder, and the user can keep more by hand.
 */
export function keptExactCopies(items: readonly SelectionItem[], statuses: readonly ItemStatus[]): number[] {
  const seen = new Set<string>();
  const copies: number[] = [];
  statuses.forEach((s, i) => {
    const sha256 = items[i]?.sha256;
    if (s.status !== 'kept' || !sha256) return;
    if (seen.has(sha256)) copies.push(s.id);
    else seen.add(sha256);
  });
  return copies;
}

/** id → position. Ids are run indices, so a typed array usually beats a Map by ~10×. */
function positionsById(items: readonly SelectionItem[]): {
  get(id: number): number | undefined;
  has(id: number): boolean;
} {
  let max = -1;
  let dense = true;
  for (const it of items) {
    const id = it.id;
    if (!Number.isInteger(id) || id < 0) {
      dense = false;
      break;
    }
    if (id > max) max = id;
  }
  if (dense && max < 4 * items.length + 1024) {
    const table = new Int32Array(max + 1).fill(-1);
    for (let i = 0; i < items.length; i++) table[items[i].id] = i;
    const get = (id: number): number | undefined => {
      const p = id >= 0 && id <= max ? table[id] : -1;
      return p === undefined || p < 0 ? undefined : p;
    };
    return { get, has: (id) => get(id) !== undefined };
  }
  const map = new Map<number, number>();
  for (let i = 0; i < items.length; i++) map.set(items[i].id, i);
  return map;
}

function emptyCounts(): Counts {
  return { total: 0, kept: 0, removed: 0, skipped: 0 };
}

export function computeSelection(
  items: readonly SelectionItem[],
  groups: readonly Group[],
  overrides: Overrides,
  settings: SelectionSettings,
): Selection {
  const mirror = settings.mirror ?? true;
  const pos = positionsById(items);

  const statuses: (ItemStatus | undefined)[] = new Array(items.length);
  const keepers = new Map<number, number>();
  const distancesByGroup = new Map<number, Map<number, number>>();
  const scratch = new Uint32Array(8);

  for (const g of groups) {
    const chosen = overrides.keepers.get(g.id);
    const userKeeper =
      chosen !== undefined && chosen !== g.keeper && g.members.includes(chosen) && pos.has(chosen);
    const keeperId = userKeeper ? chosen : g.keeper;
    keepers.set(g.id, keeperId);
    const keeper = items[pos.get(keeperId)!];

    const dist = new Map<number, number>();
    for (const m of g.members) {
      let d: number | null = null;
      if (!userKeeper) d = g.distances[m] ?? null;
      else {
        const it = items[pos.get(m)!];
        if (m === keeperId || (it.sha256 && it.sha256 === keeper.sha256)) d = 0;
        else if (g.kind === 'exact') d = 0;
        else if (g.kind === 'semantic') d = settings.semanticDistance?.(keeperId, m) ?? null;
        else d = hexDistance(keeper, it, settings.hash, mirror, scratch);
      }
      if (d !== null) dist.set(m, d);
    }
    distancesByGroup.set(g.id, dist);

    for (const m of g.members) {
      const p = pos.get(m);
      if (p === undefined) continue; // group refers to an item we were not given
      const it = items[p];
      const d = dist.get(m) ?? null;
      let status: ItemStatusKind;
      let reason: string;
      if (m === keeperId) {
        status = 'kept';
        reason = userKeeper ? REASON_USER : REASON_BEST;
      } else if (overrides.keepAlso.has(m)) {
        status = 'kept';
        reason = REASON_USER;
      } else {
        status = 'removed';
        if (g.kind === 'exact' || (it.sha256 && it.sha256 === keeper.sha256)) {
          reason = `exact copy of ${keeper.path}`;
        } else if (g.kind === 'semantic') {
          // The hash threshold says nothing about a semantic group, so no comparison is shown.
          reason = `semantically redundant with ${keeper.path} (cosine distance ${d === null ? '?' : d.toFixed(4)})`;
        } else {
          const rel = d !== null && d <= settings.threshold ? '≤' : '>';
          reason = `near-duplicate of ${keeper.path} (${settings.hash} distance ${d ?? '?'} ${rel} ${settings.threshold})`;
        }
      }
      statuses[p] = { id: m, status, reason, group: g.id, groupKind: g.kind, keeper: keeperId, distance: d };
    }
  }

  const total = emptyCounts();
  // Null prototype: a class folder may well be called 'constructor'.
  const byLabel: Record<string, Counts> = Object.create(null);
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    let s = statuses[i];
    if (it.skip) {
      // A skipped file cannot be in a group; if a stale group says so, the skip wins.
      const detail = it.skip.detail ? ` (${it.skip.detail})` : '';
      s = {
        id: it.id,
        status: 'skipped',
        reason: `skipped: ${it.skip.reason}${detail}`,
        group: null,
        groupKind: null,
        keeper: null,
        distance: null,
      };
      statuses[i] = s;
    } else if (s === undefined) {
      s = {
        id: it.id,
        status: 'kept',
        reason: REASON_UNIQUE,
        group: null,
        groupKind: null,
        keeper: null,
        distance: null,
      };
      statuses[i] = s;
    }
    const c = (byLabel[it.label] ??= emptyCounts());
    c.total++;
    total.total++;
    c[s.status]++;
    total[s.status]++;
  }

  return {
    statuses: statuses as ItemStatus[],
    counts: { ...total, byLabel },
    keepers,
    distances: distancesByGroup,
  };
}
