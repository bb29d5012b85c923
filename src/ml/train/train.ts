/**
 * Trains the compact ResNet on the user's labelled images so that its pooled features become the
 * embedder (Birodkar et al. 2019 embed with a network trained on the dataset itself). One
 * trainOnBatch per step, so the caller can pause or cancel between steps and the learning rate can
 * follow the warm-up + cosine schedule per step rather than per epoch.
 *
 * Resumable: at every epoch end `onEpoch` can serialise the model and optimizer weights, and a
 * later call given them (with `startEpoch` and `history`) carries on exactly where that epoch
 * ended. The shuffle and augmentation of each epoch come from (seed, epoch) alone, so a run
 * interrupted and resumed sees the same batches as one that never stopped.
 *
 * The backend must already be chosen; on wasm the missing filter-gradient kernel is added here.
 */
import * as tf from '@tensorflow/tfjs';
import { concatBuffers } from '../../core/bytes.ts';
import { earlyStopper, learningRateAt, seededRandom, shuffleInPlace, stratifiedSplit, type Split } from '../../core/train/schedule.ts';
import { augmentBatch } from './augment.ts';
import { buildResNet, EMBEDDING_LAYER, embeddingModel } from './model.ts';
import type { EpochStats } from './settings.ts';
import { registerWasmTrainingKernels } from './wasm-grad.ts';

export type { EpochStats } from './settings.ts';

/** Default input side; `TrainOptions.inputSize` changes it. */
export const IMAGE_SIZE = 32;

/**
 * Images as one flat array of n × size × size × 3 values, row-major RGB: floats in 0..1, or bytes
 * 0..255 (a quarter of the memory; read as byte / 255).
 */
export type ImageArray = Float32Array | Uint8Array;

/** What `optimizer.getWeights()` gives (tfjs does not export the type). */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/** Weights as bytes, as `tf.io.encodeWeights` makes them, in the order the model or optimizer lists them. */
export interface SerializedWeights {
  data: ArrayBuffer;
  specs: tf.io.WeightsManifestEntry[];
}

/**
 * Weights to start from. Matched to the model by position, never by name: tfjs names variables
 * with a process-wide counter, so the same layer has another name after a reload.
 */
export type WeightsInput = SerializedWeights | tf.Tensor[] | tf.NamedTensorMap;

/** Everything a later `trainEmbedder` call needs to continue after `epoch`. */
export interface TrainCheckpoint {
  /** 0-based epoch just finished; resume with startEpoch = epoch + 1. */
  epoch: number;
  history: EpochStats[];
  model: SerializedWeights;
  optimizer: SerializedWeights;
  /**
   * The best validation epoch's weights when that is not `epoch`: restoring them at the end must
   * not depend on whether the run was interrupted.
   */
  best?: { epoch: number; weights: SerializedWeights };
}

/** Handed to `onEpoch`; `serialize` works only until the callback's promise settles. */
export interface EpochCheckpoint {
  epoch: number;
  history: readonly EpochStats[];
  serialize(): Promise<TrainCheckpoint>;
}

