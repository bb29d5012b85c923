/**
 * Image dimensions from a file's header (JPEG, PNG, GIF, WebP, BMP, AVIF, ICO) and JPEG's EXIF
 * orientation, so a decompression bomb is refused before anything is decoded. Pure; never throws.
 */
import { ascii, bytesAt, i32le, PNG_SIGNATURE, u16be, u16le, u24le, u32be, u32le } from './image-bytes.ts';
import type { ImageFormat, ImageSize } from './image-format.ts';

/** Inside the parsers: the size, "the head ends before the size", or "these bytes cannot be this format". */
export type HeaderInfo = HeaderSize | { truncated: true } | { corrupt: string };
/** rotated: the file asks to be shown turned a quarter (AVIF 'irot'), so width and height swap. */
type HeaderSize = ImageSize & { rotated?: boolean };
const TRUNCATED = { truncated: true } as const;
const corrupt = (why: string): HeaderInfo => ({ corrupt: why });
export const isSize = (h: HeaderInfo): h is HeaderSize => 'width' in h;

/**
 * The stored width and height from a file's header, or null when the head is too short or garbled to
 * tell (the decoder then decides). For JPEG this is before EXIF orientation; see jpegOrientation.
 */
export function readImageHeader(head: Uint8Array, format: ImageFormat): ImageSize | null {
  const info = headerInfo(head, format);
  return isSize(info) ? { width: info.width, height: info.height } : null;
}

export function headerInfo(head: Uint8Array, format: ImageFormat): HeaderInfo {
  try {
    switch (format) {
      case 'jpeg':
        return jpegHeader(head);
      case 'png':
        return pngHeader(head);
      case 'gif':
        return gifHeader(head);
      case 'webp':
        return webpHeader(head);
      case 'bmp':
        return bmpHeader(head);
      case 'avif':
        return avifHeader(head);
      case 'ico':
        return icoHeader(head);
    }
  } catch {
    // The parsers check bounds; this is a last guard so garbage bytes can never throw.
  }
  return TRUNCATED;
}

/** SOFn markers carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not. */
const isSof = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

/** Calls visit for each marker segment before the first scan; stops early when visit returns a value. */
function walkJpeg<T>(head: Uint8Array, visit: (marker: number, at: number, length: number) => T | undefined): T | HeaderInfo {
  let i = 2;
  const n = head.length;
  while (i < n) {
    // libjpeg tolerates stray bytes between segments ("extraneous bytes before marker"): skip them.
    if (head[i] !== 0xff) {
      i++;
      continue;
    }
    while (i < n && head[i] === 0xff) i++; // fill bytes
    if (i >= n) break;
    const marker = head[i++];
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue; // no length
    if (marker === 0xd9) return corrupt('the JPEG data ends before any frame header');
    if (marker === 0xda) return corrupt('the JPEG scan data starts before its frame header');
    if (i + 2 > n) break;
    const length = u16be(head, i);
    if (length < 2) return corrupt(`a JPEG segment has an impossible length of ${length}`);
    const result = visit(marker, i + 2, length - 2);
    if (result !== undefined) return result;
    i += length;
  }
  return TRUNCATED;
}

function jpegHeader(head: Uint8Array): HeaderInfo {
  return walkJpeg<HeaderInfo>(head, (marker, at) => {
    if (!isSof(marker)) return undefined;
    if (at + 5 > head.length) return TRUNCATED;
    const height = u16be(head, at + 1);
    const width = u16be(head, at + 3);
    if (width === 0) return corrupt('the JPEG frame header gives a width of 0');
    // A height of 0 is legal: it is given later by a DNL marker. Let the decoder handle it.
    if (height === 0) return TRUNCATED;
    return { width, height };
  });
}

/**
 * EXIF orientation (1–8) of a JPEG from its APP1 Exif block, little- or big-endian; 1 when absent or
 * unreadable. Orientations 5–8 turn the image a quarter, so its displayed width and height swap.
 */
export function jpegOrientation(head: Uint8Array): number {
  if (!bytesAt(head, 0, [0xff, 0xd8])) return 1;
  try {
    const found = walkJpeg<number>(head, (marker, at, length) => {
      if (marker !== 0xe1 || length < 14 || ascii(head, at, 6) !== 'Exif\x00\x00') return undefined;
      return exifOrientation(head, at + 6, Math.min(head.length, at + length)) ?? undefined;
    });
    return typeof found === 'number' ? found : 1;
  } catch {
    return 1;
  }
}

