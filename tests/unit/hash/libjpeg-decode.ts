/**
 * Test-only baseline JPEG decoder that reproduces libjpeg-turbo's default output (what Pillow, and
 * so the Python reference, decodes): the "islow" integer IDCT (jidctint.c), fancy (triangle)
 * chroma upsampling (jdsample.c h2v1/h2v2) and table-driven YCbCr→RGB (jdcolor.c).
 *
 * Why: jpeg-js uses a different IDCT, nearest-neighbour chroma and float colour conversion, so
 * its pixels differ from Pillow's by ±1–2 levels and the hashes by a few bits. With this decoder
 * the reference test can check the hashing bit for bit on JPEGs too, separating "our hashing is
 * exact" from "two JPEG decoders disagree". Only what the test images use is supported:
 * baseline/extended Huffman (SOF0/SOF1), 8-bit, one scan, 1 or 3 components, restart markers.
 */

export interface DecodedRgba {
  data: Uint8Array;
  width: number;
  height: number;
}

interface Component {
  id: number;
  h: number;
  v: number;
  tq: number;
  bpl: number; // blocks per line (MCU-padded for interleaved scans)
  bpc: number; // blocks per column
  coefs: Int32Array; // 64 per block, natural order
  dcTable: number;
  acTable: number;
  pred: number;
}

/** Canonical Huffman table in the JPEG spec's decoding form (F.2.2.3): per code length. */
interface Huffman {
  maxcode: Int32Array; // largest code of each length, -1 if none
  valptr: Int32Array; // index in `values` of the first code of each length
  mincode: Int32Array;
  values: Uint8Array;
}

const ZIGZAG = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57,
  50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

function buildHuffman(counts: Uint8Array, symbols: Uint8Array): Huffman {
  const maxcode = new Int32Array(17).fill(-1);
  const valptr = new Int32Array(17);
  const mincode = new Int32Array(17);
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    const n = counts[len - 1];
    if (n > 0) {
      valptr[len] = k;
      mincode[len] = code;
      code += n;
      k += n;
      maxcode[len] = code - 1;
    }
    code <<= 1;
  }
  return { maxcode, valptr, mincode, values: Uint8Array.from(symbols) };
}

export function decodeJpegLibjpeg(bytes: Uint8Array): DecodedRgba {
  const qt: Int32Array[] = [];
  const dcTables: Huffman[] = [];
  const acTables: Huffman[] = [];
  let width = 0;
  let height = 0;
  let comps: Component[] = [];
  let maxH = 1;
  let maxV = 1;
  let restartInterval = 0;
  let pos = 2;
  const u16 = (p: number) => (bytes[p] << 8) | bytes[p + 1];
  if (u16(0) !== 0xffd8) throw new Error('not a JPEG');
  for (;;) {
    while (bytes[pos] !== 0xff) pos++;
    while (bytes[pos] === 0xff) pos++;
    const marker = bytes[pos++];
    if (marker === 0xd9) break;
    const len = u16(pos);
    const seg = pos + 2;
    const end = pos + len;
    if (marker === 0xdb) {
      for (let p = seg; p < end; ) {
        const pq = bytes[p] >> 4;
        const tq = bytes[p] & 15;
        p++;
        const t = new Int32Array(64);
        for (let i = 0; i < 64; i++) {
          t[ZIGZAG[i]] = pq ? u16(p + 2 * i) : bytes[p + i];
        }
        p += pq ? 128 : 64;
        qt[tq] = t;
      }
    } else if (marker === 0xc0 || marker === 0xc1) {
      if (bytes[seg] !== 8) throw new Error('only 8-bit JPEG');
      height = u16(seg + 1);
      width = u16(seg + 3);
      const n = bytes[seg + 5];
      comps = [];
      for (let i = 0; i < n; i++) {
        const b = seg + 6 + 3 * i;
        comps.push({ id: bytes[b], h: bytes[b + 1] >> 4, v: bytes[b + 1] & 15, tq: bytes[b + 2], bpl: 0, bpc: 0, coefs: new Int32Array(0), dcTable: 0, acTable: 0, pred: 0 });
      }
      maxH = Math.max(...comps.map((c) => c.h));
      maxV = Math.max(...comps.map((c) => c.v));
      const mcusX = Math.ceil(width / (8 * maxH));
      const mcusY = Math.ceil(height / (8 * maxV));
      for (const c of comps) {
        c.bpl = mcusX * c.h;
        c.bpc = mcusY * c.v;
        c.coefs = new Int32Array(c.bpl * c.bpc * 64);
      }
    } else if (marker >= 0xc2 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      throw new Error(`unsupported JPEG process 0x${marker.toString(16)}`);
    } else if (marker === 0xc4) {
      for (let p = seg; p < end; ) {
        const tc = bytes[p] >> 4;
        const th = bytes[p] & 15;
        const counts = bytes.subarray(p + 1, p + 17);
        const total = counts.reduce((a, b) => a + b, 0);
        const table = buildHuffman(counts, bytes.subarray(p + 17, p + 17 + total));
        (tc === 0 ? dcTables : acTables)[th] = table;
        p += 17 + total;
      }
    } else if (marker === 0xdd) {
      restartInterval = u16(seg);
    } else if (marker === 0xda) {
      const ns = bytes[seg];
      const scomps: Component[] = [];
      for (let i = 0; i < ns; i++) {
        const c = comps.find((x) => x.id === bytes[seg + 1 + 2 * i]);
        if (!c) throw new Error('bad scan component');
        c.dcTable = bytes[seg + 2 + 2 * i] >> 4;
        c.acTable = bytes[seg + 2 + 2 * i] & 15;
        scomps.push(c);
      }
      pos = decodeScan(bytes, end, scomps, dcTables, acTables, restartInterval, width, height, maxH, maxV);
      continue;
    }
    pos = end;
  }
  return toRgba(comps, qt, width, height, maxH, maxV);
}