export interface StepInfo {
  epoch: number;
  /** Steps finished in this epoch, 1..stepsPerEpoch. */
  step: number;
  stepsPerEpoch: number;
  /** Running means over the epoch so far. */
  loss: number;
  accuracy: number;
  /** Mean wall time of this epoch's steps, leaving out the run's first two (kernel compilation). */
  secondsPerStep: number;
}

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  /** Peak learning rate. */
  lr: number;
  warmupEpochs: number;
  seed: number;
  /** 'sgd' is momentum SGD as in the paper's ResNets; 'adam' for comparison. Default 'sgd'. */
  optimizer?: 'sgd' | 'adam';
  momentum?: number;
  weightDecay?: number;
  width?: number;
  blocksPerStage?: number;
  /** Side of the square images. Default 32. */
  inputSize?: number;
  /** Share of each label held out for validation. Default 0.1; 0 disables validation and early stopping. */
  validationFraction?: number;
  /**
   * Which items (indices into the images) train and which validate; replaces the split made from
   * `validationFraction`. Items in neither are not used (a test set, failed decodes).
   */
  split?: Split;
  /** Epochs without validation-loss improvement before stopping. Default: never stop early. */
  patience?: number;
  /** Put back the weights of the best validation epoch at the end. Default true. */
  restoreBest?: boolean;
  augment?: boolean;
  /** First epoch to train (0-based). With more than 0, `initialWeights`, `initialOptimizerWeights` and `history` are required. */
  startEpoch?: number;
  initialWeights?: WeightsInput;
  /** What `optimizer.getWeights()` gave (or a checkpoint's `optimizer`): momentum must carry over too. */
  initialOptimizerWeights?: SerializedWeights | NamedTensor[];
  /** A checkpoint's `best.weights`, needed when its best epoch is not its last. */
  bestWeights?: WeightsInput;
  /** The epochs before `startEpoch`; the result's history continues it. */
  history?: EpochStats[];
  /** Polled between steps; true ends training after the current step (cancel, time budget). */
  shouldStop?: () => boolean;
  /** Awaited between steps, before `shouldStop` is polled: a pause is a promise that has not settled yet. */
  waitIfPaused?: () => Promise<void>;
  onStep?: (info: StepInfo) => void;
  /** After each whole epoch and its validation; training waits for the returned promise. */
  onEpoch?: (stats: EpochStats, checkpoint: EpochCheckpoint) => void | Promise<void>;
}

export interface TrainResult {
  model: tf.LayersModel;
  history: EpochStats[];
  /** 0-based epoch whose weights the model holds. */
  bestEpoch: number;
  stoppedEarly: boolean;
  cancelled: boolean;
  split: Split;
}

const pixelsOf = (size: number) => size * size * 3;

function checkImages(images: ImageArray, n: number, size: number): void {
  if (!(images instanceof Float32Array || images instanceof Uint8Array)) throw new Error('images: expected a Float32Array or a Uint8Array');
  if (images.length !== n * pixelsOf(size)) throw new Error(`images: expected ${n}×${size}×${size}×3 values, got ${images.length}`);
}

/** Every index names an image, and each of those has a label (0-based; negative means unlabelled). */
function checkIndices(labels: Int32Array, idx: ArrayLike<number>, what: string): void {
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k];
    if (!(Number.isInteger(i) && i >= 0 && i < labels.length)) throw new Error(`${what}: index ${i} is outside the ${labels.length} images`);
    if (labels[i] < 0 || !Number.isInteger(labels[i])) throw new Error(`label ${labels[i]} at ${i}: labels are 0-based class indices`);
  }
}

/**
 * Output classes: the largest label of any image + 1, not only of the training items, so a held-out
 * test item's label always has a column and a resumed run builds the same network.
 */
function classCount(labels: Int32Array, train: ArrayLike<number>): number {
  let max = -1;
  for (let i = 0; i < labels.length; i++) if (labels[i] > max) max = labels[i];
  const seen = new Set<number>();
  for (let k = 0; k < train.length && seen.size < 2; k++) seen.add(labels[train[k]]);
  if (seen.size < 2) throw new Error('need at least two classes to train');
  return max + 1;
}

/** Items idx[from..to) as one float batch in 0..1. */
function gather(images: ImageArray, size: number, idx: ArrayLike<number>, from: number, to: number): Float32Array {
  const px = pixelsOf(size);
  const out = new Float32Array((to - from) * px);
  if (images instanceof Float32Array) {
    for (let k = from; k < to; k++) out.set(images.subarray(idx[k] * px, (idx[k] + 1) * px), (k - from) * px);
  } else {
    for (let k = from, o = 0; k < to; k++) for (let p = idx[k] * px, end = p + px; p < end; p++) out[o++] = images[p] / 255;
  }
  return out;
}

