/**
 * Getting images to the model's input size. Resizing happens where the image is decoded, before
 * tfjs: in the worker with `createImageBitmap(blob, decodeOptions(entry))`, which asks the
 * browser for a filtered (`resizeQuality: 'high'`) downscale straight to inputSize², and then
 * `pixelsFromBitmap()`. `resizeRgba()` does the same job in plain TypeScript for places without
 * that (Node tests, or a browser that ignores the resize options).
 *
 * Why not `tf.image.resizeBilinear` inside the graph: (1) a 24-megapixel photo is 96 MB of RGBA,
 * 288 MB as a float tensor; resizing at decode means only 224²×4 = 200 KB ever reaches tfjs or
 * crosses a worker boundary. (2) Bilinear resizing without a pre-filter aliases badly at the 10–50×
 * reductions real photos need (it reads 4 source pixels per output pixel), so the same picture at
 * two resolutions would embed further apart. (3) Every image in a batch must have one shape anyway.
 *
 * The whole image is squashed to a square (no centre crop), so off-centre content still counts.
 */
import type { ModelEntry } from './registry.ts';

/** RGBA pixels, row-major, 4 bytes per pixel (the layout of `ImageData`). */
export interface Pixels {
  readonly data: Uint8ClampedArray | Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** `createImageBitmap` options that decode straight to the model's input size. */
export function decodeOptions(entry: Pick<ModelEntry, 'inputSize'>): ImageBitmapOptions {
  return {
    resizeWidth: entry.inputSize,
    resizeHeight: entry.inputSize,
    resizeQuality: 'high',
    imageOrientation: 'from-image',
  };
}

let scratch: OffscreenCanvasRenderingContext2D | null = null;

/**
 * Reads an ImageBitmap's pixels through a reused OffscreenCanvas (worker or page). Transparent
 * areas read as black; the model sees RGB only.
 */
export function pixelsFromBitmap(bitmap: ImageBitmap): Pixels {
  const { width, height } = bitmap;
  if (!scratch) {
    scratch = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
    if (!scratch) throw new Error('OffscreenCanvas 2D context is not available');
  }
  const canvas = scratch.canvas;
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  } else {
    scratch.clearRect(0, 0, width, height);
  }
  scratch.drawImage(bitmap, 0, 0);
  const img = scratch.getImageData(0, 0, width, height);
  return { data: img.data, width, height };
}

/** Per output index: first source index, tap count, and normalised weights (kmax per output). */
function resampleTaps(inSize: number, outSize: number) {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1); // widen the filter when shrinking: that is the anti-alias
  const support = filterScale; // triangle filter has support 1, scaled
  const kmax = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * kmax);
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - support + 0.5));
    const hi = Math.min(inSize, Math.floor(centre + support + 0.5));
    let sum = 0;
    const n = Math.min(hi - lo, kmax);
    for (let k = 0; k < n; k++) {
      const w = Math.max(0, 1 - Math.abs((lo + k - centre + 0.5) / filterScale));
      weights[o * kmax + k] = w;
      sum += w;
    }
    if (sum > 0) for (let k = 0; k < n; k++) weights[o * kmax + k] /= sum;
    start[o] = lo;
    count[o] = n;
  }
  return { start, count, weights, kmax };
}

/**
 * Resizes RGBA pixels with a separable triangle filter whose width follows the scale (the way
 * Pillow's BILINEAR resize works): plain bilinear when enlarging, area-weighted when shrinking.
 * Aspect ratio is not kept. Pure TypeScript, no DOM.
 */
export function resizeRgba(src: Pixels, width: number, height: number = width): Pixels {
  if (src.data.length !== src.width * src.height * 4) {
    throw new Error(`resizeRgba: ${src.data.length} bytes for ${src.width}×${src.height} RGBA`);
  }
  if (!(width > 0 && height > 0 && Number.isInteger(width) && Number.isInteger(height))) {
    throw new Error(`resizeRgba: bad target size ${width}×${height}`);
  }
  if (src.width === width && src.height === height) return { data: new Uint8ClampedArray(src.data), width, height };
  const h = resampleTaps(src.width, width);
  const v = resampleTaps(src.height, height);
  // Horizontal pass: src.height rows × width columns, float.
  const mid = new Float32Array(src.height * width * 4);
  const s = src.data;
  for (let y = 0; y < src.height; y++) {
    const row = y * src.width * 4;
    for (let x = 0; x < width; x++) {
      let r = 0, g = 0, b = 0, a = 0;
      const base = x * h.kmax;
      for (let k = 0; k < h.count[x]; k++) {
        const w = h.weights[base + k];
        const i = row + (h.start[x] + k) * 4;
        r += s[i] * w; g += s[i + 1] * w; b += s[i + 2] * w; a += s[i + 3] * w;
      }
      const o = (y * width + x) * 4;
      mid[o] = r; mid[o + 1] = g; mid[o + 2] = b; mid[o + 3] = a;
    }
  }
  // Vertical pass into bytes (Uint8ClampedArray rounds and clamps).
  const out = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    const base = y * v.kmax;
    for (let x = 0; x < width; x++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let k = 0; k < v.count[y]; k++) {
        const w = v.weights[base + k];
        const i = ((v.start[y] + k) * width + x) * 4;
        r += mid[i] * w; g += mid[i + 1] * w; b += mid[i + 2] * w; a += mid[i + 3] * w;
      }
      const o = (y * width + x) * 4;
      out[o] = r; out[o + 1] = g; out[o + 2] = b; out[o + 3] = a;
    }
  }
  return { data: out, width, height };
}
