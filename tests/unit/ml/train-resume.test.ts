/**
 * The training loop as the worker drives it: interrupted after an epoch and resumed from the
 * serialised checkpoint, it must end with the very weights of a run that never stopped (same
 * batches, same augmentation, same momentum, same best-epoch restore); pause, cancel and the step
 * reports must work between steps; byte images must train as their float copies; nothing leaks.
 * Tiny 8×8 images and a width-2 net on the cpu backend keep it to seconds.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { seededRandom } from '../../../src/core/train/schedule.ts';
import { embed, embeddingDim, epochSeed, modelArtifactsForStore, timeTrainingSteps, trainEmbedder, type StepInfo, type TrainCheckpoint, type TrainOptions } from '../../../src/ml/train/train.ts';

const SIZE = 8;
const PX = SIZE * SIZE * 3;

/** Class c brightens channel c % 3 and, for c ≥ 3, the top half; noise elsewhere. */
function data(perClass: number, classes: number, seed: number): { bytes: Uint8Array; floats: Float32Array; labels: Int32Array } {
  const random = seededRandom(seed);
  const n = perClass * classes;
  const bytes = new Uint8Array(n * PX);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    labels[i] = c;
    for (let p = 0; p < SIZE * SIZE; p++) {
      const top = p < (SIZE * SIZE) / 2;
      for (let k = 0; k < 3; k++) {
        const lit = k === c % 3 && (c < 3 || top);
        bytes[i * PX + p * 3 + k] = Math.round((lit ? 0.8 : 0.2) * 255 + (random() - 0.5) * 60);
      }
    }
  }
  return { bytes, floats: Float32Array.from(bytes, (b) => b / 255), labels };
}

const base: TrainOptions = { epochs: 4, batchSize: 8, lr: 0.05, warmupEpochs: 1, seed: 7, width: 2, blocksPerStage: 1, inputSize: SIZE, validationFraction: 0.25, patience: 10 };