const inputSizeOf = (model: tf.LayersModel): number => model.inputs[0].shape[1] as number;

/** Mean cross-entropy and accuracy of `model` on the listed items, in inference mode. */
export function evaluate(model: tf.LayersModel, images: ImageArray, labels: Int32Array, idx: ArrayLike<number>, batchSize = 256): { loss: number; accuracy: number } {
  const size = inputSizeOf(model);
  let loss = 0;
  let correct = 0;
  for (let s = 0; s < idx.length; s += batchSize) {
    const e = Math.min(idx.length, s + batchSize);
    const [l, c] = tf.tidy(() => {
      const x = tf.tensor4d(gather(images, size, idx, s, e), [e - s, size, size, 3]);
      const y = Int32Array.from({ length: e - s }, (_, k) => labels[idx[s + k]]);
      const p = model.predict(x) as tf.Tensor2D;
      const yt = tf.tensor1d(y, 'int32');
      const picked = tf.sum(tf.mul(p, tf.oneHot(yt, p.shape[1])), 1);
      const lossSum = tf.sum(tf.neg(tf.log(tf.maximum(picked, 1e-7))));
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(p, 1), yt), 'float32'));
      return [lossSum.dataSync()[0], hits.dataSync()[0]];
    });
    loss += l;
    correct += c;
  }
  return { loss: loss / Math.max(1, idx.length), accuracy: correct / Math.max(1, idx.length) };
}

/**
 * The seed of one epoch's shuffle and augmentation: a mix of the run's seed and the epoch, so any
 * epoch's batches can be rebuilt without replaying the ones before it.
 */
export function epochSeed(seed: number, epoch: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b);
  h ^= Math.imul(epoch + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  return Math.imul(h, 0x27d4eb2f) >>> 0;
}

/**
 * Resolves in a later macrotask, so messages queued for this worker (pause, cancel) are handled
 * between steps. A MessageChannel round trip rather than setTimeout(0), which browsers clamp to
 * 4 ms once nested; setImmediate where it exists (Node), since an open port keeps Node alive.
 */
