/** Shared fast-check arbitraries and naive oracles for the core tests. */
import fc from 'fast-check';
import type { Hash64 } from '../../../src/core/types.ts';

export const hexHash: fc.Arbitrary<Hash64> = fc
  .tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }))
  .map(([hi, lo]) => hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0'));

/**
 * Hashes clustered around a few centres, so that small thresholds actually produce pairs
 * (uniformly random 64-bit hashes are ~32 bits apart and almost never pair up).
 */
export function clusteredHashes(opts: { minLength?: number; maxLength: number }): fc.Arbitrary<Hash64[]> {
  return fc
    .tuple(
      fc.array(hexHash, { minLength: 1, maxLength: 4 }),
      fc.array(fc.tuple(fc.nat(), fc.array(fc.integer({ min: 0, max: 63 }), { maxLength: 8 })), {
        minLength: opts.minLength ?? 0,
        maxLength: opts.maxLength,
      }),
    )
    .map(([centres, specs]) => specs.map(([c, flips]) => flipBits(centres[c % centres.length], flips)));
}

export function flipBits(hex: Hash64, bits: readonly number[]): Hash64 {
  let v = BigInt('0x' + hex);
  for (const b of bits) v ^= 1n << BigInt(63 - b);
  return v.toString(16).padStart(16, '0');
}

/** Naive Hamming distance on hex strings via BigInt: slow and obviously right. */
export function naiveDistance(a: Hash64, b: Hash64): number {
  let x = BigInt('0x' + a) ^ BigInt('0x' + b);
  let n = 0;
  while (x > 0n) {
    n += Number(x & 1n);
    x >>= 1n;
  }
  return n;
}

/** Flip-invariant distance as pairs.ts defines it, computed naively. */
export function naiveFlipDistance(h: Hash64[], m: Hash64[] | null, i: number, j: number): number {
  let d = naiveDistance(h[i], h[j]);
  if (m) d = Math.min(d, naiveDistance(h[i], m[j]), naiveDistance(m[i], h[j]));
  return d;
}

import { rng } from '../rng.ts';
export { rng };

export function randomHashes(n: number, seed: number): Hash64[] {
  const r = rng(seed);
  const out: Hash64[] = [];
  for (let i = 0; i < n; i++) {
    const hi = Math.floor(r() * 0x100000000);
    const lo = Math.floor(r() * 0x100000000);
    out.push(hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0'));
  }
  return out;
}
