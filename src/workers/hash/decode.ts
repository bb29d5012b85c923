/**
 * Decoding in a worker. The browser's decoder (createImageBitmap) honours EXIF orientation
 * ('from-image'), so width, height, hashes and thumbnail all describe the image as a viewer
 * displays it; small upright JPEGs take a faster WebAssembly decoder with the same pixels.
 */
import { describeTruncation, jpegOrientation, type ImageFormat } from '../../core/sniff.ts';
import { decodeJpegWasm } from './jpeg-wasm.ts';
import { areaDownscaleRgba, thumbnailSize } from '../../core/area-resize.ts';
import { REDUCE_ABOVE } from '../../core/hash/index.ts';

export interface DecodedImage {
  /** pixelWidth × pixelHeight pixels: the image itself, or a reduced copy of a large one. */
  rgba: Uint8ClampedArray<ArrayBuffer>;
  pixelWidth: number;
  pixelHeight: number;
  /** The image's size as displayed (EXIF orientation applied). */
  width: number;
  height: number;
  /** The browser's bitmap, when the browser decoded it (close it when done). */
  bitmap: ImageBitmap | null;
}

/**
 * Decodes bytes or a file. `head` is the file's start (all of it for bytes), `width`/`height` the
 * displayed size its header gave (sniff's checkDecodable, EXIF orientation applied), when it did.
 */
export async function decodeImage(
  source: ArrayBuffer | Blob,
  format: ImageFormat,
  head: Uint8Array,
  size: { width?: number; height?: number } = {},
): Promise<DecodedImage> {
  const { width, height } = size;
  // The WebAssembly decoder takes the JPEGs the hashes see at full size (long side up to
  // REDUCE_ABOVE; its memory also grows to the largest image it decoded and is never given back).
  // Larger ones the browser decodes straight to that size, which beat decoding them here at full
  // size: 40 photos of 2.25 MP took 2.7 s instead of 3.7 s, of 12 MP 5.3 s instead of 8.9 s.
  // Orientation 1 only: the WebAssembly decoder returns pixels as stored, not as displayed. And
  // whole files only: libjpeg fills a cut-short scan with grey and calls it a warning, where the
  // browser refuses the file, and a file refused must be refused whichever decoder looked.
  const wasm =
    format === 'jpeg' &&
    source instanceof ArrayBuffer &&
    width !== undefined &&
    height !== undefined &&
    Math.max(width, height) <= REDUCE_ABOVE &&
    jpegOrientation(head) === 1 &&
    describeTruncation(head, 'jpeg') === null;
  if (wasm) {
    const image = await decodeJpegWasm(source);
    if (image) return { rgba: image.data, pixelWidth: image.width, pixelHeight: image.height, width: image.width, height: image.height, bitmap: null };
  }
  const reduced = format === 'jpeg' && width !== undefined && height !== undefined ? reducedSize(width, height) : null;
  return decodeWithBrowser(source instanceof Blob ? source : new Blob([source]), reduced);
}

/** A large image's displayed size and the size the browser is asked to decode it to. */
export interface Reduction {
  width: number;
  height: number;
  pixelWidth: number;
  pixelHeight: number;
}

/**
 * For a JPEG whose long side is over REDUCE_ABOVE: decode straight to that long side. The hashes
 * of such an image are computed from a reduced copy anyway (core/hash/index.ts); letting the
 * browser reduce while it decodes spares reading back every full-size pixel (48 MB for 12 MP)
 * and reducing them in JavaScript. Chromium sizes the result after EXIF orientation, which is
 * how `width`/`height` arrive here (checkDecodable turns the header's size). Other formats keep
 * the full-size path: only for JPEG is the orientation read before decoding.
 */
export function reducedSize(width: number, height: number): Reduction | null {
  const long = Math.max(width, height);
  if (long <= REDUCE_ABOVE) return null;
  const scale = REDUCE_ABOVE / long;
  return { width, height, pixelWidth: Math.max(1, Math.round(width * scale)), pixelHeight: Math.max(1, Math.round(height * scale)) };
}

type Canvas2d = { canvas: OffscreenCanvas; ctx: OffscreenCanvasRenderingContext2D };

/**
 * Canvases kept per worker, one per use: creating a canvas and its context per image costs more
 * than decoding a small one (CIFAR's 32×32). Drawing and reading (or starting the encode, which
 * takes a snapshot) happen in one synchronous stretch, so images processed concurrently never
 * share one mid-use.
 */