export function nextTask(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/** Tensors in the order they were listed; decoded ones are new and owned by the caller (`owned`). */
function weightList(w: WeightsInput): { tensors: tf.Tensor[]; owned: boolean } {
  if (Array.isArray(w)) return { tensors: w, owned: false };
  if (!(w.data instanceof tf.Tensor) && Array.isArray(w.specs)) {
    const s = w as SerializedWeights;
    const map = tf.io.decodeWeights(s.data, s.specs);
    return { tensors: s.specs.map((spec) => map[spec.name]), owned: true };
  }
  return { tensors: Object.values(w as tf.NamedTensorMap), owned: false };
}

function setModelWeights(model: tf.LayersModel, w: WeightsInput, what: string): void {
  const { tensors, owned } = weightList(w);
  try {
    if (tensors.length !== model.weights.length) throw new Error(`${what}: ${tensors.length} tensors for a model with ${model.weights.length} weights`);
    model.setWeights(tensors);
  } finally {
    if (owned) tf.dispose(tensors);
  }
}

/** Encodes tensors by position; names only need to be unique within the list. */
function encodeList(tensors: tf.Tensor[], names: string[]): Promise<SerializedWeights> {
  return tf.io.encodeWeights(tensors.map((tensor, i) => ({ name: names[i], tensor }))) as Promise<SerializedWeights>;
}

function encodeModelWeights(model: tf.LayersModel, tensors: tf.Tensor[] = model.getWeights()): Promise<SerializedWeights> {
  return encodeList(tensors, model.weights.map((w, i) => `${i}:${w.originalName}`));
}

async function encodeOptimizer(optimizer: tf.Optimizer): Promise<SerializedWeights> {
  const list = await optimizer.getWeights();
  try {
    return await encodeList(
      list.map((w) => w.tensor),
      list.map((w, i) => `${i}:${w.name}`),
    );
  } finally {
    // The iteration count comes as a fresh scalar; the rest are the optimizer's own variables.
    list[0]?.tensor.dispose();
  }
}

async function setOptimizerWeights(optimizer: tf.Optimizer, w: SerializedWeights | NamedTensor[]): Promise<void> {
  if (Array.isArray(w)) {
    await optimizer.setWeights(w);
    return;
  }
  const map = tf.io.decodeWeights(w.data, w.specs);
  const list = w.specs.map((spec) => ({ name: spec.name, tensor: map[spec.name] }));
  try {
    // The optimizers match slots to variables by position (applyGradients' index), as we do.
    await optimizer.setWeights(list);
  } finally {
    // setWeights makes variables that share the data (reference-counted), so these can go.
    tf.dispose(list.map((x) => x.tensor));
  }
}

/** Index of the first epoch with the lowest finite validation loss, as the loop picks it; -1 if none. */
function bestOf(history: readonly EpochStats[]): number {
  let best = -1;
  for (let i = 0; i < history.length; i++) if (Number.isFinite(history[i].valLoss) && (best < 0 || history[i].valLoss < history[best].valLoss)) best = i;
  return best;
}

export async function trainEmbedder(images: ImageArray, labels: Int32Array, options: TrainOptions): Promise<TrainResult> {
  const o = options;
  const size = o.inputSize ?? IMAGE_SIZE;
  checkImages(images, labels.length, size);
  const split = o.split
    ? { train: Int32Array.from(o.split.train), validation: Int32Array.from(o.split.validation) }
    : (o.validationFraction ?? 0.1) > 0
      ? stratifiedSplit(labels, o.validationFraction ?? 0.1, o.seed)
      : { train: Int32Array.from(labels, (_, i) => i), validation: new Int32Array(0) };
  checkIndices(labels, split.train, 'split.train');
  checkIndices(labels, split.validation, 'split.validation');
  const numClasses = classCount(labels, split.train);
  const startEpoch = o.startEpoch ?? 0;
  const prior = o.history ?? [];
  if (!Number.isInteger(startEpoch) || startEpoch < 0) throw new Error(`startEpoch ${startEpoch}: expected a whole number ≥ 0`);
  if (prior.length !== startEpoch) throw new Error(`startEpoch ${startEpoch} needs the history of ${startEpoch} epochs, got ${prior.length}`);
  if (startEpoch > 0 && (!o.initialWeights || !o.initialOptimizerWeights)) throw new Error('resuming (startEpoch > 0) needs initialWeights and initialOptimizerWeights');
  if (tf.getBackend() === 'wasm') registerWasmTrainingKernels();

  const order = new Int32Array(split.train.length);
  const stepsPerEpoch = Math.ceil(order.length / o.batchSize);
  const totalSteps = o.epochs * stepsPerEpoch;
  const schedule = { lr: o.lr, warmupSteps: Math.round(o.warmupEpochs * stepsPerEpoch), totalSteps };

  const model = buildResNet({ numClasses, width: o.width, blocksPerStage: o.blocksPerStage, weightDecay: o.weightDecay, inputSize: size, seed: o.seed });
  const kind = o.optimizer ?? 'sgd';
  const optimizer = kind === 'adam' ? tf.train.adam(learningRateAt(0, schedule)) : tf.train.momentum(learningRateAt(0, schedule), o.momentum ?? 0.9, true);
  const setLr = (lr: number) => {
    // SGD/momentum bake the rate into a kept scalar that setLearningRate replaces; Adam reads the
    // plain field on every step.
    if (kind === 'sgd') (optimizer as tf.MomentumOptimizer).setLearningRate(lr);
    else (optimizer as unknown as { learningRate: number }).learningRate = lr;
  };
  model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });

  const hasVal = split.validation.length > 0;
  const restoreBest = hasVal && (o.restoreBest ?? true);
  const stopper = hasVal && o.patience != null ? earlyStopper({ patience: o.patience, mode: 'min' }) : null;
  let best: { loss: number; epoch: number; weights: tf.Tensor[] } | null = null;
  const history: EpochStats[] = prior.map((h) => ({ ...h }));
  let step = startEpoch * stepsPerEpoch;
  let cancelled = false;
  let stoppedEarly = false;
  let timedSteps = 0; // steps run by this call, for leaving the first two out of the timing
  try {
    if (o.initialWeights) setModelWeights(model, o.initialWeights, 'initialWeights');
    if (o.initialOptimizerWeights) await setOptimizerWeights(optimizer, o.initialOptimizerWeights);
    // Replaying the recorded validation losses puts the stopper where the interrupted run left it.
    for (const h of prior) if (stopper?.update(h.valLoss)) stoppedEarly = true;
    const priorBest = restoreBest ? bestOf(prior) : -1;
    if (priorBest >= 0) {
      let weights: tf.Tensor[];
      if (priorBest === prior.length - 1) weights = model.getWeights().map((w) => w.clone());
      else if (o.bestWeights) {
        const { tensors, owned } = weightList(o.bestWeights);
        weights = owned ? tensors : tensors.map((t) => t.clone());
      } else throw new Error(`resuming needs bestWeights: the best validation epoch (${priorBest}) is not the last (${prior.length - 1})`);
      best = { loss: prior[priorBest].valLoss, epoch: priorBest, weights };
    }

    for (let epoch = startEpoch; epoch < o.epochs && !cancelled && !stoppedEarly; epoch++) {
      const t0 = performance.now();
      const random = seededRandom(epochSeed(o.seed, epoch));
      order.set(split.train);
      shuffleInPlace(order, random);
      let lossSum = 0;
      let accSum = 0;
      let seen = 0;
      let lr = 0;
      let paused = 0;
      let stepSeconds = 0;
      let stepsTimed = 0;
      let coldOnly = false; // the timing so far holds only compile-time steps
      for (let s = 0, k = 0; s < order.length; s += o.batchSize, step++, k++) {
        await nextTask();
        if (o.waitIfPaused) {
          const p0 = performance.now();
          await o.waitIfPaused();
          paused += performance.now() - p0;
        }
        if (o.shouldStop?.()) {
          cancelled = true;
          break;
        }
        const ts = performance.now();
        const e = Math.min(order.length, s + o.batchSize);
        lr = learningRateAt(step, schedule);
        setLr(lr);
        const [x, y] = tf.tidy(() => {
          const raw = tf.tensor4d(gather(images, size, order, s, e), [e - s, size, size, 3]);
          const xb = o.augment === false ? raw : augmentBatch(raw, random);
          const yb = tf.oneHot(tf.tensor1d(Int32Array.from({ length: e - s }, (_, j) => labels[order[s + j]]), 'int32'), numClasses);
          return [xb, yb];
        });
        try {
          const out = (await model.trainOnBatch(x, y)) as number[];
          lossSum += out[0] * (e - s);
          accSum += out[1] * (e - s);
          seen += e - s;
        } finally {
          x.dispose();
          y.dispose();
        }
        const took = (performance.now() - ts) / 1000;
        // The call's first two steps compile kernels: they count only until a later step is timed.
        if (timedSteps++ >= 2) {
          if (coldOnly) (stepSeconds = 0), (stepsTimed = 0), (coldOnly = false);
          stepSeconds += took;
          stepsTimed++;
        } else {
          coldOnly = true;
          stepSeconds += took;
          stepsTimed++;
        }
        o.onStep?.({ epoch, step: k + 1, stepsPerEpoch, loss: lossSum / seen, accuracy: accSum / seen, secondsPerStep: stepSeconds / stepsTimed });
      }
      // History holds whole epochs only; a cancelled one is left out.
      if (cancelled || seen === 0) break;
      const trainSeconds = (performance.now() - t0 - paused) / 1000;
      const val = hasVal ? evaluate(model, images, labels, split.validation) : { loss: NaN, accuracy: NaN };
      const stats: EpochStats = { epoch, lr, loss: lossSum / seen, accuracy: accSum / seen, valLoss: val.loss, valAccuracy: val.accuracy, trainSeconds, seconds: (performance.now() - t0 - paused) / 1000 };
      history.push(stats);
      if (restoreBest && Number.isFinite(val.loss) && (!best || val.loss < best.loss)) {
        best?.weights.forEach((w) => w.dispose());
        best = { loss: val.loss, epoch, weights: model.getWeights().map((w) => w.clone()) };
      }
      if (o.onEpoch) {
        let open = true;
        const snapshot = history.map((h) => ({ ...h }));
        const serialize = async (): Promise<TrainCheckpoint> => {
          if (!open) throw new Error('serialize() after onEpoch returned: the weights have moved on');
          const held = best;
          return {
            epoch,
            history: snapshot.map((h) => ({ ...h })),
            model: await encodeModelWeights(model),
            optimizer: await encodeOptimizer(optimizer),
            best: held && held.epoch !== epoch ? { epoch: held.epoch, weights: await encodeModelWeights(model, held.weights) } : undefined,
          };
        };
        try {
          await o.onEpoch(stats, { epoch, history: snapshot, serialize });
        } finally {
          open = false;
        }
      }
      if (stopper?.update(val.loss)) stoppedEarly = true;
    }
    let bestEpoch = history.length - 1;
    if (best && best.epoch !== bestEpoch) {
      model.setWeights(best.weights);
      bestEpoch = best.epoch;
    }
    return { model, history, bestEpoch, stoppedEarly, cancelled, split };
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    best?.weights.forEach((w) => w.dispose());
    // Passed as an instance, so the model does not own (or dispose) it; nothing trains afterwards.
    optimizer.dispose();
    // MomentumOptimizer.dispose (tfjs 4.22) does not chain to SGDOptimizer's, so the kept
    // learning-rate scalar would leak; disposing twice is a no-op if that is ever fixed.
    if (kind === 'sgd') (optimizer as unknown as { c?: tf.Tensor }).c?.dispose();
  }
}

