/** computeSelection on 'semantic' groups: cosine distances when the user picks another keeper. */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { condensedIndex, cosineDistances } from '../../../src/core/cluster/index.ts';
import { buildGroups, type Group, type GroupItem } from '../../../src/core/groups.ts';
import { clusterClasses, semanticCut } from '../../../src/core/semantic.ts';
import { NO_OVERRIDES, computeSelection, keepAlso, setKeeper, type Overrides, type SelectionItem } from '../../../src/core/selection.ts';
import { HASH_KINDS, type HashSet } from '../../../src/core/types.ts';
import { blobs } from '../cluster/support.ts';

const scenario = fc.record({
  n: fc.integer({ min: 2, max: 30 }),
  d: fc.integer({ min: 2, max: 6 }),
  seed: fc.integer({ min: 0, max: 0x7fffffff }),
  keep: fc.double({ min: 0, max: 1, noNaN: true }),
  // (group index, member index) picks, resolved against the actual groups.
  picks: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 4 }),
  also: fc.array(fc.nat(), { maxLength: 3 }),
  // Every `copyEvery`-th item shares its sha256 with the previous one (a byte-identical copy).
  copyEvery: fc.integer({ min: 2, max: 12 }),
});

function setup(s: { n: number; d: number; seed: number; keep: number; copyEvery: number }) {
  const { n, d } = s;
  const X = blobs(s.seed, n, d, 3);
  const ids = Array.from({ length: n }, (_, i) => 500 + 3 * i);
  const groups = semanticCut(clusterClasses([{ label: 'cat', ids, vectors: X }], d), { keep: s.keep }).groups;
  const items: SelectionItem[] = ids.map((id, i) => ({
    id,
    path: `cat/${i}.jpg`,
    label: 'cat',
    sha256: i % s.copyEvery === 0 && i > 0 ? `sha-${i - 1}` : `sha-${i}`,
  }));
  const D = cosineDistances(X, n, d);
  const cosine = (a: number, b: number): number => {
    const [i, j] = [(a - 500) / 3, (b - 500) / 3];
    return i === j ? 0 : D[condensedIndex(n, i, j)];
  };
  return { items, groups, cosine };
}

function overridesFrom(groups: Group[], items: SelectionItem[], picks: [number, number][], also: number[]): Overrides {
  let o = NO_OVERRIDES;
  for (const [g, m] of picks) {
    if (groups.length === 0) break;
    const group = groups[g % groups.length];
    o = setKeeper(o, group.id, group.members[m % group.members.length]);
  }
  for (const p of also) o = keepAlso(o, items[p % items.length].id);
  return o;
}

