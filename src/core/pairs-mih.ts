/**
 * Exact near pairs by multi-index hashing (MIH), behind the NearPairFinder contract of pairs.ts.
 *
 * Pigeonhole: cut some of the 64 bits into disjoint blocks with radii r_i such that
 * Σ (r_i + 1) ≥ t + 1. A pair within t cannot differ in more than r_i bits in every block (that
 * would be ≥ t + 1 bits), so every such pair has some block whose values are within r_i. For each
 * block the hashes are counting-sorted into buckets by block value, and each bucket is compared
 * with the buckets whose value differs in ≤ r_i bits; candidates are verified on all 64 bits.
 *
 * Why the parts look the way they do:
 * - Block sizes and radii come from a small dynamic programme over a cost model, not from the
 *   textbook m = t + 1: at t = 12 and a million hashes, 13 blocks of ~5 bits with radius 0 would
 *   compare about a third of all pairs, while four blocks of 15–17 bits with radii 2–3 compare
 *   ~1.4%; smaller inputs get smaller tables. Blocks need not cover all 64 bits: the pigeonhole
 *   holds on the covered ones.
 * - On random 64-bit hashes no disjoint layout does much better (an exhaustive search over the
 *   sizes and radii of up to four blocks found none below ~1.2% of pairs at t = 12, and more,
 *   smaller blocks filter less; 1.4% of 5·10¹¹ pairs is still 7·10⁹ comparisons), so the
 *   comparison loop is the cost. It runs in a small WebAssembly
 *   function, assembled in pairs-mih-kernel.ts, because wasm has a native 64-bit popcount: ~0.8 ns per pair
 *   against ~5 ns for the best JavaScript loop (SWAR popcount on two 32-bit halves); 6 s against
 *   37 s at 10⁶ hashes. The same loop in JavaScript remains for runtimes without WebAssembly.
 * - Each pair is reported once without a set of seen pairs: a candidate is accepted only in the
 *   first "slot" (block, and for mirrors which orientation) whose test it passes, which is cheap to
 *   recompute for the rare candidates that pass the full distance test.
 * - Mirrors: d(a, mirror b) ≤ t and d(mirror a, b) ≤ t are found by joining the plain table against
 *   the mirrored one with the same blocks (both orientations: the measure is the minimum of three
 *   distances and the two cross terms can differ).
 * - The cost model assumes evenly spread block values. Real hashes are lumpier (many near-blank
 *   images share block values); a crowded bucket costs comparisons, never correctness.
 */
import type { NearPair, NearPairFinder } from './pairs.ts';
import { splitPackedTable } from './hamming.ts';
import { bucketJs, wasmModule, type BucketFn } from './pairs-mih-kernel.ts';
import { binomialsUpTo, JS_COSTS, makeBlock, MAX_BLOCK_BITS, neighbourPatterns, planBlocks, WASM_COSTS, type Block, type MihBlock } from './pairs-mih-plan.ts';

export type { MihBlock } from './pairs-mih-plan.ts';

/** Comparison loop implementations. */
export type MihKernel = 'auto' | 'wasm' | 'js';

export interface MihOptions {
  /** Comparison loop; 'auto' (the default) uses WebAssembly where it can be instantiated. */
  kernel?: MihKernel;
  /**
   * Blocks to use instead of the planned ones (tests use this to reach layouts the planner would
   * not choose for small inputs). Must be disjoint, 1–22 bits each, and satisfy the pigeonhole
   * condition for the threshold: Σ (radius + 1) ≥ threshold + 1, or one block with radius ≥ bits.
   */
  blocks?: readonly MihBlock[];
}

/**
 * Exact multi-index-hashing finder; see the file comment. Satisfies the NearPairFinder contract
 * (same output as bruteForceNearPairs, including order and d).
 */
export const multiIndexNearPairs: NearPairFinder = (table, mirrored, threshold) =>
  findWith(table, mirrored, threshold, {});

/** The same finder with the comparison loop or the blocks forced. */
export function multiIndexNearPairsWith(options: MihOptions): NearPairFinder {
  return (table, mirrored, threshold) => findWith(table, mirrored, threshold, options);
}

/**
 * The blocks multiIndexNearPairs would use for n hashes, and its estimate of the time in
 * milliseconds from the cost model that chose them (the benchmark records both).
 */
