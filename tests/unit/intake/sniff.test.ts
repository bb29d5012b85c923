import { existsSync, readFileSync } from 'node:fs';
import { crc32 as zlibCrc32 } from 'node:zlib';
import fc from 'fast-check';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import {
  checkDecodable,
  crc32,
  DEFAULT_DECODE_LIMITS,
  jpegOrientation,
  readImageHeader,
  sniffImage,
  type ImageFormat,
} from '../../../src/core/sniff.ts';

// ---------------------------------------------------------------------------------------------
// Byte builders. Every case is generated here, so the tests say exactly what bytes they mean.

const enc = new TextEncoder();
const bytes = (...parts: (string | number[] | Uint8Array)[]): Uint8Array => {
  const arrays = parts.map((p) => (typeof p === 'string' ? Uint8Array.from(p, (c) => c.charCodeAt(0)) : Uint8Array.from(p)));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
};
const be16 = (n: number) => [(n >> 8) & 0xff, n & 0xff];
const le16 = (n: number) => [n & 0xff, (n >> 8) & 0xff];
const be32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const le32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];

function realPng(width: number, height: number): Uint8Array {
  const png = new PNG({ width, height });
  for (let i = 0; i < png.data.length; i++) png.data[i] = (i * 37) & 0xff;
  return new Uint8Array(PNG.sync.write(png));
}

/** A PNG signature and IHDR with a valid CRC (computed by zlib, not by the code under test), then a tiny IDAT and IEND. */
function pngHeader(width: number, height: number, options: { badCrc?: boolean } = {}): Uint8Array {
  const ihdr = bytes('IHDR', be32(width), be32(height), [8, 6, 0, 0, 0]);
  const crc = zlibCrc32(ihdr) ^ (options.badCrc ? 1 : 0);
  const idat = bytes('IDAT', [0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01]);
  const iend = bytes('IEND');
  return bytes(
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    be32(13), ihdr, be32(crc >>> 0),
    be32(idat.length - 4), idat, be32(zlibCrc32(idat)),
    be32(0), iend, be32(zlibCrc32(iend)),
  );
}

function realJpeg(width: number, height: number): Uint8Array {
  const data = Buffer.alloc(width * height * 4);
  for (let i = 0; i < data.length; i++) data[i] = (i * 13) & 0xff;
  return new Uint8Array(jpeg.encode({ data, width, height }, 85).data);
}

/** An APP1 Exif segment whose IFD0 holds a Make tag and then Orientation, in either byte order. */
function exifSegment(orientation: number, order: 'II' | 'MM', type = 3): Uint8Array {
  const u16 = order === 'II' ? le16 : be16;
  const u32 = order === 'II' ? le32 : be32;
  const value = type === 3 ? [...u16(orientation), 0, 0] : u32(orientation);
  const tiff = bytes(
    order, u16(42), u32(8), // header, IFD0 at 8
    u16(2), // two entries
    u16(0x010f), u16(2), u32(6), u32(38), // Make, ASCII, 6 bytes at offset 38
    u16(0x0112), u16(type), u32(1), value, // Orientation
    u32(0), // no next IFD
    'Canon\0',
  );
  const payload = bytes('Exif\0\0', tiff);
  return bytes([0xff, 0xe1], be16(payload.length + 2), payload);
}

/** Puts segments right after SOI (and after APP0, when `afterApp0`). */
function withSegments(jpg: Uint8Array, segments: Uint8Array[], afterApp0 = false): Uint8Array {
  let at = 2;
  if (afterApp0 && jpg[2] === 0xff && jpg[3] === 0xe0) at = 4 + ((jpg[4] << 8) | jpg[5]);
  return bytes(jpg.subarray(0, at), ...segments, jpg.subarray(at));
}

/** A hand-made progressive JPEG head: SOI, APP0, DQT, SOF2, DHT, SOS and a few bytes of scan. */
function progressiveJpeg(width: number, height: number): Uint8Array {
  const app0 = bytes([0xff, 0xe0], be16(16), 'JFIF\0', [1, 1, 0], be16(1), be16(1), [0, 0]);
  const dqt = bytes([0xff, 0xdb], be16(67), [0], new Array(64).fill(1));
  const sof2 = bytes([0xff, 0xc2], be16(17), [8], be16(height), be16(width), [3, 1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0]);
  const dht = bytes([0xff, 0xc4], be16(20), [0], [1, ...new Array(15).fill(0)], [0]);
  const sos = bytes([0xff, 0xda], be16(8), [1, 1, 0, 0, 0, 0]);
  return bytes([0xff, 0xd8], app0, dqt, sof2, dht, sos, [0x12, 0x34, 0xff, 0x00, 0x56], [0xff, 0xd9]);
}

