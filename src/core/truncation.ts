import { ascii, bytesAt, matches, PNG_SIGNATURE, thousands, u16be, u32be, u32le } from './image-bytes.ts';
import { FORMAT_NAMES, type ImageFormat } from './image-format.ts';

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

