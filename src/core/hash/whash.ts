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

/**
 * The buffers of one decomposition level for an n×n input (m = n/2): the axis-0 halves (m×n,
 * reused as the axis-1 halves on the way back up) and the four m×m sub-bands.
 */
interface Level {
  va: Float64Array;
  vd: Float64Array;
  aa: Float64Array;
  da: Float64Array;
  ad: Float64Array;
  dd: Float64Array;
}

/**
 * Scratch for one thumbnail size, kept between calls. Allocating the ~90 arrays (1 MB for a 128²
 * thumbnail) anew per image made wHash 3.5 ms per image in a Chromium worker against 0.5 ms in
 * Node (measured on the near-duplicate set: typed-array allocation there goes through the
 * browser's allocator and its GC accounting); reused, it costs what the arithmetic costs.
 */
interface Workspace {
  size: number;
  input: Float64Array;
  levels: Level[];
}

let workspace: Workspace | null = null;

function workspaceFor(size: number, levels: number): Workspace {
  if (workspace?.size === size) return workspace;
  const lv: Level[] = [];
  for (let l = 0, n = size; l < levels; l++, n >>= 1) {
    const m = n >> 1;
    lv.push({
      va: new Float64Array(m * n),
      vd: new Float64Array(m * n),
      aa: new Float64Array(m * m),
      da: new Float64Array(m * m),
      ad: new Float64Array(m * m),
      dd: new Float64Array(m * m),
    });
  }
  workspace = { size, input: new Float64Array(size * size), levels: lv };
  return workspace;
}

/** One pywt.dwt2 level on an n×n array (n even) into `l`: 'a'/'d' along axis 0, then along axis 1. */
function dwt2(x: Float64Array, n: number, l: Level): void {
  const m = n >> 1;
  const { va, vd, aa, ad, da, dd } = l;
  // Axis 0: pairs of rows.
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
}

/**
 * One pywt.idwt2 level from approximation `a` and the detail bands of `l` back to 2m×2m in `out`:
 * axis 1 first ('aa'+'ad', 'da'+'dd'), then axis 0. `l.va`/`l.vd` are free by now and hold the
 * axis-1 results.
 */
function idwt2(a: Float64Array, l: Level, m: number, out: Float64Array): void {
  const n = 2 * m;
  const ha = l.va;
  const hd = l.vd;
  for (let i = 0; i < m; i++) {
    const o = i * n;
    const ri = i * m;
    for (let j = 0; j < m; j++) {
      let pa = C * a[ri + j];
      let pd = C * l.ad[ri + j];
      ha[o + 2 * j] = pa + pd;
      ha[o + 2 * j + 1] = pa - pd;
      pa = C * l.da[ri + j];
      pd = C * l.dd[ri + j];
      hd[o + 2 * j] = pa + pd;
      hd[o + 2 * j + 1] = pa - pd;
    }
  }
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
}

/** whash bits from the S×S Lanczos thumbnail (S a power of two, ≥ 8). */
export function whashBits(grey: Uint8Array, size: number): Uint8Array {
  const levels = Math.round(Math.log2(size));
  if (size < 8 || 1 << levels !== size) throw new RangeError(`whash thumbnail side must be a power of two ≥ 8, got ${size}`);
  const ws = workspaceFor(size, levels);
  const input = ws.input;
  for (let i = 0; i < input.length; i++) input[i] = grey[i] / 255;

  // Full decomposition, drop the overall mean (the 1×1 approximation), rebuild. Level l reads the
  // approximation of level l − 1 (the input for l = 0) and leaves its own in levels[l].aa.
  let a = input;
  let n = size;
  for (let l = 0; l < levels; l++) {
    dwt2(a, n, ws.levels[l]);
    a = ws.levels[l].aa;
    n >>= 1;
  }
  a[0] = a[0] * 0; // as `coeffs[0] *= 0`
  // Rebuilding level l writes where its input came from: level l − 1's approximation (n×n, no
  // longer needed), or the input buffer for l = 0.
  for (let l = levels - 1; l >= 0; l--) {
    const out = l === 0 ? input : ws.levels[l - 1].aa;
    idwt2(a, ws.levels[l], n, out);
    a = out;
    n <<= 1;
  }

  // Decompose down to 8×8 and threshold the approximation.
  for (let l = 0; l < levels - 3; l++) {
    dwt2(a, n, ws.levels[l]);
    a = ws.levels[l].aa;
    n >>= 1;
  }
  const med = median64(a.subarray(0, 64));
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
