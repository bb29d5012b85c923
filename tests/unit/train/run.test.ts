/**
 * A whole training run as the training worker performs it (src/ml/train/run.ts), in Node on the
 * cpu backend with the in-memory feature store: the network is saved as a user model that the
 * embed worker's loader reads at its 'embedding' layer; a cancel keeps the last epoch's
 * checkpoint, and resuming from it saves the very bytes of a run that never stopped; a checkpoint
 * of other data or settings is not resumed; the Figure 2 call trains, tests and keeps nothing.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { seededRandom } from '../../../src/core/train/schedule.ts';
import { embedBatch } from '../../../src/ml/embed.ts';
import { runTraining, trainAndTest, usableIndices, type RunControl, type TrainingData, type TrainProgress, type TrainRequest } from '../../../src/ml/train/run.ts';
import type { TrainSettings } from '../../../src/ml/train/settings.ts';
import { loadUserEmbedder } from '../../../src/ml/user-model.ts';
import { FeatureStore } from '../../../src/store/feature-store.ts';

const SIZE = 8;
const PX = SIZE * SIZE * 3;

/** Three classes, one bright channel each, with noise; label -1 on the last image (unlabelled). */
function dataset(perClass: number): TrainingData {
  const random = seededRandom(5);
  const n = perClass * 3 + 1;
  const images = new Uint8Array(n * PX);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i === n - 1 ? -1 : i % 3;
    for (let p = 0; p < SIZE * SIZE; p++) for (let k = 0; k < 3; k++) images[i * PX + p * 3 + k] = Math.round((k === i % 3 ? 200 : 50) + (random() - 0.5) * 80);
  }
  return { images, labels, inputSize: SIZE };
}

const settings: TrainSettings = { inputSize: SIZE, width: 2, blocksPerStage: 1, epochs: 3, batchSize: 6, lr: 0.05, warmupEpochs: 1, patience: 5, validationFraction: 0.2, seed: 3, augment: true };

const free = (): RunControl => ({ isPaused: () => false, waitWhilePaused: () => Promise.resolve(), shouldStop: () => false });

