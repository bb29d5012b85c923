/** The formats the sniffer tells apart, and what the checks before decoding answer. */
import type { SkipReason } from './types.ts';

/** Formats the browser's own decoder (createImageBitmap) reads. Animated GIF/WebP/APNG/AVIF count: their first frame is used. */
export type ImageFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'bmp' | 'avif' | 'ico';

/** Image formats recognised but never decoded here. */
export type UnsupportedFormat =
  | 'heic'
  | 'heif'
  | 'tiff'
  | 'svg'
  | 'psd'
  | 'jxl'
  | 'jp2'
  | 'raw'
  | 'exr'
  | 'hdr'
  | 'dds'
  | 'qoi'
  | 'netpbm'
  | 'xcf'
  | 'icns';

export type SniffResult =
  | { kind: 'image'; format: ImageFormat }
  /** `name` is what a person calls the format ("HEIC", "Canon CR2 raw"). */
  | { kind: 'unsupported'; format: UnsupportedFormat; name: string }
  /** `description` completes "it looks like …" ("a PDF document"); `hint` says what to do instead, if anything. */
  | { kind: 'not-image'; description: string; hint?: string };

export interface ImageSize {
  width: number;
  height: number;
}

export interface DecodeLimits {
  /** Width × height above which a file is refused before decoding. */
  maxPixels: number;
  /** Longest side a browser canvas can hold (Chrome and Firefox: 32,767); larger is refused. */
  maxSide?: number;
}

export const DEFAULT_DECODE_LIMITS: Readonly<Required<DecodeLimits>> = Object.freeze({
  maxPixels: 100_000_000,
  maxSide: 32_767,
});

export type DecodeCheck =
  /** width/height: the size as displayed (after EXIF orientation), when the header gives it. */
  | { ok: true; format: ImageFormat; width?: number; height?: number }
  | { ok: false; reason: SkipReason; detail: string };

export const FORMAT_NAMES: Readonly<Record<ImageFormat, string>> = Object.freeze({
  jpeg: 'JPEG',
  png: 'PNG',
  gif: 'GIF',
  webp: 'WebP',
  bmp: 'BMP',
  avif: 'AVIF',
  ico: 'ICO',
});