function gif(screen: [number, number], frame?: [number, number, number, number]): Uint8Array {
  const gct = new Array(3 * 4).fill(0); // 4 colours: flags 0x81
  const gce = [0x21, 0xf9, 4, 0, 0, 0, 0, 0];
  const comment = bytes([0x21, 0xfe, 5], 'hello', [0]);
  const descriptor = frame ? bytes([0x2c], le16(frame[0]), le16(frame[1]), le16(frame[2]), le16(frame[3]), [0]) : bytes();
  return bytes('GIF89a', le16(screen[0]), le16(screen[1]), [0x81, 0, 0], gct, gce, comment, descriptor, [2, 2, 0x4c, 0x01, 0], [0x3b]);
}

const riff = (chunk: Uint8Array) => bytes('RIFF', le32(4 + chunk.length), 'WEBP', chunk);
const webpLossy = (w: number, h: number) =>
  riff(bytes('VP8 ', le32(10), [0x10, 0x6f, 0x00], [0x9d, 0x01, 0x2a], le16(w), le16(h)));
const webpLossless = (w: number, h: number) => {
  const bits = ((w - 1) & 0x3fff) | (((h - 1) & 0x3fff) << 14);
  return riff(bytes('VP8L', le32(5), [0x2f], le32(bits >>> 0)));
};
const webpExtended = (w: number, h: number) =>
  riff(bytes('VP8X', le32(10), [0x10, 0, 0, 0], le32(w - 1).slice(0, 3), le32(h - 1).slice(0, 3)));

function bmp(width: number, height: number): Uint8Array {
  const pixels = new Array(4 * Math.abs(height) * Math.ceil((width * 3) / 4)).fill(0x7f);
  return bytes('BM', le32(54 + pixels.length), [0, 0, 0, 0], le32(54), le32(40), le32(width), le32(height), le16(1), le16(24), le32(0), le32(pixels.length), le32(2835), le32(2835), le32(0), le32(0), pixels);
}

const box = (type: string, ...content: (string | number[] | Uint8Array)[]) => {
  const body = bytes(...content);
  return bytes(be32(body.length + 8), type, body);
};
const ftyp = (major: string, ...compatible: string[]) => box('ftyp', major, be32(0), ...compatible);
function heifFile(major: string, compatible: string[], sizes: [number, number][], irot?: number): Uint8Array {
  const ispes = sizes.map(([w, h]) => box('ispe', [0, 0, 0, 0], be32(w), be32(h)));
  const props = irot === undefined ? ispes : [...ispes, box('irot', [irot])];
  const meta = box('meta', [0, 0, 0, 0], box('hdlr', [0, 0, 0, 0], be32(0), 'pict', new Array(13).fill(0)), box('iprp', box('ipco', ...props)));
  return bytes(ftyp(major, ...compatible), meta, box('mdat', [1, 2, 3, 4]));
}

function ico(entries: { w: number; h: number; png?: Uint8Array }[]): Uint8Array {
  let offset = 6 + 16 * entries.length;
  const dir: number[][] = [];
  const data: Uint8Array[] = [];
  for (const e of entries) {
    const image = e.png ?? new Uint8Array(40);
    dir.push([e.w & 0xff, e.h & 0xff, 0, 0, ...le16(1), ...le16(32), ...le32(image.length), ...le32(offset)]);
    data.push(image);
    offset += image.length;
  }
  return bytes([0, 0, 1, 0], le16(entries.length), ...dir, ...data);
}

const zipEntry = (name: string, content = 'x') =>
  bytes('PK\x03\x04', le16(20), le16(0), le16(0), le16(0), le16(0), le32(0), le32(content.length), le32(content.length), le16(name.length), le16(0), name, content);

const tiff = (order: 'II' | 'MM', tags: number[] = [0x0100]) => {
  const u16 = order === 'II' ? le16 : be16;
  const u32 = order === 'II' ? le32 : be32;
  const entries = tags.flatMap((tag) => [...u16(tag), ...u16(3), ...u32(1), ...u16(1), 0, 0]);
  return bytes(order, u16(42), u32(8), u16(tags.length), entries, u32(0));
};

const check = (head: Uint8Array, size = head.length) => checkDecodable(head, size);

// ---------------------------------------------------------------------------------------------

