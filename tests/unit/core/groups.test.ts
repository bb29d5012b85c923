import { DEFAULT_KEEPER_RULE, keeperComparator } from '../../../src/core/keeper.ts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildGroups, groupsFromPrepared, prepareGrouping, type Group, type GroupItem } from '../../../src/core/groups.ts';
import { HASH_KINDS, type Hash64, type HashSet } from '../../../src/core/types.ts';
import { clusteredHashes, flipBits, naiveFlipDistance } from './arbitraries.ts';

function hashSet(h: Hash64): HashSet {
  return Object.fromEntries(HASH_KINDS.map((k) => [k, h])) as HashSet;
}

function item(id: number, over: Partial<GroupItem> & { h?: Hash64; m?: Hash64 } = {}): GroupItem {
  const h = over.h ?? '0000000000000000';
  const m = over.m ?? 'ffffffffffffffff';
  return {
    id,
    path: over.path ?? `cls/${id}.jpg`,
    label: over.label ?? 'cls',
    sha256: over.sha256 ?? `sha-${id}`,
    width: over.width ?? 100,
    height: over.height ?? 100,
    size: over.size ?? 1000,
    hashes: hashSet(h),
    mirrored: hashSet(m),
  };
}

/** Random item sets: clustered hashes, some byte-identical copies, a few labels. */
const itemsArb = clusteredHashes({ minLength: 0, maxLength: 25 }).chain((hs) =>
  fc
    .tuple(
      fc.array(fc.integer({ min: 0, max: 3 }), { minLength: hs.length, maxLength: hs.length }),
      fc.array(fc.constantFrom('cat', 'dog', ''), { minLength: hs.length, maxLength: hs.length }),
      fc.array(fc.integer({ min: 1, max: 3 }), { minLength: hs.length, maxLength: hs.length }),
      clusteredHashes({ minLength: hs.length, maxLength: hs.length }),
    )
    .map(([copyOf, labels, sizes, ms]) =>
      hs.map((h, i) => {
        // Item i is a byte-identical copy of an earlier one when copyOf says so.
        const src = copyOf[i] === 0 && i > 0 ? Math.floor(i / 2) : i;
        return item(i * 3 + 1, {
          h: hs[src],
          m: ms[src],
          sha256: `sha-${src}`,
          label: labels[i],
          path: `${labels[i] || 'root'}/${i}.png`,
          width: 10 * sizes[i],
          height: 10,
          size: 100 * sizes[src],
        });
      }),
    ),
);

function checkGroups(
  items: GroupItem[],
  groups: Group[],
  t: number,
  mirror: boolean,
  perClass: boolean,
  linkage: 'keeper' | 'strict' = 'strict',
): void {
  const byId = new Map(items.map((it, i) => [it.id, i]));
  const hs = items.map((it) => it.hashes.phash);
  const ms = items.map((it) => it.mirrored.phash);
  const seen = new Set<number>();
  groups.forEach((g, k) => {
    expect(g.id).toBe(k + 1);
    expect(g.members.length).toBeGreaterThanOrEqual(2);
    expect(g.members[0]).toBe(g.keeper);
    if (k > 0) expect(g.members.length).toBeLessThanOrEqual(groups[k - 1].members.length);
    const pos = g.members.map((m) => byId.get(m)!);
    for (const m of g.members) {
      expect(seen.has(m)).toBe(false);
      seen.add(m);
    }
    const shas = new Set(pos.map((p) => items[p].sha256));
    expect(g.kind === 'exact').toBe(shas.size === 1);
    expect(g.labels).toEqual([...new Set(pos.map((p) => items[p].label))].sort());
    expect(g.crossClass).toBe(g.labels.length > 1);
    if (perClass) expect(g.labels).toHaveLength(1);
    const kp = byId.get(g.keeper)!;
    for (const p of pos) {
      const dk = items[p].sha256 === items[kp].sha256 ? 0 : naiveFlipDistance(hs, mirror ? ms : null, kp, p);
      expect(g.distances[items[p].id]).toBe(dk);
      expect(dk).toBeLessThanOrEqual(t);
      if (linkage === 'keeper') continue;
      // Strict: every member within t of every other member.
      for (const q of pos) {
        if (items[p].sha256 === items[q].sha256) continue;
        expect(naiveFlipDistance(hs, mirror ? ms : null, p, q)).toBeLessThanOrEqual(t);
      }
    }
  });
  // Every set of byte-identical copies ends up in one group (exact or near).
  const groupOf = new Map<number, number>();
  for (const g of groups) for (const m of g.members) groupOf.set(m, g.id);
  for (const a of items) {
    for (const b of items) {
      if (a !== b && a.sha256 === b.sha256 && (!perClass || a.label === b.label)) {
        expect(groupOf.get(a.id)).toBeDefined();
        expect(groupOf.get(a.id)).toBe(groupOf.get(b.id));
      }
    }
  }
}