export function multiIndexPlan(
  n: number,
  threshold: number,
  mirrored: boolean,
  kernel: MihKernel = 'auto',
): { blocks: MihBlock[]; estimatedMs: number } {
  if (!(threshold >= 0) || n < 2) return { blocks: [], estimatedMs: 0 };
  const t = Math.min(Math.floor(threshold), 64);
  const plan = planBlocks(n, t, mirrored, kernel !== 'js' && wasmModule() !== null ? WASM_COSTS : JS_COSTS);
  return {
    blocks: plan.blocks.map(({ start, bits, radius }) => ({ start, bits, radius })),
    estimatedMs: plan.cost / 1e6,
  };
}

function findWith(
  table: Uint32Array,
  mirrored: Uint32Array | null,
  threshold: number,
  options: MihOptions,
): NearPair[] {
  if (table.length % 2 !== 0) throw new RangeError('packed hash table must have an even length');
  if (mirrored !== null && mirrored.length !== table.length) {
    throw new RangeError('mirrored table must have the same length as the hash table');
  }
  if (!(threshold >= 0)) return []; // also rejects NaN
  const t = Math.min(Math.floor(threshold), 64);
  const n = table.length >>> 1;
  const kernel = options.kernel ?? 'auto';
  if (kernel === 'wasm' && wasmModule() === null) throw new Error('WebAssembly is not available');
  const useWasm = kernel !== 'js' && wasmModule() !== null;
  const given = options.blocks ? checkedBlocks(options.blocks, t) : null;
  if (n < 2) return [];
  const blocks = given ?? planBlocks(n, t, mirrored !== null, useWasm ? WASM_COSTS : JS_COSTS).blocks;
  return new Search(table, mirrored, t, blocks, useWasm).run();
}

function checkedBlocks(given: readonly MihBlock[], t: number): Block[] {
  const blocks = [...given]
    .sort((x, y) => x.start - y.start)
    .map(({ start, bits, radius }) => makeBlock(start, bits, radius));
  let end = 0;
  let need = t + 1;
  for (const { start, bits, radius } of blocks) {
    const ok =
      [start, bits, radius].every(Number.isInteger) &&
      start >= end &&
      bits >= 1 &&
      bits <= MAX_BLOCK_BITS &&
      start + bits <= 64 &&
      radius >= 0;
    if (!ok) throw new RangeError(`invalid or overlapping block ${JSON.stringify({ start, bits, radius })}`);
    end = start + bits;
    need = radius >= bits ? 0 : need - radius - 1;
  }
  if (blocks.length === 0 || need > 0) {
    throw new RangeError(`blocks do not guarantee every pair within ${t} is found (pigeonhole)`);
  }
  return blocks;
}

// ---------------------------------------------------------------------------------------------
// Search

/**
 * Module-local SWAR popcount (pairs.ts explains why hot loops do not call an imported one).
 */
