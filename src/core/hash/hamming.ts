/**
 * Hamming distance between two 64-bit hex hashes.
 *
 * Parses each hash as two unsigned 32-bit halves (parseInt of 8 hex digits is exact) and counts
 * bits with a SWAR popcount, so nothing here touches BigInt. For O(n²) scans prefer the packed
 * tables in src/core/hamming.ts, which parse once; this helper is for tests, scripts and one-offs.
 */
import type { Hash64 } from '../types.ts';

const HEX64 = /^[0-9a-fA-F]{16}$/;

export function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

export function hammingHex(a: Hash64, b: Hash64): number {
  // parseInt stops quietly at the first bad digit, so a malformed hash would compare as a
  // different number instead of failing: check the shape first.
  if (!HEX64.test(a) || !HEX64.test(b)) throw new TypeError(`not 64-bit hex hashes: ${a}, ${b}`);
  const ahi = parseInt(a.slice(0, 8), 16);
  const alo = parseInt(a.slice(8), 16);
  const bhi = parseInt(b.slice(0, 8), 16);
  const blo = parseInt(b.slice(8), 16);
  return popcount32(ahi ^ bhi) + popcount32(alo ^ blo);
}