export interface StepTimingOptions {
  inputSize?: number;
  width?: number;
  blocksPerStage?: number;
  batchSize: number;
  augment?: boolean;
  seed?: number;
}

/**
 * Seconds per image of a training step and of inference, measured on this backend with the real
 * network: `steps` training steps on batches drawn from `idx`, of which the first two (kernel
 * compilation, memory growth) are left out, and as many inference batches. Everything it makes
 * is disposed; the weights it trains are thrown away.
 */
export async function timeTrainingSteps(images: ImageArray, labels: Int32Array, idx: Int32Array, o: StepTimingOptions, steps: number): Promise<{ secondsPerImage: number; secondsPerTestImage: number }> {
  const size = o.inputSize ?? IMAGE_SIZE;
  checkImages(images, labels.length, size);
  if (idx.length === 0) throw new Error('timeTrainingSteps: no images to time');
  checkIndices(labels, idx, 'idx');
  const numClasses = Math.max(2, labels.reduce((m, l) => Math.max(m, l + 1), 0));
  if (tf.getBackend() === 'wasm') registerWasmTrainingKernels();
  const random = seededRandom(o.seed ?? 1);
  const model = buildResNet({ numClasses, width: o.width, blocksPerStage: o.blocksPerStage, inputSize: size, seed: o.seed });
  const optimizer = tf.train.momentum(0.01, 0.9, true);
  model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const n = Math.min(o.batchSize, idx.length);
  // A batch of the real size: drawn with replacement when the set is smaller than one batch.
  const batch = () => Int32Array.from({ length: o.batchSize }, () => idx[Math.floor(random() * idx.length)]);
  const total = Math.max(3, Math.floor(steps));
  try {
    let trainSeconds = 0;
    for (let s = 0; s < total; s++) {
      await nextTask();
      const pick = batch();
      const t0 = performance.now();
      const [x, y] = tf.tidy(() => {
        const raw = tf.tensor4d(gather(images, size, pick, 0, pick.length), [pick.length, size, size, 3]);
        const xb = o.augment === false ? raw : augmentBatch(raw, random);
        return [xb, tf.oneHot(tf.tensor1d(Int32Array.from(pick, (i) => Math.max(0, labels[i])), 'int32'), numClasses)];
      });
      try {
        await model.trainOnBatch(x, y);
      } finally {
        x.dispose();
        y.dispose();
      }
      if (s >= 2) trainSeconds += (performance.now() - t0) / 1000;
    }
    const testBatch = Math.min(256, Math.max(n, 1));
    const testIdx = Int32Array.from({ length: testBatch }, (_, k) => idx[k % idx.length]);
    let testSeconds = 0;
    for (let s = 0; s < 3; s++) {
      await nextTask();
      const t0 = performance.now();
      tf.tidy(() => (model.predict(tf.tensor4d(gather(images, size, testIdx, 0, testBatch), [testBatch, size, size, 3])) as tf.Tensor).dataSync());
      if (s >= 1) testSeconds += (performance.now() - t0) / 1000;
    }
    return { secondsPerImage: trainSeconds / ((total - 2) * o.batchSize), secondsPerTestImage: testSeconds / (2 * testBatch) };
  } finally {
    model.dispose();
    optimizer.dispose();
    (optimizer as unknown as { c?: tf.Tensor }).c?.dispose();
  }
}

