/**
 * Downscale RGBA pixels by area averaging: each output pixel is the mean of the source area it
 * covers, partial pixels at its edges weighted by how much of them it covers. That is the
 * textbook antialiased reduction (no source pixel skipped, no ringing), and it runs where the
 * pixels already are: the gallery thumbnails of images decoded in WebAssembly used to cost three
 * round trips to the browser process each (bitmap, encode, read back), more than their hashes.
 *
 * Only for shrinking: a target larger than the source on an axis is refused.
 */

/** For one axis: output i averages source pixels first[i] … first[i] + count[i] − 1 with these weights. */
interface AxisSpans {
  first: Int32Array;
  count: Int32Array;
  /** Weights per output, `stride` apart; each output's weights sum to 1. */
  weights: Float32Array;
  stride: number;
}

function spans(inSize: number, outSize: number): AxisSpans {
  const scale = inSize / outSize;
  const stride = Math.ceil(scale) + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * stride);
  for (let o = 0; o < outSize; o++) {
    const a = o * scale;
    const b = Math.min(inSize, (o + 1) * scale);
    const i0 = Math.floor(a);
    const i1 = Math.min(inSize, Math.ceil(b));
    first[o] = i0;
    count[o] = i1 - i0;
    for (let i = i0; i < i1; i++) {
      const cover = Math.min(b, i + 1) - Math.max(a, i);
      weights[o * stride + (i - i0)] = cover / scale;
    }
  }
  return { first, count, weights, stride };
}

/**
 * The intermediate rows, kept between calls: a fresh 0.5 MB array per image cost more than the
 * arithmetic in a Chromium worker (typed-array allocation goes through the browser's allocator).
 */
let rowsScratch = new Float32Array(0);

function scratch(length: number): Float32Array {
  if (rowsScratch.length < length) rowsScratch = new Float32Array(length);
  return rowsScratch;
}

/** RGBA `w`×`h` → RGBA `outW`×`outH` (outW ≤ w, outH ≤ h), all four channels averaged alike. */
export function areaDownscaleRgba(rgba: Uint8Array | Uint8ClampedArray, w: number, h: number, outW: number, outH: number): Uint8ClampedArray<ArrayBuffer> {
  if (!(outW >= 1 && outH >= 1 && outW <= w && outH <= h)) throw new RangeError(`area resize ${w}×${h} → ${outW}×${outH} is not a reduction`);
  if (rgba.length < w * h * 4) throw new RangeError(`rgba has ${rgba.length} bytes, need ${w * h * 4}`);
  const xs = spans(w, outW);
  const ys = spans(h, outH);
  // Horizontal pass into float rows, then vertical; Uint8ClampedArray rounds and clamps the result.
  const rows = scratch(h * outW * 4);
  for (let y = 0; y < h; y++) {
    const src = y * w * 4;
    const dst = y * outW * 4;
    for (let o = 0; o < outW; o++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      const n = xs.count[o];
      const k0 = o * xs.stride;
      let j = src + xs.first[o] * 4;
      for (let i = 0; i < n; i++, j += 4) {
        const k = xs.weights[k0 + i];
        r += rgba[j] * k;
        g += rgba[j + 1] * k;
        b += rgba[j + 2] * k;
        a += rgba[j + 3] * k;
      }
      const d = dst + o * 4;
      rows[d] = r;
      rows[d + 1] = g;
      rows[d + 2] = b;
      rows[d + 3] = a;
    }
  }
  const out = new Uint8ClampedArray(outW * outH * 4);
  const line = outW * 4;
  const acc = new Float32Array(line); // one output row: small
  for (let o = 0; o < outH; o++) {
    acc.fill(0);
    const n = ys.count[o];
    const k0 = o * ys.stride;
    for (let i = 0; i < n; i++) {
      const k = ys.weights[k0 + i];
      const src = (ys.first[o] + i) * line;
      for (let x = 0; x < line; x++) acc[x] += rows[src + x] * k;
    }
    out.set(acc, o * line);
  }
  return out;
}

/** The thumbnail size for an image: the long side `max` (or the image's own size if smaller). */
export function thumbnailSize(width: number, height: number, max: number): { width: number; height: number } {
  const scale = Math.min(1, max / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}
