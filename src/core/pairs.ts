/**
 * All pairs of hashes within a Hamming threshold.
 *
 * The contract (NearPairFinder) is what callers rely on; the brute-force scan below is the current
 * implementation. A multi-index-hashing finder (split the 64 bits into threshold+1 blocks, bucket
 * by block, verify candidates) can replace it behind the same signature once datasets outgrow
 * O(n²); tests compare any implementation with a naive oracle.
 */
import { popcount32 } from './hamming.ts';

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
 * O(n²) scan over packed words. Each comparison first counts the high word alone and skips the
 * low word when that already exceeds the threshold: for unrelated hashes (≈32 bits apart) this
 * halves the work, which matters more than anything else at 20k+ hashes.
 */
export const bruteForceNearPairs: NearPairFinder = (table, mirrored, threshold) => {
  checkTables(table, mirrored);
  const out: NearPair[] = [];
  if (!(threshold >= 0)) return out; // also rejects NaN
  const t = Math.min(Math.floor(threshold), 64);
  const n = table.length >>> 1;
  const m = mirrored;
  for (let i = 0; i < n; i++) {
    const ahi = table[2 * i];
    const alo = table[2 * i + 1];
    const mhi = m === null ? 0 : m[2 * i];
    const mlo = m === null ? 0 : m[2 * i + 1];
    for (let j = i + 1; j < n; j++) {
      const bhi = table[2 * j];
      const blo = table[2 * j + 1];
      let best = 65;
      let d = popcount32(ahi ^ bhi);
      if (d <= t) {
        d += popcount32(alo ^ blo);
        if (d < best) best = d;
      }
      if (m !== null && best > 0) {
        // a against mirror(b)
        d = popcount32(ahi ^ m[2 * j]);
        if (d <= t && d < best) {
          d += popcount32(alo ^ m[2 * j + 1]);
          if (d < best) best = d;
        }
        // mirror(a) against b, so that the measure does not depend on which index is smaller
        d = popcount32(mhi ^ bhi);
        if (d <= t && d < best) {
          d += popcount32(mlo ^ blo);
          if (d < best) best = d;
        }
      }
      if (best <= t) out.push({ a: i, b: j, d: best });
    }
  }
  return out;
};

/** The finder the app uses. Swap the implementation here, not at the call sites. */
export const findNearPairs: NearPairFinder = bruteForceNearPairs;
