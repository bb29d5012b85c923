/**
 * Recognising files by their bytes, not by their names: a `.jpg` that is really a HEIC from a phone,
 * a PDF renamed `.png` or a zero-byte placeholder each get a clear reason instead of a failed decode.
 * The header dimensions let a decompression bomb (a few KB that inflate to gigabytes of pixels) be
 * refused before the browser allocates anything.
 *
 * Pure: no DOM, worker or IndexedDB API. Every function takes the first bytes of a file (64 KB is
 * plenty; any length works, and more never hurts) and never throws, whatever the bytes are.
 */
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

// ---------------------------------------------------------------------------------------------
// Byte helpers. Callers check lengths first; an out-of-range index reads as undefined, which the
// bit operations turn into 0, so a missed check gives a wrong number, never an exception.

function ascii(b: Uint8Array, at: number, length: number): string {
  let s = '';
  for (let i = at; i < at + length && i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

function bytesAt(b: Uint8Array, at: number, expected: readonly number[]): boolean {
  if (at + expected.length > b.length) return false;
  for (let i = 0; i < expected.length; i++) if (b[at + i] !== expected[i]) return false;
  return true;
}

const u16be = (b: Uint8Array, i: number) => (b[i] << 8) | b[i + 1];
const u16le = (b: Uint8Array, i: number) => b[i] | (b[i + 1] << 8);
const u24le = (b: Uint8Array, i: number) => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16);
const u32be = (b: Uint8Array, i: number) => ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
const u32le = (b: Uint8Array, i: number) => ((b[i + 3] << 24) | (b[i + 2] << 16) | (b[i + 1] << 8) | b[i]) >>> 0;
const i32le = (b: Uint8Array, i: number) => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);

function hexBytes(b: Uint8Array, count: number): string {
  return Array.from(b.subarray(0, count), (x) => x.toString(16).padStart(2, '0')).join(' ');
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const;

// ---------------------------------------------------------------------------------------------
// Sniffing

const image = (format: ImageFormat): SniffResult => ({ kind: 'image', format });
const unsupported = (format: UnsupportedFormat, name: string): SniffResult => ({ kind: 'unsupported', format, name });
const notImage = (description: string, hint?: string): SniffResult =>
  hint ? { kind: 'not-image', description, hint } : { kind: 'not-image', description };

const UNPACK_HINT = 'unpack it and drop the folder instead';

/** Leading-byte signatures of common non-image files, so the message can say what a file is. */
const NOT_IMAGE_SIGNATURES: readonly { at: number; bytes: readonly number[] | string; description: string; hint?: string }[] = [
  { at: 0, bytes: '%PDF-', description: 'a PDF document' },
  { at: 0, bytes: [0x1f, 0x8b], description: 'gzip-compressed data', hint: UNPACK_HINT },
  { at: 0, bytes: 'BZh', description: 'bzip2-compressed data', hint: UNPACK_HINT },
  { at: 0, bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], description: 'XZ-compressed data', hint: UNPACK_HINT },
  { at: 0, bytes: [0x28, 0xb5, 0x2f, 0xfd], description: 'Zstandard-compressed data', hint: UNPACK_HINT },
  { at: 0, bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], description: 'a 7-Zip archive', hint: UNPACK_HINT },
  { at: 0, bytes: 'Rar!\x1a\x07', description: 'a RAR archive', hint: UNPACK_HINT },
  { at: 257, bytes: 'ustar', description: 'a TAR archive', hint: UNPACK_HINT },
  { at: 0, bytes: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1], description: 'an old-style Microsoft Office document (or a Thumbs.db cache)' },
  { at: 0, bytes: [0x1a, 0x45, 0xdf, 0xa3], description: 'a WebM or Matroska video' },
  { at: 0, bytes: 'OggS', description: 'an Ogg audio or video file' },
  { at: 0, bytes: 'fLaC', description: 'a FLAC audio file' },
  { at: 0, bytes: 'ID3', description: 'an MP3 audio file' },
  { at: 0, bytes: 'MThd', description: 'a MIDI file' },
  { at: 0, bytes: 'FLV\x01', description: 'a Flash video' },
  { at: 0, bytes: [0x00, 0x00, 0x01, 0xba], description: 'an MPEG video' },
  { at: 0, bytes: 'MZ', description: 'a Windows program or library' },
  { at: 0, bytes: '\x7fELF', description: 'a Linux program or library' },
  { at: 0, bytes: [0xcf, 0xfa, 0xed, 0xfe], description: 'a macOS program or library' },
  { at: 0, bytes: [0xce, 0xfa, 0xed, 0xfe], description: 'a macOS program or library' },
  { at: 0, bytes: [0xca, 0xfe, 0xba, 0xbe], description: 'a Java class file or macOS program' },
  { at: 0, bytes: '\x00asm', description: 'a WebAssembly module' },
  { at: 0, bytes: 'SQLite format 3\x00', description: 'an SQLite database' },
  { at: 0, bytes: '\x89HDF\r\n\x1a\n', description: 'an HDF5 data file' },
  { at: 0, bytes: '\x93NUMPY', description: 'a NumPy array file' },
  { at: 0, bytes: 'PAR1', description: 'a Parquet data file' },
  { at: 0, bytes: 'wOFF', description: 'a web font' },
  { at: 0, bytes: 'wOF2', description: 'a web font' },
  { at: 0, bytes: 'OTTO', description: 'a font file' },
  { at: 0, bytes: [0x00, 0x01, 0x00, 0x00, 0x00], description: 'a font file' },
  { at: 0, bytes: 'AT&TFORM', description: 'a DjVu document' },
  { at: 0, bytes: [0xc5, 0xd0, 0xd3, 0xc6], description: 'an EPS (PostScript) file' },
];

