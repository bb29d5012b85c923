/**
 * The training subsets the experiment compares (issue 5, Birodkar et al. 2019, Figure 2): per class
 * the same number of images, chosen at random or by the perceptual-hash threshold of CE-Dedup
 * (Li et al. 2021). Equal class sizes make the methods differ only in *which* images they keep.
 */
import { compressingFind } from '../cluster/union-find.ts';
import { popcount32, splitPackedTable } from '../hamming.ts';
import { seededRandom, shuffleInPlace } from '../rng.ts';

/** The members of each class among `idx`, ascending, classes in ascending label order. */
export function membersByClass(labels: ArrayLike<number>, idx: ArrayLike<number>): Map<number, Int32Array> {
  const lists = new Map<number, number[]>();
  for (let i = 0; i < idx.length; i++) {
    const item = idx[i];
    if (!Number.isInteger(item) || item < 0 || item >= labels.length) {
      throw new RangeError(`item ${item} is not an index into ${labels.length} labels`);
    }
    const label = labels[item];
    const list = lists.get(label);
    if (list) list.push(item);
    else lists.set(label, [item]);
  }
  const out = new Map<number, Int32Array>();
  for (const label of [...lists.keys()].sort((a, b) => a - b)) {
    const members = Int32Array.from(lists.get(label)!).sort();
    for (let i = 1; i < members.length; i++) {
      // A repeated item would be counted, and possibly kept, twice.
      if (members[i] === members[i - 1]) throw new RangeError(`item ${members[i]} is listed twice`);
    }
    out.set(label, members);
  }
  return out;
}

/**
 * Images to keep per class: round(fraction·n), but at least one, so no class vanishes from the
 * training set (a class the embedder never sees would make every method look alike on it).
 */
export function classTargets(labels: ArrayLike<number>, idx: ArrayLike<number>, fraction: number): Map<number, number> {
  if (!(fraction > 0 && fraction <= 1)) throw new RangeError(`fraction must be in (0, 1], got ${fraction}`);
  const out = new Map<number, number>();
  for (const [label, members] of membersByClass(labels, idx)) {
    const n = members.length;
    out.set(label, Math.min(n, Math.max(1, Math.round(fraction * n))));
  }
  return out;
}

/**
 * Uniform random `targets[c]` images of each class, sorted. Each class is shuffled whole, using the
 * same number of draws whatever its target, so for one seed a smaller fraction keeps a subset of
 * what a larger one kept: the curve then compares nested sets, not independent draws.
 */
export function randomSubset(labels: ArrayLike<number>, idx: ArrayLike<number>, targets: Map<number, number>, seed: number): Int32Array {
  const random = seededRandom(seed);
  const keep: number[] = [];
  for (const [label, members] of checkedClasses(labels, idx, targets)) {
    const order = Int32Array.from(members);
    shuffleInPlace(order, random);
    const want = targets.get(label)!;
    for (let i = 0; i < want; i++) keep.push(order[i]);
  }
  return Int32Array.from(keep).sort();
}

export interface HashSubsetInput {
  /** Packed as hamming.ts packHashes: words 2i (high) and 2i+1 (low) for item i of the whole dataset. */
  hashes: Uint32Array;
  labels: ArrayLike<number>;
  /** Dataset indices to choose from (the training pool). */
  idx: ArrayLike<number>;
  targets: Map<number, number>;
  /** Orders the edges at the last threshold, where only some of them are taken. */
  seed: number;
}

export interface HashSubset {
  keep: Int32Array;
  /** Per class, the Hamming threshold the target was reached at; 0 when nothing needed merging. */
  thresholds: Map<number, number>;
}

/**
 * CE-Dedup sized to a target. Within a class, hashes at Hamming distance ≤ t are duplicates and each
 * connected component keeps one image (its smallest dataset index). t grows from 0; at the first t
 * whose edges would take the component count below the target, those edges are added one by one in
 * a seeded order until the count equals it, since each merging edge lowers the count by exactly one.
 * A fixed threshold, as in the paper, would give each method a different subset size.
 */
export function hashSubset(o: HashSubsetInput): HashSubset {
  if (o.hashes.length < 2 * o.labels.length) {
    throw new RangeError(`hashes hold ${o.hashes.length >>> 1} items, labels ${o.labels.length}`);
  }
  const [hi, lo] = splitPackedTable(o.hashes);
  const random = seededRandom(o.seed);
  const keep: number[] = [];
  const thresholds = new Map<number, number>();
  for (const [label, members] of checkedClasses(o.labels, o.idx, o.targets)) {
    const want = o.targets.get(label)!;
    const { roots, threshold } = mergeToTarget(members, hi, lo, want, random);
    thresholds.set(label, threshold);
    // Members ascend, so the first one met in each component is its smallest dataset index.
    const seen = new Set<number>();
    for (let i = 0; i < members.length; i++) {
      if (want > 0 && !seen.has(roots[i])) {
        seen.add(roots[i]);
        keep.push(members[i]);
      }
    }
  }
  return { keep: Int32Array.from(keep).sort(), thresholds };
}