const data = dataset(8);
const all = Int32Array.from({ length: data.labels.length }, (_, i) => i);
const request = (over: Partial<TrainRequest> = {}): TrainRequest => ({
  runKey: 'run-1',
  fingerprint: 'fp-1',
  trainIdx: all,
  settings,
  resume: true,
  saveAs: { id: 'user-trained-test', name: 'trained on test data', classes: ['r', 'g', 'b'], fileCount: all.length },
  ...over,
});

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('runTraining', () => {
  test('saves a user model the embed worker can load at its embedding layer, deletes the checkpoint, leaks nothing', async () => {
    const store = FeatureStore.inMemory();
    const before = tf.memory().numTensors;
    const progress: TrainProgress[] = [];
    const outcome = await runTraining(data, request(), store, free(), 'cpu', (p) => progress.push(p));
    expect(tf.memory().numTensors).toBe(before);
    expect(outcome.status).toBe('done');
    expect(outcome.history.map((h) => h.epoch)).toEqual([0, 1, 2]);
    expect(outcome.resumedFromEpoch).toBeUndefined();
    // The unlabelled image is left out; the rest are split, stratified, into training and validation.
    expect(outcome.trainIdx.length + outcome.valIdx.length).toBe(all.length - 1);
    expect(outcome.valIdx.length).toBe(6);
    expect([...outcome.trainIdx, ...outcome.valIdx]).not.toContain(all.length - 1);
    expect(outcome.valAccuracy).toBe(outcome.history[outcome.bestEpoch].valAccuracy);
    expect(await store.getCheckpoint('run-1')).toBeUndefined();

    const phases = new Set(progress.map((p) => p.phase));
    expect([...phases]).toEqual(expect.arrayContaining(['loading', 'training', 'validating', 'saving']));
    expect(progress.at(-1)!.history.length).toBe(3);
    expect(progress.some((p) => p.secondsLeft !== null && p.secondsLeft >= 0)).toBe(true);

    const saved = await store.getModel('user-trained-test');
    expect(saved).toMatchObject({ format: 'layers', outputNode: 'embedding', inputSize: SIZE, inputRange: [0, 1], dim: 8, name: 'trained on test data' });
    expect(saved!.trained).toMatchObject({ fingerprint: 'fp-1', fileCount: all.length, classes: ['r', 'g', 'b'], settings, bestEpoch: outcome.bestEpoch, backend: 'cpu' });
    expect(outcome).toMatchObject({ modelId: 'user-trained-test', dim: 8 });

    const embedder = await loadUserEmbedder(store, 'user-trained-test');
    try {
      const rgba = (i: number) => {
        const d = new Uint8Array(SIZE * SIZE * 4);
        for (let p = 0; p < SIZE * SIZE; p++) d.set([...data.images.subarray(i * PX + p * 3, i * PX + p * 3 + 3), 255], p * 4);
        return { data: d, width: SIZE, height: SIZE };
      };
      const vectors = await embedBatch(embedder.model, embedder.entry, [rgba(0), rgba(1)]);
      expect(vectors.length).toBe(16);
      expect(vectors.every(Number.isFinite)).toBe(true);
    } finally {
      embedder.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  }, 20_000);

  test('a cancel keeps the last checkpoint; resuming from it saves the same weights as an uninterrupted run', async () => {
    const straight = FeatureStore.inMemory();
    await runTraining(data, request(), straight, free(), 'cpu');
    const want = new Uint8Array((await straight.getModel('user-trained-test'))!.weights);

    const store = FeatureStore.inMemory();
    let stop = false;
    const first = await runTraining(data, request(), store, { ...free(), shouldStop: () => stop }, 'cpu', (p) => {
      // Cancel on the first step of the second epoch.
      if (p.history.length === 1 && p.phase === 'training' && p.step >= 1) stop = true;
    });
    expect(first.status).toBe('cancelled');
    expect(first.modelId).toBeUndefined();
    expect(first.history.length).toBe(1);
    expect(await store.getModel('user-trained-test')).toBeUndefined();
    const cp = await store.getCheckpoint('run-1');
    expect(cp).toMatchObject({ runKey: 'run-1', fingerprint: 'fp-1', epoch: 0, settings });
    expect(cp!.split.validation).toEqual(first.valIdx);

    const second = await runTraining(data, request(), store, free(), 'cpu');
    expect(second.resumedFromEpoch).toBe(0);
    expect(second.status).toBe('done');
    expect(second.history.length).toBe(3);
    expect(new Uint8Array((await store.getModel('user-trained-test'))!.weights)).toEqual(want);
    expect(await store.getCheckpoint('run-1')).toBeUndefined();
  }, 20_000);

  test('does not resume a checkpoint of other data, other settings, or when asked not to', async () => {
    const store = FeatureStore.inMemory();
    let stop = false;
    await runTraining(data, request({ saveAs: undefined }), store, { ...free(), shouldStop: () => stop }, 'cpu', (p) => {
      if (p.history.length === 1) stop = true;
    });
    expect((await store.getCheckpoint('run-1'))?.epoch).toBe(0);
    const stopAtOnce: RunControl = { ...free(), shouldStop: () => true };
    for (const over of [{ fingerprint: 'fp-2' }, { settings: { ...settings, lr: 0.04 } }, { resume: false }, { trainIdx: all.slice(1) }]) {
      const outcome = await runTraining(data, request({ saveAs: undefined, ...over }), store, stopAtOnce, 'cpu');
      expect(outcome.resumedFromEpoch, JSON.stringify(over)).toBeUndefined();
      expect(outcome.history).toEqual([]);
    }
    const same = await runTraining(data, request({ saveAs: undefined }), store, stopAtOnce, 'cpu');
    expect(same.resumedFromEpoch).toBe(0);
    expect(same.history.length).toBe(1);
  }, 20_000);

  test('reports a pause and waits it out', async () => {
    const store = FeatureStore.inMemory();
    let paused = true;
    const control: RunControl = {
      isPaused: () => paused,
      waitWhilePaused: () =>
        new Promise<void>((resolve) =>
          setTimeout(() => {
            paused = false;
            resolve();
          }, 20),
        ),
      shouldStop: () => false,
    };
    const phases: string[] = [];
    const outcome = await runTraining(data, request({ saveAs: undefined, settings: { ...settings, epochs: 1 } }), store, control, 'cpu', (p) => phases.push(p.phase));
    expect(outcome.status).toBe('done');
    expect(phases.slice(0, 3)).toEqual(['loading', 'paused', 'training']);
  });

  test('refuses a model id the embed worker would not find, and images loaded at another size', async () => {
    const store = FeatureStore.inMemory();
    await expect(runTraining(data, request({ saveAs: { id: 'mine', name: 'x', classes: [], fileCount: 1 } }), store, free(), 'cpu')).rejects.toThrow(/user-/);
    await expect(runTraining(data, request({ settings: { ...settings, inputSize: 16 } }), store, free(), 'cpu')).rejects.toThrow(/loaded at 8/);
    await expect(runTraining(data, request({ settings: { ...settings, epochs: 0 } }), store, free(), 'cpu')).rejects.toThrow(/epochs/);
  });
});

describe('trainAndTest and helpers', () => {
  test('trains from scratch, tests, and keeps nothing', async () => {
    const before = tf.memory().numTensors;
    const test = Int32Array.from({ length: 6 }, (_, i) => i);
    const train = all.slice(6);
    const result = await trainAndTest(data, { trainIdx: train, testIdx: test, settings: { ...settings, epochs: 2 } }, free(), 'cpu');
    expect(result.history.length).toBe(2);
    expect(result.history.every((h) => Number.isNaN(h.valLoss))).toBe(true);
    expect(result.testAccuracy).toBeGreaterThanOrEqual(0);
    expect(result.testAccuracy).toBeLessThanOrEqual(1);
    expect(result.seconds).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
    await expect(trainAndTest(data, { trainIdx: train, testIdx: test, settings }, { ...free(), shouldStop: () => true }, 'cpu')).rejects.toThrow(/cancelled/);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('usable indices: sorted, deduplicated, without failed decodes or unlabelled images', () => {
    const d: TrainingData = { ...data, failed: new Set([2]) };
    expect(Array.from(usableIndices(d, [5, 2, 1, 5, all.length - 1, 0]))).toEqual([0, 1, 5]);
    expect(() => usableIndices(d, [all.length])).toThrow(/outside/);
  });
});
