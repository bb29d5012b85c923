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
 *   function, assembled below, because wasm has a native 64-bit popcount: ~0.8 ns per pair
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

interface Block extends MihBlock {
  /** The block's bits within the high and low 32-bit words, for block distances of an XOR. */
  maskHi: number;
  maskLo: number;
}

/** Comparison loop implementations. */
export type MihKernel = 'auto' | 'wasm' | 'js';

/** Largest block: its bucket table has 2^bits + 1 entries (16 MiB at 22 bits). */
const MAX_BLOCK_BITS = 22;

/**
 * Cost model, in nanoseconds, fitted to timings in Node on a 2-core AMD EPYC VM (the estimate for
 * 10⁶ hashes at t = 12 came within 10% of the measured time). Only ratios steer the block choice.
 */
interface Costs {
  /** One candidate pair: load, XOR, popcount, compare. */
  pair: number;
  /** One (bucket, neighbour pattern) probe that finds the neighbour bucket empty or not. */
  probe: number;
  /** Same, when the bucket table is too large for the L2 cache. */
  probeFar: number;
  /** Per non-empty bucket: one call into the comparison loop. */
  call: number;
  /** Per hash and index: block value, counting sort, copy into the sorted table. */
  build: number;
  /** Per bucket-table entry: clearing, prefix sums, the scan over bucket values. */
  table: number;
}

const WASM_COSTS: Costs = { pair: 0.8, probe: 2, probeFar: 8, call: 40, build: 30, table: 3 };
const JS_COSTS: Costs = { pair: 5, probe: 3, probeFar: 9, call: 5, build: 30, table: 3 };

/** Above this many table entries (4 bytes each) probes into it mostly miss the L2 cache. */
const NEAR_TABLE_ENTRIES = 1 << 18;

/** Where a block lies: bits [start, start + bits), bit 0 being the high bit of the high word. */
export interface MihBlock {
  start: number;
  bits: number;
  radius: number;
}

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
// Planning

function binomialsUpTo(b: number, r: number): number {
  let sum = 0;
  let c = 1;
  for (let k = 0; k <= Math.min(b, r); k++) {
    sum += c;
    c = (c * (b - k)) / (k + 1);
  }
  return sum;
}

/** Estimated cost of one block (self join, plus the join against the mirrors when there are any). */
function blockCost(n: number, bits: number, radius: number, mirrored: boolean, c: Costs): number {
  const buckets = 2 ** bits;
  const patterns = binomialsUpTo(bits, radius);
  const nonEmpty = buckets * -Math.expm1(-n / buckets);
  const probe = buckets + 1 > NEAR_TABLE_ENTRIES ? c.probeFar : c.probe;
  const pairs = ((n * n) / 2) * (patterns / buckets);
  const one = n * c.build + buckets * c.table + nonEmpty * (c.call + patterns * probe);
  // The join against the mirrors visits ordered pairs (twice the pairs) and builds a second index.
  return mirrored ? 2 * one + 3 * pairs * c.pair : one + pairs * c.pair;
}

/**
 * Cheapest set of disjoint blocks with Σ (radius + 1) ≥ t + 1 under the cost model: a dynamic
 * programme over (bits used, radius still needed). A block whose radius is its width matches every
 * pair, so it satisfies any need alone (that is brute force through the same loop; it is what a
 * threshold near 64 comes to).
 */
function planBlocks(n: number, t: number, mirrored: boolean, c: Costs): { blocks: Block[]; cost: number } {
  const need0 = t + 1;
  // Tables much larger than the input only add cost; leaving them out keeps planning cheap.
  const maxBits = Math.min(MAX_BLOCK_BITS, Math.ceil(Math.log2(n)) + 4);
  const cost: number[][] = [];
  for (let b = 1; b <= maxBits; b++) {
    cost[b] = [];
    for (let r = 0; r <= b; r++) cost[b][r] = blockCost(n, b, r, mirrored, c);
  }
  // best[u][k]: least cost having used u bits with k still needed; from[u][k]: the step taken.
  const best: number[][] = Array.from({ length: 65 }, () => new Array<number>(need0 + 1).fill(Infinity));
  const from: [number, number, number, number][][] = Array.from({ length: 65 }, () => new Array(need0 + 1));
  best[0][need0] = 0;
  for (let u = 0; u < 64; u++) {
    for (let k = need0; k >= 1; k--) {
      const here = best[u][k];
      if (here === Infinity) continue;
      for (let b = 1; b <= Math.min(maxBits, 64 - u); b++) {
        const rMax = Math.min(b, k - 1);
        for (let r = 0; r <= b; r++) {
          if (r > rMax && r !== b) continue;
          const k2 = r === b ? 0 : Math.max(0, k - r - 1);
          const total = here + cost[b][r];
          if (total < best[u + b][k2]) {
            best[u + b][k2] = total;
            from[u + b][k2] = [u, k, b, r];
          }
        }
      }
    }
  }
  let endU = 0;
  for (let u = 1; u <= 64; u++) if (best[u][0] < best[endU][0]) endU = u;
  const steps: [number, number][] = [];
  for (let u = endU, k = 0; u > 0; ) {
    const [pu, pk, b, r] = from[u][k];
    steps.push([b, r]);
    u = pu;
    k = pk;
  }
  steps.reverse();
  const blocks: Block[] = [];
  let start = 0;
  for (const [bits, radius] of steps) {
    blocks.push(makeBlock(start, bits, radius));
    start += bits;
  }
  return { blocks, cost: best[endU][0] };
}

function makeBlock(start: number, bits: number, radius: number): Block {
  return { start, bits, radius, maskHi: bitMask(start, bits, 0), maskLo: bitMask(start, bits, 32) };
}

/** The bits of [start, start + bits) that fall in the 32-bit word beginning at `word`, as a mask. */
function bitMask(start: number, bits: number, word: number): number {
  let m = 0;
  for (let i = Math.max(start, word); i < Math.min(start + bits, word + 32); i++) m |= 1 << (31 - (i - word));
  return m;
}

/** Every b-bit value with at most r bits set, ascending. */
function neighbourPatterns(b: number, r: number): Int32Array {
  const out: number[] = [0];
  // Grow subsets one bit position at a time; a pattern with r bits gets no more.
  for (let bit = 0; bit < b; bit++) {
    const len = out.length;
    for (let i = 0; i < len; i++) if (pc(out[i]) < r) out.push(out[i] | (1 << bit));
  }
  return Int32Array.from(out).sort();
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

// ---------------------------------------------------------------------------------------------
// The comparison loop

/**
 * Compares bucket v of table A (bucket table at offA) with every bucket w = v ^ e of table B, e
 * from the pattern list [pats, patsEnd); with `self` set, B is A and only w ≥ v is visited (the
 * bucket with itself as a triangle). Writes the byte addresses of each pair within distance t to
 * [out, outEnd) and returns the new end, or -1 when the output area fills up (the caller grows it
 * and calls again for the same v; sizing it for the worst case up front would ask for
 * |bucket|² entries where a common block value makes one bucket large).
 */
type BucketFn = (
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
function bucketJs(
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
function wasmModule(): WebAssembly.Module | null {
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
