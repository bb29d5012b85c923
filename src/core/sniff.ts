/**
 * Recognising files by their bytes, not by their names: a `.jpg` that is really a HEIC from a phone,
 * a PDF renamed `.png` or a zero-byte placeholder each get a clear reason instead of a failed decode.
 * The header dimensions let a decompression bomb (a few KB that inflate to gigabytes of pixels) be
 * refused before the browser allocates anything.
 *
 * Pure: no DOM, worker or IndexedDB API. Every function takes the first bytes of a file (64 KB is
 * plenty; any length works, and more never hurts) and never throws, whatever the bytes are.
 */
import { ascii, bytesAt, hexBytes, matches, PNG_SIGNATURE, thousands, u16be, u16le, u32be, u32le } from './image-bytes.ts';
import { DEFAULT_DECODE_LIMITS, FORMAT_NAMES, type DecodeCheck, type DecodeLimits, type ImageFormat, type SniffResult, type UnsupportedFormat } from './image-format.ts';
import { headerInfo, isSize, jpegOrientation } from './image-header.ts';

export * from './image-format.ts';
export { crc32, jpegOrientation, readImageHeader } from './image-header.ts';
export { describeTruncation } from './truncation.ts';

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