describe('sniffImage: decodable formats', () => {
  const cases: [string, Uint8Array, ImageFormat][] = [
    ['PNG (pngjs)', realPng(3, 2), 'png'],
    ['JPEG (jpeg-js, baseline)', realJpeg(8, 8), 'jpeg'],
    ['progressive JPEG', progressiveJpeg(10, 10), 'jpeg'],
    ['GIF89a', gif([4, 4], [0, 0, 4, 4]), 'gif'],
    ['GIF87a', bytes('GIF87a', le16(1), le16(1), [0, 0, 0]), 'gif'],
    ['WebP lossy', webpLossy(5, 6), 'webp'],
    ['WebP lossless', webpLossless(5, 6), 'webp'],
    ['WebP extended', webpExtended(5, 6), 'webp'],
    ['BMP', bmp(2, 2), 'bmp'],
    ['AVIF', heifFile('avif', ['mif1', 'miaf'], [[64, 48]]), 'avif'],
    ['AVIF with a generic major brand', heifFile('mif1', ['avif', 'miaf'], [[64, 48]]), 'avif'],
    ['animated AVIF', heifFile('avis', ['msf1', 'avif'], [[64, 48]]), 'avif'],
    ['ICO', ico([{ w: 16, h: 16 }]), 'ico'],
  ];
  it.each(cases)('%s', (_name, head, format) => {
    expect(sniffImage(head)).toEqual({ kind: 'image', format });
  });

  it('APNG is a PNG', () => {
    const png = realPng(2, 2);
    const actl = bytes(be32(8), 'acTL', be32(2), be32(0), be32(zlibCrc32(bytes('acTL', be32(2), be32(0)))));
    const apng = bytes(png.subarray(0, 33), actl, png.subarray(33));
    expect(sniffImage(apng)).toEqual({ kind: 'image', format: 'png' });
    expect(check(apng)).toEqual({ ok: true, format: 'png', width: 2, height: 2 });
  });
});

describe('sniffImage: images browsers do not decode', () => {
  const cases: [string, Uint8Array, string][] = [
    ['HEIC', heifFile('heic', ['mif1', 'heic'], [[4032, 3024]]), 'heic'],
    ['HEIC (heix)', heifFile('heix', ['mif1'], [[10, 10]]), 'heic'],
    ['HEIC behind a generic brand', heifFile('mif1', ['heic'], [[10, 10]]), 'heic'],
    ['HEIF', heifFile('mif1', ['miaf'], [[10, 10]]), 'heif'],
    ['TIFF little-endian', tiff('II'), 'tiff'],
    ['TIFF big-endian', tiff('MM'), 'tiff'],
    ['BigTIFF', bytes('II+\0', le16(8), le16(0), le32(16), le32(0)), 'tiff'],
    ['DNG', tiff('II', [0x0100, 0xc612]), 'raw'],
    ['Canon CR2', bytes('II*\0', le32(16), 'CR\x02\0', le32(0)), 'raw'],
    ['Canon CR3', bytes(ftyp('crx ', 'crx ', 'isom')), 'raw'],
    ['Olympus ORF', bytes('IIRO', le32(8), new Array(8).fill(0)), 'raw'],
    ['Fujifilm RAF', bytes('FUJIFILMCCD-RAW 0201'), 'raw'],
    ['Photoshop', bytes('8BPS', be16(1), new Array(6).fill(0)), 'psd'],
    ['JPEG XL codestream', bytes([0xff, 0x0a, 0xfa, 0x7f]), 'jxl'],
    ['JPEG XL container', bytes([0, 0, 0, 0x0c], 'JXL ', [0x0d, 0x0a, 0x87, 0x0a], ftyp('jxl ', 'jxl ')), 'jxl'],
    ['JPEG 2000', bytes([0, 0, 0, 0x0c], 'jP  ', [0x0d, 0x0a, 0x87, 0x0a]), 'jp2'],
    ['OpenEXR', bytes([0x76, 0x2f, 0x31, 0x01, 2, 0, 0, 0]), 'exr'],
    ['Radiance HDR', bytes('#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n'), 'hdr'],
    ['QOI', bytes('qoif', be32(1), be32(1), [4, 0]), 'qoi'],
    ['PPM', bytes('P6\n3 2\n255\n', new Array(18).fill(200)), 'netpbm'],
    ['GIMP', bytes('gimp xcf v011\0'), 'xcf'],
    ['SVG', bytes('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'), 'svg'],
  ];
  it.each(cases)('%s', (_name, head, format) => {
    expect(sniffImage(head)).toMatchObject({ kind: 'unsupported', format });
  });

  const svgs = [
    '\uFEFF<svg xmlns="http://www.w3.org/2000/svg"></svg>',
    '\n\n   \t<svg>',
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n<svg width="1" height="1"></svg>',
    '<?xml version="1.0"?>\n<!-- Created with Inkscape -->\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n<svg>',
    '<?xml version="1.0"?><!DOCTYPE svg [ <!ENTITY ns "http://www.w3.org/2000/svg"> <!ENTITY a "<b>"> ]><svg xmlns="&ns;">',
    '<?xml version="1.0"?><?xml-stylesheet href="a.css"?><svg:svg xmlns:svg="http://www.w3.org/2000/svg">',
    `<?xml version="1.0"?><!-- ${'long comment '.repeat(8000)} --><svg>`,
  ];
  it.each(svgs.map((s, i) => [i, s]))('SVG variant %i is recognised', (_i, text) => {
    expect(sniffImage(enc.encode(text as string))).toMatchObject({ kind: 'unsupported', format: 'svg' });
  });

  it('SVG in UTF-16 with a byte-order mark', () => {
    const text = '<?xml version="1.0" encoding="UTF-16"?><svg/>';
    const utf16 = bytes([0xff, 0xfe], Array.from(text).flatMap((c) => le16(c.charCodeAt(0))));
    expect(sniffImage(utf16)).toMatchObject({ kind: 'unsupported', format: 'svg' });
  });

  it('explains why each is refused, naming the format', () => {
    const heic = check(heifFile('heic', ['mif1'], [[10, 10]]));
    expect(heic).toEqual({ ok: false, reason: 'unsupported-format', detail: expect.stringContaining('HEIC') });
    expect(heic.ok || heic.detail).toMatch(/convert it to JPEG/);
    const svg = check(enc.encode('<svg/>'));
    expect(svg.ok || svg.detail).toMatch(/SVG is never rendered: it can load other resources/);
    expect(check(tiff('MM'))).toMatchObject({ reason: 'unsupported-format', detail: expect.stringContaining('TIFF') });
    expect(check(bytes('II*\0', le32(16), 'CR\x02\0', le32(0)))).toMatchObject({ detail: expect.stringMatching(/Canon CR2 raw.*camera raw/) });
    expect(check(bytes('8BPS', be16(1)))).toMatchObject({ detail: expect.stringContaining('Photoshop (PSD)') });
  });
});

