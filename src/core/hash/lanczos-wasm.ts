/**
 * Pillow's Lanczos resize in WebAssembly SIMD (lanczos-simd.wat), bit for bit the same as
 * lanczos.ts: the four hash thumbnails of an image were most of a hash worker's time (4.2 of
 * 5.3 ms for a 400×225 image, measured in Node), and 8-wide integer dot products do the same
 * sums several times faster. Where WebAssembly or its SIMD is missing, callers get null and use
 * the TypeScript resize, which stays the reference (tests/unit/hash/lanczos-wasm.test.ts holds
 * the two equal).
 *
 * The module is 821 bytes, compiled synchronously once per worker (a worker may compile any size
 * synchronously; the hash runs only in workers and Node).
 */
import { coeffsFor, type CoeffTable } from './lanczos.ts';
import { LANCZOS_SIMD_WASM_BASE64 } from './lanczos-simd.wasm.ts';

interface SimdExports {
  memory: WebAssembly.Memory;
  hpass(src: number, srcW: number, rows: number, outSize: number, start: number, groups: number, wHi: number, wLo: number, kstride: number, dst: number): void;
  vpass(src: number, w: number, outSize: number, start: number, count: number, weights: number, kstride: number, acc: number, dst: number): void;
  grey(src: number, n: number, dst: number): void;
}

/** The vector loops read and write whole 8-byte groups past an image's end: every block gets this much room. */
const SLACK = 16;

let loaded: SimdExports | null | undefined;

function simd(): SimdExports | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  try {
    if (typeof WebAssembly !== 'object') return null;
    const bytes = Uint8Array.from(atob(LANCZOS_SIMD_WASM_BASE64), (c) => c.charCodeAt(0));
    // A browser without SIMD rejects the module at validation: the TypeScript resize answers then.
    if (!WebAssembly.validate(bytes)) return null;
    loaded = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as unknown as SimdExports;
  } catch {
    loaded = null;
  }
  return loaded;
}

/** True where the SIMD resize runs here. */
export function lanczosSimdAvailable(): boolean {
  return simd() !== null;
}

/** A horizontal table in the module's layout: taps padded to groups of 8, each weight as int16 halves. */
interface HorizontalTable {
  kstride: number;
  start: Int32Array;
  groups: Int32Array;
  hi: Int16Array;
  lo: Int16Array;
}

const horizontal = new WeakMap<CoeffTable, HorizontalTable>();

function horizontalTable(t: CoeffTable): HorizontalTable {
  const hit = horizontal.get(t);
  if (hit) return hit;
  const kstride = Math.ceil(t.ksize / 8) * 8;
  const hi = new Int16Array(t.outSize * kstride);
  const lo = new Int16Array(t.outSize * kstride);
  const groups = new Int32Array(t.outSize);
  for (let xx = 0; xx < t.outSize; xx++) {
    const n = t.count[xx];
    groups[xx] = Math.ceil(n / 8);
    for (let x = 0; x < n; x++) {
      const k = t.weights[xx * t.ksize + x];
      hi[xx * kstride + x] = k >> 11;
      lo[xx * kstride + x] = k & 2047;
    }
  }
  const table = { kstride, start: t.start, groups, hi, lo };
  horizontal.set(t, table);
  return table;
}

/** Bump allocation in the module's memory, 16-byte aligned. */
class Arena {
  top = 0;
  alloc(bytes: number): number {
    const at = this.top;
    this.top = at + Math.ceil((bytes + SLACK) / 16) * 16;
    return at;
  }
}

export interface ResizeTarget {
  width: number;
  height: number;
}

/**
 * Several Lanczos resizes of one grey image (see resizeLanczos3Extent for `extent`), the image
 * copied into the module once. Null where the SIMD module is not available.
 */
export function resizeManyLanczos3Simd(
  grey: Uint8Array,
  w: number,
  h: number,
  extentW: number,
  extentH: number,
  targets: readonly ResizeTarget[],
): Uint8Array[] | null {
  const m = simd();
  if (m === null) return null;
  if (grey.length < w * h) throw new RangeError(`grey has ${grey.length} pixels, need ${w * h}`);
  return resizeInModule(m, w, h, extentW, extentH, targets, 0, (bytes, src) => bytes.set(grey.subarray(0, w * h), src));
}

/**
 * Grey conversion (Pillow's 'L') and then the resizes, all in the module: the RGBA pixels are
 * copied in once and no grey array is made in JavaScript.
 */