function decodeScan(
  bytes: Uint8Array,
  start: number,
  comps: Component[],
  dcTables: Huffman[],
  acTables: Huffman[],
  restartInterval: number,
  width: number,
  height: number,
  maxH: number,
  maxV: number,
): number {
  let pos = start;
  let bitBuf = 0;
  let bitCnt = 0;
  const readBit = (): number => {
    if (bitCnt === 0) {
      let b = bytes[pos++];
      if (b === 0xff) {
        const nx = bytes[pos];
        if (nx === 0) pos++;
        else if (nx >= 0xd0 && nx <= 0xd7) throw new Error('unexpected RST');
        else b = 0; // a marker: feed zeros, as libjpeg does
        if (nx !== 0) pos--;
      }
      bitBuf = b;
      bitCnt = 8;
    }
    bitCnt--;
    return (bitBuf >> bitCnt) & 1;
  };
  const receive = (n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++) v = (v << 1) | readBit();
    return v;
  };
  const extend = (v: number, n: number): number => (n === 0 ? 0 : v < 1 << (n - 1) ? v - (1 << n) + 1 : v);
  const decodeSym = (t: Huffman): number => {
    let code = 0;
    for (let len = 1; len <= 16; len++) {
      code = (code << 1) | readBit();
      if (code <= t.maxcode[len]) return t.values[t.valptr[len] + code - t.mincode[len]];
    }
    throw new Error('bad Huffman code');
  };
  const decodeBlock = (c: Component, off: number) => {
    const t = decodeSym(dcTables[c.dcTable]);
    c.pred += extend(receive(t), t);
    c.coefs[off] = c.pred;
    for (let k = 1; k < 64; ) {
      const rs = decodeSym(acTables[c.acTable]);
      const r = rs >> 4;
      const s = rs & 15;
      if (s === 0) {
        if (r === 15) {
          k += 16;
          continue;
        }
        break;
      }
      k += r;
      c.coefs[off + ZIGZAG[k]] = extend(receive(s), s);
      k++;
    }
  };
  const single = comps.length === 1;
  let units: number;
  let mcusX: number;
  if (single) {
    const c = comps[0];
    mcusX = Math.ceil(Math.ceil((width * c.h) / maxH) / 8);
    units = mcusX * Math.ceil(Math.ceil((height * c.v) / maxV) / 8);
  } else {
    mcusX = Math.ceil(width / (8 * maxH));
    units = mcusX * Math.ceil(height / (8 * maxV));
  }
  for (const c of comps) c.pred = 0;
  for (let u = 0; u < units; u++) {
    if (restartInterval && u > 0 && u % restartInterval === 0) {
      // Byte-align, skip the RSTn marker, reset predictors.
      bitCnt = 0;
      while (!(bytes[pos] === 0xff && bytes[pos + 1] >= 0xd0 && bytes[pos + 1] <= 0xd7)) pos++;
      pos += 2;
      for (const c of comps) c.pred = 0;
    }
    const mx = u % mcusX;
    const my = (u / mcusX) | 0;
    if (single) {
      const c = comps[0];
      decodeBlock(c, (my * c.bpl + mx) * 64);
    } else {
      for (const c of comps) {
        for (let by = 0; by < c.v; by++) {
          for (let bx = 0; bx < c.h; bx++) decodeBlock(c, ((my * c.v + by) * c.bpl + mx * c.h + bx) * 64);
        }
      }
    }
  }
  return pos;
}

