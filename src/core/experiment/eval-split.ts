/**
 * Where the experiment's test images come from. A dataset that ships as train/ + test/ (or val/)
 * is evaluated on its own test folder, as the paper does with CIFAR-10; anything else gets a
 * seeded, stratified held-out share. Either way the test images never enter a training subset.
 */
import { pathSegments } from '../intake-paths.ts';
import { seededRandom, shuffleInPlace } from '../rng.ts';
import { membersByClass } from './subsets.ts';

export type SplitRole = 'train' | 'test';

export interface SplitLayout {
  /** Throws for a path outside the train and test folders (splitLayout returns null for those). */
  roleOf(path: string): SplitRole;
  /** The folder below train/ or test/, so train/cat and test/cat are one class; '' for a file right in it. */
  labelOf(path: string): string;
  /** The evaluation folder's name as it is spelled in the data. */
  testFolder: string;
}

/** Evaluation folder names, most preferred first, matched case-insensitively. */
const EVAL_FOLDERS = ['test', 'val', 'validation', 'valid'];

/**
 * The layout of a dataset split into a train/ folder and an evaluation folder, or null when the
 * paths are not exactly that (a file outside those folders means the user meant something else,
 * and guessing would silently change the class labels).
 *
 * When several evaluation folders sit beside train/ (say test/ and val/), test/ names the layout
 * and all of them are role 'test'. Making val/ training data would be wrong for data hygiene: its
 * authors held those images out of training, and scraped val and test sets often share
 * near-duplicates, which would then leak test images into the training set being deduplicated.
 */
export function splitLayout(relPaths: readonly string[]): SplitLayout | null {
  let trainFiles = 0;
  const evalSpelling = new Map<string, string>();
  for (const path of relPaths) {
    const segments = pathSegments(path);
    if (segments.length < 2) return null;
    const top = segments[0].toLowerCase();
    if (top === 'train') trainFiles++;
    else if (EVAL_FOLDERS.includes(top)) {
      if (!evalSpelling.has(top)) evalSpelling.set(top, segments[0]);
    } else return null;
  }
  if (trainFiles === 0 || evalSpelling.size === 0) return null;
  const chosen = EVAL_FOLDERS.find((name) => evalSpelling.has(name))!;
  return {
    roleOf(path: string): SplitRole {
      const segments = pathSegments(path);
      const top = segments.length > 1 ? segments[0].toLowerCase() : '';
      if (top === 'train') return 'train';
      if (EVAL_FOLDERS.includes(top)) return 'test';
      throw new Error(`${JSON.stringify(path)} is neither in the train folder nor in an evaluation folder`);
    },
    labelOf(path: string): string {
      const segments = pathSegments(path);
      return segments.length > 2 ? segments[1] : '';
    },
    testFolder: evalSpelling.get(chosen)!,
  };
}

/**
 * A held-out test set for data without one: per class round(fraction·n) images, at least one for a
 * class of two or more and never all of them, so every class is both trained on and tested on
 * where it can be. A single image stays in training. Seeded; both lists sorted.
 */
export function heldOutSplit(labels: ArrayLike<number>, idx: ArrayLike<number>, fraction: number, seed: number): { train: Int32Array; test: Int32Array } {
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`the held-out fraction must be between 0 and 1, got ${fraction}`);
  const random = seededRandom(seed);
  const train: number[] = [];
  const test: number[] = [];
  for (const members of membersByClass(labels, idx).values()) {
    const order = Int32Array.from(members);
    shuffleInPlace(order, random);
    const n = order.length;
    const nTest = n < 2 ? 0 : Math.min(n - 1, Math.max(1, Math.round(fraction * n)));
    for (let i = 0; i < n; i++) (i < nTest ? test : train).push(order[i]);
  }
  return { train: Int32Array.from(train).sort(), test: Int32Array.from(test).sort() };
}
