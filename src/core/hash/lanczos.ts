/**
 * Pillow's Image.resize(size, Image.LANCZOS) for 8-bit grey images, bit for bit.
 *
 * Why bit-exact: the hashes must agree with Python imagehash, and the measured sensitivity says a
 * float Lanczos without Pillow's 8-bit rounding already moves pHash by 0.5 bits on average (2 max);
 * a canvas-style resize moves it by 7–18. So this is a transcription of Pillow's Resample.c
 * (precompute_coeffs, normalize_coeffs_8bpc, ImagingResampleHorizontal/Vertical_8bpc), including
 * its quirks: weights evaluated at `(x + xmin - center + 0.5) * (1 / filterscale)`, coefficients
 * rounded to 22-bit fixed point away from zero, horizontal pass first, and the intermediate image
 * rounded and clipped to uint8 before the vertical pass.
 *
 * Antialiasing: when shrinking, the kernel is stretched by the scale factor (support 3·scale), so
 * every source pixel contributes; that is what makes the result stable under resizing.
 */

const PRECISION_BITS = 32 - 8 - 2;
const HALF = 1 << (PRECISION_BITS - 1);
const CLIP_HIGH = 1 << (PRECISION_BITS + 8);
const LANCZOS_SUPPORT = 3;

/** Fixed-point weights for one axis: output i reads `count[i]` inputs from `start[i]`. */
export interface CoeffTable {
  readonly inSize: number;
  readonly outSize: number;
  /** Row stride of `weights`: the largest possible tap count. */
  readonly ksize: number;
  readonly start: Int32Array;
  readonly count: Int32Array;
  readonly weights: Int32Array;
}

function sinc(x: number): number {
  if (x === 0.0) return 1.0;
  x = x * Math.PI;
  return Math.sin(x) / x;
}

function lanczos3(x: number): number {
  // Half-open interval as in Pillow: the tap at exactly -3 is evaluated, the one at +3 is not.
  if (-3.0 <= x && x < 3.0) return sinc(x) * sinc(x / 3);
  return 0.0;
}

/**
 * Pillow's precompute_coeffs + normalize_coeffs_8bpc for the source interval [0, extent) of an
 * axis with `inSize` pixels. `extent` is inSize for a plain resize; after an integer box reduction
 * it is the fractional size of the original in reduced pixels (Pillow's reducing_gap box).
 * Pillow passes the box as C floats, hence the Math.fround.
 */