// ---- jidctint.c (jpeg_idct_islow), CONST_BITS 13, PASS1_BITS 2

const CONST_BITS = 13;
const PASS1_BITS = 2;
const F_0_298 = 2446;
const F_0_390 = 3196;
const F_0_541 = 4433;
const F_0_765 = 6270;
const F_0_899 = 7373;
const F_1_175 = 9633;
const F_1_501 = 12299;
const F_1_847 = 15137;
const F_1_961 = 16069;
const F_2_053 = 16819;
const F_2_562 = 20995;
const F_3_072 = 25172;

// Values can exceed 32 bits in intermediate products (libjpeg uses 64-bit JLONG), so use
// float-exact integer arithmetic and floor division instead of >>.
// Multiplying by 2^-n is exact in float64, so this equals libjpeg's DESCALE (round, then shift).
const descale = (x: number, n: number): number => Math.floor((x + POW2[n - 1]) * INV_POW2[n]);
const POW2 = Array.from({ length: 32 }, (_, i) => 2 ** i);
const INV_POW2 = Array.from({ length: 32 }, (_, i) => 2 ** -i);

function rangeLimitIdct(x: number): number {
  const t = x & 1023;
  if (t < 128) return t + 128;
  if (t < 512) return 255;
  if (t < 896) return 0;
  return t - 896;
}

