import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { concatBuffers } from '../../../src/core/bytes.ts';

describe('concatBuffers', () => {
  test('equals Node’s Buffer.concat and is a new buffer, also for one part', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 6 }), (arrays) => {
        const parts = arrays.map((a) => a.slice().buffer);
        const out = concatBuffers(parts);
        expect(new Uint8Array(out)).toEqual(new Uint8Array(Buffer.concat(arrays)));
        for (const p of parts) expect(out).not.toBe(p);
      }),
    );
  });
});