/** Component root of each member once the count is down to `want`, and the threshold that took. */
function mergeToTarget(
  members: Int32Array,
  hi: Int32Array,
  lo: Int32Array,
  want: number,
  random: () => number,
): { roots: Int32Array; threshold: number } {
  const n = members.length;
  let parent = Int32Array.from({ length: n }, (_, i) => i);
  if (want >= n || want === 0) return { roots: parent, threshold: 0 };

  // All pair distances once (n ≈ 5,000 is 12.5 M bytes); each threshold is then a scan of bytes.
  const distance = new Uint8Array((n * (n - 1)) / 2);
  const perDistance = new Int32Array(65);
  for (let i = 0, p = 0; i < n; i++) {
    const hi_i = hi[members[i]], lo_i = lo[members[i]];
    for (let j = i + 1; j < n; j++, p++) {
      const d = popcount32(hi_i ^ hi[members[j]]) + popcount32(lo_i ^ lo[members[j]]);
      distance[p] = d;
      perDistance[d]++;
    }
  }

  let count = n;
  for (let t = 0; t <= 64; t++) {
    if (perDistance[t] === 0) continue;
    const edges = edgesAt(distance, n, t, perDistance[t]);
    // Try the whole level on a copy; only the level that would overshoot needs an order.
    const trial = Int32Array.from(parent);
    const after = count - unionAll(trial, edges, edges.length >>> 1, -1);
    if (after >= want) {
      parent = trial;
      count = after;
      if (count === want) return { roots: rootsOf(parent), threshold: t };
      continue;
    }
    const pairs = edges.length >>> 1;
    const order = Int32Array.from({ length: pairs }, (_, e) => e);
    for (let i = pairs - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      const x = order[i];
      order[i] = order[j];
      order[j] = x;
    }
    const shuffled = new Int32Array(edges.length);
    for (let e = 0; e < pairs; e++) {
      shuffled[2 * e] = edges[2 * order[e]];
      shuffled[2 * e + 1] = edges[2 * order[e] + 1];
    }
    unionAll(parent, shuffled, pairs, count - want);
    return { roots: rootsOf(parent), threshold: t };
  }
  // Unreachable: at t = 64 every pair is an edge and one component is ≤ any target ≥ 1.
  throw new Error('hashSubset: ran out of thresholds');
}

/** Member pairs (i, j), i < j, at exactly distance t, flattened, in scan order. */
function edgesAt(distance: Uint8Array, n: number, t: number, size: number): Int32Array {
  const edges = new Int32Array(2 * size);
  let e = 0;
  for (let i = 0, p = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++, p++) {
      if (distance[p] === t) {
        edges[e++] = i;
        edges[e++] = j;
      }
    }
  }
  return edges;
}

/** Unions the first `pairs` edges in order, stopping after `limit` merges (-1: none); returns merges made. */
function unionAll(parent: Int32Array, edges: Int32Array, pairs: number, limit: number): number {
  const find = compressingFind(parent);
  let merges = 0;
  for (let e = 0; e < pairs && merges !== limit; e++) {
    const a = find(edges[2 * e]);
    const b = find(edges[2 * e + 1]);
    if (a !== b) {
      parent[a < b ? b : a] = a < b ? a : b;
      merges++;
    }
  }
  return merges;
}

function rootsOf(parent: Int32Array): Int32Array {
  const find = compressingFind(parent);
  return Int32Array.from(parent, (_, i) => find(i));
}

/** Members per class, with each class's target checked: an integer in [0, class size]. */
function checkedClasses(labels: ArrayLike<number>, idx: ArrayLike<number>, targets: Map<number, number>): Map<number, Int32Array> {
  const classes = membersByClass(labels, idx);
  for (const [label, members] of classes) {
    const want = targets.get(label);
    if (want === undefined) throw new RangeError(`no target for class ${label}`);
    if (!Number.isInteger(want) || want < 0 || want > members.length) {
      throw new RangeError(`target ${want} for class ${label} is not between 0 and its ${members.length} images`);
    }
  }
  for (const [label, want] of targets) {
    if (want > 0 && !classes.has(label)) throw new RangeError(`target ${want} for class ${label}, which has no images`);
  }
  return classes;
}
