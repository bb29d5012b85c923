/**
 * Wavelet hash (imagehash.whash with its defaults: mode 'haar', remove_max_haar_ll=True).
 *
 * imagehash: resize to S×S with S = max(2^floor(log2(min side)), 8), scale to [0, 1], take a full
 * S-level 2-D Haar decomposition (pywt.wavedec2), zero the single top approximation coefficient,
 * reconstruct (pywt.waverec2), decompose again by log2(S) − 3 levels, and threshold the 8×8
 * approximation at its median.
 *
 * In exact arithmetic that is "block means minus the global mean"; but real images have blocks
 * whose means tie (flat sky, borders, synthetic art), and in imagehash such ties are broken by the
 * rounding noise of pywt's float arithmetic. To reproduce those bits we replay pywt's arithmetic
 * operation by operation: for the two-tap Haar filter each output is fl(fl(c·x0) ± fl(c·x1)) with
 * c = 1/√2 (pywt's convolution sums the two products; the order of a two-term sum does not
 * matter), rows (axis 0) before columns (axis 1) on the way down and the reverse on the way up.
 * That costs about 3·S² multiply-adds, small next to the resize that feeds it.
 *
 * Because every step is exactly sign-symmetric, the hash of a mirrored thumbnail is the mirrored
 * hash; index.ts relies on that (and a test checks it).
 */
import { median64 } from './median.ts';

const C = Math.SQRT1_2; // pywt's haar filters are ±0.7071067811865476, i.e. this double.

/** Natural thumbnail side for whash: the largest power of two not above the short side, ≥ 8. */
export function whashScale(width: number, height: number): number {
  const m = Math.min(width, height);
  let s = 1;
  while (s * 2 <= m) s *= 2;
  return Math.max(s, 8);
}

interface Level {
  aa: Float64Array;
  da: Float64Array;
  ad: Float64Array;
  dd: Float64Array;
}

/** One pywt.dwt2 level on an n×n array (n even): 'a'/'d' along axis 0, then along axis 1. */
function dwt2(x: Float64Array, n: number): Level {
  const m = n >> 1;
  // Axis 0: pairs of rows.
  const va = new Float64Array(m * n);
  const vd = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const r0 = 2 * i * n;
    const r1 = r0 + n;
    const o = i * n;
    for (let j = 0; j < n; j++) {
      const p0 = C * x[r0 + j];
      const p1 = C * x[r1 + j];
      va[o + j] = p0 + p1;
      vd[o + j] = p0 - p1;
    }
  }
  // Axis 1: pairs of columns, for both halves.
  const aa = new Float64Array(m * m);
  const ad = new Float64Array(m * m);
  const da = new Float64Array(m * m);
  const dd = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    const ri = i * n;
    const o = i * m;
    for (let j = 0; j < m; j++) {
      let p0 = C * va[ri + 2 * j];
      let p1 = C * va[ri + 2 * j + 1];
      aa[o + j] = p0 + p1;
      ad[o + j] = p0 - p1;
      p0 = C * vd[ri + 2 * j];
      p1 = C * vd[ri + 2 * j + 1];
      da[o + j] = p0 + p1;
      dd[o + j] = p0 - p1;
    }
  }
  return { aa, da, ad, dd };
}

/** One pywt.idwt2 level back to 2m×2m: axis 1 first ('aa'+'ad', 'da'+'dd'), then axis 0. */
function idwt2(l: Level, m: number): Float64Array {
  const n = 2 * m;
  const ha = new Float64Array(m * n);
  const hd = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const o = i * n;
    const ri = i * m;
    for (let j = 0; j < m; j++) {
      let pa = C * l.aa[ri + j];
      let pd = C * l.ad[ri + j];
      ha[o + 2 * j] = pa + pd;
      ha[o + 2 * j + 1] = pa - pd;
      pa = C * l.da[ri + j];
      pd = C * l.dd[ri + j];
      hd[o + 2 * j] = pa + pd;
      hd[o + 2 * j + 1] = pa - pd;
    }
  }
  const out = new Float64Array(n * n);
  for (let i = 0; i < m; i++) {
    const ri = i * n;
    const r0 = 2 * i * n;
    const r1 = r0 + n;
    for (let j = 0; j < n; j++) {
      const pa = C * ha[ri + j];
      const pd = C * hd[ri + j];
      out[r0 + j] = pa + pd;
      out[r1 + j] = pa - pd;
    }
  }
  return out;
}

/** whash bits from the S×S Lanczos thumbnail (S a power of two, ≥ 8). */
export function whashBits(grey: Uint8Array, size: number): Uint8Array {
  const levels = Math.round(Math.log2(size));
  if (size < 8 || 1 << levels !== size) throw new RangeError(`whash thumbnail side must be a power of two ≥ 8, got ${size}`);
  let a: Float64Array = new Float64Array(size * size);
  for (let i = 0; i < a.length; i++) a[i] = grey[i] / 255;

  // Full decomposition, drop the overall mean (the 1×1 approximation), rebuild.
  const details: Level[] = [];
  let n = size;
  for (let l = 0; l < levels; l++) {
    const lv = dwt2(a, n);
    details.push(lv);
    a = lv.aa;
    n >>= 1;
  }
  a[0] = a[0] * 0; // as `coeffs[0] *= 0`
  for (let l = levels - 1; l >= 0; l--) {
    const lv = details[l];
    a = idwt2({ aa: a, da: lv.da, ad: lv.ad, dd: lv.dd }, n);
    n <<= 1;
  }

  // Decompose down to 8×8 and threshold the approximation.
  for (let l = 0; l < levels - 3; l++) {
    a = dwt2(a, n).aa;
    n >>= 1;
  }
  const med = median64(a);
  const bits = new Uint8Array(64);
  for (let i = 0; i < 64; i++) bits[i] = a[i] > med ? 1 : 0;
  return bits;
}

/** Reverses each 8-bit row: the hash of the left–right mirror, for hashes that permute exactly. */
export function mirrorBits8x8(bits: Uint8Array): Uint8Array {
  const out = new Uint8Array(64);
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) out[y * 8 + x] = bits[y * 8 + 7 - x];
  return out;
}