describe('buildGroups', () => {
  it('strict near groups: members within threshold of the keeper and of each other, disjoint, exact copies together', () => {
    fc.assert(
      fc.property(itemsArb, fc.integer({ min: 0, max: 14 }), fc.boolean(), fc.boolean(), (items, t, mirror, perClass) => {
        const groups = buildGroups(items, { mode: 'near', hash: 'phash', threshold: t, mirror, perClass, linkage: 'strict' });
        checkGroups(items, groups, t, mirror, perClass, 'strict');
      }),
      { numRuns: 300 },
    );
  });

  it('keeper-centred near groups (the default): every member within threshold of the keeper, the keeper best by the rule, no two ungrouped items within threshold', () => {
    fc.assert(
      fc.property(itemsArb, fc.integer({ min: 0, max: 14 }), fc.boolean(), fc.boolean(), (items, t, mirror, perClass) => {
        const groups = buildGroups(items, { mode: 'near', hash: 'phash', threshold: t, mirror, perClass });
        checkGroups(items, groups, t, mirror, perClass, 'keeper');
        const byId = new Map(items.map((it) => [it.id, it]));
        const cmp = keeperComparator(DEFAULT_KEEPER_RULE);
        for (const g of groups) for (const m of g.members) expect(cmp(byId.get(g.keeper)!, byId.get(m)!)).toBeLessThanOrEqual(0);
        const grouped = new Set(groups.flatMap((g) => g.members));
        const hs = items.map((it) => it.hashes.phash);
        const ms = items.map((it) => it.mirrored.phash);
        const loose = items.map((_, i) => i).filter((i) => !grouped.has(items[i].id));
        for (const a of loose)
          for (const b of loose) {
            if (a >= b || (perClass && items[a].label !== items[b].label)) continue;
            expect(naiveFlipDistance(hs, mirror ? ms : null, a, b)).toBeGreaterThan(t);
          }
      }),
      { numRuns: 300 },
    );
  });

  it('keeper-centred groups keep a crop and a rotation with their original although they are far from each other', () => {
    // Hashes: the original, a variant 3 bits away and one 3 bits away in other bits (6 apart).
    const mk = (id: number, phash: string, width: number) => ({
      id, path: `p${id}.jpg`, label: '', sha256: `s${id}`, width, height: 100, size: 1000,
      hashes: { phash, dhash: phash, ahash: phash, whash: phash },
      mirrored: { phash, dhash: phash, ahash: phash, whash: phash },
    });
    const items = [mk(0, '0000000000000000', 400), mk(1, '0000000000000007', 300), mk(2, '7000000000000000', 300)];
    const keeper = buildGroups(items, { mode: 'near', hash: 'phash', threshold: 4 });
    expect(keeper).toHaveLength(1);
    expect(keeper[0].keeper).toBe(0);
    expect([...keeper[0].members].sort()).toEqual([0, 1, 2]);
    const strict = buildGroups(items, { mode: 'near', hash: 'phash', threshold: 4, linkage: 'strict' });
    expect(strict).toHaveLength(1);
    expect(strict[0].members).toHaveLength(2);
  });

  it('exact mode: only byte-identical groups', () => {
    fc.assert(
      fc.property(itemsArb, fc.boolean(), (items, perClass) => {
        const groups = buildGroups(items, { mode: 'exact', hash: 'phash', threshold: 64, perClass });
        for (const g of groups) expect(g.kind).toBe('exact');
        checkGroups(items, groups, 0, false, perClass);
      }),
      { numRuns: 200 },
    );
  });

  it('keeper choice and groups do not depend on input order', () => {
    fc.assert(
      fc.property(itemsArb, fc.integer({ min: 0, max: 10 }), (items, t) => {
        const reversed = [...items].reverse();
        const a = buildGroups(items, { mode: 'exact', hash: 'phash', threshold: t });
        const b = buildGroups(reversed, { mode: 'exact', hash: 'phash', threshold: t });
        expect(b).toEqual(a);
        // Near groups can depend on order only through distance ties; keepers of equal groups never do.
        const na = buildGroups(items, { mode: 'near', hash: 'phash', threshold: t });
        const nb = buildGroups(reversed, { mode: 'near', hash: 'phash', threshold: t });
        const key = (g: Group) => [...g.members].sort((x, y) => x - y).join(',');
        const keepers = new Map(na.map((g) => [key(g), g.keeper]));
        for (const g of nb) if (keepers.has(key(g))) expect(g.keeper).toBe(keepers.get(key(g)));
      }),
      { numRuns: 200 },
    );
  });

  it('re-cutting a prepared grouping equals grouping from scratch', () => {
    fc.assert(
      fc.property(itemsArb, fc.integer({ min: 0, max: 16 }), (items, t) => {
        const prep = prepareGrouping(items, { hash: 'phash', maxThreshold: 16 });
        expect(groupsFromPrepared(prep, { mode: 'near', threshold: t })).toEqual(
          buildGroups(items, { mode: 'near', hash: 'phash', threshold: t }),
        );
      }),
      { numRuns: 150 },
    );
    const prep = prepareGrouping([item(0)], { hash: 'phash', maxThreshold: 4 });
    expect(() => groupsFromPrepared(prep, { mode: 'near', threshold: 5 })).toThrow(RangeError);
  });

  it('collapses exact copies, then groups near, then expands', () => {
    const base = '0f0f0f0f0f0f0f0f';
    const items = [
      item(10, { h: base, sha256: 'A', path: 'cat/a.jpg', label: 'cat', width: 50 }),
      item(11, { h: base, sha256: 'A', path: 'dog/a-copy.jpg', label: 'dog', width: 50 }),
      item(12, { h: flipBits(base, [1, 2, 3]), sha256: 'B', path: 'cat/b.jpg', label: 'cat', width: 200 }),
      item(13, { h: 'ffffffff00000000', sha256: 'C', path: 'cat/c.jpg', label: 'cat' }),
      item(14, { h: 'ffffffff00000000', sha256: 'C', path: 'cat/c2.jpg', label: 'cat' }),
      item(15, { h: '123456789abcdef0', sha256: 'D', path: 'cat/d.jpg', label: 'cat' }),
    ];
    const near = buildGroups(items, { mode: 'near', hash: 'phash', threshold: 5, mirror: false });
    expect(near).toEqual([
      {
        id: 1,
        kind: 'near',
        members: [12, 10, 11],
        keeper: 12,
        distances: { 12: 0, 10: 3, 11: 3 },
        labels: ['cat', 'dog'],
        crossClass: true,
      },
      {
        id: 2,
        kind: 'exact',
        members: [13, 14],
        keeper: 13,
        distances: { 13: 0, 14: 0 },
        labels: ['cat'],
        crossClass: false,
      },
    ]);
    const perClass = buildGroups(items, { mode: 'near', hash: 'phash', threshold: 5, mirror: false, perClass: true });
    expect(perClass.map((g) => [g.kind, g.members])).toEqual([
      ['near', [12, 10]],
      ['exact', [13, 14]],
    ]);
    const exact = buildGroups(items, { mode: 'exact', hash: 'phash', threshold: 5 });
    expect(exact.map((g) => [g.kind, g.members, g.keeper])).toEqual([
      ['exact', [10, 11], 10],
      ['exact', [13, 14], 13],
    ]);
  });

  it('finds a mirrored copy through the mirrored hashes', () => {
    const items = [
      item(0, { h: '00000000ffffffff', m: 'ffffffff00000000', path: 'a.jpg' }),
      item(1, { h: 'ffffffff00000001', m: '00000001ffffffff', path: 'b.jpg' }),
    ];
    expect(buildGroups(items, { mode: 'near', hash: 'phash', threshold: 4, mirror: false })).toEqual([]);
    const [g] = buildGroups(items, { mode: 'near', hash: 'phash', threshold: 4 });
    expect(g.members).toEqual([0, 1]);
    expect(g.distances).toEqual({ 0: 0, 1: 1 });
  });
});

