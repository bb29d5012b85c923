/**
 * Decoding in a worker: createImageBitmap honours EXIF orientation ('from-image'), so width, height,
 * hashes and thumbnail all describe the image as a viewer displays it.
 */
export interface DecodedImage {
  rgba: Uint8ClampedArray;
  width: number;
  height: number;
  bitmap: ImageBitmap;
}

export async function decodeImage(blob: Blob): Promise<DecodedImage> {
  // 'none' for colour space and alpha keeps pixel values as stored, as Pillow (the hash reference) does.
  const bitmap = await createImageBitmap(blob, {
    imageOrientation: 'from-image',
    colorSpaceConversion: 'none',
    premultiplyAlpha: 'none',
  });
  const { width, height } = bitmap;
  if (width === 0 || height === 0) {
    bitmap.close();
    throw new Error('image has no pixels');
  }
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('no 2d context in this worker');
  ctx.drawImage(bitmap, 0, 0);
  const rgba = ctx.getImageData(0, 0, width, height).data;
  return { rgba, width, height, bitmap };
}

export const THUMB_SIZE = 160;

const SHOWN_AS_IS: Record<string, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif' };

/**
 * A small thumbnail for the gallery; a canvas resize is fine here because nothing is computed from it.
 * An image already small enough (CIFAR's 32×32) is its own thumbnail: no encode, and exact.
 * JPEG where the source is JPEG, because Chromium encodes it several times faster than WebP.
 */
export async function makeThumbnail(
  bitmap: ImageBitmap,
  source: Blob,
  format: string,
): Promise<{ blob: Blob; width: number; height: number }> {
  const asIs = SHOWN_AS_IS[format];
  if (asIs && bitmap.width <= THUMB_SIZE && bitmap.height <= THUMB_SIZE && source.size <= 64 * 1024) {
    return { blob: new Blob([source], { type: asIs }), width: bitmap.width, height: bitmap.height };
  }
  const scale = Math.min(1, THUMB_SIZE / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2d context in this worker');
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, 0, 0, width, height);
  // JPEG sources get a JPEG thumbnail; others WebP, which keeps transparency.
  const blob = await canvas.convertToBlob({ type: format === 'jpeg' ? 'image/jpeg' : 'image/webp', quality: 0.82 });
  return { blob, width, height };
}
