import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_KEEPER_RULE, keeperComparator, pickKeeper, type KeeperCandidate } from '../../../src/core/keeper.ts';
import type { KeeperRule } from '../../../src/core/types.ts';

const candidate = fc.record({
  id: fc.nat({ max: 1000 }),
  path: fc.string({ maxLength: 6, unit: fc.constantFrom('a', 'b', '/', 'é') }),
  width: fc.integer({ min: 0, max: 4 }),
  height: fc.integer({ min: 0, max: 4 }),
  size: fc.integer({ min: 0, max: 4 }),
});
const candidates = fc.uniqueArray(candidate, { minLength: 1, maxLength: 12, selector: (c) => c.id });
const rules = fc.shuffledSubarray<KeeperRule>(['resolution', 'filesize', 'shortest-path']);

describe('keeper rules', () => {
  it('picks the same keeper whatever the input order', () => {
    fc.assert(
      fc.property(candidates, rules, fc.integer(), (cs, r, seed) => {
        const shuffled = cs
          .map((c, i) => ({ c, k: Math.sin(seed + i) }))
          .sort((a, b) => a.k - b.k)
          .map((x) => x.c);
        expect(pickKeeper(shuffled, r)).toBe(pickKeeper(cs, r));
      }),
    );
  });

  it('is a total order consistent with sorting', () => {
    fc.assert(
      fc.property(candidates, rules, (cs, r) => {
        const cmp = keeperComparator(r);
        const sorted = [...cs].sort(cmp);
        expect(pickKeeper(cs, r)).toBe(sorted[0]);
        for (const a of cs) {
          expect(cmp(a, a)).toBe(0);
          for (const b of cs) if (a !== b) expect(Math.sign(cmp(a, b))).toBe(-Math.sign(cmp(b, a)));
        }
      }),
    );
  });

  it('applies the rules in the given order', () => {
    const big: KeeperCandidate = { id: 1, path: 'a/very/long/path.jpg', width: 200, height: 200, size: 10 };
    const heavy: KeeperCandidate = { id: 2, path: 'b/mid.jpg', width: 100, height: 100, size: 99 };
    const short: KeeperCandidate = { id: 3, path: 'c.jpg', width: 10, height: 10, size: 1 };
    const all = [short, heavy, big];
    expect(pickKeeper(all)).toBe(big);
    expect(DEFAULT_KEEPER_RULE).toEqual(['resolution', 'filesize', 'shortest-path']);
    expect(pickKeeper(all, ['filesize', 'resolution'])).toBe(heavy);
    expect(pickKeeper(all, ['shortest-path'])).toBe(short);
  });

  it('falls back to the path, then the id', () => {
    const a = { id: 5, path: 'x/b.jpg', width: 1, height: 1, size: 1 };
    const b = { id: 4, path: 'x/a.jpg', width: 1, height: 1, size: 1 };
    const c = { id: 3, path: 'x/a.jpg', width: 1, height: 1, size: 1 };
    expect(pickKeeper([a, b, c])).toBe(c);
    expect(pickKeeper([a, b])).toBe(b);
    expect(() => pickKeeper([])).toThrow(RangeError);
  });
});