describe('near-duplicates through embeddings', () => {
  /** Random similarity pairs between item positions, as the embedding search would report them. */
  const withPairs = itemsArb.chain((items) =>
    fc.tuple(
      fc.constant(items),
      items.length < 2
        ? fc.constant([])
        : fc.array(
            fc.record({
              a: fc.integer({ min: 0, max: items.length - 1 }),
              b: fc.integer({ min: 0, max: items.length - 1 }),
              similarity: fc.integer({ min: 50, max: 100 }).map((n) => n / 100),
            }),
            { maxLength: 12 },
          ),
    ),
  );

  it('every member is within the hash threshold of its keeper or embedding-alike to it; hash-only grouping is unchanged without pairs', () => {
    fc.assert(
      fc.property(withPairs, fc.integer({ min: 0, max: 12 }), fc.boolean(), fc.constantFrom(0.7, 0.9), (arg, t, perClass, bar) => {
        const [items, pairs] = arg;
        const groups = buildGroups(items, { mode: 'near', hash: 'phash', threshold: t, perClass, similarPairs: pairs, similarity: bar });
        const pos = new Map(items.map((it, i) => [it.id, i]));
        const hs = items.map((it) => it.hashes.phash);
        const ms = items.map((it) => it.mirrored.phash);
        const alike = (x: number, y: number) =>
          items[x].sha256 === items[y].sha256 ||
          pairs.some(
            (p) =>
              p.similarity >= bar &&
              ((items[p.a].sha256 === items[x].sha256 && items[p.b].sha256 === items[y].sha256) ||
                (items[p.b].sha256 === items[x].sha256 && items[p.a].sha256 === items[y].sha256)),
          );
        const seen = new Set<number>();
        for (const g of groups) {
          const k = pos.get(g.keeper)!;
          for (const m of g.members) {
            expect(seen.has(m)).toBe(false);
            seen.add(m);
            const i = pos.get(m)!;
            if (perClass) expect(items[i].label).toBe(items[k].label);
            expect(naiveFlipDistance(hs, ms, k, i) <= t || alike(k, i)).toBe(true);
            expect(g.distances[m]).toBe(items[i].sha256 === items[k].sha256 ? 0 : naiveFlipDistance(hs, ms, k, i));
          }
        }
        // Pairs below the bar change nothing.
        const below = pairs.map((p) => ({ ...p, similarity: bar - 0.01 }));
        expect(buildGroups(items, { mode: 'near', hash: 'phash', threshold: t, perClass, similarPairs: below, similarity: bar })).toEqual(
          buildGroups(items, { mode: 'near', hash: 'phash', threshold: t, perClass }),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('a preparation at a lower bar re-cuts to the same groups as a fresh one at the higher bar', () => {
    fc.assert(
      fc.property(withPairs, fc.integer({ min: 0, max: 12 }), (arg, t) => {
        const [items, pairs] = arg;
        const prep = prepareGrouping(items, { hash: 'phash', maxThreshold: 16, similarPairs: pairs, minSimilarity: 0.6 });
        for (const bar of [0.6, 0.8, 0.95]) {
          expect(groupsFromPrepared(prep, { mode: 'near', threshold: t, similarity: bar })).toEqual(
            buildGroups(items, { mode: 'near', hash: 'phash', threshold: t, similarPairs: pairs, similarity: bar }),
          );
        }
        if (prep.similar.length > 0) expect(() => groupsFromPrepared(prep, { mode: 'near', threshold: t, similarity: 0.5 })).toThrow(RangeError);
      }),
      { numRuns: 200 },
    );
  });

  it('a crop the hash misses joins its original through the embedding pair', () => {
    const items = [item(1, { h: '0000000000000000', width: 200 }), item(2, { h: '00000000ffffffff', width: 100 })];
    expect(buildGroups(items, { mode: 'near', hash: 'phash', threshold: 10 })).toEqual([]);
    const groups = buildGroups(items, { mode: 'near', hash: 'phash', threshold: 10, similarPairs: [{ a: 1, b: 0, similarity: 0.97 }], similarity: 0.9 });
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({ kind: 'near', keeper: 1, members: [1, 2], distances: { 1: 0, 2: 32 } });
  });
});