describe('sniffImage: files that are not images', () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ['PDF', bytes('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj'), /PDF document/],
    ['ZIP', zipEntry('cats/a.jpg'), /ZIP archive; unpack it/],
    ['empty ZIP', bytes('PK\x05\x06', new Array(18).fill(0)), /ZIP archive/],
    ['Word document', zipEntry('[Content_Types].xml'), /Microsoft Office document/],
    ['EPUB', zipEntry('mimetype', 'application/epub+zip'), /EPUB/],
    ['gzip', bytes([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]), /gzip/],
    ['7-Zip', bytes([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0, 4]), /7-Zip/],
    ['TAR', bytes(new Array(257).fill(0x61), 'ustar\x0000'), /TAR archive/],
    ['MP4', bytes(ftyp('isom', 'isom', 'iso2', 'mp41')), /MP4 video/],
    ['QuickTime', bytes(ftyp('qt  ', 'qt  ')), /QuickTime/],
    ['AVI', bytes('RIFF', le32(100), 'AVI LIST'), /AVI video/],
    ['WAV', bytes('RIFF', le32(100), 'WAVEfmt '), /WAV audio/],
    ['MP3', bytes('ID3\x04\0\0\0\0\0\0'), /MP3/],
    ['MP3 without a tag', bytes([0xff, 0xfb, 0x90, 0x64], new Array(12).fill(0)), /MP3/],
    ['Windows program', bytes('MZ\x90\0\x03\0\0\0'), /Windows program/],
    ['SQLite', bytes('SQLite format 3\0'), /SQLite/],
    ['Thumbs.db (OLE2)', bytes([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), /Thumbs\.db/],
    ['plain text', enc.encode('hello world\nthis is a note\n'), /^a text file$/],
    ['Latin-1 text', bytes('caf\xe9 cr\xe8me br\xfbl\xe9e and a long enough line of plain words around it, '.repeat(3)), /^a text file$/],
    ['UTF-8 text with emoji', enc.encode('Ferien 🏖️ am Meer – Grüße\n'), /^a text file$/],
    ['CSV', enc.encode('file,label\na.jpg,cat\n'), /^a text file$/],
    ['JSON', enc.encode('{"files": []}'), /JSON/],
    ['HTML', enc.encode('<!DOCTYPE html><html><body><svg></svg></body></html>'), /HTML page/],
    ['XML that is not SVG', enc.encode('<?xml version="1.0"?><rss version="2.0"></rss>'), /XML document/],
    ['shell script', enc.encode('#!/bin/sh\necho hi\n'), /script/],
    ['text that starts with BM', enc.encode('BMW service notes\n'), /text file/],
    ['unknown binary', bytes([0x00, 0x13, 0x37, 0x42, 0x99, 0x00, 0x01, 0x02, 0x03]), /unknown kind \(it starts with 00 13 37 42 99 00 01 02\)/],
  ];
  it.each(cases)('%s', (_name, head, description) => {
    const sniff = sniffImage(head);
    expect(sniff.kind).toBe('not-image');
    const result = check(head);
    expect(result).toMatchObject({ ok: false, reason: 'not-an-image' });
    if (!result.ok) {
      expect(result.detail).toMatch(/^Not an image: this looks like /);
      expect(result.detail.replace(/^Not an image: this looks like /, '').replace(/\.$/, '')).toMatch(description);
    }
  });

  it('an empty file is empty, whatever the head', () => {
    expect(checkDecodable(new Uint8Array(0), 0)).toEqual({ ok: false, reason: 'empty-file', detail: 'The file is empty (0 bytes).' });
    expect(sniffImage(new Uint8Array(0))).toEqual({ kind: 'not-image', description: 'an empty file' });
  });

  it('a file of zero bytes (not an empty file) is not an image', () => {
    expect(check(new Uint8Array(1000))).toMatchObject({ ok: false, reason: 'not-an-image', detail: expect.stringContaining('00 00 00') });
  });
});

