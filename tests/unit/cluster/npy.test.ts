/** .npy reading and writing: byte-identical to np.save, round trips, all header versions. */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { parseNpy, writeNpyFloat32, writeNpyFloat64 } from '../../../src/core/cluster/npy.ts';
import { REF_DIR } from './support.ts';

// np.save(f, np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5 - 1), numpy 2.4.
const NUMPY_2x3_F4 =
  '934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c2033292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a000080bf000000bf000000000000003f0000803f0000c03f';
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const SAMPLE = new Float32Array([-1, -0.5, 0, 0.5, 1, 1.5]);

test('writeNpyFloat32 writes exactly what np.save writes', () => {
  expect(hex(writeNpyFloat32(2, 3, SAMPLE))).toBe(NUMPY_2x3_F4);
});

test('the data starts on a 64-byte boundary for any shape', () => {
  for (const [r, c] of [[0, 0], [1, 1], [7, 1280], [12, 34567], [123456, 1]] as const) {
    const file = writeNpyFloat32(r, c, new Float32Array(r * c));
    expect((file.length - r * c * 4) % 64).toBe(0);
    expect(parseNpy(file).shape).toEqual([r, c]);
  }
});

test('round trip float32 and float64 (fast-check)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 12 }),
      fc.integer({ min: 0, max: 12 }),
      fc.array(fc.float({ noNaN: true }), { maxLength: 144 }),
      fc.array(fc.double({ noNaN: true }), { maxLength: 144 }),
      (rows, cols, f32, f64) => {
        const a = Float32Array.from({ length: rows * cols }, (_, i) => f32[i % Math.max(1, f32.length)] ?? 0);
        const back = parseNpy(writeNpyFloat32(rows, cols, a));
        expect(back.shape).toEqual([rows, cols]);
        expect(back.data).toBeInstanceOf(Float32Array);
        expect(Array.from(back.data)).toEqual(Array.from(a));
        const b = Float64Array.from({ length: rows * cols }, (_, i) => f64[i % Math.max(1, f64.length)] ?? 0);
        const back64 = parseNpy(writeNpyFloat64(rows, cols, b));
        expect(back64.data).toBeInstanceOf(Float64Array);
        expect(Array.from(back64.data)).toEqual(Array.from(b));
      },
    ),
  );
});

test('-0, subnormals, infinities and NaN survive bit-exactly', () => {
  const a = new Float32Array([-0, 1e-45, -3.4028234663852886e38, Infinity, -Infinity, NaN]);
  const back = parseNpy(writeNpyFloat32(1, 6, a)).data;
  expect(Buffer.from(back.buffer).equals(Buffer.from(a.buffer))).toBe(true);
});

/** Re-wraps the payload of a v1 file under another header version / text. */
function withHeader(version: 1 | 2 | 3, header: string, payload: Uint8Array): Uint8Array {
  const enc = new TextEncoder().encode(header);
  const pre = version === 1 ? 10 : 12;
  const out = new Uint8Array(pre + enc.length + payload.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, enc.length, true);
  else view.setUint32(8, enc.length, true);
  out.set(enc, pre);
  out.set(payload, pre + enc.length);
  return out;
}
const payload = new Uint8Array(SAMPLE.buffer.slice(0));

test('versions 2.0 and 3.0, shapes (n,) and (), unaligned input', () => {
  for (const v of [2, 3] as const) {
    const f = parseNpy(withHeader(v, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", payload));
    expect(f.shape).toEqual([2, 3]);
    expect(Array.from(f.data)).toEqual(Array.from(SAMPLE));
  }
  expect(parseNpy(withHeader(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }\n", payload)).shape).toEqual([6]);
  const scalar = parseNpy(withHeader(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }\n", payload.slice(0, 4)));
  expect(scalar.shape).toEqual([]);
  expect(Array.from(scalar.data)).toEqual([-1]);
  // Odd byteOffset: must not try to view the data in place.
  const file = writeNpyFloat32(2, 3, SAMPLE);
  const shifted = new Uint8Array(file.length + 1);
  shifted.set(file, 1);
  expect(Array.from(parseNpy(shifted.subarray(1)).data)).toEqual(Array.from(SAMPLE));
});

test('big-endian float64 is byte-swapped', () => {
  const be = new Uint8Array(16);
  const view = new DataView(be.buffer);
  view.setFloat64(0, Math.PI, false);
  view.setFloat64(8, -2.5, false);
  const f = parseNpy(withHeader(1, "{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }\n", be));
  expect(Array.from(f.data)).toEqual([Math.PI, -2.5]);
});

test('rejects what it cannot represent faithfully', () => {
  expect(() => parseNpy(new Uint8Array(20))).toThrow(/magic/);
  expect(() => parseNpy(withHeader(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }\n", payload))).toThrow(/Fortran/);
  expect(() => parseNpy(withHeader(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }\n", payload))).toThrow(/dtype/);
  expect(() => parseNpy(withHeader(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 3), }\n", payload))).toThrow(/truncated/);
  expect(() => writeNpyFloat32(2, 2, SAMPLE)).toThrow();
});

test('reads the reference files as numpy does', () => {
  const X = parseNpy(readFileSync(`${REF_DIR}/gmm_n50_d64_seed1_X.npy`));
  expect(X.shape).toEqual([50, 64]);
  expect(X.data).toBeInstanceOf(Float32Array);
  expect(Array.from(X.data.subarray(0, 3))).toEqual([-0.7603487372398376, -0.6558642387390137, -0.17800001800060272]);
  expect(Array.from(X.data.subarray(50 * 64 - 2))).toEqual([-2.4909889698028564, -0.23158493638038635]);
  const Z = parseNpy(readFileSync(`${REF_DIR}/gmm_n50_d64_seed1_scipy_Z.npy`));
  expect(Z.shape).toEqual([49, 4]);
  expect(Z.data).toBeInstanceOf(Float64Array);
  expect(Array.from(Z.data.subarray(0, 4))).toEqual([13, 23, 0.0912410436806741, 2]);
  // And writing the embeddings back gives the same file byte for byte.
  const bytes = readFileSync(`${REF_DIR}/gmm_n50_d64_seed1_X.npy`);
  expect(Buffer.from(writeNpyFloat32(50, 64, X.data as Float32Array)).equals(bytes)).toBe(true);
});
