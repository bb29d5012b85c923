/**
 * Trains the compact ResNet on the user's labelled images so that its pooled features become the
 * embedder (Birodkar et al. 2019 embed with a network trained on the dataset itself). One
 * trainOnBatch per step, so the caller can cancel between steps and the learning rate can follow
 * the warm-up + cosine schedule per step rather than per epoch.
 *
 * The backend must already be chosen; on wasm the missing filter-gradient kernel is added here.
 */
import * as tf from '@tensorflow/tfjs';
import { earlyStopper, learningRateAt, seededRandom, shuffleInPlace, stratifiedSplit } from '../../core/train/schedule.ts';
import { augmentBatch } from './augment.ts';
import { buildResNet, embeddingModel } from './model.ts';
import { registerWasmTrainingKernels } from './wasm-grad.ts';

export const IMAGE_SIZE = 32;
const PIXELS = IMAGE_SIZE * IMAGE_SIZE * 3;

export interface EpochStats {
  epoch: number;
  /** Learning rate at the epoch's last step. */
  lr: number;
  loss: number;
  accuracy: number;
  /** NaN when there is no validation split. */
  valLoss: number;
  valAccuracy: number;
  /** Wall time of the epoch's training steps, without validation. */
  trainSeconds: number;
  seconds: number;
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
  /** Share of each label held out for validation. Default 0.1; 0 disables validation and early stopping. */
  validationFraction?: number;
  /** Epochs without validation-loss improvement before stopping. Default: never stop early. */
  patience?: number;
  /** Put back the weights of the best validation epoch at the end. Default true. */
  restoreBest?: boolean;
  augment?: boolean;
  /** Polled between steps; true ends training after the current step (cancel, time budget). */
  shouldStop?: () => boolean;
  onEpoch?: (stats: EpochStats) => void | Promise<void>;
}

export interface TrainResult {
  model: tf.LayersModel;
  history: EpochStats[];
  /** 0-based epoch whose weights the model holds. */
  bestEpoch: number;
  stoppedEarly: boolean;
  cancelled: boolean;
}

function checkInputs(images: Float32Array, labels: Int32Array): number {
  const n = labels.length;
  if (images.length !== n * PIXELS) throw new Error(`images: expected ${n}×${IMAGE_SIZE}×${IMAGE_SIZE}×3 values, got ${images.length}`);
  let max = -1;
  for (let i = 0; i < n; i++) {
    if (labels[i] < 0 || !Number.isInteger(labels[i])) throw new Error(`label ${labels[i]} at ${i}: labels are 0-based class indices`);
    if (labels[i] > max) max = labels[i];
  }
  if (max < 1) throw new Error('need at least two classes to train');
  return max + 1;
}

function gather(images: Float32Array, idx: ArrayLike<number>, from: number, to: number): Float32Array {
  const out = new Float32Array((to - from) * PIXELS);
  for (let k = from; k < to; k++) out.set(images.subarray(idx[k] * PIXELS, (idx[k] + 1) * PIXELS), (k - from) * PIXELS);
  return out;
}

