/**
 * One training run as the training worker performs it, without the worker: split, resume from the
 * store's checkpoint, train with pause and cancel, checkpoint every epoch, save the network as a
 * user model, forget the checkpoint. Kept apart from the comlink shell so Node tests can drive a
 * whole run (cpu backend, the in-memory store) and load the saved model back with user-model.ts.
 *
 * The backend must already be chosen (the worker calls chooseBackend first).
 */
import * as tf from '@tensorflow/tfjs';
import { stratifiedSplit, type Split } from '../../core/train/schedule.ts';
import type { FeatureStore } from '../../store/feature-store.ts';
import type { StoredCheckpoint, StoredModel } from '../../store/schema.ts';
import type { BackendName } from '../backend.ts';
import { EMBEDDING_LAYER } from './model.ts';
import { sameTrainSettings, validateTrainSettings, type EpochStats, type TrainSettings } from './settings.ts';
import { embeddingDim, evaluate, modelArtifactsForStore, trainEmbedder, type StepInfo, type TrainCheckpoint, type TrainOptions } from './train.ts';

/** The worker's decoded images: n × inputSize² × 3 bytes and one label per image (negative: none). */
export interface TrainingData {
  images: Uint8Array;
  labels: Int32Array;
  inputSize: number;
  /** Images that did not decode: left out of every index list. */
  failed?: ReadonlySet<number>;
}

export interface TrainRequest {
  /** Checkpoint key; one run at a time per key. */
  runKey: string;
  /** Of the training data (files and labels): a checkpoint of other data is never resumed. */
  fingerprint: string;
  /** Items (indices into the loaded images) to train on; a stratified share of them validates. */
  trainIdx: Int32Array;
  settings: TrainSettings;
  /** Continue from the checkpoint under runKey when its fingerprint, settings and split match. */
  resume: boolean;
  /** Where the finished network goes; the id must start with 'user-' for the embed worker to find it. */
  saveAs?: { id: string; name: string; classes: string[]; fileCount: number };
  backend?: 'auto' | BackendName;
}

export interface TrainProgress {
  phase: 'loading' | 'training' | 'paused' | 'validating' | 'saving';
  /** 0-based epoch in progress (or last finished while saving). */
  epoch: number;
  epochs: number;
  /** Steps finished in this epoch. */
  step: number;
  stepsPerEpoch: number;
  /** Running means over this epoch. */
  loss: number;
  accuracy: number;
  /** Whole epochs so far, resumed ones included. */
  history: EpochStats[];
  /** Until the last epoch ends (early stopping may come sooner); null until a step has been timed. */
  secondsLeft: number | null;
  backend: string;
}

export interface TrainOutcome {
  status: 'done' | 'stopped-early' | 'cancelled';
  history: EpochStats[];
  /** 0-based epoch whose weights were kept; -1 when no epoch finished. */
  bestEpoch: number;
  /** At bestEpoch; NaN without a validation split. */
  valAccuracy: number;
  valIdx: Int32Array;
  trainIdx: Int32Array;
  /** Set when the network was saved (not on cancel). */
  modelId?: string;
  dim?: number;
  /** Training seconds behind the result: every whole epoch's, over all sessions when resumed. */
  seconds: number;
  /** The last epoch the checkpoint had finished, when the run continued from one. */
  resumedFromEpoch?: number;
}

/** How the worker steers a run: pause by returning an unsettled promise, cancel by answering true. */
export interface RunControl {
  isPaused(): boolean;
  waitWhilePaused(): Promise<void>;
  shouldStop(): boolean;
}

export type TrainStore = Pick<FeatureStore, 'getCheckpoint' | 'putCheckpoint' | 'deleteCheckpoint' | 'putModel'>;

/** Reports at most this often, except phase changes and epoch ends, which go at once. */
const PROGRESS_INTERVAL_MS = 250;

/** Sorted, without duplicates, failed decodes or unlabelled items. */
export function usableIndices(data: TrainingData, idx: ArrayLike<number>): Int32Array {
  const keep = new Set<number>();
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k];
    if (!(Number.isInteger(i) && i >= 0 && i < data.labels.length)) throw new Error(`index ${i} is outside the ${data.labels.length} loaded images`);
    if (data.labels[i] >= 0 && !data.failed?.has(i)) keep.add(i);
  }
  return Int32Array.from(keep).sort();
}