/** Orientation tag (0x0112) in IFD0 of the TIFF structure at [tiff, end); null when not there. */
function exifOrientation(b: Uint8Array, tiff: number, end: number): number | null {
  if (tiff + 8 > end) return null;
  const order = ascii(b, tiff, 2);
  if (order !== 'II' && order !== 'MM') return null;
  const read16 = order === 'II' ? u16le : u16be;
  const read32 = order === 'II' ? u32le : u32be;
  if (read16(b, tiff + 2) !== 42) return null;
  const ifd = tiff + read32(b, tiff + 4);
  if (ifd + 2 > end) return null;
  const count = read16(b, ifd);
  for (let k = 0; k < count; k++) {
    const entry = ifd + 2 + 12 * k;
    if (entry + 12 > end) return null;
    if (read16(b, entry) !== 0x0112) continue;
    const type = read16(b, entry + 2);
    // SHORT as the standard says; a LONG is seen in the wild from some writers.
    const value = type === 3 ? read16(b, entry + 8) : type === 4 ? read32(b, entry + 8) : 0;
    return value >= 1 && value <= 8 ? value : null;
  }
  return null;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 as PNG chunks use it (ISO 3309). Exported for tests that craft PNG headers. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngHeader(head: Uint8Array): HeaderInfo {
  if (head.length < 16) return TRUNCATED;
  if (ascii(head, 12, 4) !== 'IHDR') return corrupt('the PNG file does not start with the IHDR header chunk it must have');
  if (u32be(head, 8) !== 13) return corrupt('the PNG IHDR header chunk has the wrong length');
  if (head.length < 33) return TRUNCATED;
  // A damaged header is refused by the browser's PNG decoder too; saying so here is clearer.
  if (crc32(head.subarray(12, 29)) !== u32be(head, 29)) return corrupt('the PNG header checksum (IHDR CRC) does not match');
  const width = u32be(head, 16);
  const height = u32be(head, 20);
  if (width === 0 || height === 0) return corrupt(`the PNG header gives an impossible size of ${width} × ${height}`);
  if (width > 0x7fffffff || height > 0x7fffffff) return corrupt('the PNG header gives a size beyond what PNG allows');
  return { width, height };
}

/**
 * The logical screen size, grown to fit the first frame (browsers size the image to hold it; a
 * bomb can hide a huge frame behind a tiny screen).
 */
function gifHeader(head: Uint8Array): HeaderInfo {
  if (head.length < 13) return TRUNCATED;
  let width = u16le(head, 6);
  let height = u16le(head, 8);
  let i = 13;
  if (head[10] & 0x80) i += 3 * (1 << ((head[10] & 0x07) + 1)); // global colour table
  while (i < head.length) {
    const block = head[i];
    if (block === 0x21) {
      // Extension: label, then data sub-blocks until a zero-length one.
      i += 2;
      while (i < head.length && head[i] !== 0) i += head[i] + 1;
      i++;
    } else if (block === 0x2c) {
      if (i + 9 > head.length) break;
      width = Math.max(width, u16le(head, i + 1) + u16le(head, i + 5));
      height = Math.max(height, u16le(head, i + 3) + u16le(head, i + 7));
      break;
    } else {
      break; // trailer or garbage: the decoder decides
    }
  }
  if (width === 0 || height === 0) return TRUNCATED;
  return { width, height };
}

function webpHeader(head: Uint8Array): HeaderInfo {
  if (head.length < 16) return TRUNCATED;
  const chunk = ascii(head, 12, 4);
  if (chunk === 'VP8 ') {
    if (head.length < 30) return TRUNCATED;
    if (!bytesAt(head, 23, [0x9d, 0x01, 0x2a])) return corrupt('the WebP (VP8) frame has no start code');
    return sized(u16le(head, 26) & 0x3fff, u16le(head, 28) & 0x3fff, 'WebP');
  }
  if (chunk === 'VP8L') {
    if (head.length < 25) return TRUNCATED;
    if (head[20] !== 0x2f) return corrupt('the WebP (lossless) header has the wrong signature');
    const bits = u32le(head, 21);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X') {
    if (head.length < 30) return TRUNCATED;
    return { width: u24le(head, 24) + 1, height: u24le(head, 27) + 1 };
  }
  return TRUNCATED;
}

function bmpHeader(head: Uint8Array): HeaderInfo {
  const dib = u32le(head, 14);
  if (dib === 12) {
    if (head.length < 22) return TRUNCATED;
    return sized(u16le(head, 18), u16le(head, 20), 'BMP');
  }
  if (head.length < 26) return TRUNCATED;
  const width = i32le(head, 18);
  const height = i32le(head, 22); // negative: rows stored top-down
  if (width <= 0 || height === 0 || height === -0x80000000) return corrupt(`the BMP header gives an impossible size of ${width} × ${height}`);
  return { width, height: Math.abs(height) };
}

function icoHeader(head: Uint8Array): HeaderInfo {
  const count = u16le(head, 4);
  let best: ImageSize | null = null;
  for (let k = 0; k < count; k++) {
    const entry = 6 + 16 * k;
    if (entry + 16 > head.length) break;
    let size: ImageSize = { width: head[entry] || 256, height: head[entry + 1] || 256 };
    // Entries may hold a whole PNG whose real size is larger than the directory can say.
    const offset = u32le(head, entry + 12);
    if (bytesAt(head, offset, PNG_SIGNATURE)) {
      const png = pngHeader(head.subarray(offset));
      if (isSize(png)) size = png;
    }
    if (!best || size.width * size.height > best.width * best.height) best = size;
  }
  return best ?? TRUNCATED;
}

function sized(width: number, height: number, name: string): HeaderInfo {
  if (width === 0 || height === 0) return corrupt(`the ${name} header gives an impossible size of ${width} × ${height}`);
  return { width, height };
}

interface Box {
  type: string;
  start: number;
  end: number;
}

/** ISO-BMFF boxes directly inside [start, end), clipped to the head. */
function* boxes(b: Uint8Array, start: number, end: number): Generator<Box> {
  let p = start;
  end = Math.min(end, b.length);
  while (p + 8 <= end) {
    let size = u32be(b, p);
    const type = ascii(b, p + 4, 4);
    let header = 8;
    if (size === 1) {
      if (p + 16 > end) return;
      size = u32be(b, p + 8) * 2 ** 32 + u32be(b, p + 12);
      header = 16;
    } else if (size === 0) {
      size = end - p;
    }
    if (size < header) return;
    yield { type, start: p + header, end: Math.min(p + size, end) };
    p += size;
  }
}

const child = (b: Uint8Array, parent: Box, type: string, skip = 0): Box | undefined => {
  for (const box of boxes(b, parent.start + skip, parent.end)) if (box.type === type) return box;
  return undefined;
};

/**
 * The largest image spatial extent ('ispe') among the item properties. A file may also describe
 * alpha planes, thumbnails or grid tiles; the primary image (or the grid canvas) is the largest, and
 * for refusing bombs erring large is the safe side. An 'irot' of 90° or 270° swaps the displayed size.
 */
function avifHeader(head: Uint8Array): HeaderInfo {
  const all: Box = { type: '', start: 0, end: head.length };
  const meta = child(head, all, 'meta');
  if (!meta) return TRUNCATED;
  const iprp = child(head, meta, 'iprp', 4); // meta is a full box: 4 bytes of version and flags
  const ipco = iprp && child(head, iprp, 'ipco');
  if (!ipco) return TRUNCATED;
  let best: ImageSize | null = null;
  let rotated = false;
  for (const box of boxes(head, ipco.start, ipco.end)) {
    if (box.type === 'ispe' && box.start + 12 <= box.end) {
      const size = { width: u32be(head, box.start + 4), height: u32be(head, box.start + 8) };
      if (!best || size.width * size.height > best.width * best.height) best = size;
    } else if (box.type === 'irot' && box.start < box.end) {
      rotated = (head[box.start] & 1) === 1;
    }
  }
  if (!best || best.width === 0 || best.height === 0) return TRUNCATED;
  return { ...best, rotated };
}

