/**
 * The tfjs edge finder (src/ml/threshold-edges.ts) on the wasm backend against the float64 matrix
 * of core/cluster/cosine.ts: the same pairs with bit-identical distances below the bound it
 * reports, bounded memory through compaction, no tensor left behind, and the component-wise cut
 * built on it equal to the full algorithm's.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { clusterFromEdges, cutForest, edgesFromCondensed, type EdgeList } from '../../../src/core/cluster/components.ts';
import { cosineDistances } from '../../../src/core/cluster/cosine.ts';
import { ClusterCancelledError, completeLinkage, cutToK, keepCount } from '../../../src/core/cluster/index.ts';
import { chooseBackend } from '../../../src/ml/backend.ts';
import { thresholdEdgesTf } from '../../../src/ml/threshold-edges.ts';
import { blobs, gaussian, rng } from '../cluster/support.ts';
import { WASM_DIR } from './helpers.ts';

beforeAll(async () => {
  expect(await chooseBackend('wasm', { wasmPaths: WASM_DIR })).toBe('wasm');
});

/** Blobs with near-duplicates (1e-3 noise) and exact copies of earlier rows mixed in. */
function withDuplicates(seed: number, n: number, d: number, copies = 0.1): Float32Array {
  const X = blobs(seed, n, d, Math.max(2, Math.floor(n / 30)));
  const noise = gaussian(seed + 9, n * d);
  const r = rng(seed + 5);
  for (let i = 1; i < n; i++) {
    const u = r();
    if (u > 0.4) continue;
    const src = Math.floor(r() * i) * d;
    for (let q = 0; q < d; q++) X[i * d + q] = X[src + q] + (u < copies ? 0 : 1e-3 * noise[i * d + q]);
  }
  return X;
}

/** Pairs as sorted "i,j,d" strings, for set equality with exact distances. */
function pairs(e: EdgeList): string[] {
  const out: string[] = [];
  for (let p = 0; p < e.count; p++) out.push(`${e.i[p]},${e.j[p]},${e.d[p]}`);
  return out.sort();
}

describe('thresholdEdgesTf', () => {
  test.each([
    [300, 64, {}],
    [250, 1280, { blockRows: 37, chunkRows: 53 }],
    [400, 32, { blockRows: 64, chunkRows: 100, maxEdges: 3000 }],
  ] as const)('n = %i, d = %i %o: exactly the pairs below its bound, float64 distances, no tensor left', async (n, d, opts) => {
    const X = withDuplicates(n + d, n, d);
    const before = tf.memory().numTensors;
    const found = await thresholdEdgesTf(X, n, d, opts);
    expect(tf.memory().numTensors).toBe(before);
    const expected = edgesFromCondensed(cosineDistances(X, n, d), n, found.below);
    expect(pairs(found)).toEqual(pairs(expected));
    if ('maxEdges' in opts) {
      expect(found.compactions).toBeGreaterThan(0);
      expect(found.count).toBeLessThanOrEqual(opts.maxEdges);
      expect(found.count).toBeGreaterThan(opts.maxEdges / 4);
    } else {
      expect(found.count).toBeLessThanOrEqual(32 * n);
    }
  });

  test('the cut built on its edges equals the full algorithm at several keep fractions', async () => {
    const n = 500;
    const d = 96;
    // Few exact copies: a cut inside their run of height-0 merges is a tie (tiedAtCut).
    const X = withDuplicates(11, n, d, 0.02);
    const edges = await thresholdEdgesTf(X, n, d, { maxEdges: 8 * n, blockRows: 100, chunkRows: 160 });
    const Z = completeLinkage(cosineDistances(X, n, d), n);
    for (const keep of [0.6, 0.8, 0.9, 0.95]) {
      const k = keepCount(n, keep);
      const forest = clusterFromEdges(n, edges, k);
      expect(forest).not.toBeNull();
      const cut = cutForest(forest!, k);
      expect(cut.tiedAtCut).toBe(false);
      expect(Array.from(cut.labels)).toEqual(Array.from(cutToK(Z, n, k)));
    }
  });

  test('cancelling between products throws ClusterCancelledError and leaves no tensor', async () => {
    const n = 200;
    const d = 16;
    const X = withDuplicates(3, n, d);
    const before = tf.memory().numTensors;
    let polls = 0;
    await expect(thresholdEdgesTf(X, n, d, { blockRows: 32, chunkRows: 40, shouldStop: () => ++polls > 3 })).rejects.toBeInstanceOf(
      ClusterCancelledError,
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  test('zero rows are at distance 1 from everything, as in cosine.ts; n < 2 and d = 0 give no pair', async () => {
    const n = 20;
    const d = 8;
    const X = withDuplicates(4, n, d);
    X.fill(0, 3 * d, 5 * d);
    const found = await thresholdEdgesTf(X, n, d, { below: 1.5 });
    expect(pairs(found)).toEqual(pairs(edgesFromCondensed(cosineDistances(X, n, d), n, found.below)));
    expect((await thresholdEdgesTf(new Float32Array(d), 1, d)).count).toBe(0);
    expect((await thresholdEdgesTf(new Float32Array(0), 5, 0)).count).toBe(0);
  });
});