/** The validation split of a run: stratified over the training items' labels, by the run's seed. */
export function runSplit(labels: Int32Array, trainIdx: Int32Array, s: Pick<TrainSettings, 'validationFraction' | 'seed'>): Split {
  if (s.validationFraction <= 0) return { train: trainIdx.slice(), validation: new Int32Array(0) };
  const local = stratifiedSplit(Int32Array.from(trainIdx, (i) => labels[i]), s.validationFraction, s.seed);
  return { train: Int32Array.from(local.train, (k) => trainIdx[k]), validation: Int32Array.from(local.validation, (k) => trainIdx[k]) };
}

const sameIndices = (a: ArrayLike<number>, b: ArrayLike<number>) => a.length === b.length && Array.prototype.every.call(a, (v: number, i: number) => v === b[i]);

/** The checkpoint resumes this run only when data, settings and split are all the same. */
export function checkpointMatches(cp: StoredCheckpoint | undefined, fingerprint: string, settings: TrainSettings, split: Split): cp is StoredCheckpoint {
  return (
    !!cp &&
    cp.fingerprint === fingerprint &&
    sameTrainSettings(cp.settings, settings) &&
    sameIndices(cp.split.train, split.train) &&
    sameIndices(cp.split.validation, split.validation) &&
    cp.history.length === cp.epoch + 1
  );
}

export function toStoredCheckpoint(c: TrainCheckpoint, run: { runKey: string; fingerprint: string; settings: TrainSettings; split: Split; backend: string }): StoredCheckpoint {
  return {
    runKey: run.runKey,
    fingerprint: run.fingerprint,
    settings: { ...run.settings },
    epoch: c.epoch,
    history: c.history,
    modelWeights: c.model.data,
    modelSpecs: c.model.specs,
    optimizerWeights: c.optimizer.data,
    optimizerSpecs: c.optimizer.specs,
    best: c.best ? { epoch: c.best.epoch, weights: c.best.weights.data, specs: c.best.weights.specs } : undefined,
    split: { train: run.split.train.slice(), validation: run.split.validation.slice() },
    seconds: c.history.reduce((t, h) => t + h.seconds, 0),
    backend: run.backend,
    updatedAt: Date.now(),
  };
}

/** trainEmbedder's options from the settings (momentum SGD, best epoch restored). */
export function trainOptions(s: TrainSettings): TrainOptions {
  return {
    epochs: s.epochs,
    batchSize: s.batchSize,
    lr: s.lr,
    warmupEpochs: s.warmupEpochs,
    seed: s.seed,
    optimizer: 'sgd',
    width: s.width,
    blocksPerStage: s.blocksPerStage,
    inputSize: s.inputSize,
    patience: s.patience,
    augment: s.augment,
    restoreBest: true,
  };
}

type Specs = tf.io.WeightsManifestEntry[];

/** The options that continue from a stored checkpoint. */
function resumeOptions(cp: StoredCheckpoint): Partial<TrainOptions> {
  return {
    startEpoch: cp.epoch + 1,
    history: cp.history,
    initialWeights: { data: cp.modelWeights, specs: cp.modelSpecs as Specs },
    initialOptimizerWeights: { data: cp.optimizerWeights, specs: cp.optimizerSpecs as Specs },
    bestWeights: cp.best ? { data: cp.best.weights, specs: cp.best.specs as Specs } : undefined,
  };
}

