/**
 * Sharing the products of one distance matrix with helpers (src/ml/product-blocks.ts): whoever
 * computes a block, the matrix is the one this thread alone makes; a helper that fails hands its
 * block back; a cancel stops the sharing and every helper is closed. The helpers here run
 * productBlock in this process behind a delay (a real worker's round trip), so the interleaving is
 * the one a worker gives; tests/e2e/product-workers.test.ts runs the real helper workers.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { ClusterCancelledError } from '../../../src/core/cluster/index.ts';
import { cosineDistancesTf, type SharedBlocks } from '../../../src/ml/distances.ts';
import { productBlock, shareBlocks, type ProductHelper } from '../../../src/ml/product-blocks.ts';
import { chooseBackend } from '../../../src/ml/backend.ts';
import { blobs, rng } from '../cluster/support.ts';
import { WASM_DIR } from './helpers.ts';

beforeAll(async () => {
  expect(await chooseBackend('wasm', { wasmPaths: WASM_DIR })).toBe('wasm');
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface FakeHelper extends ProductHelper {
  asked: number[];
  closed: boolean;
}

/** A helper on its own copy of the rows; `failOn` makes its n-th block (1-based) throw. */
function helper(delayMs: number, failOn = 0): (U: Float32Array, n: number, d: number) => FakeHelper {
  return (U, n, d) => {
    const own = U.slice();
    const h: FakeHelper = {
      asked: [],
      closed: false,
      async block(s, e) {
        h.asked.push(s);
        await sleep(delayMs);
        if (h.asked.length === failOn) throw new Error('helper died');
        return productBlock(own, n, d, s, e);
      },
      close() {
        h.closed = true;
      },
    };
    return h;
  };
}

describe('cosineDistancesTf with helpers', () => {
  const n = 203;
  const d = 24;
  const X = blobs(11, n, d, 9);
  let alone: Float64Array;
  beforeAll(async () => {
    alone = await cosineDistancesTf(X, n, d, { blockRows: 16 });
  });

  test('the matrix is bit-identical to the one made alone, for any number and speed of helpers', async () => {
    const r = rng(5);
    for (let trial = 0; trial < 6; trial++) {
      const count = 1 + (trial % 3);
      const made: FakeHelper[] = [];
      let shared: SharedBlocks | null = null;
      const D = await cosineDistancesTf(X, n, d, {
        blockRows: 16,
        helpers: (U, rows, dim) => Array.from({ length: count }, () => helper(Math.floor(r() * 6))(U, rows, dim)).map((h) => (made.push(h), Promise.resolve(h))),
        onShared: (s) => (shared = s),
      });
      expect(Array.from(D)).toEqual(Array.from(alone));
      expect(shared).not.toBeNull();
      expect(shared!.helpers).toBe(count);
      expect(shared!.blocks).toBe(Math.ceil((n - 1) / 16));
      expect(shared!.byHelpers).toBe(made.reduce((sum, h) => sum + h.asked.length, 0));
      expect(shared!.byHelpers).toBeGreaterThan(0);
      expect(made.every((h) => h.closed)).toBe(true);
    }
    expect(tf.memory().numTensors).toBe(0);
  });

  test('a helper that fails hands its block back: same matrix, the rest done without it', async () => {
    const made: FakeHelper[] = [];
    const D = await cosineDistancesTf(X, n, d, {
      blockRows: 16,
      helpers: (U, rows, dim) => [helper(3, 2)(U, rows, dim), helper(3)(U, rows, dim)].map((h) => (made.push(h), Promise.resolve(h))),
    });
    expect(Array.from(D)).toEqual(Array.from(alone));
    // It fails from its second block on: both blocks then in flight fail, and nothing more is asked of it.
    expect(made[0].asked.length).toBe(2);
    expect(made.every((h) => h.closed)).toBe(true);
  });

  test('a helper that cannot start takes no part; one that starts late joins while blocks are left', async () => {
    const late: FakeHelper[] = [];
    let shared: SharedBlocks | null = null;
    const D = await cosineDistancesTf(X, n, d, {
      blockRows: 4,
      helpers: (U, rows, dim) => [
        Promise.reject(new Error('no worker here')),
        sleep(15).then(() => {
          const h = helper(1)(U, rows, dim);
          late.push(h);
          return h;
        }),
      ],
      onShared: (s) => (shared = s),
    });
    expect(Array.from(D)).toEqual(Array.from(await cosineDistancesTf(X, n, d, { blockRows: 4 })));
    expect(shared!.helpers).toBe(1);
    expect(shared!.byHelpers).toBe(late[0].asked.length);
    expect(late[0].closed).toBe(true);
  });

  test('every block is stored exactly once, whoever computed it', async () => {
    const B = 7;
    const U = new Float32Array(n * d).map((_, i) => Math.sin(i));
    const stored: number[] = [];
    const { byHelpers } = await shareBlocks(U, n, d, B, [helper(2)(U, n, d), helper(1, 3)(U, n, d)].map((h) => Promise.resolve(h)), (s, e, sims) => {
      expect(e).toBe(Math.min(n, s + B));
      expect(sims.length).toBe((e - s) * (n - s));
      stored.push(s);
    });
    const expected = Array.from({ length: Math.ceil((n - 1) / B) }, (_, i) => i * B);
    expect([...stored].sort((a, b) => a - b)).toEqual(expected);
    expect(byHelpers).toBeLessThan(expected.length);
  });

  test('a cancel stops the sharing with ClusterCancelledError and closes the helpers', async () => {
    const made: FakeHelper[] = [];
    let polls = 0;
    await expect(
      cosineDistancesTf(X, n, d, {
        blockRows: 8,
        shouldStop: () => ++polls > 3,
        helpers: (U, rows, dim) => [helper(4)(U, rows, dim)].map((h) => (made.push(h), Promise.resolve(h))),
      }),
    ).rejects.toBeInstanceOf(ClusterCancelledError);
    expect(made[0].closed).toBe(true);
    const asked = made[0].asked.length;
    await sleep(30);
    // Nothing more is asked of a helper once the run has stopped.
    expect(made[0].asked.length).toBe(asked);
    expect(tf.memory().numTensors).toBe(0);
  });

  test('a starter that gives no helper leaves the work to this thread', async () => {
    let shared: SharedBlocks | null = null;
    const D = await cosineDistancesTf(X, n, d, { blockRows: 16, helpers: () => [], onShared: (s) => (shared = s) });
    expect(Array.from(D)).toEqual(Array.from(alone));
    expect(shared).toMatchObject({ helpers: 0, blocks: Math.ceil((n - 1) / 16), byHelpers: 0 });
  });
});
