/**
 * computeFeatures when the browser's decoder refuses a file (decodeImage is replaced here, since
 * Node has no createImageBitmap): a file cut short gets a reason that says so and where; other
 * damage keeps the decoder's message. The real decoder's side is tests/e2e/bad-input.test.ts.
 */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it, vi } from 'vitest';

vi.mock('../../../src/workers/hash/decode.ts', () => ({
  decodeImage: vi.fn(async () => {
    throw new DOMException('The source image could not be decoded.', 'InvalidStateError');
  }),
  makeThumbnail: vi.fn(),
}));

const { computeFeatures } = await import('../../../src/workers/hash/analyse.ts');

const SHA = 'a'.repeat(64);
const buffer = (b: Uint8Array): ArrayBuffer => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

function realJpeg(width: number, height: number): Uint8Array {
  const data = Buffer.alloc(width * height * 4);
  for (let i = 0; i < data.length; i++) data[i] = (i * 13 + (i >> 9)) & 0xff;
  return new Uint8Array(jpeg.encode({ data, width, height }, 85).data);
}

function realPng(width: number, height: number): Uint8Array {
  const png = new PNG({ width, height });
  for (let i = 0; i < png.data.length; i++) png.data[i] = (i * 37 + (i >> 7)) & 0xff;
  return new Uint8Array(PNG.sync.write(png));
}

describe('computeFeatures: a failed decode', () => {
  it('of a JPEG cut in its scan says the file is cut short, and where', async () => {
    const whole = realJpeg(64, 64);
    const half = whole.subarray(0, Math.floor(whole.length / 2));
    const result = await computeFeatures(SHA, buffer(half));
    expect(result).toMatchObject({ ok: false, sha256: SHA, cached: false, reason: 'corrupt-image' });
    expect(!result.ok && result.detail).toBe(
      `This JPEG file is cut short: it ends after ${half.length.toLocaleString('en-US')} bytes, in the middle of its compressed image data (there is no end-of-image marker).`,
    );
  });

  it('of a PNG cut in its image data names the chunk', async () => {
    const whole = realPng(64, 64);
    const half = whole.subarray(0, Math.floor(whole.length / 2));
    const result = await computeFeatures(SHA, buffer(half));
    expect(result).toMatchObject({ ok: false, reason: 'corrupt-image' });
    expect(!result.ok && result.detail).toMatch(/^This PNG file is cut short: it ends after [\d,]+ bytes, inside its image data \(IDAT chunk\), which needs [\d,]+ more bytes\.$/);
  });

  it('of a complete file keeps the decoder message', async () => {
    const result = await computeFeatures(SHA, buffer(realJpeg(16, 16)));
    expect(result).toMatchObject({ ok: false, reason: 'corrupt-image' });
    expect(!result.ok && result.detail).toBe(
      'The browser could not decode this JPEG file (damaged or truncated?): The source image could not be decoded.',
    );
  });
});
