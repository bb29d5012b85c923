/**
 * Pure training bookkeeping for the on-device embedder (issue 5): learning-rate schedule, early
 * stopping and a stratified split. Kept free of tfjs so it can be property-tested cheaply and
 * reused by a worker that only reports progress.
 */

import { seededRandom, shuffleInPlace } from '../rng.ts';
export interface ScheduleOptions {
  /** Peak learning rate, reached at the end of the warm-up. */
  lr: number;
  /** Steps of linear warm-up; 0 starts at the peak. */
  warmupSteps: number;
  totalSteps: number;
  /** Floor the cosine decays to (fraction of `lr`); 0 by default. */
  minFraction?: number;
}

/**
 * Learning rate for a 0-based step: linear ramp over the warm-up (starting above zero so the
 * first step still moves), then half a cosine down to `lr·minFraction` at `totalSteps`.
 * Steps past the end stay at the floor rather than swinging back up.
 */
export function learningRateAt(step: number, o: ScheduleOptions): number {
  const floor = o.lr * (o.minFraction ?? 0);
  const warm = Math.max(0, Math.floor(o.warmupSteps));
  const total = Math.max(warm + 1, Math.floor(o.totalSteps));
  const s = Math.max(0, step);
  if (s < warm) return (o.lr * (s + 1)) / (warm + 1);
  const t = Math.min(1, (s - warm) / Math.max(1, total - warm));
  return floor + (o.lr - floor) * 0.5 * (1 + Math.cos(Math.PI * t));
}

export interface EarlyStopOptions {
  /** Epochs without improvement tolerated before stopping. */
  patience: number;
  /** Which validation figure counts; loss improves downward, accuracy upward. */
  mode: 'min' | 'max';
  /** Improvement smaller than this does not reset the patience. */
  minDelta?: number;
}

export interface EarlyStopper {
  /** Records one epoch's value; returns true when training should stop. */
  update(value: number): boolean;
  readonly best: number;
  /** 0-based epoch of the best value, -1 before any. */
  readonly bestEpoch: number;
  readonly stopped: boolean;
}

export function earlyStopper(o: EarlyStopOptions): EarlyStopper {
  const sign = o.mode === 'min' ? 1 : -1;
  const delta = Math.abs(o.minDelta ?? 0);
  let best = o.mode === 'min' ? Infinity : -Infinity;
  let bestEpoch = -1;
  let epoch = -1;
  let stopped = false;
  return {
    update(value: number): boolean {
      epoch++;
      // NaN never counts as an improvement: a diverged run should run out its patience.
      if (Number.isFinite(value) && (bestEpoch < 0 || sign * (best - value) > delta)) {
        best = value;
        bestEpoch = epoch;
      }
      if (epoch - bestEpoch > o.patience) stopped = true;
      return stopped;
    },
    get best() { return best; },
    get bestEpoch() { return bestEpoch; },
    get stopped() { return stopped; },
  };
}

export { seededRandom, shuffleInPlace };

export interface Split {
  train: Int32Array;
  validation: Int32Array;
}

/**
 * Per-label split so that rare classes are still seen in validation: each label with at least two
 * items gives round(n·fraction) of them (at least one, never all) to validation; singletons stay
 * in training, since a class the network never saw cannot be validated anyway. Indices come back
 * sorted so the split does not depend on the input's label order beyond the seed.
 */
export function stratifiedSplit(labels: ArrayLike<number>, validationFraction: number, seed: number): Split {
  const byLabel = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const list = byLabel.get(labels[i]);
    if (list) list.push(i);
    else byLabel.set(labels[i], [i]);
  }
  const random = seededRandom(seed);
  const train: number[] = [];
  const validation: number[] = [];
  const f = Math.min(1, Math.max(0, validationFraction));
  for (const label of [...byLabel.keys()].sort((a, b) => a - b)) {
    const idx = byLabel.get(label)!;
    shuffleInPlace(idx, random);
    const nVal = idx.length < 2 || f === 0 ? 0 : Math.min(idx.length - 1, Math.max(1, Math.round(idx.length * f)));
    validation.push(...idx.slice(0, nVal));
    train.push(...idx.slice(nVal));
  }
  return { train: Int32Array.from(train).sort(), validation: Int32Array.from(validation).sort() };
}