function idctIslow(coef: Int32Array, off: number, q: Int32Array, out: Uint8Array, outOff: number, stride: number, ws: Float64Array): void {
  for (let c = 0; c < 8; c++) {
    const i = (k: number) => coef[off + k * 8 + c] * q[k * 8 + c];
    if (coef[off + 8 + c] === 0 && coef[off + 16 + c] === 0 && coef[off + 24 + c] === 0 && coef[off + 32 + c] === 0 && coef[off + 40 + c] === 0 && coef[off + 48 + c] === 0 && coef[off + 56 + c] === 0) {
      const dc = i(0) * (1 << PASS1_BITS);
      for (let k = 0; k < 8; k++) ws[k * 8 + c] = dc;
      continue;
    }
    let z2 = i(2);
    let z3 = i(6);
    let z1 = (z2 + z3) * F_0_541;
    let tmp2 = z1 + z3 * -F_1_847;
    let tmp3 = z1 + z2 * F_0_765;
    z2 = i(0);
    z3 = i(4);
    let tmp0 = (z2 + z3) * 2 ** CONST_BITS;
    let tmp1 = (z2 - z3) * 2 ** CONST_BITS;
    const tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2;
    const tmp12 = tmp1 - tmp2;
    tmp0 = i(7);
    tmp1 = i(5);
    tmp2 = i(3);
    tmp3 = i(1);
    z1 = tmp0 + tmp3;
    z2 = tmp1 + tmp2;
    z3 = tmp0 + tmp2;
    let z4 = tmp1 + tmp3;
    const z5 = (z3 + z4) * F_1_175;
    tmp0 *= F_0_298;
    tmp1 *= F_2_053;
    tmp2 *= F_3_072;
    tmp3 *= F_1_501;
    z1 *= -F_0_899;
    z2 *= -F_2_562;
    z3 *= -F_1_961;
    z4 *= -F_0_390;
    z3 += z5;
    z4 += z5;
    tmp0 += z1 + z3;
    tmp1 += z2 + z4;
    tmp2 += z2 + z3;
    tmp3 += z1 + z4;
    const n = CONST_BITS - PASS1_BITS;
    ws[0 * 8 + c] = descale(tmp10 + tmp3, n);
    ws[7 * 8 + c] = descale(tmp10 - tmp3, n);
    ws[1 * 8 + c] = descale(tmp11 + tmp2, n);
    ws[6 * 8 + c] = descale(tmp11 - tmp2, n);
    ws[2 * 8 + c] = descale(tmp12 + tmp1, n);
    ws[5 * 8 + c] = descale(tmp12 - tmp1, n);
    ws[3 * 8 + c] = descale(tmp13 + tmp0, n);
    ws[4 * 8 + c] = descale(tmp13 - tmp0, n);
  }
  for (let r = 0; r < 8; r++) {
    const w = r * 8;
    const o = outOff + r * stride;
    if (ws[w + 1] === 0 && ws[w + 2] === 0 && ws[w + 3] === 0 && ws[w + 4] === 0 && ws[w + 5] === 0 && ws[w + 6] === 0 && ws[w + 7] === 0) {
      const v = rangeLimitIdct(descale(ws[w], PASS1_BITS + 3));
      for (let k = 0; k < 8; k++) out[o + k] = v;
      continue;
    }
    let z2 = ws[w + 2];
    let z3 = ws[w + 6];
    let z1 = (z2 + z3) * F_0_541;
    let tmp2 = z1 + z3 * -F_1_847;
    let tmp3 = z1 + z2 * F_0_765;
    let tmp0 = (ws[w] + ws[w + 4]) * 2 ** CONST_BITS;
    let tmp1 = (ws[w] - ws[w + 4]) * 2 ** CONST_BITS;
    const tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2;
    const tmp12 = tmp1 - tmp2;
    tmp0 = ws[w + 7];
    tmp1 = ws[w + 5];
    tmp2 = ws[w + 3];
    tmp3 = ws[w + 1];
    z1 = tmp0 + tmp3;
    z2 = tmp1 + tmp2;
    z3 = tmp0 + tmp2;
    let z4 = tmp1 + tmp3;
    const z5 = (z3 + z4) * F_1_175;
    tmp0 *= F_0_298;
    tmp1 *= F_2_053;
    tmp2 *= F_3_072;
    tmp3 *= F_1_501;
    z1 *= -F_0_899;
    z2 *= -F_2_562;
    z3 *= -F_1_961;
    z4 *= -F_0_390;
    z3 += z5;
    z4 += z5;
    tmp0 += z1 + z3;
    tmp1 += z2 + z4;
    tmp2 += z2 + z3;
    tmp3 += z1 + z4;
    const n = CONST_BITS + PASS1_BITS + 3;
    out[o + 0] = rangeLimitIdct(descale(tmp10 + tmp3, n));
    out[o + 7] = rangeLimitIdct(descale(tmp10 - tmp3, n));
    out[o + 1] = rangeLimitIdct(descale(tmp11 + tmp2, n));
    out[o + 6] = rangeLimitIdct(descale(tmp11 - tmp2, n));
    out[o + 2] = rangeLimitIdct(descale(tmp12 + tmp1, n));
    out[o + 5] = rangeLimitIdct(descale(tmp12 - tmp1, n));
    out[o + 3] = rangeLimitIdct(descale(tmp13 + tmp0, n));
    out[o + 4] = rangeLimitIdct(descale(tmp13 - tmp0, n));
  }
}

/** One component's samples, `w` real columns by `h` real rows, in a plane of stride `stride`. */
interface Plane {
  data: Uint8Array;
  stride: number;
  w: number;
  h: number;
}

function componentPlane(c: Component, q: Int32Array, width: number, height: number, maxH: number, maxV: number): Plane {
  const stride = c.bpl * 8;
  const data = new Uint8Array(stride * c.bpc * 8);
  const ws = new Float64Array(64);
  for (let by = 0; by < c.bpc; by++) {
    for (let bx = 0; bx < c.bpl; bx++) {
      idctIslow(c.coefs, (by * c.bpl + bx) * 64, q, data, by * 8 * stride + bx * 8, stride, ws);
    }
  }
  return { data, stride, w: Math.ceil((width * c.h) / maxH), h: Math.ceil((height * c.v) / maxV) };
}

