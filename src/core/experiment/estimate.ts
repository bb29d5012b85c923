/**
 * How long an experiment will take, from a timed warm-up on this machine: shown before the user
 * commits an evening of the tab to it. Linear in images × epochs, which is how training time
 * grows; evaluation and per-run setup are added per cell.
 */
import type { Cell } from './plan.ts';

export interface EstimateInput {
  cells: Cell[];
  /** Training images of a cell (the subset size for its fraction). */
  trainCountOf: (cell: Cell) => number;
  epochs: number;
  /** Measured: seconds to train on one image for one epoch. */
  secondsPerImageEpoch: number;
  /** Images embedded for evaluation in every cell. */
  testCount: number;
  secondsPerTestImage: number;
  /** Fixed cost of a cell: building the model, the subset, the kNN. 0 by default. */
  overheadPerCell?: number;
}

export interface Estimate {
  seconds: number;
  /** Σ training images × epochs over all cells: the work itself, independent of the machine. */
  imageEpochs: number;
}

export function estimateSeconds(o: EstimateInput): Estimate {
  const overhead = o.overheadPerCell ?? 0;
  for (const [name, v] of [
    ['epochs', o.epochs],
    ['secondsPerImageEpoch', o.secondsPerImageEpoch],
    ['testCount', o.testCount],
    ['secondsPerTestImage', o.secondsPerTestImage],
    ['overheadPerCell', overhead],
  ] as const) {
    if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`estimateSeconds: ${name} must be a finite number ≥ 0, got ${v}`);
  }
  let imageEpochs = 0;
  for (const cell of o.cells) {
    const n = o.trainCountOf(cell);
    if (!(Number.isFinite(n) && n >= 0)) throw new RangeError(`estimateSeconds: ${n} training images for a cell`);
    imageEpochs += n * o.epochs;
  }
  const perCell = o.testCount * o.secondsPerTestImage + overhead;
  return { seconds: imageEpochs * o.secondsPerImageEpoch + o.cells.length * perCell, imageEpochs };
}
