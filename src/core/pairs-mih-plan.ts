/** Block sizes and radii for multi-index hashing (pairs-mih.ts): a small dynamic programme over a cost model. */
import { pc } from './pairs-mih-kernel.ts';

/** Where a block lies: bits [start, start + bits), bit 0 being the high bit of the high word. */
export interface MihBlock {
  start: number;
  bits: number;
  radius: number;
}

export interface Block extends MihBlock {
  /** The block's bits within the high and low 32-bit words, for block distances of an XOR. */
  maskHi: number;
  maskLo: number;
}

/** Largest block: its bucket table has 2^bits + 1 entries (16 MiB at 22 bits). */
export const MAX_BLOCK_BITS = 22;

/**
 * Cost model, in nanoseconds, fitted to timings in Node on a 2-core AMD EPYC VM (the estimate for
 * 10⁶ hashes at t = 12 came within 10% of the measured time). Only ratios steer the block choice.
 */
export interface Costs {
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

export const WASM_COSTS: Costs = { pair: 0.8, probe: 2, probeFar: 8, call: 40, build: 30, table: 3 };
export const JS_COSTS: Costs = { pair: 5, probe: 3, probeFar: 9, call: 5, build: 30, table: 3 };

/** Above this many table entries (4 bytes each) probes into it mostly miss the L2 cache. */
const NEAR_TABLE_ENTRIES = 1 << 18;

/** How many b-bit patterns have at most r bits set: the neighbour buckets one bucket probes. */
export function binomialsUpTo(b: number, r: number): number {
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
export function planBlocks(n: number, t: number, mirrored: boolean, c: Costs): { blocks: Block[]; cost: number } {
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

export function makeBlock(start: number, bits: number, radius: number): Block {
  return { start, bits, radius, maskHi: bitMask(start, bits, 0), maskLo: bitMask(start, bits, 32) };
}

/** The bits of [start, start + bits) that fall in the 32-bit word beginning at `word`, as a mask. */
function bitMask(start: number, bits: number, word: number): number {
  let m = 0;
  for (let i = Math.max(start, word); i < Math.min(start + bits, word + 32); i++) m |= 1 << (31 - (i - word));
  return m;
}

/** Every b-bit value with at most r bits set, ascending. */
export function neighbourPatterns(b: number, r: number): Int32Array {
  const out: number[] = [0];
  // Grow subsets one bit position at a time; a pattern with r bits gets no more.
  for (let bit = 0; bit < b; bit++) {
    const len = out.length;
    for (let i = 0; i < len; i++) if (pc(out[i]) < r) out.push(out[i] | (1 << bit));
  }
  return Int32Array.from(out).sort();
}
