/**
 * What a training run is asked to do, as plain data: stored with a checkpoint (a resume must use
 * exactly these), with the trained model, and shown in the UI. No tfjs here, so the store and the
 * page can import it without pulling the library in.
 */

export interface TrainSettings {
  /** Side of the square the images are resized to at decode time. */
  inputSize: number;
  /** Channels of the first stage; the later two stages double it twice. */
  width: number;
  /** Residual blocks per stage: 6n+2 layers, so 2 gives ResNet-14. */
  blocksPerStage: number;
  epochs: number;
  batchSize: number;
  /** Peak learning rate of momentum SGD. */
  lr: number;
  warmupEpochs: number;
  /** Epochs without validation-loss improvement before stopping. */
  patience: number;
  /** Share of each label held out for validation; 0 trains on everything and never stops early. */
  validationFraction: number;
  seed: number;
  augment: boolean;
}

/** One finished epoch of a training run. */
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

/**
 * Image passes the default epoch count aims at: the bench's CIFAR runs (10k images) kept improving
 * up to about 30 epochs, and a set ten times larger learns as much from its first few passes.
 */
const TARGET_IMAGE_PASSES = 300_000;
const MIN_EPOCHS = 10;
const MAX_EPOCHS = 40;
const FULL_BATCH = 128;
const FULL_LR = 0.1;

/**
 * Settings sized to the data: `count` labelled images in `classes` classes whose median side is
 * `medianSide` pixels.
 *
 * - Input 32 px for images up to 48 px (CIFAR-sized sources gain nothing from upscaling, and 64 px
 *   costs four times the compute), 64 px for anything larger.
 * - Batch 128, or the largest power of two that still gives about ten steps an epoch on a small
 *   set (never below 16, where batch-norm statistics get noisy); the learning rate shrinks with it
 *   (linear scaling, Goyal et al. 2017), so each image moves the weights about as much as at 128.
 * - Epochs so that about 300k images are seen, but 10 to 40.
 */
export function defaultTrainSettings(o: { count: number; classes: number; medianSide: number }): TrainSettings {
  const count = Math.max(0, Math.floor(o.count));
  const validationFraction = 0.1;
  const trainCount = Math.max(1, Math.round(count * (1 - validationFraction)));
  let batchSize = FULL_BATCH;
  while (batchSize > 16 && trainCount / batchSize < 10) batchSize /= 2;
  const epochs = Math.min(MAX_EPOCHS, Math.max(MIN_EPOCHS, Math.round(TARGET_IMAGE_PASSES / trainCount)));
  return {
    inputSize: o.medianSide > 0 && o.medianSide <= 48 ? 32 : 64,
    width: 16,
    blocksPerStage: 2,
    epochs,
    batchSize,
    lr: (FULL_LR * batchSize) / FULL_BATCH,
    warmupEpochs: 1,
    patience: 5,
    validationFraction,
    seed: 1,
    augment: true,
  };
}

const isInt = (v: unknown, lo: number, hi: number): boolean => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
const isNum = (v: unknown, lo: number, hi: number): boolean => typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi;

/**
 * Every reason these settings cannot be trained with, in words for the user; empty when they can.
 * The bounds keep a browser tab alive (a 512 px input or width 256 would not fit a GPU's memory)
 * and catch values that cannot be meant (a fraction above one, a negative rate).
 */
export function trainSettingsProblems(s: unknown): string[] {
  if (typeof s !== 'object' || s === null) return ['settings must be an object'];
  const v = s as Record<keyof TrainSettings, unknown>;
  const problems: string[] = [];
  const need = (ok: boolean, text: string) => ok || problems.push(text);
  need(isInt(v.inputSize, 8, 256), 'input size must be a whole number of pixels from 8 to 256');
  need(isInt(v.width, 1, 128), 'width must be a whole number from 1 to 128');
  need(isInt(v.blocksPerStage, 1, 16), 'blocks per stage must be a whole number from 1 to 16');
  need(isInt(v.epochs, 1, 1000), 'epochs must be a whole number from 1 to 1000');
  need(isInt(v.batchSize, 2, 4096), 'batch size must be a whole number from 2 to 4096 (batch-norm needs two images)');
  need(isNum(v.lr, Number.MIN_VALUE, 10), 'learning rate must be above 0 and at most 10');
  need(isNum(v.warmupEpochs, 0, typeof v.epochs === 'number' ? v.epochs : Infinity), 'warm-up must be from 0 epochs up to the number of epochs');
  need(isInt(v.patience, 0, 1000), 'patience must be a whole number of epochs from 0 to 1000');
  need(isNum(v.validationFraction, 0, 0.5), 'validation share must be from 0 to 0.5');
  need(isInt(v.seed, 0, 0xffffffff), 'seed must be a whole number from 0 to 4294967295');
  need(typeof v.augment === 'boolean', 'augment must be true or false');
  return problems;
}

/** A frozen copy holding exactly the TrainSettings fields, or an error naming every problem. */
export function validateTrainSettings(s: TrainSettings): Readonly<TrainSettings> {
  const problems = trainSettingsProblems(s);
  if (problems.length > 0) throw new RangeError(`training settings: ${problems.join('; ')}`);
  // Picked field by field: a stray property would make two equal runs compare unequal on resume.
  const { inputSize, width, blocksPerStage, epochs, batchSize, lr, warmupEpochs, patience, validationFraction, seed, augment } = s;
  return Object.freeze({ inputSize, width, blocksPerStage, epochs, batchSize, lr, warmupEpochs, patience, validationFraction, seed, augment });
}

/** True when two runs with these settings are the same run (a checkpoint of one resumes the other). */
export function sameTrainSettings(a: TrainSettings, b: TrainSettings): boolean {
  const keys: (keyof TrainSettings)[] = ['inputSize', 'width', 'blocksPerStage', 'epochs', 'batchSize', 'lr', 'warmupEpochs', 'patience', 'validationFraction', 'seed', 'augment'];
  return keys.every((k) => Object.is(a[k], b[k]));
}
