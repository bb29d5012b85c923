/**
 * The tfjs embedding-pair finder (src/ml/similar-pairs-tf.ts) on the wasm backend against core's
 * JS brute force (src/core/similar-pairs.ts) as the oracle: the same pairs in the same order with
 * bit-identical similarities, at bars that fall exactly on a pair's similarity too, and no tensor
 * left behind whether it finishes, is cancelled or passes maxPairs.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { ClusterCancelledError } from '../../../src/core/cluster/progress.ts';
import { similarPairs, type SimilarPair } from '../../../src/core/similar-pairs.ts';
import { chooseBackend } from '../../../src/ml/backend.ts';
import { similarPairsTf, type SimilarPairArrays } from '../../../src/ml/similar-pairs-tf.ts';
import { blobs, gaussian, rng } from '../cluster/support.ts';
import { WASM_DIR } from './helpers.ts';

beforeAll(async () => {
  expect(await chooseBackend('wasm', { wasmPaths: WASM_DIR })).toBe('wasm');
});

/**
 * Mean-centred-like embeddings: unrelated rows (cosine near 0), with near-duplicates of earlier
 * rows at noise scales that put their cosine anywhere from ~0.5 to ~1, exact copies, and a few
 * zero rows.
 */
function embeddings(seed: number, n: number, d: number): Float32Array {
  const X = gaussian(seed, n * d);
  const noise = gaussian(seed + 1, n * d);
  const r = rng(seed + 2);
  for (let i = 1; i < n; i++) {
    const u = r();
    if (u < 0.02) X.fill(0, i * d, (i + 1) * d);
    if (u > 0.5) continue;
    const src = Math.floor(r() * i) * d;
    const scale = u < 0.05 ? 0 : 1.2 * r() * r();
    for (let q = 0; q < d; q++) X[i * d + q] = X[src + q] + scale * noise[i * d + q];
  }
  return X;
}

function asObjects(p: SimilarPairArrays): SimilarPair[] {
  expect(p.b.length).toBe(p.a.length);
  expect(p.similarity.length).toBe(p.a.length);
  return Array.from(p.a, (a, k) => ({ a, b: p.b[k], similarity: p.similarity[k] }));
}

describe('similarPairsTf = core similarPairs', () => {
  test.each([
    [300, 64, {}],
    [257, 1280, { blockRows: 37, chunkRows: 53 }],
    [400, 24, { blockRows: 64, chunkRows: 100 }],
    [130, 7, { blockRows: 1, chunkRows: 1 }],
  ] as const)('n = %i, d = %i %o: same pairs, order and similarities at bars from −1 to 1', async (n, d, opts) => {
    const X = embeddings(n + d, n, d);
    const before = tf.memory().numTensors;
    for (const bar of [0.99, 0.85, 0.8, 0.5, 0, -1]) {
      const expected = similarPairs(X, n, d, bar);
      const got = asObjects(await similarPairsTf(X, n, d, bar, opts));
      expect(got).toEqual(expected);
      if (bar >= 0.8) expect(expected.length).toBeGreaterThan(0);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  test('a bar equal to a pair similarity keeps that pair (the refinement compares as the JS path does)', async () => {
    const n = 200;
    const d = 96;
    const X = embeddings(17, n, d);
    const all = similarPairs(X, n, d, 0.3);
    const r = rng(3);
    for (let t = 0; t < 12; t++) {
      const bar = all[Math.floor(r() * all.length)].similarity;
      const expected = similarPairs(X, n, d, bar);
      expect(asObjects(await similarPairsTf(X, n, d, bar, { blockRows: 50, chunkRows: 70 }))).toEqual(expected);
      // Just above: that pair (and any tie) drops out in both.
      const above = bar + Number.EPSILON * 4;
      expect(asObjects(await similarPairsTf(X, n, d, above, { blockRows: 50, chunkRows: 70 }))).toEqual(similarPairs(X, n, d, above));
    }
  });

  test('random blobs (as core’s own tests use) at many bars', async () => {
    const r = rng(99);
    for (let t = 0; t < 8; t++) {
      const n = 2 + Math.floor(r() * 150);
      const d = 1 + Math.floor(r() * 40);
      const X = blobs(1000 + t, n, d, 1 + Math.floor(r() * 6));
      const bar = -1.1 + 2.2 * r();
      const opts = { blockRows: 1 + Math.floor(r() * 60), chunkRows: 1 + Math.floor(r() * 90) };
      expect(asObjects(await similarPairsTf(X, n, d, bar, opts))).toEqual(similarPairs(X, n, d, bar));
    }
  });

  test('progress ends at the pair count; n < 2 and d = 0 behave as the JS path', async () => {
    const n = 150;
    const d = 16;
    const X = embeddings(5, n, d);
    const seen: [number, number][] = [];
    await similarPairsTf(X, n, d, 0.8, { blockRows: 32, chunkRows: 40, onProgress: (done, total) => seen.push([done, total]) });
    const total = (n * (n - 1)) / 2;
    expect(seen.at(-1)).toEqual([total, total]);
    for (let k = 1; k < seen.length; k++) expect(seen[k][0]).toBeGreaterThanOrEqual(seen[k - 1][0]);
    expect(seen.every(([done, t]) => t === total && done <= total)).toBe(true);

    expect(asObjects(await similarPairsTf(new Float32Array(d), 1, d, 0))).toEqual([]);
    expect(asObjects(await similarPairsTf(new Float32Array(0), 0, d, 0))).toEqual([]);
    expect(asObjects(await similarPairsTf(new Float32Array(0), 5, 0, 0))).toEqual(similarPairs(new Float32Array(0), 5, 0, 0));
    await expect(similarPairsTf(X, n, d, NaN)).rejects.toBeInstanceOf(RangeError);
  });
});

describe('similarPairsTf failures leave no tensor', () => {
  test('cancelling between products throws ClusterCancelledError', async () => {
    const n = 200;
    const d = 16;
    const X = embeddings(3, n, d);
    const before = tf.memory().numTensors;
    let polls = 0;
    await expect(similarPairsTf(X, n, d, 0.8, { blockRows: 32, chunkRows: 40, shouldStop: () => ++polls > 3 })).rejects.toBeInstanceOf(
      ClusterCancelledError,
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  test('more than maxPairs hits throws the JS path’s RangeError', async () => {
    const n = 120;
    const d = 8;
    const X = embeddings(8, n, d);
    const count = similarPairs(X, n, d, 0.5).length;
    const before = tf.memory().numTensors;
    expect(() => similarPairs(X, n, d, 0.5, { maxPairs: count - 1 })).toThrow(RangeError);
    await expect(similarPairsTf(X, n, d, 0.5, { maxPairs: count - 1, blockRows: 30, chunkRows: 50 })).rejects.toThrow(
      `similarPairs: more than ${count - 1} pairs at similarity ≥ 0.5`,
    );
    expect(tf.memory().numTensors).toBe(before);
    expect((await similarPairsTf(X, n, d, 0.5, { maxPairs: count })).a.length).toBe(count);
  });
});
