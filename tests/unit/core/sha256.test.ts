/**
 * The incremental SHA-256 that hashes files too large to hold, checked against Node's OpenSSL and
 * Web Crypto: fed in any pieces, it must give the digest of the whole.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import jpeg from 'jpeg-js';
import { describe, expect, test } from 'vitest';
import { Sha256, sha256Hex, sha256HexOfBlob } from '../../../src/core/sha256.ts';
import { crc32 } from '../../../src/core/sniff.ts';
import { FeatureStore } from '../../../src/store/feature-store.ts';
import { computeFeatures, MAX_DECODE_BYTES, readFiles, WHOLE_READ_BYTES } from '../../../src/workers/hash/analyse.ts';

const reference = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

const ascii = (s: string) => new TextEncoder().encode(s);

/** Cuts bytes at the given offsets (any order, duplicates and out-of-range ones allowed). */
function pieces(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const to of [...at, bytes.length]) {
    out.push(bytes.subarray(from, to));
    from = to;
  }
  return out;
}

describe('Sha256', () => {
  test('the FIPS 180-4 example messages', () => {
    expect(new Sha256().hex()).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(new Sha256().update(ascii('abc')).hex()).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(new Sha256().update(ascii('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).hex()).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
    const a = new Sha256();
    const thousand = ascii('a'.repeat(1000));
    for (let i = 0; i < 1000; i++) a.update(thousand);
    expect(a.hex()).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  });

  test('every length up to 300 bytes, so each padding case (55, 56, 63, 64, 119, 120 …) is met', () => {
    const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 131 + 7) & 0xff);
    for (let n = 0; n <= bytes.length; n++) {
      expect(new Sha256().update(bytes.subarray(0, n)).hex(), `${n} bytes`).toBe(reference(bytes.subarray(0, n)));
    }
  });

  test('any chunking of any bytes gives the digest of the whole (node:crypto and crypto.subtle agree)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 2000 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        async (bytes, cuts) => {
          const hash = new Sha256();
          for (const piece of pieces(bytes, cuts)) hash.update(piece);
          const got = hash.hex();
          expect(got).toBe(reference(bytes));
          expect(got).toBe(await sha256Hex(bytes));
        },
      ),
      { numRuns: 300 },
    );
  });

  test('views into larger buffers are hashed from their own offset', () => {
    const buffer = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
    const view = buffer.subarray(13, 877);
    expect(new Sha256().update(view).hex()).toBe(reference(view));
  });

  test('a finished hash refuses more input', () => {
    const hash = new Sha256().update(ascii('abc'));
    hash.digest();
    expect(() => hash.update(ascii('d'))).toThrow(/after digest/);
    expect(() => hash.digest()).toThrow(/twice/);
  });

  test('past 512 MiB the bit length needs its high word: 520 MiB of zeros, fed 8 MiB at a time', () => {
    const chunk = new Uint8Array(8 * 1024 * 1024);
    const ours = new Sha256();
    const theirs = createHash('sha256');
    for (let i = 0; i < 65; i++) {
      ours.update(chunk);
      theirs.update(chunk);
    }
    expect(ours.hex()).toBe(theirs.digest('hex'));
  });
});

describe('sha256HexOfBlob', () => {
  test('any slice size gives the digest of the whole Blob', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), fc.integer({ min: 1, max: 4000 }), async (bytes, chunkBytes) => {
        expect(await sha256HexOfBlob(new Blob([bytes]), { chunkBytes })).toBe(reference(bytes));
      }),
      { numRuns: 200 },
    );
  });

  test('a Blob of several default 8 MiB slices, with a partial last one', async () => {
    const bytes = new Uint8Array(8 * 1024 * 1024 * 2 + 12_345);
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = (i >>> 12) & 0xff;
    expect(await sha256HexOfBlob(new Blob([bytes]))).toBe(reference(bytes));
  });

  test('an empty Blob, and an aborted read', async () => {
    expect(await sha256HexOfBlob(new Blob([]))).toBe(reference(new Uint8Array(0)));
    const controller = new AbortController();
    controller.abort();
    await expect(sha256HexOfBlob(new Blob([new Uint8Array(100)]), { chunkBytes: 10, signal: controller.signal })).rejects.toThrow();
  });
});

/** A Blob that refuses to be read whole: only slices of it can be read. */
class SlicesOnly extends Blob {
  override arrayBuffer(): Promise<ArrayBuffer> {
    throw new Error('read whole');
  }
}

/**
 * A Blob that claims `size` bytes but holds only `head` (reads past it are zeros): enough for code
 * that must look at the start of a huge file and never read the rest.
 */
class Huge extends Blob {
  constructor(
    private readonly head: Uint8Array,
    private readonly claimed: number,
  ) {
    super([]);
  }
  override get size(): number {
    return this.claimed;
  }
  override slice(start = 0, end = this.claimed): Blob {
    if (end - start > 64 * 1024 * 1024) throw new Error(`a slice of ${end - start} bytes`);
    const out = new Uint8Array(end - start);
    out.set(this.head.subarray(Math.min(start, this.head.length), Math.min(end, this.head.length)));
    return new Blob([out]);
  }
  override arrayBuffer(): Promise<ArrayBuffer> {
    throw new Error('read whole');
  }
}

function smallJpeg(): Uint8Array {
  const data = Buffer.alloc(16 * 16 * 4, 0x80);
  return new Uint8Array(jpeg.encode({ data, width: 16, height: 16 }, 80).data);
}

describe('large files in the hash worker (src/workers/hash/analyse.ts)', () => {
  test('a file over the whole-read size is hashed in slices, never read whole, and handed on as the file itself', async () => {
    const bytes = new Uint8Array(WHOLE_READ_BYTES + 12_345);
    bytes.set(smallJpeg());
    const file = new SlicesOnly([bytes]);
    const [outcome] = await readFiles([file], FeatureStore.inMemory());
    expect(outcome).toEqual({ done: false, sha256: reference(bytes), source: file });
  });

  test('a JPEG of 1.1 GB is refused by its size after a look at its start, with its SHA-256 kept', async () => {
    const size = Math.round(1.1 * 1024 ** 3);
    const result = await computeFeatures('b'.repeat(64), new Huge(smallJpeg(), size));
    expect(result).toMatchObject({ ok: false, sha256: 'b'.repeat(64), cached: false, reason: 'too-large' });
    expect(!result.ok && result.detail).toMatch(/^This JPEG file is 1\.1 GB, over the limit of 512 MB for decoding in the browser; it was not decoded/);
    expect(MAX_DECODE_BYTES).toBeLessThan(size);
  });

  test('a huge file that is no image gets that reason, not the size one', async () => {
    const result = await computeFeatures('c'.repeat(64), new Huge(new TextEncoder().encode('%PDF-1.7\n'), 2 * 1024 ** 3));
    expect(result).toMatchObject({ ok: false, reason: 'not-an-image' });
  });

  test('a huge image whose header asks for too many pixels gets the pixel reason', async () => {
    // A PNG signature and an IHDR chunk of 20,000 × 20,000, with its CRC.
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0x4e, 0x20, 0, 0, 0x4e, 0x20, 8, 6, 0, 0, 0, 0, 0, 0, 0]);
    png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
    const result = await computeFeatures('d'.repeat(64), new Huge(png, 700 * 1024 * 1024));
    expect(result).toMatchObject({ ok: false, reason: 'too-large' });
    expect(!result.ok && result.detail).toMatch(/20,000 × 20,000 pixels/);
  });
});
