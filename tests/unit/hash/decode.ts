/** Test helper: decode the shared JPEG/PNG test images in Node (jpeg-js, pngjs) to RGBA. */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

export const SHARED_DATA = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../shared/data');

export interface Rgba {
  data: Uint8Array;
  width: number;
  height: number;
}

/** null for formats Node cannot decode here (WebP). */
export function decodeFile(path: string): Rgba | null {
  const bytes = readFileSync(path);
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 2048, maxResolutionInMP: 200 });
    return { data: img.data, width: img.width, height: img.height };
  }
  if (bytes[0] === 0x89 && bytes[1] === 0x50) {
    const img = PNG.sync.read(bytes);
    return { data: new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.length), width: img.width, height: img.height };
  }
  return null;
}

/** Left–right mirror of an RGBA image. */
export function mirrorRgba(img: Rgba): Rgba {
  const { width: w, height: h, data } = img;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = (y * w + x) * 4;
      const d = (y * w + (w - 1 - x)) * 4;
      out[d] = data[s];
      out[d + 1] = data[s + 1];
      out[d + 2] = data[s + 2];
      out[d + 3] = data[s + 3];
    }
  }
  return { data: out, width: w, height: h };
}

/** Resize an RGBA image channel by channel (alpha set opaque), for making test variants. */
export function resizeRgba(img: Rgba, w: number, h: number, resize: (g: Uint8Array, w0: number, h0: number, w1: number, h1: number) => Uint8Array): Rgba {
  const n0 = img.width * img.height;
  const out = new Uint8Array(w * h * 4).fill(255);
  const ch = new Uint8Array(n0);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < n0; i++) ch[i] = img.data[4 * i + c];
    const r = resize(ch, img.width, img.height, w, h);
    for (let i = 0; i < w * h; i++) out[4 * i + c] = r[i];
  }
  return { data: out, width: w, height: h };
}

/** Plain bilinear resampling (no antialiasing), a different filter from the one the hashes use. */
export function resizeBilinear(g: Uint8Array, w0: number, h0: number, w1: number, h1: number): Uint8Array {
  const out = new Uint8Array(w1 * h1);
  for (let y = 0; y < h1; y++) {
    const sy = Math.min(Math.max(((y + 0.5) * h0) / h1 - 0.5, 0), h0 - 1);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, h0 - 1);
    const fy = sy - y0;
    for (let x = 0; x < w1; x++) {
      const sx = Math.min(Math.max(((x + 0.5) * w0) / w1 - 0.5, 0), w0 - 1);
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, w0 - 1);
      const fx = sx - x0;
      const top = g[y0 * w0 + x0] * (1 - fx) + g[y0 * w0 + x1] * fx;
      const bot = g[y1 * w0 + x0] * (1 - fx) + g[y1 * w0 + x1] * fx;
      out[y * w1 + x] = Math.round(top * (1 - fy) + bot * fy);
    }
  }
  return out;
}
