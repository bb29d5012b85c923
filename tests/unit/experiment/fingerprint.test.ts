import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { datasetFingerprint } from '../../../src/core/experiment/fingerprint.ts';
import { seededRandom } from '../../../src/core/rng.ts';
import { sha256Hex } from '../../../src/core/sha256.ts';
import { shuffleInPlace } from '../../../src/core/train/schedule.ts';

const itemsArb = fc.array(
  fc.record({ sha256: fc.stringMatching(/^[0-9a-f]{64}$/), label: fc.string({ maxLength: 8 }).filter((s) => !/[\t\n]/.test(s)) }),
  { maxLength: 20 },
);

describe('datasetFingerprint', () => {
  test('is the SHA-256 of the sorted "sha256\\tlabel\\n" lines', async () => {
    const items = [
      { sha256: 'b'.repeat(64), label: 'dog' },
      { sha256: 'a'.repeat(64), label: 'cat' },
    ];
    const text = `${'a'.repeat(64)}\tcat\n${'b'.repeat(64)}\tdog\n`;
    expect(datasetFingerprint(items)).toBe(await sha256Hex(new TextEncoder().encode(text)));
    expect(datasetFingerprint([])).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  test('the same files in any order give the same fingerprint; a relabelled file another', () => {
    fc.assert(
      fc.property(itemsArb, fc.integer(), (items, seed) => {
        const shuffled = [...items];
        shuffleInPlace(shuffled, seededRandom(seed));
        expect(datasetFingerprint(shuffled)).toBe(datasetFingerprint(items));
        if (items.length > 0) {
          const relabelled = items.map((it, i) => (i === 0 ? { ...it, label: it.label + 'x' } : it));
          expect(datasetFingerprint(relabelled)).not.toBe(datasetFingerprint(items));
        }
      }),
    );
  });

  test('the hex digits of a hash are compared without regard to case', () => {
    expect(datasetFingerprint([{ sha256: 'AB'.repeat(32), label: 'x' }])).toBe(datasetFingerprint([{ sha256: 'ab'.repeat(32), label: 'x' }]));
  });
});