describe('readImageHeader and checkDecodable: sizes', () => {
  it('PNG from pngjs', () => {
    const png = realPng(37, 21);
    expect(readImageHeader(png, 'png')).toEqual({ width: 37, height: 21 });
    expect(check(png)).toEqual({ ok: true, format: 'png', width: 37, height: 21 });
  });

  it('refuses a 30000×30000 PNG bomb from its header, before any decoding', () => {
    const bomb = pngHeader(30_000, 30_000);
    expect(bomb.length).toBeLessThan(100);
    expect(readImageHeader(bomb, 'png')).toEqual({ width: 30_000, height: 30_000 });
    const result = checkDecodable(bomb, 4_000);
    expect(result).toEqual({ ok: false, reason: 'too-large', detail: expect.stringContaining('30,000 × 30,000 pixels (900 megapixels)') });
    expect(result.ok || result.detail).toContain('limit of 100 megapixels');
  });

  it('applies the pixel limit it is given, and the canvas side limit', () => {
    const png = pngHeader(2_000, 1_000);
    expect(checkDecodable(png, 1e4, { maxPixels: 2_000_000 })).toMatchObject({ ok: true, width: 2_000 });
    expect(checkDecodable(png, 1e4, { maxPixels: 1_999_999 })).toMatchObject({ ok: false, reason: 'too-large' });
    expect(DEFAULT_DECODE_LIMITS.maxPixels).toBe(100_000_000);
    const strip = pngHeader(40_000, 100); // 4 megapixels, but wider than any canvas
    expect(check(strip)).toMatchObject({ ok: false, reason: 'too-large', detail: expect.stringContaining('wider or taller than 32,767 pixels') });
  });

  it('PNG header damage is corrupt; a PNG head cut short is left to the decoder', () => {
    expect(check(pngHeader(10, 10, { badCrc: true }))).toMatchObject({ ok: false, reason: 'corrupt-image', detail: expect.stringContaining('checksum') });
    const noIhdr = bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], be32(13), 'IDAT', new Array(20).fill(0));
    expect(check(noIhdr)).toMatchObject({ reason: 'corrupt-image', detail: expect.stringContaining('IHDR') });
    expect(check(pngHeader(0, 10))).toMatchObject({ reason: 'corrupt-image', detail: expect.stringContaining('0 × 10') });
    const head = pngHeader(10, 10).subarray(0, 20);
    expect(checkDecodable(head, 5_000)).toEqual({ ok: true, format: 'png' });
    // The whole file is those 20 bytes: it ends inside its own header.
    expect(checkDecodable(head, 20)).toMatchObject({ ok: false, reason: 'corrupt-image', detail: expect.stringContaining('cut short') });
  });

  it('crc32 agrees with zlib', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (data) => crc32(data) === zlibCrc32(data) >>> 0));
  });

  it('baseline JPEG from jpeg-js', () => {
    const jpg = realJpeg(33, 17);
    expect(readImageHeader(jpg, 'jpeg')).toEqual({ width: 33, height: 17 });
    expect(jpegOrientation(jpg)).toBe(1);
    expect(check(jpg)).toEqual({ ok: true, format: 'jpeg', width: 33, height: 17 });
  });

  it('progressive JPEG (SOF2), past APP0, DQT and the fill bytes before a marker', () => {
    const jpg = progressiveJpeg(1234, 567);
    expect(readImageHeader(jpg, 'jpeg')).toEqual({ width: 1234, height: 567 });
    const padded = bytes(jpg.subarray(0, 20), [0xff, 0xff, 0xff], jpg.subarray(20));
    expect(readImageHeader(padded, 'jpeg')).toEqual({ width: 1234, height: 567 });
    expect(check(progressiveJpeg(20_000, 10_000))).toMatchObject({ ok: false, reason: 'too-large', detail: expect.stringContaining('20,000 × 10,000') });
  });

  it('JPEG whose frame header lies beyond the head: unknown size, still decodable', () => {
    const bigApp = bytes([0xff, 0xe2], be16(65_000), new Array(64_998).fill(0x20));
    const jpg = withSegments(realJpeg(16, 16), [bigApp, bigApp]);
    const head = jpg.subarray(0, 64 * 1024);
    expect(readImageHeader(head, 'jpeg')).toBeNull();
    expect(checkDecodable(head, jpg.length)).toEqual({ ok: true, format: 'jpeg' });
    expect(checkDecodable(jpg, jpg.length)).toMatchObject({ ok: true, width: 16, height: 16 });
  });

  it('JPEG without a frame header is corrupt', () => {
    const scanFirst = bytes([0xff, 0xd8], [0xff, 0xda], be16(8), [1, 1, 0, 0, 0, 0], [1, 2, 3], [0xff, 0xd9]);
    expect(check(scanFirst)).toMatchObject({ ok: false, reason: 'corrupt-image', detail: expect.stringMatching(/^This JPEG file is damaged: .*scan/) });
    expect(check(bytes([0xff, 0xd8, 0xff, 0xd9]))).toMatchObject({ reason: 'corrupt-image' });
    expect(check(bytes([0xff, 0xd8, 0xff]))).toMatchObject({ reason: 'corrupt-image', detail: expect.stringContaining('cut short') });
  });

  it('GIF: the logical screen, grown to hold the first frame', () => {
    expect(readImageHeader(gif([40, 30], [0, 0, 40, 30]), 'gif')).toEqual({ width: 40, height: 30 });
    expect(readImageHeader(gif([40, 30], [10, 5, 20, 20]), 'gif')).toEqual({ width: 40, height: 30 });
    // A tiny screen hiding a huge frame is still a huge image.
    expect(readImageHeader(gif([1, 1], [0, 0, 60_000, 60_000]), 'gif')).toEqual({ width: 60_000, height: 60_000 });
    expect(check(gif([1, 1], [0, 0, 60_000, 60_000]))).toMatchObject({ reason: 'too-large' });
    expect(readImageHeader(gif([0, 0]), 'gif')).toBeNull();
  });

  it('WebP: VP8, VP8L and VP8X', () => {
    expect(readImageHeader(webpLossy(400, 225), 'webp')).toEqual({ width: 400, height: 225 });
    expect(readImageHeader(webpLossless(16_383, 1), 'webp')).toEqual({ width: 16_383, height: 1 });
    expect(readImageHeader(webpLossless(1, 16_384), 'webp')).toEqual({ width: 1, height: 16_384 });
    expect(readImageHeader(webpExtended(16_777_216, 3), 'webp')).toEqual({ width: 16_777_216, height: 3 });
    expect(check(webpExtended(16_777_216, 3))).toMatchObject({ reason: 'too-large' });
    const noStartCode = riff(bytes('VP8 ', le32(10), [0x10, 0x6f, 0x00], [0, 0, 0], le16(4), le16(4)));
    expect(check(noStartCode)).toMatchObject({ reason: 'corrupt-image', detail: expect.stringContaining('WebP') });
  });

  it('BMP: bottom-up and top-down (negative height), and the old OS/2 header', () => {
    expect(readImageHeader(bmp(3, 5), 'bmp')).toEqual({ width: 3, height: 5 });
    expect(readImageHeader(bmp(3, -5), 'bmp')).toEqual({ width: 3, height: 5 });
    const os2 = bytes('BM', le32(26 + 12), le32(0), le32(26), le32(12), le16(7), le16(9), le16(1), le16(24), new Array(12).fill(0));
    expect(readImageHeader(os2, 'bmp')).toEqual({ width: 7, height: 9 });
    expect(check(bmp(0, 5))).toMatchObject({ reason: 'corrupt-image' });
  });

  it('AVIF: the largest ispe; irot of 90° swaps the displayed size', () => {
    const avif = heifFile('avif', ['mif1'], [[640, 480], [160, 120]]);
    expect(readImageHeader(avif, 'avif')).toEqual({ width: 640, height: 480 });
    expect(check(avif)).toEqual({ ok: true, format: 'avif', width: 640, height: 480 });
    expect(check(heifFile('avif', ['mif1'], [[640, 480]], 1))).toEqual({ ok: true, format: 'avif', width: 480, height: 640 });
    expect(check(heifFile('avif', ['mif1'], [[640, 480]], 2))).toEqual({ ok: true, format: 'avif', width: 640, height: 480 });
    expect(check(heifFile('avif', ['mif1'], [[20_000, 20_000]]))).toMatchObject({ reason: 'too-large' });
  });

  it('ICO: the largest entry, including a PNG inside', () => {
    expect(readImageHeader(ico([{ w: 16, h: 16 }, { w: 0, h: 0 }]), 'ico')).toEqual({ width: 256, height: 256 });
    const inner = pngHeader(512, 512);
    expect(readImageHeader(ico([{ w: 16, h: 16 }, { w: 0, h: 0, png: inner }]), 'ico')).toEqual({ width: 512, height: 512 });
  });
});