describe('computeSelection with semantic groups', () => {
  test('a changed keeper gets cosine distances from semanticDistance; others keep the group’s own', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { items, groups, cosine } = setup(s);
        const o = overridesFrom(groups, items, s.picks, s.also);
        const calls: [number, number][] = [];
        const semanticDistance = (a: number, b: number) => {
          calls.push([a, b]);
          return cosine(a, b);
        };
        const sel = computeSelection(items, groups, o, { hash: 'phash', threshold: 8, semanticDistance });
        const status = new Map(sel.statuses.map((st) => [st.id, st]));
        const sha = new Map(items.map((it) => [it.id, it.sha256]));
        const path = new Map(items.map((it) => [it.id, it.path]));
        for (const g of groups) {
          const keeper = sel.keepers.get(g.id)!;
          const changed = keeper !== g.keeper;
          expect(keeper).toBe(o.keepers.get(g.id) ?? g.keeper);
          for (const m of g.members) {
            const st = status.get(m)!;
            expect(st.groupKind).toBe('semantic');
            const want = !changed ? g.distances[m] : m === keeper || sha.get(m) === sha.get(keeper) ? 0 : cosine(keeper, m);
            expect(st.distance).toBe(want);
            expect(st.status).toBe(m === keeper || o.keepAlso.has(m) ? 'kept' : 'removed');
            if (st.status === 'removed') {
              if (sha.get(m) === sha.get(keeper)) expect(st.reason).toBe(`exact copy of ${path.get(keeper)}`);
              else expect(st.reason).toBe(`semantically redundant with ${path.get(keeper)} (cosine distance ${want.toFixed(4)})`);
            }
          }
        }
        // Asked only for changed semantic groups, keeper first, never for the keeper itself.
        for (const [a, b] of calls) {
          const g = groups.find((x) => x.members.includes(b))!;
          expect(a).toBe(sel.keepers.get(g.id));
          expect(a).not.toBe(g.keeper);
          expect(b).not.toBe(a);
        }
      }),
      { numRuns: 200 },
    );
  });

  test('without semanticDistance a changed keeper’s distances are null (0 for itself and its exact copies)', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { items, groups } = setup(s);
        const o = overridesFrom(groups, items, s.picks, s.also);
        const sel = computeSelection(items, groups, o, { hash: 'phash', threshold: 8 });
        const status = new Map(sel.statuses.map((st) => [st.id, st]));
        const sha = new Map(items.map((it) => [it.id, it.sha256]));
        for (const g of groups) {
          const keeper = sel.keepers.get(g.id)!;
          for (const m of g.members) {
            const want = keeper === g.keeper ? g.distances[m] : m === keeper || sha.get(m) === sha.get(keeper) ? 0 : null;
            expect(status.get(m)!.distance).toBe(want);
            expect(sel.distances.get(g.id)!.get(m)).toBe(want ?? undefined);
            if (want === null && status.get(m)!.status === 'removed') expect(status.get(m)!.reason).toMatch(/\(cosine distance \?\)$/);
          }
        }
        expect(sel.counts.kept + sel.counts.removed).toBe(items.length);
      }),
      { numRuns: 200 },
    );
  });

  test('hash groups beside semantic ones are untouched by semanticDistance', () => {
    const hashes = (h: string): HashSet => Object.fromEntries(HASH_KINDS.map((k) => [k, h])) as HashSet;
    const hashItems: (GroupItem & SelectionItem)[] = ['0000000000000000', '0000000000000007', 'ffffffffffffffff'].map((h, i) => ({
      id: i,
      path: `dog/${i}.jpg`,
      label: 'dog',
      sha256: `h-${i}`,
      width: 10 + i,
      height: 10,
      size: 100,
      hashes: hashes(h),
      mirrored: hashes('1234123412341234'),
    }));
    const near = buildGroups(hashItems, { mode: 'near', hash: 'phash', threshold: 4 });
    expect(near).toHaveLength(1);
    const vectors = Float32Array.from([1, 0, 1, 0.1, 0, 1]);
    const semantic = semanticCut(clusterClasses([{ label: 'cat', ids: [10, 11, 12], vectors }], 2), { keep: 2 / 3 }).groups.map((g) => ({ ...g, id: g.id + near.length }));
    expect(semantic).toHaveLength(1);
    const groups = [...near, ...semantic];
    const items: SelectionItem[] = [...hashItems, ...[10, 11, 12].map((id) => ({ id, path: `cat/${id}.jpg`, label: 'cat', sha256: `c-${id}` }))];
    let o = setKeeper(NO_OVERRIDES, near[0].id, near[0].members[1]);
    o = setKeeper(o, semantic[0].id, semantic[0].members[1]);
    const calls: number[][] = [];
    const sel = computeSelection(items, groups, o, {
      hash: 'phash',
      threshold: 4,
      semanticDistance: (a, b) => {
        calls.push([a, b]);
        return 0.25;
      },
    });
    const byId = new Map(sel.statuses.map((st) => [st.id, st]));
    expect(calls).toEqual([[semantic[0].members[1], semantic[0].members[0]]]);
    expect(byId.get(near[0].members[0])!.distance).toBe(3); // Hamming, recomputed as before
    expect(byId.get(semantic[0].members[0])!.distance).toBe(0.25);
    expect(byId.get(semantic[0].members[0])!.reason).toBe(`semantically redundant with cat/${semantic[0].members[1]}.jpg (cosine distance 0.2500)`);
  });
});