async function weightsOf(model: tf.LayersModel): Promise<Float32Array[]> {
  return Promise.all(model.getWeights().map(async (w) => Float32Array.from(await w.data())));
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('resumable training', () => {
  const d = data(6, 4, 1);

  test('a run resumed from any epoch checkpoint ends with the weights and history of an uninterrupted one', async () => {
    const before = tf.memory().numTensors;
    const checkpoints: TrainCheckpoint[] = [];
    const full = await trainEmbedder(d.bytes, d.labels, { ...base, onEpoch: async (_, cp) => void checkpoints.push(await cp.serialize()) });
    const want = await weightsOf(full.model);
    const wantHistory = full.history.map(({ loss, accuracy, valLoss, valAccuracy, lr }) => ({ loss, accuracy, valLoss, valAccuracy, lr }));
    full.model.dispose();
    expect(checkpoints.map((c) => c.epoch)).toEqual([0, 1, 2, 3]);

    for (const cp of checkpoints.slice(0, 3)) {
      // Through structured clone, as the checkpoint comes back from IndexedDB.
      const stored = structuredClone(cp);
      const resumed = await trainEmbedder(d.bytes, d.labels, {
        ...base,
        startEpoch: stored.epoch + 1,
        history: stored.history,
        initialWeights: stored.model,
        initialOptimizerWeights: stored.optimizer,
        bestWeights: stored.best?.weights,
      });
      expect(resumed.history.map(({ loss, accuracy, valLoss, valAccuracy, lr }) => ({ loss, accuracy, valLoss, valAccuracy, lr })), `from epoch ${cp.epoch}`).toEqual(wantHistory);
      expect(resumed.bestEpoch).toBe(full.bestEpoch);
      expect(await weightsOf(resumed.model), `from epoch ${cp.epoch}`).toEqual(want);
      resumed.model.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  }, 20_000);

  test('keeps the best epoch’s weights across a resume when a later epoch was worse', async () => {
    // A learning rate this high makes validation loss jump about, so the best epoch is rarely the last.
    const wild = { ...base, lr: 2, epochs: 5 };
    const checkpoints: TrainCheckpoint[] = [];
    const full = await trainEmbedder(d.bytes, d.labels, { ...wild, onEpoch: async (_, cp) => void checkpoints.push(await cp.serialize()) });
    const want = await weightsOf(full.model);
    full.model.dispose();
    const withBest = checkpoints.find((c) => c.best && c.epoch < wild.epochs - 1);
    expect(withBest, 'some checkpoint carries an earlier best epoch').toBeDefined();
    const cp = withBest!;
    const resume = { ...wild, startEpoch: cp.epoch + 1, history: cp.history, initialWeights: cp.model, initialOptimizerWeights: cp.optimizer };
    await expect(trainEmbedder(d.bytes, d.labels, resume)).rejects.toThrow(/bestWeights/);
    const resumed = await trainEmbedder(d.bytes, d.labels, { ...resume, bestWeights: cp.best!.weights });
    expect(resumed.bestEpoch).toBe(full.bestEpoch);
    expect(await weightsOf(resumed.model)).toEqual(want);
    resumed.model.dispose();
  }, 20_000);

  test('adam state carries over too', async () => {
    const opts: TrainOptions = { ...base, optimizer: 'adam', lr: 0.01, epochs: 2, validationFraction: 0 };
    let cp: TrainCheckpoint | null = null;
    const full = await trainEmbedder(d.floats, d.labels, { ...opts, onEpoch: async (s, c) => void (s.epoch === 0 && (cp = await c.serialize())) });
    const want = await weightsOf(full.model);
    full.model.dispose();
    const c = cp as unknown as TrainCheckpoint;
    const resumed = await trainEmbedder(d.floats, d.labels, { ...opts, startEpoch: 1, history: c.history, initialWeights: c.model, initialOptimizerWeights: c.optimizer });
    expect(await weightsOf(resumed.model)).toEqual(want);
    resumed.model.dispose();
  });

  test('byte images train exactly as their float copies', async () => {
    const opts = { ...base, epochs: 1 };
    const a = await trainEmbedder(d.bytes, d.labels, opts);
    const b = await trainEmbedder(d.floats, d.labels, opts);
    expect(await weightsOf(a.model)).toEqual(await weightsOf(b.model));
    a.model.dispose();
    b.model.dispose();
  });

  test('refuses a resume without its weights or with a history of the wrong length', async () => {
    await expect(trainEmbedder(d.bytes, d.labels, { ...base, startEpoch: 1, history: [] })).rejects.toThrow(/history/);
    await expect(trainEmbedder(d.bytes, d.labels, { ...base, startEpoch: 1, history: [{ epoch: 0, lr: 0, loss: 1, accuracy: 0, valLoss: 1, valAccuracy: 0, trainSeconds: 0, seconds: 0 }] })).rejects.toThrow(/initialWeights/);
  });

  test('per-epoch seeds differ by epoch and by seed', () => {
    const seeds = new Set<number>();
    for (const s of [0, 1, 2]) for (let e = 0; e < 50; e++) seeds.add(epochSeed(s, e));
    expect(seeds.size).toBe(150);
  });
});

describe('pause, cancel and step reports', () => {
  const d = data(4, 3, 2);
  const opts: TrainOptions = { ...base, epochs: 2, validationFraction: 0, batchSize: 4 };

  test('reports every step, waits while paused, and stops on request with nothing leaked', async () => {
    const before = tf.memory().numTensors;
    const steps: StepInfo[] = [];
    const stepTimes: number[] = [];
    let gate: Promise<void> | null = null;
    let releasedAt = Infinity;
    let stop = false;
    const res = await trainEmbedder(d.bytes, d.labels, {
      ...opts,
      onStep: (info) => {
        steps.push(info);
        stepTimes.push(performance.now());
        // Paused after the second step; a timer (a later macrotask) lifts it.
        if (steps.length === 2) {
          gate = new Promise<void>((resolve) =>
            setTimeout(() => {
              releasedAt = performance.now();
              gate = null;
              resolve();
            }, 30),
          );
        }
        if (steps.length === 4) stop = true;
      },
      waitIfPaused: () => gate ?? Promise.resolve(),
      shouldStop: () => stop,
    });
    expect(stepTimes[2]).toBeGreaterThanOrEqual(releasedAt);
    expect(res.cancelled).toBe(true);
    expect(steps.length).toBe(4);
    expect(steps[0]).toMatchObject({ epoch: 0, step: 1, stepsPerEpoch: 3 });
    expect(steps[3]).toMatchObject({ epoch: 1, step: 1 });
    for (const s of steps) {
      expect(s.secondsPerStep).toBeGreaterThan(0);
      expect(Number.isFinite(s.loss)).toBe(true);
    }
    // The cancelled second epoch is not in the history; the first is.
    expect(res.history.map((h) => h.epoch)).toEqual([0]);
    res.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test('pause messages are handled between steps: a macrotask runs before every step', async () => {
    let ticks = 0;
    const interval = setInterval(() => ticks++, 0);
    let seenAtSteps: number[] = [];
    try {
      const res = await trainEmbedder(d.bytes, d.labels, { ...opts, epochs: 1, onStep: () => seenAtSteps.push(ticks) });
      res.model.dispose();
    } finally {
      clearInterval(interval);
    }
    // Not a strict count (timers are coarse), only that other tasks got to run while it trained.
    expect(seenAtSteps[seenAtSteps.length - 1]).toBeGreaterThan(0);
    seenAtSteps = [];
  });

  test('serialize() refuses after onEpoch has returned', async () => {
    let late: (() => Promise<TrainCheckpoint>) | null = null;
    const res = await trainEmbedder(d.bytes, d.labels, { ...opts, epochs: 1, onEpoch: (_, cp) => void (late = cp.serialize) });
    res.model.dispose();
    await expect(late!()).rejects.toThrow(/after onEpoch/);
  });
});

describe('helpers for the worker', () => {
  const d = data(4, 3, 3);

  test('step timing leaves nothing behind and gives positive per-image times', async () => {
    const before = tf.memory().numTensors;
    const t = await timeTrainingSteps(d.bytes, d.labels, Int32Array.from({ length: 12 }, (_, i) => i), { inputSize: SIZE, width: 2, blocksPerStage: 1, batchSize: 4 }, 4);
    expect(t.secondsPerImage).toBeGreaterThan(0);
    expect(t.secondsPerTestImage).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('the stored form of a trained model loads back and embeds as the original', async () => {
    const res = await trainEmbedder(d.bytes, d.labels, { ...base, epochs: 1, validationFraction: 0 });
    const { modelJson, weights } = await modelArtifactsForStore(res.model);
    const j = modelJson as { modelTopology: object; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] };
    const loaded = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: j.modelTopology, weightSpecs: j.weightsManifest[0].weights, weightData: weights }));
    expect(embeddingDim(loaded)).toBe(embeddingDim(res.model));
    expect(embed(loaded, d.bytes)).toEqual(embed(res.model, d.bytes));
    loaded.dispose();
    res.model.dispose();
  });
});