export function resizeManyFromRgbaSimd(rgba: Uint8Array | Uint8ClampedArray, w: number, h: number, targets: readonly ResizeTarget[]): Uint8Array[] | null {
  const m = simd();
  if (m === null) return null;
  const n = w * h;
  if (rgba.length < n * 4) throw new RangeError(`rgba has ${rgba.length} bytes, need ${n * 4}`);
  return resizeInModule(m, w, h, w, h, targets, n * 4, (bytes, src, rgbaAt) => {
    bytes.set(rgba.subarray(0, n * 4), rgbaAt);
    m.grey(rgbaAt, n, src);
  });
}

function resizeInModule(
  m: SimdExports,
  w: number,
  h: number,
  extentW: number,
  extentH: number,
  targets: readonly ResizeTarget[],
  rgbaBytes: number,
  fill: (bytes: Uint8Array, src: number, rgbaAt: number) => void,
): Uint8Array[] {
  // Plan every block first, so memory grows at most once per call.
  const arena = new Arena();
  const src = arena.alloc(w * h);
  const rgbaAt = rgbaBytes > 0 ? arena.alloc(rgbaBytes) : 0;
  const plans = targets.map(({ width: outW, height: outH }) => {
    const needH = outW !== w || extentW !== w;
    const needV = outH !== h || extentH !== h;
    const vt = needV ? coeffsFor(h, outH, extentH) : null;
    const ht = needH ? horizontalTable(coeffsFor(w, outW, extentW)) : null;
    const first = vt ? vt.start[0] : 0;
    const last = vt ? vt.start[outH - 1] + vt.count[outH - 1] : h;
    const curW = needH ? outW : w;
    const plan = {
      outW,
      outH,
      needH,
      needV,
      vt,
      ht,
      first,
      last,
      curW,
      hStart: ht ? arena.alloc(ht.start.byteLength) : 0,
      hGroups: ht ? arena.alloc(ht.groups.byteLength) : 0,
      hHi: ht ? arena.alloc(ht.hi.byteLength) : 0,
      hLo: ht ? arena.alloc(ht.lo.byteLength) : 0,
      tmp: needH ? arena.alloc(outW * (last - first)) : 0,
      vStart: vt ? arena.alloc(vt.start.byteLength) : 0,
      vCount: vt ? arena.alloc(vt.count.byteLength) : 0,
      vWeights: vt ? arena.alloc(vt.weights.byteLength) : 0,
      acc: vt ? arena.alloc(Math.ceil(curW / 8) * 8 * 4) : 0,
      out: arena.alloc(outW * outH),
    };
    return plan;
  });
  const have = m.memory.buffer.byteLength;
  if (arena.top > have) m.memory.grow(Math.ceil((arena.top - have) / 65536));
  const buffer = m.memory.buffer;
  const bytes = new Uint8Array(buffer);
  fill(bytes, src, rgbaAt);

  return plans.map((p) => {
    if (!p.needH && !p.needV) return bytes.slice(src, src + w * h);
    let cur = src;
    let rowShift = 0;
    if (p.ht) {
      new Int32Array(buffer, p.hStart, p.ht.start.length).set(p.ht.start);
      new Int32Array(buffer, p.hGroups, p.ht.groups.length).set(p.ht.groups);
      new Int16Array(buffer, p.hHi, p.ht.hi.length).set(p.ht.hi);
      new Int16Array(buffer, p.hLo, p.ht.lo.length).set(p.ht.lo);
      m.hpass(src + p.first * w, w, p.last - p.first, p.outW, p.hStart, p.hGroups, p.hHi, p.hLo, p.ht.kstride, p.tmp);
      cur = p.tmp;
      rowShift = p.first;
    }
    if (!p.vt) return bytes.slice(cur, cur + p.outW * p.outH);
    const starts = new Int32Array(buffer, p.vStart, p.vt.start.length);
    for (let i = 0; i < starts.length; i++) starts[i] = p.vt.start[i] - rowShift;
    new Int32Array(buffer, p.vCount, p.vt.count.length).set(p.vt.count);
    new Int32Array(buffer, p.vWeights, p.vt.weights.length).set(p.vt.weights);
    m.vpass(cur, p.curW, p.outH, p.vStart, p.vCount, p.vWeights, p.vt.ksize, p.acc, p.out);
    return bytes.slice(p.out, p.out + p.curW * p.outH);
  });
}
