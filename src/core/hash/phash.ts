/**
 * Perceptual hash (imagehash.phash): 32×32 Lanczos thumbnail, 2-D DCT-II, keep the 8×8 lowest
 * frequencies (DC included), bit = coefficient > median of those 64.
 *
 * imagehash uses scipy.fftpack.dct (unnormalised: y[k] = 2 Σ x[n] cos(πk(2n+1)/2N)) over axis 0
 * and then axis 1. Only 8 of 32 frequencies per axis are needed, so instead of two full FFT-based
 * transforms we multiply by an 8×32 cosine matrix on each side: 8·32·32 + 8·8·32 multiply-adds.
 * The result differs from scipy's FFT only in the last floating-point bits, which matters only for
 * exact mathematical ties (flat images); see snapping below.
 */
import { median64 } from './median.ts';

export const PHASH_SIZE = 32;
const N = 32;
const K = 8;

// COS[k * N + n] = 2·cos(πk(2n+1)/2N): scipy's scale factor kept so magnitudes match the reference.
const COS = new Float64Array(K * N);
for (let k = 0; k < K; k++) {
  for (let n = 0; n < N; n++) COS[k * N + n] = 2 * Math.cos((Math.PI * k * (2 * n + 1)) / (2 * N));
}

/** The 8×8 low-frequency block, row-major (row = vertical frequency), as imagehash's dct[:8, :8]. */
export function lowDct8(grey32: Uint8Array): Float64Array {
  // Column transform first (axis 0): T[k][x] = Σ_y COS[k][y]·g[y][x].
  const t = new Float64Array(K * N);
  for (let k = 0; k < K; k++) {
    const c = k * N;
    const tr = k * N;
    for (let y = 0; y < N; y++) {
      const w = COS[c + y];
      const gr = y * N;
      for (let x = 0; x < N; x++) t[tr + x] += w * grey32[gr + x];
    }
  }
  // Then rows (axis 1): D[k][l] = Σ_x T[k][x]·COS[l][x].
  const d = new Float64Array(K * K);
  for (let k = 0; k < K; k++) {
    for (let l = 0; l < K; l++) {
      let s = 0;
      for (let x = 0; x < N; x++) s += t[k * N + x] * COS[l * N + x];
      d[k * K + l] = s;
    }
  }
  return d;
}

export function phashBits(grey32: Uint8Array): Uint8Array {
  const d = lowDct8(grey32);
  // A coefficient that is zero in exact arithmetic (flat or mirror-symmetric content) comes out
  // as ±1e-13 noise, here and in scipy alike, and that noise would decide its bit: two flat
  // images would get unrelated hashes. Coefficients of real content are sums of up to 1024 terms
  // of size ~1–500 and are practically never below 1e-7 in magnitude, so snapping only affects
  // true ties, which then compare as "not above the median" (bit 0) deterministically.
  for (let i = 0; i < 64; i++) if (Math.abs(d[i]) < 1e-7) d[i] = 0;
  const med = median64(d);
  const bits = new Uint8Array(64);
  for (let i = 0; i < 64; i++) bits[i] = d[i] > med ? 1 : 0;
  return bits;
}