describe('jpegOrientation', () => {
  for (const order of ['II', 'MM'] as const) {
    for (let orientation = 1; orientation <= 8; orientation++) {
      it(`${orientation} in ${order === 'II' ? 'little' : 'big'}-endian EXIF`, () => {
        const jpg = withSegments(realJpeg(30, 10), [exifSegment(orientation, order)], orientation % 2 === 0);
        expect(jpegOrientation(jpg)).toBe(orientation);
        expect(readImageHeader(jpg, 'jpeg')).toEqual({ width: 30, height: 10 });
        // Orientations 5–8 turn the image a quarter: the displayed size swaps.
        const displayed = orientation >= 5 ? { width: 10, height: 30 } : { width: 30, height: 10 };
        expect(check(jpg)).toEqual({ ok: true, format: 'jpeg', ...displayed });
      });
    }
  }

  it('reads a LONG-typed orientation, and ignores values outside 1..8', () => {
    expect(jpegOrientation(withSegments(realJpeg(4, 4), [exifSegment(6, 'MM', 4)]))).toBe(6);
    expect(jpegOrientation(withSegments(realJpeg(4, 4), [exifSegment(9, 'II')]))).toBe(1);
    expect(jpegOrientation(withSegments(realJpeg(4, 4), [exifSegment(0, 'II')]))).toBe(1);
  });

  it('is 1 without EXIF, for XMP-only APP1, for a cut-off EXIF block, and for non-JPEGs', () => {
    expect(jpegOrientation(realJpeg(4, 4))).toBe(1);
    const xmp = bytes([0xff, 0xe1], be16(2 + 29 + 10), 'http://ns.adobe.com/xap/1.0/\0', new Array(10).fill(0x20));
    expect(jpegOrientation(withSegments(realJpeg(4, 4), [xmp, exifSegment(3, 'II')]))).toBe(3);
    const cut = withSegments(realJpeg(4, 4), [exifSegment(6, 'II')]).subarray(0, 30);
    expect(jpegOrientation(cut)).toBe(1);
    expect(jpegOrientation(realPng(2, 2))).toBe(1);
  });
});

