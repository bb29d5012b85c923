/**
 * The grouping pipeline: analysed items in, duplicate groups out.
 *
 * 1. Exact copies (same sha256) collapse to one representative; their distance is 0 and they
 *    need no hash comparison.
 * 2. In 'near' mode the representatives' hashes are compared (findNearPairs) and grouped around
 *    keepers (every member within the threshold of its keeper; groupAroundKeepers) or, in strict
 *    mode, with complete linkage (every two members within the threshold; groupWithinThreshold).
 * 3. Groups expand back to every copy; the keeper is chosen by the rules over all members.
 *
 * The pair search is the only expensive step and it does not depend on the threshold below the
 * one it ran with, so prepareGrouping() can run once at the slider's maximum and
 * groupsFromPrepared() re-cut cheaply on every slider move.
 */
import { flipDistanceAt, packHashInto } from './hamming.ts';
import { groupAroundKeepers, groupWithinThreshold } from './grouping.ts';
import { DEFAULT_KEEPER_RULE, keeperComparator, type KeeperCandidate } from './keeper.ts';
import { findNearPairs, type NearPair } from './pairs.ts';
import type { HashKind, HashSet, KeeperRule } from './types.ts';

/** An analysed image, as the grouping sees it. */
export interface GroupItem extends KeeperCandidate {
  /** Stable id of the file in the run (InputFile.id). */
  id: number;
  path: string;
  label: string;
  sha256: string;
  width: number;
  height: number;
  size: number;
  hashes: HashSet;
  mirrored: HashSet;
}

export type GroupMode = 'exact' | 'near';
/** 'semantic': one cluster of embeddings (src/core/semantic.ts); distances are cosine, not Hamming. */
export type GroupKind = 'exact' | 'near' | 'semantic';

export interface GroupOptions {
  mode: GroupMode;
  hash: HashKind;
  /** Largest Hamming distance (of 64 bits) still counted as a near-duplicate. */
  threshold: number;
  /** Ordered rules; default resolution, then file size, then shortest path. */
  keeperRule?: readonly KeeperRule[];
  /** true: only compare images of the same class. Default false: groups may span classes. */
  perClass?: boolean;
  /** Also match horizontally mirrored copies. Default true. */
  mirror?: boolean;
  /** How near pairs become groups; see NearLinkage. Default 'keeper'. */
  linkage?: NearLinkage;
  /** Pairs of item positions whose embeddings are alike (see PrepareOptions.similarPairs). */
  similarPairs?: readonly SimilarItemPair[];
  /** Embedding pairs at or above this cosine similarity also make near-duplicates. */
  similarity?: number;
}

/** Two items (positions in the items array, a ≠ b) and the cosine similarity of their embeddings. */
export interface SimilarItemPair {
  a: number;
  b: number;
  similarity: number;
}

/**
 * 'keeper': every member is within the threshold of the group's keeper (groupAroundKeepers), the
 * default, because it keeps all variants of one photo with it. 'strict': every two members are
 * within the threshold (complete linkage), so any member could serve as the keeper.
 */
export type NearLinkage = 'keeper' | 'strict';

export interface Group {
  /** 1-based, in output order (largest group first). Only stable for one grouping run. */
  id: number;
  /** 'exact': all members are byte-identical. 'near': at least two different contents. */
  kind: GroupKind;
  /** Item ids, keeper first, then by distance to the keeper, then by keeper rank. */
  members: number[];
  keeper: number;
  /** Hamming distance from each member (by item id) to the keeper; 0 for byte-identical copies. */
  distances: Record<number, number>;
  /** Sorted distinct class labels of the members. */
  labels: string[];
  /** More than one class label among the members. */
  crossClass: boolean;
}

/** The threshold-independent part of a near grouping, reusable across slider moves. */
export interface PreparedGrouping {
  items: readonly GroupItem[];
  hash: HashKind;
  perClass: boolean;
  mirror: boolean;
  /** Item positions per content class (same sha256, and same label when perClass). */
  classes: number[][];
  /** Class index of each item position. */
  classOf: Int32Array;
  /** Packed hashes of each class's representative, or null when prepared without hashes. */
  table: Uint32Array | null;
  mirroredTable: Uint32Array | null;
  /** Pairs of classes within maxThreshold (class indices). */
  pairs: NearPair[];
  /** Pairs of classes whose embeddings are at least minSimilarity alike, with their hash distance as d. */
  similar: (NearPair & { similarity: number })[];
  /** Lowest similarity the embedding pairs were kept at; Infinity when there were none. */
  minSimilarity: number;
  /** Largest threshold groupsFromPrepared accepts in 'near' mode; -1 if prepared for 'exact'. */
  maxThreshold: number;
}