/** Progress reports with a throttle, and the bookkeeping for the time-left estimate. */
function progressReporter(onProgress: ((p: TrainProgress) => void) | undefined, base: { epochs: number; backend: string; history: EpochStats[]; validationCount: number; batchSize: number }) {
  let last = -Infinity;
  const state: TrainProgress = { phase: 'loading', epoch: 0, epochs: base.epochs, step: 0, stepsPerEpoch: 0, loss: NaN, accuracy: NaN, history: base.history, secondsLeft: null, backend: base.backend };
  let secondsPerStep = NaN;
  const secondsLeft = (): number | null => {
    if (!Number.isFinite(secondsPerStep) || state.stepsPerEpoch === 0) return null;
    const epochsAfter = Math.max(0, state.epochs - state.epoch - 1);
    const steps = epochsAfter * state.stepsPerEpoch + (state.stepsPerEpoch - state.step);
    // Validation runs forwards only, about a third of a training step's work per image.
    const lastVal = state.history.at(-1);
    const valSeconds = lastVal ? Math.max(0, lastVal.seconds - lastVal.trainSeconds) : (base.validationCount * secondsPerStep) / base.batchSize / 3;
    return steps * secondsPerStep + (epochsAfter + (state.phase === 'training' || state.phase === 'paused' ? 1 : 0)) * valSeconds;
  };
  return {
    state,
    step(info: StepInfo) {
      Object.assign(state, { phase: 'training', epoch: info.epoch, step: info.step, stepsPerEpoch: info.stepsPerEpoch, loss: info.loss, accuracy: info.accuracy });
      secondsPerStep = info.secondsPerStep;
    },
    report(patch: Partial<TrainProgress> = {}, force = false) {
      Object.assign(state, patch);
      const now = performance.now();
      if (!onProgress || (!force && now - last < PROGRESS_INTERVAL_MS)) return;
      last = now;
      // Not awaited: a slow page must not hold up training. Nothing to do if it has gone.
      Promise.resolve(onProgress({ ...state, history: state.history.slice(), secondsLeft: secondsLeft() })).catch(() => {});
    },
  };
}

/**
 * Trains (or resumes) the run, checkpointing after every epoch, and on completion saves the
 * network as a user model cut at its 'embedding' layer and deletes the checkpoint. A cancel keeps
 * the last checkpoint. If the model cannot be saved, the checkpoint stays too, so the same request
 * with resume: true saves it without training again.
 */
export async function runTraining(data: TrainingData, req: TrainRequest, store: TrainStore, control: RunControl, backend: string, onProgress?: (p: TrainProgress) => void): Promise<TrainOutcome> {
  const settings = validateTrainSettings(req.settings);
  if (settings.inputSize !== data.inputSize) throw new Error(`settings.inputSize is ${settings.inputSize}, but the images were loaded at ${data.inputSize}: load them again at that size`);
  if (req.saveAs && !req.saveAs.id.startsWith('user-')) throw new Error(`saveAs.id '${req.saveAs.id}' must start with 'user-' (the embed worker looks for user models by that prefix)`);
  const trainIdx = usableIndices(data, req.trainIdx);
  const split = runSplit(data.labels, trainIdx, settings);

  const history: EpochStats[] = [];
  const progress = progressReporter(onProgress, { epochs: settings.epochs, backend, history, validationCount: split.validation.length, batchSize: settings.batchSize });
  progress.report({ phase: 'loading' }, true);

  const found = req.resume ? await store.getCheckpoint(req.runKey) : undefined;
  const cp = checkpointMatches(found, req.fingerprint, settings, split) ? found : undefined;
  if (cp) history.push(...cp.history);
  const run = { runKey: req.runKey, fingerprint: req.fingerprint, settings, split, backend };

  const result = await trainEmbedder(data.images, data.labels, {
    ...trainOptions(settings),
    split,
    ...(cp ? resumeOptions(cp) : {}),
    shouldStop: () => control.shouldStop(),
    waitIfPaused: async () => {
      if (!control.isPaused()) return;
      progress.report({ phase: 'paused' }, true);
      await control.waitWhilePaused();
      if (!control.shouldStop()) progress.report({ phase: 'training' }, true);
    },
    onStep: (info) => {
      progress.step(info);
      const last = info.step === info.stepsPerEpoch;
      if (last && split.validation.length > 0) progress.report({ phase: 'validating' }, true);
      else progress.report({}, last);
    },
    onEpoch: async (stats, checkpoint) => {
      history.push(stats);
      await store.putCheckpoint(toStoredCheckpoint(await checkpoint.serialize(), run));
      progress.report({ phase: 'training' }, true);
    },
  });

  const { model } = result;
  try {
    const seconds = result.history.reduce((t, h) => t + h.seconds, 0);
    const outcome: TrainOutcome = {
      status: result.cancelled ? 'cancelled' : result.stoppedEarly ? 'stopped-early' : 'done',
      history: result.history,
      bestEpoch: result.bestEpoch,
      valAccuracy: result.history[result.bestEpoch]?.valAccuracy ?? NaN,
      valIdx: split.validation.slice(),
      trainIdx: split.train.slice(),
      seconds,
      ...(cp ? { resumedFromEpoch: cp.epoch } : {}),
    };
    if (result.cancelled) return outcome;
    if (req.saveAs) {
      progress.report({ phase: 'saving', epoch: Math.max(0, result.history.length - 1) }, true);
      const stored = await toStoredModel(model, req.saveAs, settings, {
        fingerprint: req.fingerprint,
        history: result.history,
        bestEpoch: result.bestEpoch,
        valAccuracy: outcome.valAccuracy,
        backend,
        seconds,
      });
      await store.putModel(stored);
      outcome.modelId = stored.id;
      outcome.dim = stored.dim;
    }
    await store.deleteCheckpoint(req.runKey);
    return outcome;
  } finally {
    model.dispose();
  }
}

