/**
 * Average hash (imagehash.average_hash): 8×8 Lanczos thumbnail, bit = pixel > mean.
 *
 * imagehash compares against a float mean of 64 uint8 values; that mean is an exact sum / 64, so
 * comparing 64·pixel with the integer sum gives the same bits with no rounding question at all.
 */
export const AHASH_SIZE = 8;

export function ahashBits(grey8x8: Uint8Array): Uint8Array {
  let sum = 0;
  for (let i = 0; i < 64; i++) sum += grey8x8[i];
  const bits = new Uint8Array(64);
  for (let i = 0; i < 64; i++) bits[i] = grey8x8[i] * 64 > sum ? 1 : 0;
  return bits;
}
