/**
 * Integer box reduction fused with the grey conversion, for large inputs.
 *
 * Lanczos costs about 6 multiply-adds per source pixel per target size, and we resize to four
 * sizes (8×8, 9×8, 32×32 and wHash's large power-of-two square), so a 24-MP photo would cost
 * ~600 M operations. Averaging k×k blocks first (Pillow's `reducing_gap` idea) cuts that by k²
 * and barely moves the hashes: for the small targets the Lanczos kernel spans hundreds of source
 * pixels, so a k-pixel pre-blur is invisible to it, and wHash only keeps 8×8 block means of its
 * square anyway (measured in tests/unit/hash/large-image.test.ts).
 *
 * Fusing grey + reduce means a 24-MP image never needs a 24-MB grey copy. Blocks at the right and
 * bottom edges may be partial; like Pillow's reduce() they average the pixels they have, and the
 * resize afterwards uses the fractional extent w/k (Pillow's box) so the geometry stays exact.
 */
export interface Reduced {
  grey: Uint8Array;
  width: number;
  height: number;
  /** Size of the original image in reduced pixels (w/k, h/k), possibly fractional. */
  extentW: number;
  extentH: number;
}

export function greyBoxReduce(rgba: Uint8Array | Uint8ClampedArray, w: number, h: number, k: number): Reduced {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`reduction factor must be a positive integer, got ${k}`);
  if (rgba.length < w * h * 4) throw new RangeError(`rgba has ${rgba.length} bytes, need ${w * h * 4}`);
  const rw = Math.ceil(w / k);
  const rh = Math.ceil(h / k);
  const out = new Uint8Array(rw * rh);
  const sums = new Float64Array(rw);
  for (let by = 0; by < rh; by++) {
    sums.fill(0);
    const y0 = by * k;
    const y1 = Math.min(y0 + k, h);
    for (let y = y0; y < y1; y++) {
      let j = y * w * 4;
      for (let bx = 0; bx < rw; bx++) {
        const xn = Math.min(k, w - bx * k);
        let s = 0;
        for (let i = 0; i < xn; i++, j += 4) {
          s += (rgba[j] * 19595 + rgba[j + 1] * 38470 + rgba[j + 2] * 7471 + 0x8000) >> 16;
        }
        sums[bx] += s;
      }
    }
    const rows = y1 - y0;
    const o = by * rw;
    for (let bx = 0; bx < rw; bx++) {
      const n = rows * Math.min(k, w - bx * k);
      // Round half up, as Pillow's reduce does.
      out[o + bx] = Math.floor((sums[bx] + (n >> 1)) / n);
    }
  }
  return { grey: out, width: rw, height: rh, extentW: w / k, extentH: h / k };
}