/** jdsample.c fancy upsampling to full resolution (h2v1, h2v2) or plain copy (h1v1). */
function upsample(p: Plane, fh: number, fv: number, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const outW = p.w * fh;
  const row = new Uint8Array(outW + 2);
  const at = (y: number, x: number) => p.data[Math.min(Math.max(y, 0), p.h - 1) * p.stride + x];
  for (let oy = 0; oy < height; oy++) {
    if (fh === 1 && fv === 1) {
      for (let x = 0; x < width; x++) out[oy * width + x] = at(oy, x);
      continue;
    }
    if (fh === 2 && fv === 1) {
      const y = oy;
      const n = p.w;
      for (let i = 0; i < n; i++) {
        const v3 = at(y, i) * 3;
        const left = i > 0 ? at(y, i - 1) : -1;
        const right = i < n - 1 ? at(y, i + 1) : -1;
        row[2 * i] = left < 0 ? at(y, i) : (v3 + left + 1) >> 2;
        row[2 * i + 1] = right < 0 ? at(y, i) : (v3 + right + 2) >> 2;
      }
    } else if (fh === 2 && fv === 2) {
      const y = oy >> 1;
      // Upper output row of a pair uses the input row above, lower uses the row below; edges replicate.
      const y2 = oy & 1 ? y + 1 : y - 1;
      const n = p.w;
      const colsum = (i: number) => at(y, i) * 3 + at(y2, i);
      if (n === 1) {
        const t = colsum(0);
        row[0] = (t * 4 + 8) >> 4;
        row[1] = (t * 4 + 7) >> 4;
      } else {
        let thiscol = colsum(0);
        let nextcol = colsum(1);
        row[0] = (thiscol * 4 + 8) >> 4;
        row[1] = (thiscol * 3 + nextcol + 7) >> 4;
        let lastcol = thiscol;
        thiscol = nextcol;
        for (let i = 1; i < n - 1; i++) {
          nextcol = colsum(i + 1);
          row[2 * i] = (thiscol * 3 + lastcol + 8) >> 4;
          row[2 * i + 1] = (thiscol * 3 + nextcol + 7) >> 4;
          lastcol = thiscol;
          thiscol = nextcol;
        }
        row[2 * (n - 1)] = (thiscol * 3 + lastcol + 8) >> 4;
        row[2 * (n - 1) + 1] = (thiscol * 4 + 7) >> 4;
      }
    } else {
      throw new Error(`unsupported sampling ${fh}x${fv}`);
    }
    out.set(row.subarray(0, width), oy * width);
  }
  return out;
}

const SCALEBITS = 16;
const ONE_HALF = 1 << (SCALEBITS - 1);
const FIX = (x: number) => Math.floor(x * 2 ** SCALEBITS + 0.5);
const CR_R = new Int32Array(256);
const CB_B = new Int32Array(256);
// |Cb_g + Cr_g| < 2^24, so int32 and an arithmetic shift (libjpeg's RIGHT_SHIFT) are exact.
const CR_G = new Int32Array(256);
const CB_G = new Int32Array(256);
for (let i = 0, x = -128; i < 256; i++, x++) {
  CR_R[i] = Math.floor((FIX(1.402) * x + ONE_HALF) / 2 ** SCALEBITS);
  CB_B[i] = Math.floor((FIX(1.772) * x + ONE_HALF) / 2 ** SCALEBITS);
  CR_G[i] = -FIX(0.71414) * x;
  CB_G[i] = -FIX(0.34414) * x + ONE_HALF;
}
const clamp255 = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);

function toRgba(comps: Component[], qt: Int32Array[], width: number, height: number, maxH: number, maxV: number): DecodedRgba {
  const planes = comps.map((c) => upsample(componentPlane(c, qt[c.tq], width, height, maxH, maxV), maxH / c.h, maxV / c.v, width, height));
  const data = new Uint8Array(width * height * 4);
  const n = width * height;
  if (planes.length === 1) {
    const y = planes[0];
    for (let i = 0; i < n; i++) {
      data[4 * i] = data[4 * i + 1] = data[4 * i + 2] = y[i];
      data[4 * i + 3] = 255;
    }
  } else if (planes.length === 3) {
    const [Y, Cb, Cr] = planes;
    for (let i = 0; i < n; i++) {
      const y = Y[i];
      const cb = Cb[i];
      const cr = Cr[i];
      data[4 * i] = clamp255(y + CR_R[cr]);
      data[4 * i + 1] = clamp255(y + ((CB_G[cb] + CR_G[cr]) >> SCALEBITS));
      data[4 * i + 2] = clamp255(y + CB_B[cb]);
      data[4 * i + 3] = 255;
    }
  } else {
    throw new Error(`unsupported component count ${planes.length}`);
  }
  return { data, width, height };
}
