import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { estimateSeconds } from '../../../src/core/experiment/estimate.ts';
import { experimentCells, validateExperiment, type Cell } from '../../../src/core/experiment/plan.ts';

const cells = experimentCells(validateExperiment({}));
const trainCountOf = (c: Cell) => Math.round(1000 * c.fraction);

describe('estimateSeconds', () => {
  test('adds training, evaluation and overhead per cell', () => {
    const e = estimateSeconds({ cells, trainCountOf, epochs: 15, secondsPerImageEpoch: 0.01, testCount: 200, secondsPerTestImage: 0.002, overheadPerCell: 3 });
    const images = cells.reduce((a, c) => a + trainCountOf(c), 0);
    expect(e.imageEpochs).toBe(images * 15);
    expect(e.seconds).toBeCloseTo(images * 15 * 0.01 + cells.length * (200 * 0.002 + 3), 9);
  });

  test('linear in epochs and in the measured speed; nothing to do costs nothing', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.double({ min: 0, max: 1, noNaN: true }), (epochs, speed) => {
        const base = { cells, trainCountOf, secondsPerImageEpoch: speed, testCount: 0, secondsPerTestImage: 0 };
        const one = estimateSeconds({ ...base, epochs: 1 });
        const many = estimateSeconds({ ...base, epochs });
        expect(many.imageEpochs).toBe(one.imageEpochs * epochs);
        expect(many.seconds).toBeCloseTo(one.seconds * epochs, 6);
        expect(estimateSeconds({ ...base, epochs, secondsPerImageEpoch: 2 * speed }).seconds).toBeCloseTo(2 * many.seconds, 6);
      }),
    );
    expect(estimateSeconds({ cells: [], trainCountOf, epochs: 5, secondsPerImageEpoch: 1, testCount: 10, secondsPerTestImage: 1 })).toEqual({ seconds: 0, imageEpochs: 0 });
  });

  test('rejects negative or non-finite inputs', () => {
    const ok = { cells, trainCountOf, epochs: 1, secondsPerImageEpoch: 1, testCount: 1, secondsPerTestImage: 1 };
    expect(() => estimateSeconds({ ...ok, secondsPerImageEpoch: NaN })).toThrow(RangeError);
    expect(() => estimateSeconds({ ...ok, testCount: -1 })).toThrow(RangeError);
    expect(() => estimateSeconds({ ...ok, trainCountOf: () => Infinity })).toThrow(RangeError);
  });
});