const kept = new Map<'decode' | 'thumb', Canvas2d>();

/** The kept canvas for `use`, at this size and empty. */
function keptCanvas(use: 'decode' | 'thumb', width: number, height: number): Canvas2d {
  let c = kept.get(use);
  if (!c) {
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d', { willReadFrequently: use === 'decode' });
    if (!ctx) throw new Error('no 2d context in this worker');
    kept.set(use, (c = { canvas, ctx }));
  }
  const { canvas, ctx } = c;
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  } else {
    // A resize clears the canvas; without one the last image is still there, and drawing a
    // transparent image over it would blend the two.
    ctx.clearRect(0, 0, width, height);
  }
  return c;
}

/** A canvas larger than this is let go after use rather than kept holding its pixels. */
const KEEP_CANVAS_PIXELS = 4_000_000;

async function decodeWithBrowser(blob: Blob, reduced: Reduction | null): Promise<DecodedImage> {
  // 'none' for colour space and alpha keeps pixel values as stored, as Pillow (the hash reference) does.
  const bitmap = await createImageBitmap(blob, {
    imageOrientation: 'from-image',
    colorSpaceConversion: 'none',
    premultiplyAlpha: 'none',
    ...(reduced ? { resizeWidth: reduced.pixelWidth, resizeHeight: reduced.pixelHeight, resizeQuality: 'high' } : {}),
  });
  const { width, height } = bitmap;
  if (width === 0 || height === 0) {
    bitmap.close();
    throw new Error('image has no pixels');
  }
  let canvas2d: Canvas2d;
  try {
    canvas2d = keptCanvas('decode', width, height);
  } catch (error) {
    bitmap.close();
    throw error;
  }
  const { canvas, ctx } = canvas2d;
  ctx.drawImage(bitmap, 0, 0);
  const rgba = ctx.getImageData(0, 0, width, height).data;
  if (width * height > KEEP_CANVAS_PIXELS) {
    canvas.width = 1;
    canvas.height = 1;
  }
  return { rgba, pixelWidth: width, pixelHeight: height, width: reduced?.width ?? width, height: reduced?.height ?? height, bitmap };
}

export const THUMB_SIZE = 160;

const SHOWN_AS_IS: Record<string, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif' };

/** A stored thumbnail: encoded image bytes and their MIME type. */
export interface Thumbnail {
  bytes: ArrayBuffer;
  type: string;
  width: number;
  height: number;
}

/**
 * A small thumbnail for the gallery; a canvas resize is fine here because nothing is computed from it.
 * An image already small enough (CIFAR's 32×32) is its own thumbnail: no encode, and exact.
 * JPEG where the source is JPEG, because Chromium encodes it several times faster than WebP.
 * Bytes, not a Blob: IndexedDB in Chromium writes every stored Blob to a file of its own, which
 * cost more than decoding a small image, while bytes are stored inline with the record.
 */
export async function makeThumbnail(decoded: DecodedImage, source: ArrayBuffer | Blob, format: string): Promise<Thumbnail> {
  const asIs = SHOWN_AS_IS[format];
  if (asIs && decoded.width <= THUMB_SIZE && decoded.height <= THUMB_SIZE && source instanceof ArrayBuffer && source.byteLength <= 64 * 1024) {
    return { bytes: source, type: asIs, width: decoded.width, height: decoded.height };
  }
  const { width, height } = thumbnailSize(decoded.width, decoded.height, THUMB_SIZE);
  const { canvas, ctx } = keptCanvas('thumb', width, height);
  if (decoded.bitmap) {
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(decoded.bitmap, 0, 0, width, height);
  } else {
    // Pixels decoded in WebAssembly are reduced here, where they are, rather than sent to the
    // browser as a bitmap first: that round trip cost more than the hashes (intake-neardup).
    ctx.putImageData(new ImageData(areaDownscaleRgba(decoded.rgba, decoded.pixelWidth, decoded.pixelHeight, width, height), width, height), 0, 0);
  }
  // JPEG sources get a JPEG thumbnail; others WebP, which keeps transparency.
  const type = format === 'jpeg' ? 'image/jpeg' : 'image/webp';
  const blob = await canvas.convertToBlob({ type, quality: 0.82 });
  return { bytes: await blob.arrayBuffer(), type, width, height };
}
