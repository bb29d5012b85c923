/**
 * RGBA → 8-bit grey, exactly as Pillow's Image.convert('L') does it.
 *
 * The reference hashes (Python imagehash) start from Pillow's integer ITU-R 601 luma. A float
 * formula (0.299R + 0.587G + 0.114B, rounded) disagrees with it on a few percent of pixels by one
 * level, and those ±1 steps do flip hash bits near the median, so we copy Pillow's fixed-point
 * weights (they sum to 65536) and its rounding bias instead of a "nicer" formula.
 *
 * Alpha is ignored, as Pillow ignores it: a transparent pixel keeps whatever colour it stores.
 */
export function rgbaToGrey(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): Uint8Array {
  const n = width * height;
  if (rgba.length < n * 4) throw new RangeError(`rgba has ${rgba.length} bytes, need ${n * 4}`);
  const grey = new Uint8Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 4) {
    // Max is 255 * 65536 + 0x8000 < 2^31, so the int32 shift is safe.
    grey[i] = (rgba[j] * 19595 + rgba[j + 1] * 38470 + rgba[j + 2] * 7471 + 0x8000) >> 16;
  }
  return grey;
}