/** Mean cross-entropy and accuracy of `model` on the listed items, in inference mode. */
export function evaluate(model: tf.LayersModel, images: Float32Array, labels: Int32Array, idx: ArrayLike<number>, batchSize = 256): { loss: number; accuracy: number } {
  let loss = 0;
  let correct = 0;
  for (let s = 0; s < idx.length; s += batchSize) {
    const e = Math.min(idx.length, s + batchSize);
    const [l, c] = tf.tidy(() => {
      const x = tf.tensor4d(gather(images, idx, s, e), [e - s, IMAGE_SIZE, IMAGE_SIZE, 3]);
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

export async function trainEmbedder(images: Float32Array, labels: Int32Array, options: TrainOptions): Promise<TrainResult> {
  const numClasses = checkInputs(images, labels);
  if (tf.getBackend() === 'wasm') registerWasmTrainingKernels();
  const o = options;
  const split = (o.validationFraction ?? 0.1) > 0 ? stratifiedSplit(labels, o.validationFraction ?? 0.1, o.seed) : { train: Int32Array.from(labels, (_, i) => i), validation: new Int32Array(0) };
  const order = Int32Array.from(split.train);
  const random = seededRandom(o.seed ^ 0x9e3779b9);
  const stepsPerEpoch = Math.ceil(order.length / o.batchSize);
  const totalSteps = o.epochs * stepsPerEpoch;
  const schedule = { lr: o.lr, warmupSteps: Math.round(o.warmupEpochs * stepsPerEpoch), totalSteps };

  const model = buildResNet({ numClasses, width: o.width, blocksPerStage: o.blocksPerStage, weightDecay: o.weightDecay, seed: o.seed });
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
  const stopper = hasVal && o.patience != null ? earlyStopper({ patience: o.patience, mode: 'min' }) : null;
  let best: { loss: number; epoch: number; weights: tf.Tensor[] } | null = null;
  const history: EpochStats[] = [];
  let step = 0;
  let cancelled = false;
  let stoppedEarly = false;
  try {
    for (let epoch = 0; epoch < o.epochs && !cancelled; epoch++) {
      const t0 = performance.now();
      shuffleInPlace(order, random);
      let lossSum = 0;
      let accSum = 0;
      let seen = 0;
      let lr = 0;
      for (let s = 0; s < order.length; s += o.batchSize, step++) {
        if (o.shouldStop?.()) {
          cancelled = true;
          break;
        }
        const e = Math.min(order.length, s + o.batchSize);
        lr = learningRateAt(step, schedule);
        setLr(lr);
        const [x, y] = tf.tidy(() => {
          const raw = tf.tensor4d(gather(images, order, s, e), [e - s, IMAGE_SIZE, IMAGE_SIZE, 3]);
          const xb = o.augment === false ? raw : augmentBatch(raw, random);
          const yb = tf.oneHot(tf.tensor1d(Int32Array.from({ length: e - s }, (_, k) => labels[order[s + k]]), 'int32'), numClasses);
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
      }
      // History holds whole epochs only; a cancelled one is left out.
      if (cancelled || seen === 0) break;
      const trainSeconds = (performance.now() - t0) / 1000;
      const val = hasVal ? evaluate(model, images, labels, split.validation) : { loss: NaN, accuracy: NaN };
      const stats: EpochStats = { epoch, lr, loss: lossSum / seen, accuracy: accSum / seen, valLoss: val.loss, valAccuracy: val.accuracy, trainSeconds, seconds: (performance.now() - t0) / 1000 };
      history.push(stats);
      if (hasVal && (o.restoreBest ?? true) && Number.isFinite(val.loss) && (!best || val.loss < best.loss)) {
        best?.weights.forEach((w) => w.dispose());
        best = { loss: val.loss, epoch, weights: model.getWeights().map((w) => w.clone()) };
      }
      await o.onEpoch?.(stats);
      if (stopper?.update(val.loss)) {
        stoppedEarly = true;
        break;
      }
    }
    let bestEpoch = history.length - 1;
    if (best && best.epoch !== bestEpoch) {
      model.setWeights(best.weights);
      bestEpoch = best.epoch;
    }
    return { model, history, bestEpoch, stoppedEarly, cancelled };
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

/** Width of the 'embedding' layer, i.e. the row length of `embed`'s output. */
export function embeddingDim(model: tf.LayersModel): number {
  return model.getLayer('embedding').outputShape[1] as number;
}

/** Pooled features (the 'embedding' layer) of n×32×32×3 images in 0..1, row-major n × embeddingDim. */
export function embed(model: tf.LayersModel, images: Float32Array, batchSize = 256): Float32Array {
  const n = images.length / PIXELS;
  if (!Number.isInteger(n)) throw new Error(`images: length ${images.length} is not a multiple of ${PIXELS}`);
  const sub = embeddingModel(model);
  const dim = sub.outputs[0].shape[1] as number;
  const vectors = new Float32Array(n * dim);
  for (let s = 0; s < n; s += batchSize) {
    const e = Math.min(n, s + batchSize);
    const v = tf.tidy(() => (sub.predict(tf.tensor4d(images.subarray(s * PIXELS, e * PIXELS), [e - s, IMAGE_SIZE, IMAGE_SIZE, 3])) as tf.Tensor).dataSync() as Float32Array);
    vectors.set(v, s * dim);
  }
  return vectors;
}