describe('never throws', () => {
  const formats: ImageFormat[] = ['jpeg', 'png', 'gif', 'webp', 'bmp', 'avif', 'ico'];
  const prefixes = [
    new Uint8Array(),
    realJpeg(8, 8).subarray(0, 2),
    bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    bytes('GIF89a'),
    bytes('RIFF\0\0\0\0WEBPVP8X'),
    bytes('BM\0\0\0\0\0\0\0\0\0\0\0\0', le32(40)),
    bytes([0, 0, 1, 0, 2, 0]),
    bytes(be32(24), 'ftypavif'),
    bytes('II*\0'),
    bytes('<?xml '),
    bytes([0xff, 0xfe]),
  ];
  const head = fc.tuple(fc.constantFrom(...prefixes), fc.uint8Array({ maxLength: 600 })).map(([p, rest]) => bytes(p, rest));

  it('on arbitrary bytes, plain or behind a real signature', () => {
    fc.assert(
      fc.property(head, fc.nat(), (b, extra) => {
        const sniff = sniffImage(b);
        expect(['image', 'unsupported', 'not-image']).toContain(sniff.kind);
        const orientation = jpegOrientation(b);
        expect(orientation >= 1 && orientation <= 8).toBe(true);
        for (const format of formats) {
          const size = readImageHeader(b, format);
          if (size) expect(size.width > 0 && size.height > 0).toBe(true);
        }
        const result = checkDecodable(b, b.length + (extra % 3 === 0 ? 0 : extra));
        if (!result.ok) expect(result.detail.length).toBeGreaterThan(10);
      }),
      { numRuns: 3000 },
    );
  });

  it('on every truncation and single-byte corruption of real headers', () => {
    const files = [realJpeg(20, 10), withSegments(realJpeg(9, 9), [exifSegment(6, 'MM')]), realPng(5, 5), progressiveJpeg(100, 50), gif([3, 3], [0, 0, 3, 3]), webpLossless(9, 9), bmp(4, -4), heifFile('avif', ['mif1'], [[64, 64]], 3), ico([{ w: 0, h: 0, png: pngHeader(300, 300) }])];
    for (const file of files) {
      for (let n = 0; n <= Math.min(file.length, 400); n++) {
        checkDecodable(file.subarray(0, n), file.length);
        checkDecodable(file.subarray(0, n), n);
      }
    }
    fc.assert(
      fc.property(fc.constantFrom(...files), fc.nat(), fc.integer({ min: 0, max: 255 }), (file, at, value) => {
        const copy = file.slice();
        copy[at % copy.length] = value;
        checkDecodable(copy, copy.length);
        jpegOrientation(copy);
      }),
      { numRuns: 2000 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Real files: the near-duplicate benchmark's photos, with sizes recorded by Pillow.

const dataDir = new URL('../../../../shared/data/neardup/', import.meta.url);
const haveData = existsSync(new URL('ground_truth.csv', dataDir));

describe.skipIf(!haveData)('real images from ../shared/data/neardup', () => {
  const rows = haveData
    ? readFileSync(new URL('ground_truth.csv', dataDir), 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.split(','))
        .map((cols) => ({ file: cols[0], width: Number(cols[7]), height: Number(cols[8]), bytes: Number(cols[10]) }))
    : [];
  const formatOf: Record<string, ImageFormat> = { jpg: 'jpeg', png: 'png', webp: 'webp' };

  it('has the benchmark (601 files in jpg, png and webp)', () => {
    expect(rows.length).toBe(601);
    expect(new Set(rows.map((r) => r.file.split('.').pop()))).toEqual(new Set(['jpg', 'png', 'webp']));
  });

  it('recognises every file and reads its size from the first 64 KB', () => {
    for (const row of rows) {
      const data = new Uint8Array(readFileSync(new URL(row.file, dataDir)));
      expect(data.length, row.file).toBe(row.bytes);
      const head = data.subarray(0, 64 * 1024);
      const format = formatOf[row.file.split('.').pop()!];
      expect(sniffImage(head), row.file).toEqual({ kind: 'image', format });
      expect(readImageHeader(head, format), row.file).toEqual({ width: row.width, height: row.height });
      const orientation = format === 'jpeg' ? jpegOrientation(head) : 1;
      const displayed = orientation >= 5 ? { width: row.height, height: row.width } : { width: row.width, height: row.height };
      expect(checkDecodable(head, data.length), row.file).toEqual({ ok: true, format, ...displayed });
    }
  });

  it('a real JPEG cut inside its header is corrupt when that is the whole file, undecided otherwise', () => {
    const data = new Uint8Array(readFileSync(new URL('images/g000_orig.jpg', dataDir)));
    const sof = data.findIndex((b, i) => b === 0xff && data[i + 1] === 0xc0);
    const cut = data.subarray(0, sof + 4);
    expect(checkDecodable(cut, data.length)).toEqual({ ok: true, format: 'jpeg' });
    expect(checkDecodable(cut, cut.length)).toMatchObject({ ok: false, reason: 'corrupt-image' });
  });
});