function matches(head: Uint8Array, at: number, bytes: readonly number[] | string): boolean {
  if (typeof bytes !== 'string') return bytesAt(head, at, bytes);
  return at + bytes.length <= head.length && ascii(head, at, bytes.length) === bytes;
}

/**
 * What a file is, from its first bytes. An empty head is 'not-image'; callers that know the file is
 * empty should say so themselves (checkDecodable does).
 */
export function sniffImage(head: Uint8Array): SniffResult {
  const n = head.length;
  if (n === 0) return notImage('an empty file');

  // Decodable formats first.
  if (bytesAt(head, 0, [0xff, 0xd8, 0xff])) return image('jpeg');
  if (bytesAt(head, 0, PNG_SIGNATURE)) return image('png'); // APNG too: it is a PNG with extra chunks
  if (matches(head, 0, 'GIF87a') || matches(head, 0, 'GIF89a')) return image('gif');
  if (matches(head, 0, 'RIFF') && n >= 12) {
    const form = ascii(head, 8, 4);
    if (form === 'WEBP') return image('webp');
    if (form === 'AVI ') return notImage('an AVI video');
    if (form === 'WAVE') return notImage('a WAV audio file');
    return notImage(`a RIFF container of type '${form.trim()}'`);
  }
  if (isBmp(head)) return image('bmp');
  if (isIco(head)) return image('ico');
  if (n >= 12 && ascii(head, 4, 4) === 'ftyp') return sniffIsoMedia(head);

  // Recognised image formats that browsers do not decode.
  if (bytesAt(head, 0, [0xff, 0x0a])) return unsupported('jxl', 'JPEG XL');
  if (bytesAt(head, 0, [0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20, 0x0d, 0x0a, 0x87, 0x0a])) return unsupported('jxl', 'JPEG XL');
  if (bytesAt(head, 0, [0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a])) return unsupported('jp2', 'JPEG 2000');
  if (bytesAt(head, 0, [0xff, 0x4f, 0xff, 0x51])) return unsupported('jp2', 'JPEG 2000');
  const tiff = sniffTiff(head);
  if (tiff) return tiff;
  if (matches(head, 0, 'IIRO') || matches(head, 0, 'IIRS') || matches(head, 0, 'MMOR')) return unsupported('raw', 'Olympus ORF raw');
  if (matches(head, 0, 'IIU\x00')) return unsupported('raw', 'Panasonic RW2 raw');
  if (matches(head, 0, 'FUJIFILMCCD-RAW')) return unsupported('raw', 'Fujifilm RAF raw');
  if (matches(head, 0, 'FOVb')) return unsupported('raw', 'Sigma X3F raw');
  if (matches(head, 0, '\x00MRM')) return unsupported('raw', 'Minolta MRW raw');
  if (matches(head, 0, 'II\x1a\x00\x00\x00HEAPCCDR')) return unsupported('raw', 'Canon CRW raw');
  if (matches(head, 0, '8BPS')) return unsupported('psd', 'Photoshop (PSD)');
  if (bytesAt(head, 0, [0x76, 0x2f, 0x31, 0x01])) return unsupported('exr', 'OpenEXR');
  if (matches(head, 0, '#?RADIANCE') || matches(head, 0, '#?RGBE')) return unsupported('hdr', 'Radiance HDR');
  if (matches(head, 0, 'DDS ')) return unsupported('dds', 'DirectDraw Surface (DDS)');
  if (matches(head, 0, 'qoif')) return unsupported('qoi', 'QOI');
  if (matches(head, 0, 'gimp xcf')) return unsupported('xcf', 'GIMP (XCF)');
  if (matches(head, 0, 'icns')) return unsupported('icns', 'Apple icon (ICNS)');
  if (/^P[1-7]\s+(#|\d|WIDTH)/.test(ascii(head, 0, 16))) return unsupported('netpbm', 'Netpbm (PBM/PGM/PPM)');

  // Known non-image files, so the message can say what the file is.
  if (matches(head, 0, 'PK\x03\x04')) return sniffZip(head);
  if (matches(head, 0, 'PK\x05\x06') || matches(head, 0, 'PK\x07\x08')) return notImage('a ZIP archive', UNPACK_HINT);
  for (const sig of NOT_IMAGE_SIGNATURES) {
    if (matches(head, sig.at, sig.bytes)) return notImage(sig.description, sig.hint);
  }

  // Text: SVG, HTML, JSON and friends. Before the weak MPEG audio sync below, which a UTF-16 BOM matches.
  const text = decodeText(head);
  if (text !== null) return sniffText(text);
  if (n >= 2 && head[0] === 0xff && (head[1] & 0xe0) === 0xe0) return notImage('an MP3 or AAC audio file');
  return notImage(`binary data of an unknown kind (it starts with ${hexBytes(head, 8)})`);
}

/** "BM" alone is too weak (a text file can start with it): the DIB header size must be a known one too. */
function isBmp(head: Uint8Array): boolean {
  if (head.length < 18 || head[0] !== 0x42 || head[1] !== 0x4d) return false;
  return [12, 16, 40, 52, 56, 64, 108, 124].includes(u32le(head, 14));
}

/** ICO (type 1) and CUR (type 2, decoded by the same browser decoder), with at least one image. */
function isIco(head: Uint8Array): boolean {
  if (head.length < 6 || head[0] !== 0 || head[1] !== 0 || (head[2] !== 1 && head[2] !== 2) || head[3] !== 0) return false;
  const count = u16le(head, 4);
  if (count === 0 || count > 256) return false;
  // The first directory entry's reserved byte is 0 and its bit count is plausible, when present.
  if (head.length >= 22 && head[9] !== 0 && head[9] !== 0xff) return false;
  return true;
}

const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs']);
const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIF_BRANDS = new Set(['mif1', 'msf1', 'mif2', 'miaf']);

/** ISO base media (the ftyp box): AVIF, HEIC/HEIF, Canon CR3, or a video. */
function sniffIsoMedia(head: Uint8Array): SniffResult {
  const boxSize = u32be(head, 0);
  const major = ascii(head, 8, 4);
  const brands = [major];
  const end = Math.min(head.length, boxSize >= 16 ? boxSize : 16);
  for (let i = 16; i + 4 <= end; i += 4) brands.push(ascii(head, i, 4));
  // The major brand decides when it is specific; a generic HEIF major brand defers to the compatible list.
  if (AVIF_BRANDS.has(major)) return image('avif');
  if (HEIC_BRANDS.has(major)) return unsupported('heic', 'HEIC');
  if (major === 'crx ') return unsupported('raw', 'Canon CR3 raw');
  if (major === 'jxl ') return unsupported('jxl', 'JPEG XL');
  if (major === 'jp2 ' || major === 'jpx ') return unsupported('jp2', 'JPEG 2000');
  if (HEIF_BRANDS.has(major) || brands.some((b) => HEIF_BRANDS.has(b))) {
    if (brands.some((b) => AVIF_BRANDS.has(b))) return image('avif');
    if (brands.some((b) => HEIC_BRANDS.has(b))) return unsupported('heic', 'HEIC');
    return unsupported('heif', 'HEIF');
  }
  if (major === 'qt  ') return notImage('a QuickTime video');
  if (major.startsWith('3g')) return notImage('a 3GP video');
  if (major === 'M4A ' || major === 'M4B ') return notImage('an M4A audio file');
  if (['isom', 'iso2', 'iso4', 'iso5', 'iso6', 'mp41', 'mp42', 'avc1', 'M4V ', 'dash', 'f4v ', 'mmp4', 'MSNV'].includes(major)) {
    return notImage('an MP4 video');
  }
  return notImage(`an ISO media file of brand '${major.trim()}'`);
}

/** TIFF, and the camera raw formats built on TIFF (which also start II*\0 / MM\0*). */
function sniffTiff(head: Uint8Array): SniffResult | null {
  const le = matches(head, 0, 'II*\x00');
  const be = matches(head, 0, 'MM\x00*');
  if (matches(head, 0, 'II+\x00') || matches(head, 0, 'MM\x00+')) return unsupported('tiff', 'BigTIFF');
  if (!le && !be) return null;
  if (le && matches(head, 8, 'CR\x02')) return unsupported('raw', 'Canon CR2 raw');
  // DNG (and raw formats that copy it) mark IFD0 with the DNGVersion tag.
  const read16 = le ? u16le : u16be;
  const read32 = le ? u32le : u32be;
  const ifd = read32(head, 4);
  if (ifd >= 8 && ifd + 2 <= head.length) {
    const count = read16(head, ifd);
    for (let k = 0; k < count && ifd + 2 + 12 * k + 12 <= head.length; k++) {
      if (read16(head, ifd + 2 + 12 * k) === 0xc612) return unsupported('raw', 'DNG raw');
    }
  }
  return unsupported('tiff', 'TIFF');
}

/** A ZIP's first entry tells an Office document or an e-book from a plain archive. */
function sniffZip(head: Uint8Array): SniffResult {
  if (head.length >= 30) {
    const nameLength = u16le(head, 26);
    const extraLength = u16le(head, 28);
    const name = ascii(head, 30, nameLength);
    if (name === 'mimetype') {
      const mime = ascii(head, 30 + nameLength + extraLength, 60);
      if (mime.startsWith('application/epub+zip')) return notImage('an EPUB e-book');
      if (mime.startsWith('application/vnd.oasis.opendocument')) return notImage('an OpenDocument file');
    }
    if (name === '[Content_Types].xml' || /^(word|xl|ppt)\//.test(name)) return notImage('a Microsoft Office document');
  }
  return notImage('a ZIP archive', UNPACK_HINT);
}

/**
 * The head as text, or null when it looks binary (a NUL, or over 10% control characters and invalid
 * UTF-8). UTF-8 unless a UTF-16 byte-order mark says otherwise.
 */
function decodeText(head: Uint8Array): string | null {
  let encoding = 'utf-8';
  if (bytesAt(head, 0, [0xff, 0xfe])) encoding = 'utf-16le';
  else if (bytesAt(head, 0, [0xfe, 0xff])) encoding = 'utf-16be';
  const decoder = new TextDecoder(encoding, { fatal: false });
  // A multi-byte character cut by the sample's end decodes as U+FFFD: not a sign of binary data.
  const sample = decoder.decode(head.subarray(0, 4096)).replace(/\uFFFD{1,3}$/, '');
  let bad = 0;
  for (let i = 0; i < sample.length; i++) {
    const c = sample.charCodeAt(i);
    if (c === 0) return null;
    if (c === 0xfffd || (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0c && c !== 0x1b)) bad++;
  }
  // Binary data is about half invalid; Latin-1 prose a few percent (its accents are not UTF-8).
  if (sample.length === 0 || bad / sample.length > 0.1) return null;
  return decoder.decode(head).replace(/^\uFEFF/, '');
}

function sniffText(text: string): SniffResult {
  if (isSvg(text)) return unsupported('svg', 'SVG');
  const start = text.trimStart().slice(0, 256).toLowerCase();
  if (start.startsWith('{\\rtf')) return notImage('an RTF document');
  if (/^(<!doctype html|<html|<head|<body)/.test(start)) return notImage('an HTML page');
  if (start.startsWith('<?xml') || /^<[a-z_!]/.test(start)) return notImage('an XML document');
  if (start.startsWith('%!ps')) return notImage('a PostScript file');
  if (start.startsWith('#!')) return notImage('a script');
  if (start.startsWith('{') || start.startsWith('[')) return notImage('a JSON or other text file');
  return notImage('a text file');
}

/**
 * SVG is XML whose first element is <svg>; before it may come whitespace, an XML declaration,
 * processing instructions, comments and a DOCTYPE (with an internal subset).
 */
function isSvg(text: string): boolean {
  let i = 0;
  const n = text.length;
  for (;;) {
    while (i < n && /\s/.test(text[i])) i++;
    if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i + 2);
      if (end < 0) return text.includes('<svg', i);
      i = end + 2;
    } else if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end < 0) return text.includes('<svg', i);
      i = end + 3;
    } else if (text.slice(i, i + 9).toUpperCase() === '<!DOCTYPE') {
      const bracket = text.indexOf('[', i);
      const close = text.indexOf('>', i);
      const end = bracket >= 0 && bracket < close ? text.indexOf(']', bracket) : close;
      const gt = end < 0 ? -1 : text.indexOf('>', end);
      if (gt < 0) return text.includes('<svg', i);
      i = gt + 1;
    } else {
      return /^<([A-Za-z_][\w.-]*:)?svg[\s>/]/.test(text.slice(i, i + 64));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Header dimensions

/** Inside the parsers: the size, "the head ends before the size", or "these bytes cannot be this format". */
type HeaderInfo = HeaderSize | { truncated: true } | { corrupt: string };
/** rotated: the file asks to be shown turned a quarter (AVIF 'irot'), so width and height swap. */
type HeaderSize = ImageSize & { rotated?: boolean };
const TRUNCATED = { truncated: true } as const;
const corrupt = (why: string): HeaderInfo => ({ corrupt: why });
const isSize = (h: HeaderInfo): h is HeaderSize => 'width' in h;

/**
 * The stored width and height from a file's header, or null when the head is too short or garbled to
 * tell (the decoder then decides). For JPEG this is before EXIF orientation; see jpegOrientation.
 */
export function readImageHeader(head: Uint8Array, format: ImageFormat): ImageSize | null {
  const info = headerInfo(head, format);
  return isSize(info) ? { width: info.width, height: info.height } : null;
}

function headerInfo(head: Uint8Array, format: ImageFormat): HeaderInfo {
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

// ---------------------------------------------------------------------------------------------
// Truncation, to explain a failed decode

/**
 * Why the decoder could not read a file, when its bytes show that the file is cut short: a PNG
 * whose chunks run past the end or stop before IEND, a JPEG with no end-of-image marker after its
 * scan, a WebP shorter than its RIFF header says. `bytes` is the whole file. Null when the file
 * looks complete or is damaged some other way.
 *
 * For messages only, after a decode has failed: browsers decode some files that end early (a JPEG
 * without its final marker is common), so this never refuses a file by itself.
 */
export function describeTruncation(bytes: Uint8Array, format: ImageFormat): string | null {
  let where: string | null = null;
  try {
    if (format === 'png') where = pngTruncation(bytes);
    else if (format === 'jpeg') where = jpegTruncation(bytes);
    else if (format === 'webp') where = webpTruncation(bytes);
  } catch {
    where = null; // the walkers check bounds; garbage must never turn into an exception here
  }
  if (where === null) return null;
  return `This ${FORMAT_NAMES[format]} file is cut short: it ends after ${thousands(bytes.length)} bytes, ${where}.`;
}

const PNG_CHUNK_NAMES: Record<string, string> = { IDAT: 'image data', IHDR: 'header', PLTE: 'palette', fdAT: 'animation frame data' };

function pngTruncation(b: Uint8Array): string | null {
  if (!bytesAt(b, 0, PNG_SIGNATURE)) return null;
  let i = 8;
  while (i + 8 <= b.length) {
    const length = u32be(b, i);
    const type = ascii(b, i + 4, 4);
    if (!/^[A-Za-z]{4}$/.test(type) || length > 0x7fffffff) return null; // damage, not a cut
    if (type === 'IEND') return null;
    if (i + 12 + length > b.length) {
      const name = PNG_CHUNK_NAMES[type];
      return `inside its ${name ? `${name} (${type} chunk)` : `${type} chunk`}, which needs ${thousands(i + 12 + length - b.length)} more bytes`;
    }
    i += 12 + length;
  }
  return i < b.length ? 'in the middle of a chunk header, before the IEND chunk that ends every PNG' : 'without the IEND chunk that ends every PNG';
}

function jpegTruncation(b: Uint8Array): string | null {
  if (!bytesAt(b, 0, [0xff, 0xd8])) return null;
  // The first scan: segments before it are walked by their lengths (an EXIF thumbnail inside APP1
  // carries its own end marker, which must not count).
  let i = 2;
  let scan = -1;
  while (i < b.length) {
    if (b[i] !== 0xff) {
      i++;
      continue;
    }
    while (i < b.length && b[i] === 0xff) i++;
    if (i >= b.length) break;
    const marker = b[i++];
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;
    if (marker === 0xd9) return null; // ends before any scan: damage the header check reports
    if (i + 2 > b.length) break;
    const length = u16be(b, i);
    if (length < 2) return null;
    if (marker === 0xda) {
      scan = i;
      break;
    }
    if (i + length > b.length) return 'inside its header segments, before the image data starts';
    i += length;
  }
  if (scan < 0) return 'before its image data starts';
  // Inside entropy-coded data a 0xFF byte is always followed by 0x00 or a restart marker, so an
  // FF D9 after the scan header is the real end-of-image marker.
  for (let k = scan; k + 1 < b.length; k++) if (b[k] === 0xff && b[k + 1] === 0xd9) return null;
  return 'in the middle of its compressed image data (there is no end-of-image marker)';
}

function webpTruncation(b: Uint8Array): string | null {
  if (b.length < 12 || !matches(b, 0, 'RIFF') || ascii(b, 8, 4) !== 'WEBP') return null;
  const announced = u32le(b, 4) + 8;
  return announced > b.length ? `though its RIFF header announces ${thousands(announced)} bytes` : null;
}

// ---------------------------------------------------------------------------------------------
// The verdict

const UNSUPPORTED_ADVICE: Partial<Record<UnsupportedFormat, string>> = {
  heic: 'HEIC (the iPhone photo format) is not decodable in this browser; convert it to JPEG first.',
  heif: 'HEIF is not decodable in this browser; convert it to JPEG or PNG first.',
  svg: 'SVG is never rendered: it can load other resources, and it has no fixed pixel size. Export it to PNG to include it.',
  tiff: 'TIFF is not decodable in this browser; convert it to PNG or JPEG first.',
  jxl: 'JPEG XL is not decodable in this browser; convert it to JPEG or PNG first.',
};

function unsupportedDetail(format: UnsupportedFormat, name: string): string {
  const advice = UNSUPPORTED_ADVICE[format];
  if (advice) return advice;
  if (format === 'raw') return `This is a ${name} photo: browsers cannot decode camera raw files. Export it as JPEG first.`;
  return `${name} images cannot be decoded in this browser; convert this one to PNG or JPEG first.`;
}

const thousands = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const megapixels = (pixels: number) => {
  const mp = pixels / 1e6;
  return mp >= 10 ? thousands(Math.round(mp)) : String(Number(mp.toFixed(1)));
};

/**
 * Whether a file is worth handing to the decoder. `head` is the start of the file (64 KB is enough;
 * the whole file works too) and `size` its full length in bytes.
 *
 * A header that is cut off by the head, or that this parser does not understand, is still `ok`: the
 * decoder decides. Only clear damage is refused here: a header that breaks its format's rules, or a
 * file that ends (head covers the whole file) before its header does.
 */
export function checkDecodable(head: Uint8Array, size: number, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): DecodeCheck {
  if (size === 0) return { ok: false, reason: 'empty-file', detail: 'The file is empty (0 bytes).' };
  const sniff = sniffImage(head);
  if (sniff.kind === 'not-image') {
    const hint = sniff.hint ? `; ${sniff.hint}` : '';
    return { ok: false, reason: 'not-an-image', detail: `Not an image: this looks like ${sniff.description}${hint}.` };
  }
  if (sniff.kind === 'unsupported') {
    return { ok: false, reason: 'unsupported-format', detail: unsupportedDetail(sniff.format, sniff.name) };
  }

  const { format } = sniff;
  const name = FORMAT_NAMES[format];
  const info = headerInfo(head, format);
  if ('corrupt' in info) {
    return { ok: false, reason: 'corrupt-image', detail: `This ${name} file is damaged: ${info.corrupt}.` };
  }
  if (!isSize(info)) {
    if (head.length >= size) {
      return {
        ok: false,
        reason: 'corrupt-image',
        detail: `This ${name} file is cut short: it ends after ${thousands(size)} bytes, before its header is complete.`,
      };
    }
    return { ok: true, format };
  }

  const { width, height } = info;
  const pixels = width * height;
  const maxSide = limits.maxSide ?? DEFAULT_DECODE_LIMITS.maxSide;
  if (pixels > limits.maxPixels) {
    return {
      ok: false,
      reason: 'too-large',
      detail:
        `The image is ${thousands(width)} × ${thousands(height)} pixels (${megapixels(pixels)} megapixels), ` +
        `over the limit of ${megapixels(limits.maxPixels)} megapixels; it was not decoded, to keep the tab from running out of memory.`,
    };
  }
  if (Math.max(width, height) > maxSide) {
    return {
      ok: false,
      reason: 'too-large',
      detail:
        `The image is ${thousands(width)} × ${thousands(height)} pixels; browsers cannot draw an image wider or taller than ` +
        `${thousands(maxSide)} pixels, so it was not decoded.`,
    };
  }
  const swap = format === 'jpeg' ? jpegOrientation(head) >= 5 : info.rotated === true;
  return swap ? { ok: true, format, width: height, height: width } : { ok: true, format, width, height };
}
