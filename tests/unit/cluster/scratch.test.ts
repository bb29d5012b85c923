import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Scratch } from '../../../src/core/cluster/scratch.ts';

describe('Scratch', () => {
  test('views have the length asked for; a name keeps one buffer until a longer view is asked; names do not share', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('a', 'b'), fc.constantFrom(64, 32), fc.nat(50)), { minLength: 1, maxLength: 20 }), (requests) => {
        const scratch = new Scratch();
        const largest = new Map<string, number>();
        const buffers = new Map<string, ArrayBufferLike>();
        for (const [name, bits, length] of requests) {
          const key = `${name}${bits}`;
          const view = bits === 64 ? scratch.float64(name, length) : scratch.float32(name, length);
          expect(view).toBeInstanceOf(bits === 64 ? Float64Array : Float32Array);
          expect(view.length).toBe(length);
          expect(view.byteOffset).toBe(0);
          const grew = length > (largest.get(key) ?? -1);
          if (!grew) expect(view.buffer).toBe(buffers.get(key));
          if (grew) {
            largest.set(key, length);
            buffers.set(key, view.buffer);
          }
          for (const [other, buffer] of buffers) if (other !== key) expect(buffer).not.toBe(view.buffer);
        }
      }),
    );
  });
});
