import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { heldOutSplit, splitLayout } from '../../../src/core/experiment/eval-split.ts';

describe('splitLayout', () => {
  test('train/ + test/: role from the top folder, label from the next one', () => {
    const layout = splitLayout(['train/cat/1.jpg', 'train/dog/2.jpg', 'Test/cat/3.jpg', 'train/loose.jpg', 'train/cat/deep/4.jpg'])!;
    expect(layout).not.toBeNull();
    expect(layout.testFolder).toBe('Test');
    expect(layout.roleOf('train/cat/1.jpg')).toBe('train');
    expect(layout.roleOf('Test/cat/3.jpg')).toBe('test');
    expect(layout.labelOf('Test/cat/3.jpg')).toBe('cat');
    expect(layout.labelOf('train/cat/deep/4.jpg')).toBe('cat');
    expect(layout.labelOf('train/loose.jpg')).toBe('');
    expect(() => layout.roleOf('other/x.jpg')).toThrow();
  });

  test.each(['val', 'VALIDATION', 'valid'])('accepts %s as the evaluation folder', (name) => {
    const layout = splitLayout(['train/a/1.png', `${name}/a/2.png`])!;
    expect(layout.testFolder).toBe(name);
    expect(layout.roleOf(`${name}/a/2.png`)).toBe('test');
  });

  test('with test/ and val/ both present, test/ names the layout and both are held out', () => {
    const layout = splitLayout(['train/a/1.png', 'val/a/2.png', 'test/a/3.png'])!;
    expect(layout.testFolder).toBe('test');
    expect(layout.roleOf('val/a/2.png')).toBe('test');
  });

  test.each([
    [[]],
    [['train/a/1.png']],
    [['test/a/1.png']],
    [['train/a/1.png', 'test/a/2.png', 'extra/a/3.png']],
    [['train/a/1.png', 'test/a/2.png', 'root.png']],
    [['cats/1.png', 'dogs/2.png']],
  ])('is null for %o', (paths) => {
    expect(splitLayout(paths)).toBeNull();
  });
});

describe('heldOutSplit', () => {
  test('partitions the pool per class: round(f·n) clamped to [1, n−1] held out, singletons trained on', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 120 }),
        fc.double({ min: 0.01, max: 0.99, noNaN: true }),
        fc.integer(),
        (labels, f, seed) => {
          const idx = labels.map((_, i) => i).filter((i) => i % 4 !== 3);
          const { train, test } = heldOutSplit(labels, idx, f, seed);
          expect([...train, ...test].sort((a, b) => a - b)).toEqual(idx);
          for (const list of [train, test]) for (let i = 1; i < list.length; i++) expect(list[i]).toBeGreaterThan(list[i - 1]);
          for (const label of new Set(idx.map((i) => labels[i]))) {
            const n = idx.filter((i) => labels[i] === label).length;
            const held = [...test].filter((i) => labels[i] === label).length;
            expect(held).toBe(n < 2 ? 0 : Math.min(n - 1, Math.max(1, Math.round(f * n))));
          }
          expect(heldOutSplit(labels, idx, f, seed)).toEqual({ train, test });
        },
      ),
    );
  });

  test('varies with the seed and rejects a fraction outside (0, 1)', () => {
    const labels = Array.from({ length: 100 }, (_, i) => i % 2);
    const idx = labels.map((_, i) => i);
    expect([...heldOutSplit(labels, idx, 0.2, 1).test]).not.toEqual([...heldOutSplit(labels, idx, 0.2, 2).test]);
    expect(() => heldOutSplit(labels, idx, 0, 1)).toThrow(RangeError);
    expect(() => heldOutSplit(labels, idx, 1, 1)).toThrow(RangeError);
  });
});
