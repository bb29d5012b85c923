/**
 * All pairs of hashes within a Hamming threshold.
 *
 * The contract (NearPairFinder) is what callers rely on. Two implementations: the brute-force scan
 * below, and multi-index hashing (pairs-mih.ts), which findNearPairs uses once inputs are large
 * enough for its setup to pay. Tests compare both with a naive oracle, and with each other.
 */
import { multiIndexNearPairs } from './pairs-mih.ts';
import { splitPackedTable } from './hamming.ts';

/** One near pair: hash indices a < b and their flip-invariant distance d. */
export interface NearPair {
  a: number;
  b: number;
  d: number;
}

/**
 * Contract for every implementation:
 * - `table` is a packed table (see packHashes) of n hashes; `mirrored`, when given, holds the
 *   hashes of the horizontal mirrors in the same order and has the same length.
 * - returns every pair a < b with flipDistanceAt(table, mirrored, a, b) <= threshold, exactly once,
 *   with d set to that distance, sorted by a then b.
 * - the output can be O(n²) for a large threshold: callers keep thresholds small (≤ ~20 of 64).
 */
export type NearPairFinder = (
  table: Uint32Array,
  mirrored: Uint32Array | null,
  threshold: number,
) => NearPair[];

function checkTables(table: Uint32Array, mirrored: Uint32Array | null): void {
  if (table.length % 2 !== 0) throw new RangeError('packed hash table must have an even length');
  if (mirrored !== null && mirrored.length !== table.length) {
    throw new RangeError('mirrored table must have the same length as the hash table');
  }
}

/**
 * O(n²) scan. The table is first split into separate high and low Int32Arrays (contiguous
 * loads, int32 arithmetic that V8 keeps unboxed); the SWAR popcount is written out inline in the
 * plain loop and is a module-local function in the mirrored one. Each comparison counts the high word alone first and skips the low word when that
 * already exceeds the threshold: unrelated hashes are ≈16 bits apart in each half, so with the
 * small thresholds in use this halves the work. The loop with mirrors is a separate function so
 * the plain one carries no per-pair branch for it.
 */
export const bruteForceNearPairs: NearPairFinder = (table, mirrored, threshold) => {
  checkTables(table, mirrored);
  if (!(threshold >= 0)) return []; // also rejects NaN
  const t = Math.min(Math.floor(threshold), 64);
  const n = table.length >>> 1;
  const [hi, lo] = splitPackedTable(table);
  // The early exit pays while it is predictable: at t ≤ 14 almost every pair fails on the high
  // word. Near t = 16 about half pass, mispredicted branches cost more than they save, and a
  // branch-free full count is faster (measured on 20k hashes: ~25–30% at t = 16).
  const branchFree = t >= BRANCH_FREE_FROM;
  if (mirrored === null) return branchFree ? scanPlainFull(hi, lo, n, t) : scanPlain(hi, lo, n, t);
  const [mhi, mlo] = splitPackedTable(mirrored);
  return branchFree
    ? scanMirroredFull(hi, lo, mhi, mlo, n, t)
    : scanMirrored(hi, lo, mhi, mlo, n, t);
};

const BRANCH_FREE_FROM = 15;

/**
 * Same SWAR popcount as hamming.ts, kept module-local on purpose: a call to an imported function
 * can go through a module-namespace property lookup (vitest rewrites imports that way) that V8
 * does not inline, which made the hot loop ~15× slower.
 */