export interface PrepareOptions {
  hash: HashKind;
  perClass?: boolean;
  mirror?: boolean;
  /** Pairs are searched up to this distance. Negative: exact grouping only (hashes not read). */
  maxThreshold: number;
  /**
   * Pairs found by comparing CNN embeddings (item positions), all at or above `minSimilarity`.
   * They catch what a global hash misses (crops, small rotations). Ignored in 'exact' mode.
   */
  similarPairs?: readonly SimilarItemPair[];
  minSimilarity?: number;
}

/** Collapses byte-identical items into classes (the first item of each is its representative). */
function contentClasses(items: readonly GroupItem[], perClass: boolean): number[][] {
  const byKey = new Map<string, number[]>();
  const classes: number[][] = [];
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    if (!it.sha256) {
      classes.push([i]); // no content hash: cannot be proven identical to anything
      continue;
    }
    const key = perClass ? `${it.label}\u0000${it.sha256}` : it.sha256;
    const list = byKey.get(key);
    if (list === undefined) {
      const fresh = [i];
      byKey.set(key, fresh);
      classes.push(fresh);
    } else list.push(i);
  }
  return classes;
}

export function prepareGrouping(
  items: readonly GroupItem[],
  options: PrepareOptions,
): PreparedGrouping {
  const perClass = options.perClass ?? false;
  const mirror = options.mirror ?? true;
  const classes = contentClasses(items, perClass);
  const classOf = new Int32Array(items.length);
  classes.forEach((members, c) => {
    for (const i of members) classOf[i] = c;
  });

  let table: Uint32Array | null = null;
  let mirroredTable: Uint32Array | null = null;
  let pairs: NearPair[] = [];
  const maxThreshold = options.maxThreshold >= 0 ? options.maxThreshold : -1;
  if (maxThreshold >= 0) {
    table = new Uint32Array(2 * classes.length);
    mirroredTable = mirror ? new Uint32Array(2 * classes.length) : null;
    for (let c = 0; c < classes.length; c++) {
      const rep = items[classes[c][0]];
      packHashInto(rep.hashes[options.hash], table, c);
      if (mirroredTable) packHashInto(rep.mirrored[options.hash], mirroredTable, c);
    }
    pairs = findNearPairs(table, mirroredTable, maxThreshold);
    if (perClass) {
      pairs = pairs.filter(
        (p) => items[classes[p.a][0]].label === items[classes[p.b][0]].label,
      );
    }
  }
  const similar: PreparedGrouping['similar'] = [];
  let minSimilarity = Infinity;
  if (table !== null && options.similarPairs && options.similarPairs.length > 0) {
    minSimilarity = options.minSimilarity ?? -Infinity;
    // One edge per pair of content classes, at the best similarity any of their copies reached.
    const best = new Map<number, number>();
    for (const p of options.similarPairs) {
      if (!(p.similarity >= minSimilarity)) continue;
      let a = classOf[p.a];
      let b = classOf[p.b];
      if (a === b || a === undefined || b === undefined) continue;
      if (perClass && items[p.a].label !== items[p.b].label) continue;
      if (a > b) [a, b] = [b, a];
      const key = a * classes.length + b;
      best.set(key, Math.max(p.similarity, best.get(key) ?? -Infinity));
    }
    for (const [key, similarity] of best) {
      const a = Math.floor(key / classes.length);
      const b = key % classes.length;
      similar.push({ a, b, d: flipDistanceAt(table, mirroredTable, a, b), similarity });
    }
  }
  return {
    items,
    hash: options.hash,
    perClass,
    mirror,
    classes,
    classOf,
    table,
    mirroredTable,
    pairs,
    similar,
    minSimilarity,
    maxThreshold,
  };
}

export interface CutOptions {
  mode: GroupMode;
  threshold: number;
  keeperRule?: readonly KeeperRule[];
  linkage?: NearLinkage;
  /** Also link classes whose embeddings reach this similarity (≥ the prepared minimum); omit for hashes only. */
  similarity?: number;
}