/** Width of the 'embedding' layer, i.e. the row length of `embed`'s output. */
export function embeddingDim(model: tf.LayersModel): number {
  return model.getLayer(EMBEDDING_LAYER).outputShape[1] as number;
}

/** Pooled features (the 'embedding' layer) of n×size×size×3 images, row-major n × embeddingDim. */
export function embed(model: tf.LayersModel, images: ImageArray, batchSize = 256): Float32Array {
  const size = inputSizeOf(model);
  const px = pixelsOf(size);
  const n = images.length / px;
  if (!Number.isInteger(n)) throw new Error(`images: length ${images.length} is not a multiple of ${px}`);
  const sub = embeddingModel(model);
  const dim = sub.outputs[0].shape[1] as number;
  const vectors = new Float32Array(n * dim);
  const all = Int32Array.from({ length: n }, (_, i) => i);
  for (let s = 0; s < n; s += batchSize) {
    const e = Math.min(n, s + batchSize);
    const v = tf.tidy(() => (sub.predict(tf.tensor4d(gather(images, size, all, s, e), [e - s, size, size, 3])) as tf.Tensor).dataSync() as Float32Array);
    vectors.set(v, s * dim);
  }
  return vectors;
}

/**
 * The whole trained network as the feature store keeps a user's layers model: model.json's fields
 * (weights listed as the one file 'weights.bin') and the weights' bytes. The embed worker loads it
 * with user-model.ts and cuts it at the 'embedding' layer.
 */
export async function modelArtifactsForStore(model: tf.LayersModel): Promise<{ modelJson: Record<string, unknown>; weights: ArrayBuffer }> {
  let saved: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const a = saved as tf.io.ModelArtifacts | null;
  if (!a || !a.modelTopology || !a.weightSpecs || !a.weightData) throw new Error('the trained model could not be serialised');
  const data = a.weightData;
  const weights = Array.isArray(data) ? concatBuffers(data) : data;
  return {
    modelJson: {
      format: 'layers-model',
      generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
      convertedBy: null,
      modelTopology: a.modelTopology,
      weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
    },
    weights,
  };
}