export function computeCoeffs(inSize: number, outSize: number, extent: number = inSize): CoeffTable {
  if (!(inSize >= 1 && outSize >= 1)) throw new RangeError(`bad resize ${inSize} → ${outSize}`);
  const in1 = Math.fround(extent);
  const scale = in1 / outSize; // Pillow: (double)(in1 - in0) / outSize, with in0 = 0
  const filterscale = scale < 1.0 ? 1.0 : scale;
  const support = LANCZOS_SUPPORT * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  const ss = 1.0 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // C's (int) cast truncates toward zero; Math.trunc does the same for the negative case.
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0.0;
    for (let x = 0; x < xmax; x++) {
      const w = lanczos3((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    const row = xx * ksize;
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0.0 ? k[x] / ww : k[x];
      weights[row + x] = w < 0 ? Math.trunc(-0.5 + w * (1 << PRECISION_BITS)) : Math.trunc(0.5 + w * (1 << PRECISION_BITS));
    }
    start[xx] = xmin;
    count[xx] = xmax;
  }
  return { inSize, outSize, ksize, start, count, weights };
}

// A run hashes thousands of images, most of them of a handful of sizes (a camera, a dataset), and
// each needs tables for four target sizes on two axes; computing a table costs thousands of
// sin() calls, more than the resize itself for small targets. A small LRU keeps the hot ones.
const CACHE_LIMIT = 64;
const cache = new Map<string, CoeffTable>();

export function coeffsFor(inSize: number, outSize: number, extent: number = inSize): CoeffTable {
  const key = `${inSize}:${outSize}:${extent}`;
  const hit = cache.get(key);
  if (hit !== undefined) {
    // Re-insert so Map order is least-recently-used first.
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const table = computeCoeffs(inSize, outSize, extent);
  cache.set(key, table);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  return table;
}

/** For tests: how many tables are cached. */
export function coeffCacheSize(): number {
  return cache.size;
}

function clip8(ss: number): number {
  if (ss >= CLIP_HIGH) return 255;
  if (ss <= 0) return 0;
  return ss >> PRECISION_BITS;
}

/** Rows [rowFirst, rowFirst+rows) of src, each resampled along x into dst (rows × t.outSize). */
function resampleHorizontal(src: Uint8Array, srcW: number, rowFirst: number, rows: number, t: CoeffTable, dst: Uint8Array): void {
  const { outSize, ksize, start, count, weights } = t;
  // Two rows per sweep: each weight is loaded once for both, which is most of the loop's cost.
  let y = 0;
  for (; y + 1 < rows; y += 2) {
    const rowOff = (y + rowFirst) * srcW;
    const dOff = y * outSize;
    for (let xx = 0; xx < outSize; xx++) {
      const b0 = rowOff + start[xx];
      const b1 = b0 + srcW;
      const n = count[xx];
      const kOff = xx * ksize;
      // Every product and partial sum stays below 2^31 (255 · 1.3 · 2^22), so int32 arithmetic
      // is exact; `| 0` tells V8 so and keeps the loop on integer instructions.
      let s0 = HALF;
      let s1 = HALF;
      for (let x = 0; x < n; x++) {
        const k = weights[kOff + x];
        s0 = (s0 + src[b0 + x] * k) | 0;
        s1 = (s1 + src[b1 + x] * k) | 0;
      }
      dst[dOff + xx] = clip8(s0);
      dst[dOff + outSize + xx] = clip8(s1);
    }
  }
  for (; y < rows; y++) {
    const rowOff = (y + rowFirst) * srcW;
    const dOff = y * outSize;
    for (let xx = 0; xx < outSize; xx++) {
      const b0 = rowOff + start[xx];
      const n = count[xx];
      const kOff = xx * ksize;
      let s0 = HALF;
      for (let x = 0; x < n; x++) s0 = (s0 + src[b0 + x] * weights[kOff + x]) | 0;
      dst[dOff + xx] = clip8(s0);
    }
  }
}

/**
 * Resample along y. Integer sums are exact in any order, so we walk source rows in the inner
 * loop's outer level and accumulate whole rows: memory is then read sequentially.
 */
function resampleVertical(src: Uint8Array, w: number, rowShift: number, t: CoeffTable, dst: Uint8Array): void {
  const { outSize, ksize, start, count, weights } = t;
  const acc = new Int32Array(w);
  for (let yy = 0; yy < outSize; yy++) {
    acc.fill(HALF);
    const y0 = start[yy] - rowShift;
    const n = count[yy];
    const kOff = yy * ksize;
    for (let y = 0; y < n; y++) {
      const k = weights[kOff + y];
      if (k === 0) continue;
      const rowOff = (y0 + y) * w;
      for (let x = 0; x < w; x++) acc[x] = (acc[x] + src[rowOff + x] * k) | 0; // exact, see above
    }
    const dOff = yy * w;
    for (let x = 0; x < w; x++) dst[dOff + x] = clip8(acc[x]);
  }
}

/**
 * Resize with an explicit source extent (see computeCoeffs). Exported for the box-reduction path;
 * everyone else wants resizeLanczos3.
 */
export function resizeLanczos3Extent(
  grey: Uint8Array,
  w: number,
  h: number,
  extentW: number,
  extentH: number,
  outW: number,
  outH: number,
): Uint8Array {
  if (grey.length < w * h) throw new RangeError(`grey has ${grey.length} pixels, need ${w * h}`);
  // Same tests as Pillow's ImagingResampleInner: a pass runs only if that axis changes.
  const needH = outW !== w || extentW !== w;
  const needV = outH !== h || extentH !== h;
  if (!needH && !needV) return grey.slice(0, w * h);
  const vt = needV ? coeffsFor(h, outH, extentH) : null;
  let cur = grey;
  let curW = w;
  let rowShift = 0;
  if (needH) {
    const ht = coeffsFor(w, outW, extentW);
    // Like Pillow, only the rows the vertical pass will read get a horizontal pass.
    let first = 0;
    let last = h;
    if (vt !== null) {
      first = vt.start[0];
      last = vt.start[outH - 1] + vt.count[outH - 1];
    }
    const tmp = new Uint8Array(outW * (last - first));
    resampleHorizontal(grey, w, first, last - first, ht, tmp);
    cur = tmp;
    curW = outW;
    rowShift = first;
  }
  if (vt === null) return cur;
  const out = new Uint8Array(curW * outH);
  resampleVertical(cur, curW, rowShift, vt, out);
  return out;
}

/** Bit-exact Pillow `Image.resize((outW, outH), Image.LANCZOS)` of a mode 'L' image. */
export function resizeLanczos3(grey: Uint8Array, w: number, h: number, outW: number, outH: number): Uint8Array {
  return resizeLanczos3Extent(grey, w, h, w, h, outW, outH);
}

/** Left–right mirror of a grey image (new array). */
export function mirrorHorizontal(grey: Uint8Array, w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const off = y * w;
    const end = off + w - 1;
    for (let x = 0; x < w; x++) out[off + x] = grey[end - x];
  }
  return out;
}
