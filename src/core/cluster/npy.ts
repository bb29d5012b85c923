/**
 * Minimal NumPy `.npy` reader and writer for float matrices.
 *
 * Why this exists: embeddings leave the app as `embeddings.npy` (so they load with `np.load`), and
 * the test suite reads the reference embeddings and scipy linkage matrices that Python wrote.
 * Only what those need is supported: format versions 1.0, 2.0 and 3.0, dtypes float32 ('f4') and
 * float64 ('f8') in either byte order (big-endian is byte-swapped on read), C order. Anything else
 * (Fortran order, integer or object dtypes, pickles) throws rather than returning wrong numbers.
 *
 * Format (numpy/lib/format.py): magic "\x93NUMPY", major and minor version bytes, header length
 * (uint16 LE for v1, uint32 LE for v2/v3), then a Python dict literal
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (n, d), }` padded with spaces and a final
 * '\n' so that the data starts at a multiple of 64 bytes. v1/v2 headers are latin-1, v3 UTF-8.
 */

export interface NpyArray {
  shape: number[];
  data: Float32Array | Float64Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Parses a `.npy` file holding a float32 or float64 array in C order. */
export function parseNpy(bytes: Uint8Array): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new Error('npy: bad magic');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new Error('npy: truncated header');
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new Error(`npy: unsupported format version ${major}.${bytes[7]}`);
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) throw new Error('npy: truncated header');
  const headerBytes = bytes.subarray(headerStart, dataStart);
  let header = '';
  if (major === 3) header = new TextDecoder('utf-8').decode(headerBytes);
  else for (let i = 0; i < headerBytes.length; i++) header += String.fromCharCode(headerBytes[i]); // latin-1

  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new Error(`npy: unparseable header ${JSON.stringify(header)}`);
  }
  if (fortran === 'True') throw new Error('npy: Fortran-order arrays are not supported');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      if (!/^\d+L?$/.test(s)) throw new Error(`npy: bad shape entry ${JSON.stringify(s)}`);
      return parseInt(s, 10);
    });
  const count = shape.reduce((a, b) => a * b, 1);

  const m = /^([<>|=])f([48])$/.exec(descr);
  if (!m) throw new Error(`npy: unsupported dtype ${JSON.stringify(descr)} (only float32/float64)`);
  const size = m[2] === '4' ? 4 : 8;
  // '=' means native order of the writer; numpy itself always writes '<' or '>' for floats.
  const littleEndian = m[1] !== '>';
  const byteCount = count * size;
  if (dataStart + byteCount > bytes.length) throw new Error('npy: truncated data');

  // Copy into a fresh, aligned buffer: the source may sit at any byteOffset and the caller may
  // reuse it; a copy also means the result never aliases the input. (Not `bytes.slice`: on a
  // Node Buffer that returns a view into a shared pool.)
  const raw = new Uint8Array(byteCount);
  raw.set(bytes.subarray(dataStart, dataStart + byteCount));
  const data = size === 4 ? new Float32Array(raw.buffer) : new Float64Array(raw.buffer);
  if (littleEndian !== LITTLE_ENDIAN_HOST) swapBytes(raw, size);
  return { shape, data };
}

function swapBytes(raw: Uint8Array, size: number): void {
  for (let p = 0; p < raw.length; p += size) {
    for (let a = p, b = p + size - 1; a < b; a++, b--) {
      const t = raw[a];
      raw[a] = raw[b];
      raw[b] = t;
    }
  }
}

function writeNpy(shape: readonly number[], descr: '<f4' | '<f8', data: Float32Array | Float64Array): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new Error(`npy: data has ${data.length} values, shape needs ${count}`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  // Exactly what numpy writes (np.save), so the files are byte-identical to Python's.
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + header.length + 1; // magic+version+len, header, '\n'
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  if (header.length > 0xffff) throw new Error('npy: header too long for format 1.0');
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = header.length & 0xff;
  out[9] = header.length >>> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const start = 10 + header.length;
  if (LITTLE_ENDIAN_HOST) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), start);
  } else {
    const view = new DataView(out.buffer, start);
    const size = data.BYTES_PER_ELEMENT;
    for (let i = 0; i < data.length; i++) {
      if (size === 4) view.setFloat32(i * 4, data[i], true);
      else view.setFloat64(i * 8, data[i], true);
    }
  }
  return out;
}

/** A rows × cols float32 matrix (row-major) as a version 1.0 `.npy` file, as `np.save` writes it. */
export function writeNpyFloat32(rows: number, cols: number, data: Float32Array): Uint8Array {
  return writeNpy([rows, cols], '<f4', data);
}

/** Same for float64 (e.g. a linkage matrix, rows × 4). */
export function writeNpyFloat64(rows: number, cols: number, data: Float64Array): Uint8Array {
  return writeNpy([rows, cols], '<f8', data);
}