/** Groups at a threshold ≤ the prepared maximum. Cost is linear in pairs + items. */
export function groupsFromPrepared(prep: PreparedGrouping, options: CutOptions): Group[] {
  const { items, classes, classOf } = prep;
  const cmp = keeperComparator(options.keeperRule ?? DEFAULT_KEEPER_RULE);
  const drafts: { kind: GroupKind; positions: number[] }[] = [];
  const inNearGroup = new Uint8Array(classes.length);

  if (options.mode === 'near') {
    if (prep.table === null || options.threshold > prep.maxThreshold) {
      throw new RangeError(
        `threshold ${options.threshold} is above the prepared maximum ${prep.maxThreshold}`,
      );
    }
    // An edge is a near pair when its hashes are within the threshold or its embeddings are alike;
    // both kinds are filtered here, so the grouping itself runs with no threshold of its own.
    let edges: NearPair[] = prep.pairs.filter((p) => p.d <= options.threshold);
    if (options.similarity !== undefined && prep.similar.length > 0) {
      if (options.similarity < prep.minSimilarity) {
        throw new RangeError(`similarity ${options.similarity} is below the prepared minimum ${prep.minSimilarity}`);
      }
      const bar = options.similarity;
      edges = edges.concat(prep.similar.filter((p) => p.similarity >= bar && p.d > options.threshold));
    }
    const classGroups =
      options.linkage === 'strict'
        ? groupWithinThreshold(classes.length, edges, Infinity)
        : groupAroundKeepers(classes.length, edges, Infinity, classRanks(prep, cmp));
    for (const classGroup of classGroups) {
      const positions: number[] = [];
      for (const c of classGroup) {
        inNearGroup[c] = 1;
        for (const i of classes[c]) positions.push(i);
      }
      drafts.push({ kind: 'near', positions });
    }
  }
  // Byte-identical copies not already inside a near group form exact groups.
  for (let c = 0; c < classes.length; c++) {
    if (!inNearGroup[c] && classes[c].length > 1) drafts.push({ kind: 'exact', positions: classes[c] });
  }

  const built = drafts.map(({ kind, positions }) => {
    let keeperPos = positions[0];
    for (const i of positions) if (cmp(items[i], items[keeperPos]) < 0) keeperPos = i;
    const kc = classOf[keeperPos];
    const dist = new Map<number, number>();
    for (const i of positions) {
      const c = classOf[i];
      dist.set(i, c === kc ? 0 : flipDistanceAt(prep.table!, prep.mirroredTable, kc, c));
    }
    const ordered = positions
      .slice()
      .sort((x, y) => dist.get(x)! - dist.get(y)! || cmp(items[x], items[y]));
    // The keeper is at distance 0 and ranks first among distance-0 members, so ordered[0] is it.
    const distances: Record<number, number> = {};
    for (const i of ordered) distances[items[i].id] = dist.get(i)!;
    const labels = [...new Set(positions.map((i) => items[i].label))].sort();
    return {
      kind,
      members: ordered.map((i) => items[i].id),
      keeperItem: items[keeperPos],
      distances,
      labels,
    };
  });

  built.sort(
    (x, y) =>
      y.members.length - x.members.length ||
      (x.keeperItem.path < y.keeperItem.path ? -1 : x.keeperItem.path > y.keeperItem.path ? 1 : 0) ||
      x.keeperItem.id - y.keeperItem.id,
  );
  return built.map((g, k) => ({
    id: k + 1,
    kind: g.kind,
    members: g.members,
    keeper: g.keeperItem.id,
    distances: g.distances,
    labels: g.labels,
    crossClass: g.labels.length > 1,
  }));
}

/** Rank of each content class by its best member under the keeper rule (0 = best). */
function classRanks(prep: PreparedGrouping, cmp: (a: GroupItem, b: GroupItem) => number): Int32Array {
  const { items, classes } = prep;
  const best = classes.map((members) => members.reduce((b, i) => (cmp(items[i], items[b]) < 0 ? i : b), members[0]));
  const order = classes.map((_, c) => c).sort((x, y) => cmp(items[best[x]], items[best[y]]));
  const rank = new Int32Array(classes.length);
  order.forEach((c, r) => (rank[c] = r));
  return rank;
}

/** One-shot grouping: prepare at exactly the requested threshold, then cut. */
export function buildGroups(items: readonly GroupItem[], options: GroupOptions): Group[] {
  const prep = prepareGrouping(items, {
    hash: options.hash,
    perClass: options.perClass,
    mirror: options.mirror,
    maxThreshold: options.mode === 'near' ? Math.max(0, options.threshold) : -1,
    similarPairs: options.similarPairs,
    minSimilarity: options.similarity,
  });
  return groupsFromPrepared(prep, options);
}
