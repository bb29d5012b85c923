/**
 * 64 hash bits ↔ 16 hex digits, first bit most significant (imagehash's order: bits row-major,
 * the string read as one big binary number).
 *
 * Bits travel as a Uint8Array of 0/1 so the hash functions stay simple loops; the string is built
 * from two 32-bit halves because JS bit operations are 32-bit and BigInt would be slow here.
 */
export const HASH_BITS = 64;

export function bitsToHex(bits: ArrayLike<number>): string {
  if (bits.length !== HASH_BITS) throw new RangeError(`expected ${HASH_BITS} bits, got ${bits.length}`);
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 32; i++) hi = (hi << 1) | (bits[i] ? 1 : 0);
  for (let i = 32; i < 64; i++) lo = (lo << 1) | (bits[i] ? 1 : 0);
  // `>>> 0`: the halves were built in int32 and may be negative; hex must see them unsigned.
  return (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}

export function hexToBits(hex: string): Uint8Array {
  if (!/^[0-9a-fA-F]{16}$/.test(hex)) throw new TypeError(`not a 64-bit hex hash: ${JSON.stringify(hex)}`);
  const bits = new Uint8Array(HASH_BITS);
  for (let d = 0; d < 16; d++) {
    const v = parseInt(hex[d], 16);
    for (let b = 0; b < 4; b++) bits[d * 4 + b] = (v >> (3 - b)) & 1;
  }
  return bits;
}
