/**
 * The four perceptual hashes of an image and of its left–right mirror.
 *
 * Pure and synchronous: runs the same in Node (tests, scripts) and in the hash worker.
 *
 * Pipeline: grey once (Pillow's luma) → four Lanczos thumbnails (8×8, 9×8, 32×32, wHash's S×S) →
 * hash bits → hex. This reproduces Python imagehash bit for bit on identical pixels.
 *
 * Mirrored hashes come from mirroring the thumbnails, not the image. Lanczos weights are symmetric
 * about each output pixel's centre, so mirror(resize(g)) equals resize(mirror(g)) up to a rare
 * last-ulp difference in a weight (measured: 0 of 1.49 M thumbnail pixels differ on the reference
 * images, tests/unit/hash/mirror.test.ts); this saves a second set of resizes, i.e. halves the
 * cost. aHash and wHash of a mirrored thumbnail are exact bit permutations of the originals, so
 * those are just re-ordered bits; pHash and dHash are not (odd frequencies change sign,
 * differences change direction) and are recomputed from the mirrored thumbnails, which costs a
 * few thousand operations.
 */
import type { HashSet } from '../types.ts';
import { ahashBits } from './ahash.ts';
import { dhashBits } from './dhash.ts';
import { rgbaToGrey } from './grey.ts';
import { bitsToHex } from './hex.ts';
import { mirrorHorizontal, resizeLanczos3Extent } from './lanczos.ts';
import { resizeManyFromRgbaSimd, resizeManyLanczos3Simd, type ResizeTarget } from './lanczos-wasm.ts';
import { phashBits } from './phash.ts';
import { greyBoxReduce } from './reduce.ts';
import { mirrorBits8x8, whashBits, whashScale } from './whash.ts';

export { hammingHex } from './hamming.ts';

export interface HashSets {
  hashes: HashSet;
  mirrored: HashSet;
}

/**
 * Images whose long side exceeds this are first box-reduced by the smallest integer factor that
 * brings the long side to at most this (reduce.ts). Up to this size hashing is exactly imagehash;
 * above it, the hashes move by a fraction of a bit on average (tests/unit/hash/large-image.test.ts)
 * and a 24-MP photo costs about what a 1-MP one does. wHash's square then follows the reduced
 * size (e.g. 512 instead of 2048 for a 4000×3000 photo), which it barely notices: its bits are
 * 8×8 block means either way.
 */
export const REDUCE_ABOVE = 1024;

export interface HashOptions {
  /** Override REDUCE_ABOVE; Infinity disables the reduction (exact imagehash at any size). */
  reduceAbove?: number;
  /**
   * 'simd' (default): the WebAssembly resize where it loads, else TypeScript. Both give the same
   * bytes; 'typescript' is for the tests that hold them equal and for benchmarks.
   */
  resize?: 'simd' | 'typescript';
}

export function reductionFactor(width: number, height: number, reduceAbove: number = REDUCE_ABOVE): number {
  const long = Math.max(width, height);
  if (!Number.isFinite(reduceAbove)) return 1;
  return long > reduceAbove ? Math.ceil(long / reduceAbove) : 1;
}

export function computeHashSets(
  rgba: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  options: HashOptions = {},
): HashSets {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new RangeError(`bad image size ${width}×${height}`);
  }
  const k = reductionFactor(width, height, options.reduceAbove ?? REDUCE_ABOVE);
  if (k === 1) {
    if (options.resize !== 'typescript') {
      const sizes = hashThumbnailSizes(width, height);
      const thumbs = resizeManyFromRgbaSimd(rgba, width, height, sizes);
      if (thumbs) return hashSetsFromThumbnails(thumbs, sizes[3].width);
    }
    return hashSetsFromGrey(rgbaToGrey(rgba, width, height), width, height, width, height, options);
  }
  const r = greyBoxReduce(rgba, width, height, k);
  return hashSetsFromGrey(r.grey, r.width, r.height, r.extentW, r.extentH, options);
}

/**
 * Hashes from a grey image. `extentW/H` is the part of the grid that the image covers, fractional
 * after a box reduction with partial edge blocks (see reduce.ts); equal to w/h otherwise.
 */
export function hashSetsFromGrey(
  grey: Uint8Array,
  w: number,
  h: number,
  extentW: number = w,
  extentH: number = h,
  options: Pick<HashOptions, 'resize'> = {},
): HashSets {
  const sizes = hashThumbnailSizes(extentW, extentH);
  const thumbs =
    (options.resize !== 'typescript' ? resizeManyLanczos3Simd(grey, w, h, extentW, extentH, sizes) : null) ??
    sizes.map((t) => resizeLanczos3Extent(grey, w, h, extentW, extentH, t.width, t.height));
  return hashSetsFromThumbnails(thumbs, sizes[3].width);
}

/** The four Lanczos thumbnails the hashes read: aHash 8×8, dHash 9×8, pHash 32×32, wHash S×S. */
function hashThumbnailSizes(extentW: number, extentH: number): ResizeTarget[] {
  const s = whashScale(Math.floor(extentW), Math.floor(extentH));
  return [
    { width: 8, height: 8 },
    { width: 9, height: 8 },
    { width: 32, height: 32 },
    { width: s, height: s },
  ];
}

function hashSetsFromThumbnails([g8, g9, g32, gs]: Uint8Array[], s: number): HashSets {
  const a = ahashBits(g8);
  const wb = whashBits(gs, s);
  return {
    hashes: {
      phash: bitsToHex(phashBits(g32)),
      dhash: bitsToHex(dhashBits(g9)),
      ahash: bitsToHex(a),
      whash: bitsToHex(wb),
    },
    mirrored: {
      phash: bitsToHex(phashBits(mirrorHorizontal(g32, 32, 32))),
      dhash: bitsToHex(dhashBits(mirrorHorizontal(g9, 9, 8))),
      ahash: bitsToHex(mirrorBits8x8(a)),
      whash: bitsToHex(mirrorBits8x8(wb)),
    },
  };
}