function pc(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Value of block bits [start, start + bits) (bits ≤ 22) of the hash (hi, lo). */
function blockValue(hi: number, lo: number, start: number, bits: number): number {
  const end = start + bits;
  const mask = (1 << bits) - 1;
  if (end <= 32) return (hi >>> (32 - end)) & mask;
  if (start >= 32) return (lo >>> (64 - end)) & mask;
  return ((hi << (end - 32)) | (lo >>> (64 - end))) & mask;
}

/**
 * One run. Memory layout, in bytes (one ArrayBuffer, shared with the wasm instance):
 *   [offA: 2^maxBits + 1 int32] [offB: same, mirrors only] [patterns: int32 each]
 *   [itemsA: n × 8] [itemsB: n × 8, mirrors only] [out: pairs of int32, grows]
 * Items are the hashes sorted by the current block's value, each as a little-endian int64
 * (low word first). Bucket tables hold byte addresses into the items, so the comparison loop
 * does no index arithmetic.
 */
class Search {
  private readonly n: number;
  private readonly hi: Int32Array;
  private readonly lo: Int32Array;
  private readonly mhi: Int32Array | null;
  private readonly mlo: Int32Array | null;
  private readonly idsA: Int32Array;
  private readonly idsB: Int32Array | null;
  private readonly keys: Int32Array;
  private readonly offA: number;
  private readonly offB: number;
  private readonly patBase: number;
  private readonly itemsA: number;
  private readonly itemsB: number;
  private readonly outBase: number;
  private outEnd: number;
  private memory: WebAssembly.Memory | null = null;
  private buffer: ArrayBuffer;
  private i32: Int32Array;
  private readonly bucketFn: BucketFn;
  private foundA: Int32Array = new Int32Array(1024);
  private foundB: Int32Array = new Int32Array(1024);
  private found = 0;
  private patEnd = 0;

  constructor(
    table: Uint32Array,
    mirrored: Uint32Array | null,
    private readonly t: number,
    private readonly blocks: Block[],
    useWasm: boolean,
  ) {
    const n = (this.n = table.length >>> 1);
    [this.hi, this.lo] = splitPackedTable(table);
    [this.mhi, this.mlo] = mirrored ? splitPackedTable(mirrored) : [null, null];
    this.idsA = new Int32Array(n);
    this.idsB = mirrored ? new Int32Array(n) : null;
    this.keys = new Int32Array(n);
    const tableBytes = align8(4 * (2 ** Math.max(...blocks.map((b) => b.bits)) + 1));
    let patternCount = 0;
    for (const b of blocks) patternCount = Math.max(patternCount, binomialsUpTo(b.bits, b.radius));
    this.offA = 0;
    this.offB = this.offA + tableBytes;
    this.patBase = this.offB + (mirrored ? tableBytes : 0);
    this.itemsA = align8(this.patBase + 4 * patternCount);
    this.itemsB = this.itemsA + 8 * n;
    this.outBase = this.itemsB + (mirrored ? 8 * n : 0);
    const bytes = this.outBase + OUT_START_BYTES;
    if (useWasm) {
      this.memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / PAGE) });
      const instance = new WebAssembly.Instance(wasmModule()!, { env: { mem: this.memory } });
      this.bucketFn = instance.exports.bucket as BucketFn;
      this.buffer = this.memory.buffer;
    } else {
      this.buffer = new ArrayBuffer(bytes);
      this.bucketFn = (...args) => bucketJs(this.i32, ...args);
    }
    this.i32 = new Int32Array(this.buffer);
    this.outEnd = this.buffer.byteLength;
  }

  run(): NearPair[] {
    const mirrored = this.mhi !== null;
    for (let i = 0; i < this.blocks.length; i++) {
      const block = this.blocks[i];
      this.writePatterns(block);
      this.index(block, this.hi, this.lo, this.offA, this.itemsA, this.idsA);
      this.join(i, block, false);
      if (mirrored) {
        this.index(block, this.mhi!, this.mlo!, this.offB, this.itemsB, this.idsB!);
        this.join(i, block, true);
      }
    }
    return this.sortedPairs();
  }

  private writePatterns(block: Block): void {
    const patterns = neighbourPatterns(block.bits, block.radius);
    this.i32.set(patterns, this.patBase >>> 2);
    this.patEnd = this.patBase + 4 * patterns.length;
  }

  /** Counting sort of the hashes by block value into `items`, bucket starts into `off`. */
  private index(block: Block, hi: Int32Array, lo: Int32Array, off: number, items: number, ids: Int32Array): void {
    const { n, keys, i32 } = this;
    const { start, bits } = block;
    const size = 2 ** bits;
    const o = off >>> 2;
    i32.fill(0, o, o + size + 1);
    for (let i = 0; i < n; i++) {
      const k = blockValue(hi[i], lo[i], start, bits);
      keys[i] = k;
      i32[o + k + 1]++;
    }
    for (let v = 0; v < size; v++) i32[o + v + 1] += i32[o + v];
    // Scatter with entry v as the cursor of bucket v; afterwards it holds the end of bucket v,
    // which is the start of v + 1, so one shift restores the starts.
    const it = items >>> 2;
    for (let i = 0; i < n; i++) {
      const p = i32[o + keys[i]]++;
      i32[it + 2 * p] = lo[i];
      i32[it + 2 * p + 1] = hi[i];
      ids[p] = i;
    }
    for (let v = size; v > 0; v--) i32[o + v] = items + 8 * i32[o + v - 1];
    i32[o] = items;
  }

  /** Every bucket against its neighbour buckets, in the plain table or against the mirrors. */
  private join(blockIndex: number, block: Block, cross: boolean): void {
    const size = 2 ** block.bits;
    const offB = cross ? this.offB : this.offA;
    const self = cross ? 0 : 1;
    const o = this.offA >>> 2;
    for (let v = 0; v < size; v++) {
      if (this.i32[o + v] === this.i32[o + v + 1]) continue;
      let end: number;
      for (;;) {
        end = this.bucketFn(this.offA, offB, this.patBase, this.patEnd, v, this.t, this.outBase, this.outEnd, self);
        if (end >= 0) break;
        this.growOut();
      }
      if (end !== this.outBase) this.collect(blockIndex, cross, end);
    }
  }

  /** Doubles the output area; the bucket that overflowed is then run again from its start. */
  private growOut(): void {
    const bytes = this.outEnd - this.outBase;
    if (this.memory) {
      this.memory.grow(Math.ceil(bytes / PAGE));
      this.buffer = this.memory.buffer;
    } else {
      const next = new ArrayBuffer(this.buffer.byteLength + bytes);
      new Uint8Array(next).set(new Uint8Array(this.buffer));
      this.buffer = next;
    }
    this.i32 = new Int32Array(this.buffer);
    this.outEnd = this.buffer.byteLength;
  }

  /** Candidates that passed the full distance test: keep each pair in its first slot only. */
  private collect(blockIndex: number, cross: boolean, end: number): void {
    const { i32, idsA } = this;
    const idsB = cross ? this.idsB! : idsA;
    const itemsB = cross ? this.itemsB : this.itemsA;
    for (let p = this.outBase >>> 2; p < end >>> 2; p += 2) {
      const x = idsA[(i32[p] - this.itemsA) >>> 3];
      const y = idsB[(i32[p + 1] - itemsB) >>> 3];
      if (x === y) continue; // a hash against its own mirror
      const a = x < y ? x : y;
      const b = x < y ? y : x;
      // Slots: plain blocks 0..m-1, then per block (a vs mirror b), (mirror a vs b).
      const slot = cross ? this.blocks.length + 2 * blockIndex + (x < y ? 0 : 1) : blockIndex;
      if (this.firstSlot(a, b) === slot) this.push(a, b);
    }
  }

  /** The first slot whose test the pair (a < b) passes: block within radius and distance ≤ t. */
  private firstSlot(a: number, b: number): number {
    const { hi, lo, mhi, mlo, blocks, t } = this;
    const m = blocks.length;
    const ph = hi[a] ^ hi[b];
    const pl = lo[a] ^ lo[b];
    if (pc(ph) + pc(pl) <= t) {
      for (let i = 0; i < m; i++) if (blockDistance(blocks[i], ph, pl) <= blocks[i].radius) return i;
    }
    if (mhi === null || mlo === null) return -1;
    const lh = hi[a] ^ mhi[b];
    const ll = lo[a] ^ mlo[b];
    const hh = mhi[a] ^ hi[b];
    const hl = mlo[a] ^ lo[b];
    const lowOk = pc(lh) + pc(ll) <= t;
    const highOk = pc(hh) + pc(hl) <= t;
    for (let i = 0; i < m; i++) {
      if (lowOk && blockDistance(blocks[i], lh, ll) <= blocks[i].radius) return m + 2 * i;
      if (highOk && blockDistance(blocks[i], hh, hl) <= blocks[i].radius) return m + 2 * i + 1;
    }
    return -1;
  }

  private push(a: number, b: number): void {
    if (this.found === this.foundA.length) {
      const grow = (old: Int32Array) => {
        const next = new Int32Array(2 * old.length);
        next.set(old);
        return next;
      };
      this.foundA = grow(this.foundA);
      this.foundB = grow(this.foundB);
    }
    this.foundA[this.found] = a;
    this.foundB[this.found] = b;
    this.found++;
  }

  /** Pairs sorted by a then b, with the flip-invariant distance the contract asks for. */
  private sortedPairs(): NearPair[] {
    const { n, found, foundA, foundB, hi, lo, mhi, mlo } = this;
    // Counting sort by a, then each a's few b values in place.
    const start = new Int32Array(n + 1);
    for (let i = 0; i < found; i++) start[foundA[i] + 1]++;
    for (let a = 0; a < n; a++) start[a + 1] += start[a];
    const next = start.slice(0, n);
    const bs = new Int32Array(found);
    for (let i = 0; i < found; i++) bs[next[foundA[i]]++] = foundB[i];
    const out: NearPair[] = new Array(found);
    for (let a = 0, i = 0; a < n; a++) {
      const end = start[a + 1];
      if (end - i > 1) bs.subarray(i, end).sort();
      for (; i < end; i++) {
        const b = bs[i];
        let d = pc(hi[a] ^ hi[b]) + pc(lo[a] ^ lo[b]);
        if (mhi !== null && mlo !== null && d > 0) {
          d = Math.min(d, pc(hi[a] ^ mhi[b]) + pc(lo[a] ^ mlo[b]), pc(mhi[a] ^ hi[b]) + pc(mlo[a] ^ lo[b]));
        }
        out[i] = { a, b, d };
      }
    }
    return out;
  }
}

function blockDistance(block: Block, xh: number, xl: number): number {
  return pc(xh & block.maskHi) + pc(xl & block.maskLo);
}


function align8(x: number): number {
  return (x + 7) & ~7;
}

const PAGE = 65536;
const OUT_START_BYTES = 1 << 16;
