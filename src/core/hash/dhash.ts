/**
 * Difference hash (imagehash.dhash, the row variant): 9 wide × 8 high Lanczos thumbnail, bit =
 * right neighbour brighter than left (px[:, 1:] > px[:, :-1]). Nine columns give eight
 * differences per row, hence 64 bits.
 */
export const DHASH_W = 9;
export const DHASH_H = 8;

export function dhashBits(grey9x8: Uint8Array): Uint8Array {
  const bits = new Uint8Array(64);
  for (let y = 0; y < 8; y++) {
    const row = y * 9;
    for (let x = 0; x < 8; x++) bits[y * 8 + x] = grey9x8[row + x + 1] > grey9x8[row + x] ? 1 : 0;
  }
  return bits;
}
