/** The comparison loop of multi-index hashing (pairs-mih.ts): a WebAssembly function assembled here, and the same loop in JavaScript. */

/**
 * Module-local SWAR popcount (pairs.ts explains why hot loops do not call an imported one);
 * exported for the planner, which is not a hot loop.
 */
export function pc(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/**
 * Compares bucket v of table A (bucket table at offA) with every bucket w = v ^ e of table B, e
 * from the pattern list [pats, patsEnd); with `self` set, B is A and only w ≥ v is visited (the
 * bucket with itself as a triangle). Writes the byte addresses of each pair within distance t to
 * [out, outEnd) and returns the new end, or -1 when the output area fills up (the caller grows it
 * and calls again for the same v; sizing it for the worst case up front would ask for
 * |bucket|² entries where a common block value makes one bucket large).
 */
export type BucketFn = (
  offA: number,
  offB: number,
  pats: number,
  patsEnd: number,
  v: number,
  t: number,
  out: number,
  outEnd: number,
  self: number,
) => number;

/** The JavaScript version of the wasm function below, on the same memory layout. */
export function bucketJs(
  m: Int32Array,
  offA: number,
  offB: number,
  pats: number,
  patsEnd: number,
  v: number,
  t: number,
  out: number,
  outEnd: number,
  self: number,
): number {
  const s0 = m[(offA >>> 2) + v];
  const s1 = m[(offA >>> 2) + v + 1];
  for (let p = pats; p < patsEnd; p += 4) {
    const w = v ^ m[p >>> 2];
    if (self && w < v) continue;
    const u0 = m[(offB >>> 2) + w];
    const u1 = m[(offB >>> 2) + w + 1];
    if (u0 === u1) continue;
    const triangle = self && w === v;
    for (let a = s0; a < s1; a += 8) {
      const xl = m[a >>> 2];
      const xh = m[(a >>> 2) + 1];
      for (let q = triangle ? a + 8 : u0; q < u1; q += 8) {
        let d = pc(xl ^ m[q >>> 2]);
        if (d > t) continue;
        d += pc(xh ^ m[(q >>> 2) + 1]);
        if (d > t) continue;
        if (out >= outEnd) return -1;
        m[out >>> 2] = a;
        m[(out >>> 2) + 1] = q;
        out += 8;
      }
    }
  }
  return out;
}

let compiled: WebAssembly.Module | null | undefined;

/** Compiles once; null where WebAssembly is missing or refused (e.g. by a stricter CSP). */
export function wasmModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = typeof WebAssembly === 'object' ? new WebAssembly.Module(assembleBucketModule()) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/**
 * The wasm module, written out by hand (the project has no wasm toolchain, and the function is
 * small). It imports its memory as env.mem and exports `bucket`, the same function as bucketJs;
 * the comments give the bucketJs line each group of instructions stands for. Opcodes are from the
 * WebAssembly core specification, binary format (§5.4).
 */
function assembleBucketModule(): Uint8Array<ArrayBuffer> {
  const I32 = 0x7f;
  const I64 = 0x7e;
  // Parameters (as in BucketFn), then locals, by index.
  const [offA, offB, pats, patsEnd, v, t, out, outEnd, self] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [s0, s1, w, u0, u1, a, q] = [9, 10, 11, 12, 13, 14, 15];
  const x = 16; // the only i64 local

  const op = {
    block: 0x02,
    loop: 0x03,
    if: 0x04,
    end: 0x0b,
    br: 0x0c,
    brIf: 0x0d,
    return: 0x0f,
    select: 0x1b,
    localGet: 0x20,
    localSet: 0x21,
    localTee: 0x22,
    i32Load: 0x28,
    i64Load: 0x29,
    i32Store: 0x36,
    i32Const: 0x41,
    i32Eq: 0x46,
    i32LtU: 0x49,
    i32LeU: 0x4d,
    i32GeU: 0x4f,
    i32Add: 0x6a,
    i32And: 0x71,
    i32Xor: 0x73,
    i32Shl: 0x74,
    i64Popcnt: 0x7b,
    i64Xor: 0x85,
    i32WrapI64: 0xa7,
    emptyType: 0x40,
  };
  const code: number[] = [];
  const labels: string[] = [];
  const emit = (...bytes: number[]) => code.push(...bytes);
  const get = (...locals: number[]) => locals.forEach((i) => emit(op.localGet, i));
  const set = (i: number) => emit(op.localSet, i);
  const tee = (i: number) => emit(op.localTee, i);
  const i32 = (k: number) => emit(op.i32Const, ...sleb(k));
  // Memory access with its alignment exponent and a constant byte offset.
  const load32 = (offset = 0) => emit(op.i32Load, 2, ...uleb(offset));
  const load64 = (offset = 0) => emit(op.i64Load, 3, ...uleb(offset));
  const store32 = (offset = 0) => emit(op.i32Store, 2, ...uleb(offset));
  const addTo = (i: number, k: number) => {
    get(i);
    i32(k);
    emit(op.i32Add);
    set(i);
  };
  // Structured control: branch targets by name, turned into relative depths.
  const nest = (opcode: number, name: string, body: () => void) => {
    emit(opcode, op.emptyType);
    labels.push(name);
    body();
    labels.pop();
    emit(op.end);
  };
  const depth = (name: string) => labels.length - 1 - labels.lastIndexOf(name);
  const br = (name: string) => emit(op.br, depth(name));
  const brIf = (name: string) => emit(op.brIf, depth(name));
  /** while (cond) body, as block { loop { if (!cond) break; body; continue } }. */
  const whileLt = (i: number, limit: number, name: string, body: () => void) =>
    nest(op.block, `${name}:exit`, () =>
      nest(op.loop, name, () => {
        get(i, limit);
        emit(op.i32GeU);
        brIf(`${name}:exit`);
        body();
        br(name);
      }),
    );

  // s0 = m[offA/4 + v]; s1 = m[offA/4 + v + 1]
  get(offA, v);
  i32(2);
  emit(op.i32Shl, op.i32Add);
  tee(s1);
  load32();
  set(s0);
  get(s1);
  load32(4);
  set(s1);
  // for (p = pats; p < patsEnd; p += 4)
  whileLt(pats, patsEnd, 'pattern', () => {
    // w = v ^ m[p/4]
    get(pats);
    load32();
    get(v);
    emit(op.i32Xor);
    set(w);
    addTo(pats, 4);
    // if (self && w < v) continue
    get(self, w, v);
    emit(op.i32LtU, op.i32And);
    brIf('pattern');
    // u0 = m[offB/4 + w]; u1 = m[offB/4 + w + 1]; if (u0 === u1) continue
    get(offB, w);
    i32(2);
    emit(op.i32Shl, op.i32Add);
    tee(u1);
    load32();
    set(u0);
    get(u1);
    load32(4);
    set(u1);
    get(u0, u1);
    emit(op.i32Eq);
    brIf('pattern');
    // for (a = s0; a < s1; a += 8)
    get(s0);
    set(a);
    whileLt(a, s1, 'row', () => {
      // x = the 64-bit hash at a
      get(a);
      load64();
      set(x);
      // q = self && w === v ? a + 8 : u0
      get(a);
      i32(8);
      emit(op.i32Add);
      get(u0, self, w, v);
      emit(op.i32Eq, op.i32And, op.select);
      set(q);
      // for (; q < u1; q += 8)
      whileLt(q, u1, 'col', () => {
        // if (popcount(x ^ hash at q) <= t): rarely true, so the branch predicts well
        get(x, q);
        load64();
        emit(op.i64Xor, op.i64Popcnt, op.i32WrapI64);
        get(t);
        emit(op.i32LeU);
        nest(op.if, 'found', () => {
          // if (out >= outEnd) return -1
          get(out, outEnd);
          emit(op.i32GeU);
          nest(op.if, 'full', () => {
            i32(-1);
            emit(op.return);
          });
          // m[out/4] = a; m[out/4 + 1] = q; out += 8
          get(out, a);
          store32();
          get(out, q);
          store32(4);
          addTo(out, 8);
        });
        addTo(q, 8);
      });
      addTo(a, 8);
    });
  });
  get(out);
  emit(op.end);

  const body = [...uleb(2), ...uleb(7), I32, ...uleb(1), I64, ...code]; // locals: 7 × i32, 1 × i64
  const section = (id: number, bytes: number[]) => [id, ...uleb(bytes.length), ...bytes];
  const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
  const name = (text: string) => [...uleb(text.length), ...Array.from(text, (ch) => ch.charCodeAt(0))];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
    ...section(1, vec([[0x60, ...uleb(9), ...new Array<number>(9).fill(I32), 1, I32]])), // type 0: (i32 × 9) → i32
    ...section(2, vec([[...name('env'), ...name('mem'), 0x02, 0x00, 0x01]])), // import env.mem: memory, min 1 page
    ...section(3, vec([[0]])), // function 0 has type 0
    ...section(7, vec([[...name('bucket'), 0x00, 0x00]])), // export function 0 as "bucket"
    ...section(10, vec([[...uleb(body.length), ...body]])), // its code
  ]);
}

function uleb(k: number): number[] {
  const out: number[] = [];
  do {
    let byte = k & 0x7f;
    k >>>= 7;
    if (k !== 0) byte |= 0x80;
    out.push(byte);
  } while (k !== 0);
  return out;
}

function sleb(k: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = k & 0x7f;
    k >>= 7;
    if ((k === 0 && (byte & 0x40) === 0) || (k === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}
