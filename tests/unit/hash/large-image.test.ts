/**
 * Large inputs are box-reduced before hashing (reduce.ts). This measures what that costs in bits
 * against hashing the full-resolution pixels exactly, and how long hashing takes.
 */
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { HASH_KINDS, type HashKind } from '../../../src/core/types.ts';
import { hammingHex } from '../../../src/core/hash/hamming.ts';
import { computeHashSets, REDUCE_ABOVE, reductionFactor } from '../../../src/core/hash/index.ts';
import { resizeLanczos3 } from '../../../src/core/hash/lanczos.ts';
import { resizeRgba, SHARED_DATA, type Rgba } from './decode.ts';
import { decodeJpegLibjpeg } from './libjpeg-decode.ts';

const load = (f: string): Rgba => decodeJpegLibjpeg(readFileSync(`${SHARED_DATA}/reference/hash/images/${f}`));

// Real photos upscaled to camera sizes, chosen to exercise several factors and partial edge blocks.
const CASES: [string, number, number][] = [
  ['g025_orig.jpg', 4000, 3000], // k = 4
  ['g005_orig.jpg', 6000, 3990], // 24 MP, k = 6
  ['g095_orig.jpg', 2555, 1792], // grey JPEG, k = 3, partial blocks (2555/3 = 851.7)
  ['g050_orig.jpg', 1500, 1500], // k = 2
  ['g085_orig.jpg', 3333, 2500], // k = 4, partial blocks
];

test('box reduction changes hashes by ≤ 2 bits on average vs exact full-resolution hashing', () => {
  const dist: Record<HashKind, number[]> = { phash: [], dhash: [], ahash: [], whash: [] };
  const lines: string[] = [];
  for (const [f, w, h] of CASES) {
    const big = resizeRgba(load(f), w, h, resizeLanczos3);
    const fast = computeHashSets(big.data, w, h);
    const exact = computeHashSets(big.data, w, h, { reduceAbove: Infinity });
    const d = HASH_KINDS.map((k) => hammingHex(fast.hashes[k], exact.hashes[k]));
    const dm = HASH_KINDS.map((k) => hammingHex(fast.mirrored[k], exact.mirrored[k]));
    HASH_KINDS.forEach((k, i) => dist[k].push(d[i], dm[i]));
    lines.push(`${f} ${w}×${h} k=${reductionFactor(w, h)}: ${d.join(' ')} (mirrored ${dm.join(' ')})`);
  }
  const summary = HASH_KINDS.map((k) => `${k} mean ${(dist[k].reduce((a, b) => a + b, 0) / dist[k].length).toFixed(2)} max ${Math.max(...dist[k])}`);
  console.log(`reduced vs exact, bits (${HASH_KINDS.join(' ')}), REDUCE_ABOVE=${REDUCE_ABOVE}:\n${lines.join('\n')}\n${summary.join('; ')}`);
  for (const k of HASH_KINDS) {
    expect(dist[k].reduce((a, b) => a + b, 0) / dist[k].length, k).toBeLessThanOrEqual(2);
    expect(Math.max(...dist[k]), k).toBeLessThanOrEqual(4);
  }
}, 120_000);

test('speed of computeHashSets (400×300 and 4000×3000)', () => {
  const small = load('g025_orig.jpg');
  const big = resizeRgba(small, 4000, 3000, resizeLanczos3);
  const time = (img: Rgba, n: number): number => {
    computeHashSets(img.data, img.width, img.height); // warm-up (JIT, coefficient tables)
    let best = Infinity;
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) computeHashSets(img.data, img.width, img.height);
      best = Math.min(best, (performance.now() - t0) / n);
    }
    return best;
  };
  const tSmall = time(small, 20);
  const tBig = time(big, 2);
  console.log(`computeHashSets: 400×300 ${tSmall.toFixed(2)} ms, 4000×3000 ${tBig.toFixed(1)} ms (best of 5)`);
  // Printed, not asserted: timings belong to the benchmarks (these machines are shared). What is
  // checked is that both sizes produce hashes at all.
  expect(Number.isFinite(tSmall) && Number.isFinite(tBig)).toBe(true);
}, 120_000);
