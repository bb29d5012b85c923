/**
 * SHA-256 as lower-case hex: the content key of the feature store and the check on model files.
 * Web Crypto is standard in pages, workers and Node ≥ 20, so this stays importable everywhere.
 */
export async function sha256Hex(bytes: ArrayBuffer | Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as BufferSource)));
}

function toHex(digest: Uint8Array): string {
  let out = '';
  for (let i = 0; i < digest.length; i++) out += digest[i].toString(16).padStart(2, '0');
  return out;
}

// FIPS 180-4, section 4.2.2: the first 32 bits of the fractional parts of the cube roots of the first 64 primes.
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
  0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
  0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
  0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
  0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

// Section 5.3.3: the first 32 bits of the fractional parts of the square roots of the first 8 primes.
const INITIAL = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/**
 * Runs the compression function over every whole 64-byte block of data[at, end). All arithmetic is
 * on int32 (`| 0`), which V8 keeps unboxed; this loop is what bounds the speed of hashing a large file.
 */
function compress(h: Int32Array, w: Int32Array, data: Uint8Array, at: number, end: number): void {
  let h0 = h[0], h1 = h[1], h2 = h[2], h3 = h[3], h4 = h[4], h5 = h[5], h6 = h[6], h7 = h[7];
  for (; at + 64 <= end; at += 64) {
    for (let i = 0, p = at; i < 16; i++, p += 4) {
      w[i] = (data[p] << 24) | (data[p + 1] << 16) | (data[p + 2] << 8) | data[p + 3];
    }
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15];
      const y = w[i - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    let a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, k = h7;
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (k + S1 + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      k = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
    h5 = (h5 + f) | 0;
    h6 = (h6 + g) | 0;
    h7 = (h7 + k) | 0;
  }
  h[0] = h0; h[1] = h1; h[2] = h2; h[3] = h3; h[4] = h4; h[5] = h5; h[6] = h6; h[7] = h7;
}

/**
 * Incremental SHA-256, for input that must not be held whole: Web Crypto only digests one buffer,
 * so a file of gigabytes would have to sit in memory at once. Fed in any pieces, the digest is that
 * of their concatenation.
 */
export class Sha256 {
  readonly #h = Int32Array.from(INITIAL);
  readonly #w = new Int32Array(64);
  /** Bytes of a block not yet complete. */
  readonly #pending = new Uint8Array(64);
  #pendingLength = 0;
  #length = 0;
  #finished = false;

  update(data: Uint8Array): this {
    if (this.#finished) throw new Error('Sha256: update after digest');
    this.#length += data.length;
    let at = 0;
    if (this.#pendingLength > 0) {
      const take = Math.min(64 - this.#pendingLength, data.length);
      this.#pending.set(data.subarray(0, take), this.#pendingLength);
      this.#pendingLength += take;
      at = take;
      if (this.#pendingLength < 64) return this;
      compress(this.#h, this.#w, this.#pending, 0, 64);
      this.#pendingLength = 0;
    }
    const whole = at + Math.floor((data.length - at) / 64) * 64;
    compress(this.#h, this.#w, data, at, whole);
    if (whole < data.length) {
      this.#pending.set(data.subarray(whole), 0);
      this.#pendingLength = data.length - whole;
    }
    return this;
  }

  /** The 32-byte digest. Finishes the hash: no update after it. */
  digest(): Uint8Array {
    if (this.#finished) throw new Error('Sha256: digest called twice');
    this.#finished = true;
    // Padding: 0x80, zeros up to 56 mod 64, then the length in bits as a 64-bit big-endian number.
    const tail = new Uint8Array(this.#pendingLength < 56 ? 64 : 128);
    tail.set(this.#pending.subarray(0, this.#pendingLength));
    tail[this.#pendingLength] = 0x80;
    const view = new DataView(tail.buffer);
    // Bit length = bytes × 8, split so neither half needs more than 32 bits of a double.
    view.setUint32(tail.length - 8, Math.floor(this.#length / 0x20000000));
    view.setUint32(tail.length - 4, (this.#length % 0x20000000) * 8);
    compress(this.#h, this.#w, tail, 0, tail.length);
    const out = new Uint8Array(32);
    const outView = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) outView.setInt32(i * 4, this.#h[i]);
    return out;
  }

  hex(): string {
    return toHex(this.digest());
  }
}

/** Bytes read per step when hashing a Blob: large enough that the per-read cost vanishes, small enough to never matter for memory. */
export const SHA256_CHUNK_BYTES = 8 * 1024 * 1024;

/**
 * SHA-256 of a Blob (a File) read in slices, so at most two slices are in memory however large the
 * file is. The next slice is read while the current one is hashed.
 */
export async function sha256HexOfBlob(blob: Blob, options: { chunkBytes?: number; signal?: AbortSignal } = {}): Promise<string> {
  const { chunkBytes = SHA256_CHUNK_BYTES, signal } = options;
  if (!(chunkBytes > 0)) throw new RangeError('sha256HexOfBlob: chunkBytes must be positive');
  const hash = new Sha256();
  const read = (at: number) => blob.slice(at, Math.min(blob.size, at + chunkBytes)).arrayBuffer();
  let next: Promise<ArrayBuffer> | null = blob.size > 0 ? read(0) : null;
  for (let at = 0; next; ) {
    if (signal?.aborted) {
      next.catch(() => {}); // nobody will await it now
      signal.throwIfAborted();
    }
    const chunk = await next;
    // A file that shrank under us would otherwise loop on empty reads.
    if (chunk.byteLength === 0) throw new Error(`the file ended after ${at} of ${blob.size} bytes while it was read`);
    at += chunk.byteLength;
    next = at < blob.size ? read(at) : null;
    hash.update(new Uint8Array(chunk));
  }
  return hash.hex();
}