/** The trained network as a stored user model: a layers model read at its 'embedding' layer. */
export async function toStoredModel(
  model: tf.LayersModel,
  saveAs: NonNullable<TrainRequest['saveAs']>,
  settings: TrainSettings,
  meta: { fingerprint: string; history: EpochStats[]; bestEpoch: number; valAccuracy: number; valKnn10?: number; backend: string; seconds: number },
): Promise<StoredModel> {
  const { modelJson, weights } = await modelArtifactsForStore(model);
  const now = Date.now();
  return {
    id: saveAs.id,
    name: saveAs.name,
    format: 'layers',
    modelJson,
    weights,
    outputNode: EMBEDDING_LAYER,
    inputSize: settings.inputSize,
    // The network trained on bytes / 255, which is what the embed worker feeds for [0, 1].
    inputRange: [0, 1],
    dim: embeddingDim(model),
    createdAt: now,
    trained: {
      fingerprint: meta.fingerprint,
      fileCount: saveAs.fileCount,
      classes: [...saveAs.classes],
      settings: { ...settings },
      history: meta.history,
      bestEpoch: meta.bestEpoch,
      valAccuracy: meta.valAccuracy,
      ...(meta.valKnn10 !== undefined ? { valKnn10: meta.valKnn10 } : {}),
      backend: meta.backend,
      seconds: meta.seconds,
      trainedAt: now,
    },
  };
}

export interface TrainAndTestRequest {
  trainIdx: Int32Array;
  testIdx: Int32Array;
  settings: TrainSettings;
  backend?: 'auto' | BackendName;
}

/**
 * One network of the Figure 2 experiment: trained from scratch on all of trainIdx with these
 * settings (no validation split, so no early stopping; no checkpoint, nothing saved), then its
 * classification accuracy on testIdx. Everything is disposed. A cancel rejects with an AbortError:
 * a half-trained network's accuracy would be a wrong point on the plot.
 */
export async function trainAndTest(data: TrainingData, req: TrainAndTestRequest, control: RunControl, backend: string, onProgress?: (p: TrainProgress) => void): Promise<{ testAccuracy: number; history: EpochStats[]; seconds: number }> {
  const started = performance.now();
  const settings = validateTrainSettings(req.settings);
  if (settings.inputSize !== data.inputSize) throw new Error(`settings.inputSize is ${settings.inputSize}, but the images were loaded at ${data.inputSize}`);
  const trainIdx = usableIndices(data, req.trainIdx);
  const testIdx = usableIndices(data, req.testIdx);
  const history: EpochStats[] = [];
  const progress = progressReporter(onProgress, { epochs: settings.epochs, backend, history, validationCount: 0, batchSize: settings.batchSize });
  progress.report({ phase: 'training' }, true);
  const result = await trainEmbedder(data.images, data.labels, {
    ...trainOptions(settings),
    split: { train: trainIdx, validation: new Int32Array(0) },
    shouldStop: () => control.shouldStop(),
    waitIfPaused: async () => {
      if (!control.isPaused()) return;
      progress.report({ phase: 'paused' }, true);
      await control.waitWhilePaused();
      progress.report({ phase: 'training' }, true);
    },
    onStep: (info) => {
      progress.step(info);
      progress.report({}, info.step === info.stepsPerEpoch);
    },
    onEpoch: (stats) => void history.push(stats),
  });
  try {
    if (result.cancelled) throw new DOMException('Training was cancelled', 'AbortError');
    progress.report({ phase: 'validating' }, true);
    const test = testIdx.length > 0 ? evaluate(result.model, data.images, data.labels, testIdx) : { accuracy: NaN };
    return { testAccuracy: test.accuracy, history: result.history, seconds: (performance.now() - started) / 1000 };
  } finally {
    result.model.dispose();
  }
}
