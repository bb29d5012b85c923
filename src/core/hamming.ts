/**
 * Packed 64-bit hashes and their Hamming distance.
 *
 * Hashes arrive as 16 hex digits (see Hash64). Comparing strings, or BigInts, in an O(n²) loop is
 * far too slow, so each hash is parsed once into two unsigned 32-bit words stored side by side in
 * a Uint32Array: word 2i is the high half (hex digits 0–7), word 2i+1 the low half (digits 8–15).
 * Distances are then two XORs and two popcounts on small integers, which V8 keeps unboxed.
 */
import type { Hash64 } from './types.ts';

const HEX64 = /^[0-9a-fA-F]{16}$/;

/** Throws on anything but 16 hex digits: a malformed hash must not silently compare as zeros. */
export function assertHash64(hex: string): asserts hex is Hash64 {
  if (typeof hex !== 'string' || !HEX64.test(hex)) {
    throw new TypeError(`not a 64-bit hex hash: ${JSON.stringify(hex)}`);
  }
}

/** Writes one hash into `out` at hash index `i` (words 2i, 2i+1). */
export function packHashInto(hex: Hash64, out: Uint32Array, i: number): void {
  assertHash64(hex);
  // parseInt of 8 hex digits is exact (< 2^32); `>>> 0` stores it as unsigned.
  out[2 * i] = parseInt(hex.slice(0, 8), 16) >>> 0;
  out[2 * i + 1] = parseInt(hex.slice(8, 16), 16) >>> 0;
}

/** Parses n hashes into a table of 2n words (hi, lo, hi, lo, …). */
export function packHashes(hexes: readonly Hash64[]): Uint32Array {
  const out = new Uint32Array(2 * hexes.length);
  for (let i = 0; i < hexes.length; i++) packHashInto(hexes[i], out, i);
  return out;
}

/** Number of hashes in a packed table. */
export function tableSize(table: Uint32Array): number {
  return table.length >>> 1;
}

/** Back to 16 lowercase hex digits (for tests, debugging and the manifest). */
export function unpackHash(table: Uint32Array, i: number): Hash64 {
  return (
    table[2 * i].toString(16).padStart(8, '0') + table[2 * i + 1].toString(16).padStart(8, '0')
  );
}

/**
 * Bits set in a 32-bit integer (SWAR: sum bits in pairs, nibbles, bytes, then gather with a
 * multiply). Math.imul keeps the multiply in int32 so V8 never leaves the integer fast path.
 */
export function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Hamming distance between hash i of table `a` and hash j of table `b` (may be the same table). */
export function distanceAt(a: Uint32Array, i: number, b: Uint32Array, j: number): number {
  return popcount32(a[2 * i] ^ b[2 * j]) + popcount32(a[2 * i + 1] ^ b[2 * j + 1]);
}

/**
 * Flip-invariant distance: an image and its horizontal mirror count as the same picture.
 * min(d(a,b), d(a, mirror b), d(mirror a, b)). The third term keeps the measure symmetric; a
 * perceptual hash of a mirrored image is not an exact bit permutation of the original's, so
 * d(a, mirror b) and d(mirror a, b) can differ by a bit or two and order must not matter.
 * With `mirrored` null this is the plain distance.
 */
export function flipDistanceAt(
  table: Uint32Array,
  mirrored: Uint32Array | null,
  i: number,
  j: number,
): number {
  let d = distanceAt(table, i, table, j);
  if (mirrored !== null && d > 0) {
    const d1 = distanceAt(table, i, mirrored, j);
    if (d1 < d) d = d1;
    const d2 = distanceAt(mirrored, i, table, j);
    if (d2 < d) d = d2;
  }
  return d;
}

/** Distance between two hex hashes; parses on every call, so keep it out of hot loops. */
export function hammingHex64(a: Hash64, b: Hash64): number {
  const t = new Uint32Array(4);
  packHashInto(a, t, 0);
  packHashInto(b, t, 1);
  return distanceAt(t, 0, t, 1);
}

/**
 * A packed table as two plain arrays, high words and low words: contiguous int32 loads that the
 * hot comparison loops keep unboxed (pairs.ts, pairs-mih.ts).
 */
export function splitPackedTable(table: Uint32Array): [Int32Array, Int32Array] {
  const n = table.length >>> 1;
  const hi = new Int32Array(n);
  const lo = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    hi[i] = table[2 * i];
    lo[i] = table[2 * i + 1];
  }
  return [hi, lo];
}