function pc(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** popcount(x) + popcount(y), sharing the last two SWAR steps (nibble sums stay ≤ 8). */
function pc2(x: number, y: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  y = y - ((y >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  y = (y & 0x33333333) + ((y >>> 2) & 0x33333333);
  x = x + y;
  x = (x & 0x0f0f0f0f) + ((x >>> 4) & 0x0f0f0f0f);
  return Math.imul(x, 0x01010101) >>> 24;
}


function scanPlain(hi: Int32Array, lo: Int32Array, n: number, t: number): NearPair[] {
  const out: NearPair[] = [];
  for (let i = 0; i < n; i++) {
    const ahi = hi[i];
    const alo = lo[i];
    for (let j = i + 1; j < n; j++) {
      let x = ahi ^ hi[j];
      x = x - ((x >>> 1) & 0x55555555);
      x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
      x = (x + (x >>> 4)) & 0x0f0f0f0f;
      let d = Math.imul(x, 0x01010101) >>> 24;
      if (d > t) continue;
      x = alo ^ lo[j];
      x = x - ((x >>> 1) & 0x55555555);
      x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
      x = (x + (x >>> 4)) & 0x0f0f0f0f;
      d += Math.imul(x, 0x01010101) >>> 24;
      if (d <= t) out.push({ a: i, b: j, d });
    }
  }
  return out;
}

/** Smallest of d(a,b), d(a, mirror b), d(mirror a, b); see flipDistanceAt. */
function scanMirrored(
  hi: Int32Array,
  lo: Int32Array,
  mhi: Int32Array,
  mlo: Int32Array,
  n: number,
  t: number,
): NearPair[] {
  const out: NearPair[] = [];
  for (let i = 0; i < n; i++) {
    const ahi = hi[i];
    const alo = lo[i];
    const amhi = mhi[i];
    const amlo = mlo[i];
    for (let j = i + 1; j < n; j++) {
      let best = 65;
      const bhi = hi[j];
      const blo = lo[j];
      // a against b
      let d = pc(ahi ^ bhi);
      if (d <= t) {
        d += pc(alo ^ blo);
        if (d < best) best = d;
      }
      // a against mirror(b)
      d = pc(ahi ^ mhi[j]);
      if (d <= t && d < best) {
        d += pc(alo ^ mlo[j]);
        if (d < best) best = d;
      }
      // mirror(a) against b, so that the measure does not depend on which index is smaller
      d = pc(amhi ^ bhi);
      if (d <= t && d < best) {
        d += pc(amlo ^ blo);
        if (d < best) best = d;
      }
      if (best <= t) out.push({ a: i, b: j, d: best });
    }
  }
  return out;
}

/**
 * The finder the app uses. Swap the implementation here, not at the call sites.
 *
 * Measured on random hashes (Node 20, 2-core VM; the same V8 as Chromium): multi-index hashing
 * overtakes brute force between 400 and 1,000 hashes at thresholds 4–20, with or without
 * mirrors; at 1,000 hashes it is 1.5–5× faster, at 3,000 2–9×, and the gap grows with n (about
 * 300× at 10⁶, bench/hash-pairs.run.ts). From a threshold of ~24 up, a sizeable share of all pairs
 * is within it, producing the output dominates, and the scan's simpler bookkeeping wins (at
 * 26–28 and 3,000 hashes brute force is 1.5–2.4× faster).
 */
export const findNearPairs: NearPairFinder = (table, mirrored, threshold) =>
  (table.length >>> 1) >= MIH_FROM_N && threshold <= MIH_MAX_THRESHOLD
    ? multiIndexNearPairs(table, mirrored, threshold)
    : bruteForceNearPairs(table, mirrored, threshold);

const MIH_FROM_N = 1000;
const MIH_MAX_THRESHOLD = 24;

function scanPlainFull(hi: Int32Array, lo: Int32Array, n: number, t: number): NearPair[] {
  const out: NearPair[] = [];
  for (let i = 0; i < n; i++) {
    const ahi = hi[i];
    const alo = lo[i];
    for (let j = i + 1; j < n; j++) {
      const d = pc2(ahi ^ hi[j], alo ^ lo[j]);
      if (d <= t) out.push({ a: i, b: j, d });
    }
  }
  return out;
}

function scanMirroredFull(
  hi: Int32Array,
  lo: Int32Array,
  mhi: Int32Array,
  mlo: Int32Array,
  n: number,
  t: number,
): NearPair[] {
  const out: NearPair[] = [];
  for (let i = 0; i < n; i++) {
    const ahi = hi[i];
    const alo = lo[i];
    const amhi = mhi[i];
    const amlo = mlo[i];
    for (let j = i + 1; j < n; j++) {
      const bhi = hi[j];
      const blo = lo[j];
      const d0 = pc2(ahi ^ bhi, alo ^ blo);
      const d1 = pc2(ahi ^ mhi[j], alo ^ mlo[j]);
      const d2 = pc2(amhi ^ bhi, amlo ^ blo);
      let d = d0 < d1 ? d0 : d1;
      d = d < d2 ? d : d2;
      if (d <= t) out.push({ a: i, b: j, d });
    }
  }
  return out;
}
