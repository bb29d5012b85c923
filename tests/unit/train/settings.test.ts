/** Training settings sized to the data, and the checks that keep impossible ones out. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultTrainSettings, sameTrainSettings, trainSettingsProblems, validateTrainSettings } from '../../../src/ml/train/settings.ts';

describe('defaultTrainSettings', () => {
  it('gives CIFAR-sized data the ResNet-14 at 32 px, batch 128, lr 0.1 and 33 epochs (300k passes over the 9 000 that train)', () => {
    expect(defaultTrainSettings({ count: 10_000, classes: 10, medianSide: 32 })).toEqual({
      inputSize: 32,
      width: 16,
      blocksPerStage: 2,
      epochs: 33,
      batchSize: 128,
      lr: 0.1,
      warmupEpochs: 1,
      patience: 5,
      validationFraction: 0.1,
      seed: 1,
      augment: true,
    });
  });

  it('uses 64 px for images larger than 48 px', () => {
    expect(defaultTrainSettings({ count: 5000, classes: 5, medianSide: 48 }).inputSize).toBe(32);
    expect(defaultTrainSettings({ count: 5000, classes: 5, medianSide: 49 }).inputSize).toBe(64);
    expect(defaultTrainSettings({ count: 5000, classes: 5, medianSide: 4000 }).inputSize).toBe(64);
  });

  it('aims at about 300k image passes, within 10 to 40 epochs', () => {
    expect(defaultTrainSettings({ count: 100_000, classes: 10, medianSide: 32 }).epochs).toBe(10);
    expect(defaultTrainSettings({ count: 2000, classes: 10, medianSide: 32 }).epochs).toBe(40);
    expect(defaultTrainSettings({ count: 15_000, classes: 10, medianSide: 32 }).epochs).toBe(22);
  });

  it('shrinks the batch (and the rate with it) on small sets, never below 16', () => {
    const small = defaultTrainSettings({ count: 600, classes: 3, medianSide: 100 });
    expect(small.batchSize).toBe(32);
    expect(small.lr).toBeCloseTo(0.025);
    expect(defaultTrainSettings({ count: 20, classes: 2, medianSide: 100 }).batchSize).toBe(16);
  });

  it('always gives valid settings', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 2, max: 1000 }), fc.double({ min: 0, max: 20_000, noNaN: true }), (count, classes, medianSide) => {
        expect(trainSettingsProblems(defaultTrainSettings({ count, classes, medianSide }))).toEqual([]);
      }),
    );
  });
});

describe('validateTrainSettings', () => {
  const good = defaultTrainSettings({ count: 10_000, classes: 10, medianSide: 32 });

  it('returns a frozen copy of exactly the settings fields', () => {
    const copy = validateTrainSettings({ ...good, extra: 1 } as typeof good);
    expect(copy).toEqual(good);
    expect(Object.isFrozen(copy)).toBe(true);
    expect(copy).not.toBe(good);
  });

  it('names every problem at once', () => {
    const bad = { ...good, inputSize: 4, batchSize: 1, lr: 0, validationFraction: 0.9, augment: 'yes' as unknown as boolean, warmupEpochs: good.epochs + 1 };
    const problems = trainSettingsProblems(bad);
    expect(problems).toHaveLength(6);
    expect(() => validateTrainSettings(bad)).toThrow(/input size.*batch size.*learning rate.*warm-up.*validation share.*augment/);
    expect(trainSettingsProblems(null)).toEqual(['settings must be an object']);
    expect(trainSettingsProblems({ ...good, epochs: 2.5 })).toEqual([expect.stringMatching(/epochs/)]);
    expect(trainSettingsProblems({ ...good, seed: -1 })).toEqual([expect.stringMatching(/seed/)]);
  });

  it('sameTrainSettings compares every field', () => {
    expect(sameTrainSettings(good, { ...good })).toBe(true);
    for (const key of Object.keys(good) as (keyof typeof good)[]) {
      const other = { ...good, [key]: typeof good[key] === 'boolean' ? !good[key] : (good[key] as number) + 1 };
      expect(sameTrainSettings(good, other), key).toBe(false);
    }
  });
});
