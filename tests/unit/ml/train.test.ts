/**
 * The on-device trainer on wasm, at toy scale: four classes of coloured shapes on noise, a
 * ResNet a quarter of the default width. Checks that it learns (validation and 10-NN well above
 * the 0.25 chance), that the wasm gradient kernels added in wasm-grad.ts match the cpu
 * backend's, and that nothing leaks.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, test } from 'vitest';
import { seededRandom } from '../../../src/core/train/schedule.ts';
import { augmentBatch } from '../../../src/ml/train/augment.ts';
import { embed, embeddingDim, evaluate, trainEmbedder } from '../../../src/ml/train/train.ts';
import { registerWasmTrainingKernels } from '../../../src/ml/train/wasm-grad.ts';
import { WASM_DIR, cosine, row } from './helpers.ts';

const COLOURS = [[0.9, 0.15, 0.1], [0.1, 0.3, 0.95]];

/** Class c: colour c & 1, shape c >> 1 (0 square, 1 disc), random size and place, noisy background. */
function shapes(perClass: number, seed: number): { x: Float32Array; y: Int32Array } {
  const random = seededRandom(seed);
  const n = perClass * 4;
  const x = new Float32Array(n * 3072);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 4;
    y[i] = c;
    const colour = COLOURS[c & 1];
    const r = 6 + random() * 5;
    const cx = r + random() * (32 - 2 * r);
    const cy = r + random() * (32 - 2 * r);
    for (let py = 0; py < 32; py++) {
      for (let px = 0; px < 32; px++) {
        const inside = c >> 1 ? (px + 0.5 - cx) ** 2 + (py + 0.5 - cy) ** 2 <= r * r : Math.abs(px + 0.5 - cx) <= r * 0.8 && Math.abs(py + 0.5 - cy) <= r * 0.8;
        const o = i * 3072 + (py * 32 + px) * 3;
        for (let k = 0; k < 3; k++) x[o + k] = inside ? colour[k] + (random() - 0.5) * 0.1 : 0.4 + (random() - 0.5) * 0.3;
      }
    }
  }
  return { x, y };
}

beforeAll(async () => {
  setWasmPaths(WASM_DIR);
  await tf.setBackend('wasm');
});

test('conv gradients on wasm match the cpu backend', async () => {
  const cases: [number[], number[], number][] = [[[2, 8, 8, 3], [3, 3, 3, 4], 1], [[2, 8, 8, 3], [3, 3, 3, 4], 2], [[2, 7, 7, 3], [1, 1, 3, 2], 2], [[1, 9, 9, 2], [5, 5, 2, 3], 2]];
  const grads = () =>
    cases.map(([xs, fs, s]) =>
      tf.tidy(() => {
        const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, 'same')));
        return tf.grads(f)([tf.randomNormal(xs, 0, 1, 'float32', 1), tf.randomNormal(fs, 0, 1, 'float32', 2)]).map((t) => t.dataSync());
      }),
    );
  registerWasmTrainingKernels();
  const onWasm = grads();
  await tf.setBackend('cpu');
  const onCpu = grads();
  await tf.setBackend('wasm');
  onWasm.forEach((pair, i) =>
    pair.forEach((g, j) => {
      const ref = onCpu[i][j];
      let worst = 0;
      for (let k = 0; k < g.length; k++) worst = Math.max(worst, Math.abs(g[k] - ref[k]) / (1 + Math.abs(ref[k])));
      expect(worst, `case ${i} grad ${j}`).toBeLessThan(1e-4);
    }),
  );
});

test('augmentation keeps shape and values, and crops or mirrors', () => {
  const x = tf.tensor4d(Float32Array.from({ length: 2 * 8 * 8 }, (_, i) => i % 64), [2, 8, 8, 1]);
  const before = tf.memory().numTensors;
  const out = augmentBatch(x, seededRandom(1), 2);
  expect(tf.memory().numTensors).toBe(before + 1);
  expect(out.shape).toEqual([2, 8, 8, 1]);
  const v = out.dataSync();
  for (const value of v) expect(Number.isInteger(Math.round(value * 1e4) / 1e4)).toBe(true);
  out.dispose();
  // With zero padding the only choice left is the mirror: every image is itself or its mirror.
  const flips = augmentBatch(x, seededRandom(2), 0);
  const src = x.arraySync();
  const got = flips.arraySync();
  got.forEach((img, n) => {
    const mirrored = src[n].map((r) => [...r].reverse());
    const same = JSON.stringify(img.map((r) => r.map((p) => [Math.round(p[0])]))) === JSON.stringify(src[n]);
    const mirror = JSON.stringify(img.map((r) => r.map((p) => [Math.round(p[0])]))) === JSON.stringify(mirrored);
    expect(same || mirror).toBe(true);
  });
  flips.dispose();
  x.dispose();
});

describe('trainEmbedder', () => {
  test('learns separable classes: validation accuracy and 10-NN well above chance', async () => {
    const train = shapes(50, 1);
    const held = shapes(15, 2);
    const res = await trainEmbedder(train.x, train.y, { epochs: 10, batchSize: 16, lr: 0.01, warmupEpochs: 1, seed: 3, optimizer: 'adam', width: 8, blocksPerStage: 1, validationFraction: 0.2 });
    try {
      const last = res.history[res.history.length - 1];
      expect(res.history.length).toBe(10);
      expect(res.history[res.bestEpoch].valAccuracy).toBeGreaterThanOrEqual(0.7);
      expect(last.loss).toBeLessThan(res.history[0].loss);
      const test = evaluate(res.model, held.x, held.y, Int32Array.from(held.y, (_, i) => i));
      expect(test.accuracy).toBeGreaterThanOrEqual(0.7);

      const dim = embeddingDim(res.model);
      const a = embed(res.model, train.x);
      const b = embed(res.model, held.x);
      expect(a.length).toBe(train.y.length * dim);
      let correct = 0;
      for (let t = 0; t < held.y.length; t++) {
        const sims = Array.from(train.y, (_, i) => cosine(row(b, t, dim), row(a, i, dim)));
        const top = sims.map((s, i) => [s, i]).sort((p, q) => q[0] - p[0]).slice(0, 10);
        const votes = new Array(4).fill(0);
        for (const [, i] of top) votes[train.y[i]]++;
        if (votes.indexOf(Math.max(...votes)) === held.y[t]) correct++;
      }
      expect(correct / held.y.length).toBeGreaterThanOrEqual(0.7);
    } finally {
      res.model.dispose();
    }
  }, 60_000);

  test('leaves no tensors behind and honours shouldStop', async () => {
    const data = shapes(6, 4);
    registerWasmTrainingKernels();
    const before = tf.memory().numTensors;
    let calls = 0;
    const res = await trainEmbedder(data.x, data.y, { epochs: 3, batchSize: 8, lr: 0.05, warmupEpochs: 1, seed: 1, width: 4, blocksPerStage: 1, patience: 1, shouldStop: () => ++calls > 4 });
    expect(res.cancelled).toBe(true);
    expect(res.history.length).toBe(1);
    embed(res.model, data.x);
    res.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 30_000);

  test('rejects malformed input', async () => {
    await expect(trainEmbedder(new Float32Array(10), new Int32Array([0, 1]), { epochs: 1, batchSize: 2, lr: 0.1, warmupEpochs: 0, seed: 1 })).rejects.toThrow(/images/);
    await expect(trainEmbedder(new Float32Array(2 * 3072), new Int32Array([0, 0]), { epochs: 1, batchSize: 2, lr: 0.1, warmupEpochs: 0, seed: 1 })).rejects.toThrow(/two classes/);
  });
});
