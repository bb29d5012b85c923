/**
 * describeTruncation: after a failed decode, a file that is cut short says so and where, instead of
 * the browser's "The source image could not be decoded." Found by the bad-input browser test
 * (tests/e2e/bad-input.test.ts: a JPEG and a PNG cut in half).
 */
import { crc32 as zlibCrc32 } from 'node:zlib';
import fc from 'fast-check';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { checkDecodable, describeTruncation, type ImageFormat } from '../../../src/core/sniff.ts';

function realPng(width: number, height: number): Uint8Array {
  const png = new PNG({ width, height });
  for (let i = 0; i < png.data.length; i++) png.data[i] = (i * 37 + (i >> 7)) & 0xff;
  return new Uint8Array(PNG.sync.write(png));
}

function realJpeg(width: number, height: number): Uint8Array {
  const data = Buffer.alloc(width * height * 4);
  for (let i = 0; i < data.length; i++) data[i] = (i * 13 + (i >> 9)) & 0xff;
  return new Uint8Array(jpeg.encode({ data, width, height }, 85).data);
}

const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

/** Offset of the first SOS marker (FF DA) found by walking segments. */
function scanStart(b: Uint8Array): number {
  let i = 2;
  while (b[i] === 0xff && b[i + 1] !== 0xda) i += 2 + ((b[i + 2] << 8) | b[i + 3]);
  return i;
}

/** An APP1 Exif segment holding an embedded thumbnail JPEG, as cameras write (its own FF D8 … FF D9). */
function withExifThumbnail(jpegBytes: Uint8Array): Uint8Array {
  const thumb = realJpeg(8, 8);
  const body = concat(Buffer.from('Exif\0\0', 'latin1'), Buffer.from('MM\0*\0\0\0\x08\0\0\0\0\0\0', 'latin1'), thumb);
  const app1 = concat(Uint8Array.from([0xff, 0xe1, (body.length + 2) >> 8, (body.length + 2) & 0xff]), body);
  return concat(jpegBytes.subarray(0, 2), app1, jpegBytes.subarray(2));
}

describe('describeTruncation', () => {
  const png = realPng(64, 48);
  const jpg = realJpeg(64, 48);

  it('says nothing about complete files, also with bytes after their end', () => {
    expect(describeTruncation(png, 'png')).toBeNull();
    expect(describeTruncation(jpg, 'jpeg')).toBeNull();
    expect(describeTruncation(concat(png, Buffer.from('trailing junk')), 'png')).toBeNull();
    expect(describeTruncation(concat(jpg, Buffer.from('trailing junk')), 'jpeg')).toBeNull();
    expect(describeTruncation(withExifThumbnail(jpg), 'jpeg')).toBeNull();
  });

  it('a PNG cut anywhere after its signature is cut short, and the message says where', () => {
    expect(describeTruncation(png.subarray(0, Math.floor(png.length / 2)), 'png')).toBe(
      `This PNG file is cut short: it ends after ${Math.floor(png.length / 2).toLocaleString('en-US')} bytes, inside its image data (IDAT chunk), which needs ${(png.length - 12 - Math.floor(png.length / 2)).toLocaleString('en-US')} more bytes.`,
    );
    expect(describeTruncation(png.subarray(0, png.length - 12), 'png')).toMatch(/without the IEND chunk that ends every PNG\.$/);
    expect(describeTruncation(png.subarray(0, png.length - 6), 'png')).toMatch(/in the middle of a chunk header/);
    // Up to the IEND chunk's type: past that, only its CRC is missing and the image itself is whole.
    for (let cut = 8; cut < png.length - 4; cut++) {
      expect(describeTruncation(png.subarray(0, cut), 'png'), `cut at ${cut}`).toMatch(/^This PNG file is cut short: it ends after [\d,]+ bytes, /);
    }
  });

  it('a JPEG cut inside its scan has no end-of-image marker; cut in its header, no image data', () => {
    const sos = scanStart(jpg);
    for (let cut = sos + 4; cut < jpg.length - 1; cut += 7) {
      expect(describeTruncation(jpg.subarray(0, cut), 'jpeg'), `cut at ${cut}`).toMatch(
        /^This JPEG file is cut short: it ends after [\d,]+ bytes, in the middle of its compressed image data \(there is no end-of-image marker\)\.$/,
      );
    }
    expect(describeTruncation(jpg.subarray(0, 30), 'jpeg')).toMatch(/inside its header segments, before the image data starts\.$/);
    expect(describeTruncation(jpg.subarray(0, sos), 'jpeg')).toMatch(/before its image data starts\.$/);
  });

  it("an EXIF thumbnail's own end marker does not hide a cut in the main image", () => {
    const camera = withExifThumbnail(jpg);
    expect(describeTruncation(camera.subarray(0, camera.length - 40), 'jpeg')).toMatch(/no end-of-image marker/);
  });

  it('a WebP shorter than its RIFF header says', () => {
    const webp = concat(Buffer.from('RIFF', 'latin1'), Uint8Array.from([0xf4, 0x01, 0, 0]), Buffer.from('WEBPVP8L', 'latin1'), new Uint8Array(100));
    expect(describeTruncation(webp, 'webp')).toBe('This WebP file is cut short: it ends after 116 bytes, though its RIFF header announces 508 bytes.');
    webp[4] = 108; // RIFF size = file length − 8
    webp[5] = 0;
    expect(describeTruncation(webp, 'webp')).toBeNull();
  });

  it('damage that is not a cut, and formats it does not walk, give null', () => {
    const renamed = png.slice();
    renamed.set([0x00, 0x01, 0x02, 0x03], 37); // the type of the chunk after IHDR is no longer letters
    expect(describeTruncation(renamed.subarray(0, renamed.length - 20), 'png')).toBeNull();
    const ihdr = png.subarray(12, 29);
    expect(zlibCrc32(ihdr)).toBe(Buffer.from(png.subarray(29, 33)).readUInt32BE(0)); // a real IHDR, as a sanity check
    for (const format of ['gif', 'bmp', 'avif', 'ico'] as ImageFormat[]) expect(describeTruncation(png.subarray(0, 100), format)).toBeNull();
    expect(describeTruncation(jpg, 'png')).toBeNull();
    expect(describeTruncation(png, 'jpeg')).toBeNull();
  });

  it('never throws, whatever the bytes', () => {
    const formats: ImageFormat[] = ['png', 'jpeg', 'webp', 'gif', 'bmp', 'avif', 'ico'];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom(...formats), fc.constantFrom('png', 'jpeg', 'none'), (tail, format, prefix) => {
        const head = prefix === 'png' ? png.subarray(0, 33) : prefix === 'jpeg' ? jpg.subarray(0, 20) : new Uint8Array(0);
        const result = describeTruncation(concat(head, tail), format);
        expect(result === null || /^This \w+ file is cut short: it ends after [\d,]+ bytes, .+\.$/.test(result)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('agrees with checkDecodable: a head that ends inside the header is already refused before decoding', () => {
    // describeTruncation explains failed decodes; checkDecodable refuses a file whose header is cut.
    const cut = jpg.subarray(0, 30);
    expect(checkDecodable(cut, cut.length)).toMatchObject({ ok: false, reason: 'corrupt-image' });
    const half = Math.floor(png.length / 2);
    expect(checkDecodable(png.subarray(0, half), half)).toMatchObject({ ok: true });
  });
});
