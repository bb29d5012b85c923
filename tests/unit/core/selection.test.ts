import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildGroups, type GroupItem } from '../../../src/core/groups.ts';
import {
  NO_OVERRIDES,
  clearKeeper,
  computeSelection,
  keepAlso,
  keptExactCopies,
  setKeeper,
  type Overrides,
  type SelectionItem,
} from '../../../src/core/selection.ts';
import { HASH_KINDS, type Hash64, type HashSet } from '../../../src/core/types.ts';
import { clusteredHashes, flipBits, naiveFlipDistance, randomHashes } from './arbitraries.ts';

function hashSet(h: Hash64): HashSet {
  return Object.fromEntries(HASH_KINDS.map((k) => [k, h])) as HashSet;
}

type Item = GroupItem & SelectionItem;

function makeItems(hs: Hash64[], ms: Hash64[], copy: number[], labels: string[], skip: boolean[]): Item[] {
  return hs.map((h, i) => {
    const src = copy[i] === 0 && i > 0 ? Math.floor(i / 2) : i;
    return {
      id: 100 + i,
      path: `${labels[i]}/img-${i}.jpg`,
      label: labels[i],
      sha256: `sha-${src}`,
      width: 10 + (i % 3),
      height: 10,
      size: 1000 - (src % 5),
      hashes: hashSet(hs[src]),
      mirrored: hashSet(ms[src]),
      skip: skip[i] ? { reason: 'corrupt-image' as const, detail: 'bad marker' } : null,
    };
  });
}

const scenario = clusteredHashes({ maxLength: 25 }).chain((hs) => {
  const n = hs.length;
  return fc.record({
    items: fc
      .tuple(
        clusteredHashes({ minLength: n, maxLength: n }),
        fc.array(fc.integer({ min: 0, max: 2 }), { minLength: n, maxLength: n }),
        fc.array(fc.constantFrom('cat', 'dog', 'constructor'), { minLength: n, maxLength: n }),
        fc.array(fc.integer({ min: 0, max: 6 }).map((x) => x === 0), { minLength: n, maxLength: n }),
      )
      .map(([ms, copy, labels, skip]) => makeItems(hs, ms, copy, labels, skip)),
    t: fc.integer({ min: 0, max: 12 }),
    // Overrides as (group index, member index) picks, resolved against the actual groups below.
    keeperPicks: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 5 }),
    alsoPicks: fc.array(fc.nat(), { maxLength: 5 }),
  });
});

function applyPicks(
  groups: ReturnType<typeof buildGroups>,
  items: Item[],
  keeperPicks: [number, number][],
  alsoPicks: number[],
): Overrides {
  let o = NO_OVERRIDES;
  for (const [g, m] of keeperPicks) {
    if (groups.length === 0) break;
    const group = groups[g % groups.length];
    o = setKeeper(o, group.id, group.members[m % group.members.length]);
  }
  for (const p of alsoPicks) if (items.length > 0) o = keepAlso(o, items[p % items.length].id);
  return o;
}

describe('computeSelection', () => {
  it('counts sum to n, per label too; every item gets exactly one status (either linkage)', () => {
    fc.assert(
      fc.property(scenario, fc.constantFrom('keeper' as const, 'strict' as const), ({ items, t, keeperPicks, alsoPicks }, linkage) => {
        const analysed = items.filter((it) => !it.skip);
        const groups = buildGroups(analysed, { mode: 'near', hash: 'phash', threshold: t, linkage });
        const o = applyPicks(groups, analysed, keeperPicks, alsoPicks);
        const sel = computeSelection(items, groups, o, { hash: 'phash', threshold: t });
        const c = sel.counts;
        expect(sel.statuses.map((s) => s.id)).toEqual(items.map((it) => it.id));
        expect(c.total).toBe(items.length);
        expect(c.kept + c.removed + c.skipped).toBe(items.length);
        expect(c.skipped).toBe(items.filter((it) => it.skip).length);
        let sum = 0;
        for (const [label, lc] of Object.entries(c.byLabel)) {
          expect(lc.kept + lc.removed + lc.skipped).toBe(lc.total);
          expect(lc.total).toBe(items.filter((it) => it.label === label).length);
          sum += lc.total;
        }
        expect(sum).toBe(items.length);
      }),
      { numRuns: 300 },
    );
  });

  it('with overrides, each group keeps exactly its effective keeper plus keep-also picks, distances fresh', () => {
    fc.assert(
      fc.property(scenario, ({ items, t, keeperPicks, alsoPicks }) => {
        const analysed = items.filter((it) => !it.skip);
        // Strict groups: there any member is a valid keeper, so a user's pick stays within t.
        const groups = buildGroups(analysed, { mode: 'near', hash: 'phash', threshold: t, linkage: 'strict' });
        const o = applyPicks(groups, analysed, keeperPicks, alsoPicks);
        const sel = computeSelection(items, groups, o, { hash: 'phash', threshold: t });
        const status = new Map(sel.statuses.map((s) => [s.id, s]));
        const pos = new Map(items.map((it, i) => [it.id, i]));
        const hs = items.map((it) => it.hashes.phash);
        const ms = items.map((it) => it.mirrored.phash);
        for (const g of groups) {
          const keeper = sel.keepers.get(g.id)!;
          const wanted = o.keepers.get(g.id);
          expect(keeper).toBe(wanted !== undefined && g.members.includes(wanted) ? wanted : g.keeper);
          for (const m of g.members) {
            const s = status.get(m)!;
            expect(s.group).toBe(g.id);
            expect(s.keeper).toBe(keeper);
            expect(s.status).toBe(m === keeper || o.keepAlso.has(m) ? 'kept' : 'removed');
            const a = pos.get(keeper)!;
            const b = pos.get(m)!;
            const d = items[a].sha256 === items[b].sha256 ? 0 : naiveFlipDistance(hs, ms, a, b);
            expect(s.distance).toBe(d);
            expect(d).toBeLessThanOrEqual(t); // complete linkage: any member is a valid keeper
            if (s.status === 'removed') {
              expect(s.reason).toMatch(/^(exact copy of|near-duplicate of) /);
              expect(s.reason).toContain(items[a].path);
            }
          }
          // At least one member of every group is kept.
          expect(g.members.some((m) => status.get(m)!.status === 'kept')).toBe(true);
        }
        for (const s of sel.statuses) {
          if (s.group === null && s.status !== 'skipped') expect(s.reason).toBe('kept: unique');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('writes the documented reasons', () => {
    const a = '0000000000000000';
    const items: Item[] = makeItems(
      [a, flipBits(a, [1, 2, 3, 4, 5, 6]), a, 'ffff0000ffff0000', a],
      ['1111111111111111', '2222222222222222', '1111111111111111', '3333333333333333', '1111111111111111'],
      [1, 1, 1, 1, 1],
      ['c', 'c', 'c', 'c', 'c'],
      [false, false, false, false, true],
    );
    items[2].sha256 = items[0].sha256; // byte-identical copy of item 0
    items[0].width = 99; // item 0 is the automatic keeper
    const analysed = items.filter((it) => !it.skip);
    const groups = buildGroups(analysed, { mode: 'near', hash: 'phash', threshold: 10 });
    expect(groups).toHaveLength(1);
    const g = groups[0];
    expect(g.keeper).toBe(100);
    const settings = { hash: 'phash' as const, threshold: 10 };

    let sel = computeSelection(items, groups, NO_OVERRIDES, settings);
    expect(sel.statuses.map((s) => [s.status, s.reason, s.distance])).toEqual([
      ['kept', 'kept: best of group', 0],
      ['removed', 'near-duplicate of c/img-0.jpg (phash distance 6 ≤ 10)', 6],
      ['removed', 'exact copy of c/img-0.jpg', 0],
      ['kept', 'kept: unique', null],
      ['skipped', 'skipped: corrupt-image (bad marker)', null],
    ]);

    // The user prefers item 101: distances are recomputed against it.
    let o = setKeeper(NO_OVERRIDES, g.id, 101);
    o = keepAlso(o, 102);
    sel = computeSelection(items, groups, o, settings);
    expect(sel.statuses.slice(0, 3).map((s) => [s.status, s.reason, s.distance, s.keeper])).toEqual([
      ['removed', 'near-duplicate of c/img-1.jpg (phash distance 6 ≤ 10)', 6, 101],
      ['kept', 'kept: user choice', 0, 101],
      ['kept', 'kept: user choice', 6, 101],
    ]);
    expect(sel.counts).toMatchObject({ total: 5, kept: 3, removed: 1, skipped: 1 });
    expect(sel.counts.byLabel.c).toEqual({ total: 5, kept: 3, removed: 1, skipped: 1 });

    // Stale overrides (unknown group, item not in the group) are ignored; clearing restores.
    o = setKeeper(clearKeeper(o, g.id), 999, 101);
    o = setKeeper(o, g.id, 103);
    o = keepAlso(o, 102, false);
    sel = computeSelection(items, groups, o, settings);
    expect(sel.keepers.get(g.id)).toBe(100);
    expect(sel.statuses[2].status).toBe('removed');
  });

  it('50k items with 100 changed keepers: counts stay exact (the time is printed; benchmarks own timing)', () => {
    const n = 50_000;
    const hs = randomHashes(n, 7);
    const items: Item[] = hs.map((h, i) => ({
      id: i,
      path: `c${i % 10}/f${i}.jpg`,
      label: `c${i % 10}`,
      sha256: `s${i % 40_000}`, // 10k byte-identical copies
      width: 10,
      height: 10,
      size: 1,
      hashes: hashSet(hs[i % 40_000]),
      mirrored: hashSet(hs[(i + 1) % 40_000]),
    }));
    const groups = buildGroups(items, { mode: 'exact', hash: 'phash', threshold: 0 });
    expect(groups).toHaveLength(10_000);
    let o = NO_OVERRIDES;
    for (let k = 0; k < 100; k++) o = setKeeper(o, groups[k].id, groups[k].members[1]);
    let sel = computeSelection(items, groups, o, { hash: 'phash', threshold: 10 }); // warm up
    const times: number[] = [];
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      sel = computeSelection(items, groups, o, { hash: 'phash', threshold: 10 });
      times.push(performance.now() - t0);
    }
    const ms = times.sort((a, b) => a - b)[2]; // median
    console.log(`computeSelection n=${n}, ${groups.length} groups: ${ms.toFixed(1)} ms`);
    expect(sel.counts.removed).toBe(10_000);
  });
});

describe('keptExactCopies', () => {
  it('names every kept item whose bytes an earlier kept item has, and no other; none without overrides when copies are grouped across classes', () => {
    fc.assert(
      fc.property(scenario, fc.boolean(), ({ items, t, keeperPicks, alsoPicks }, perClass) => {
        const analysed = items.filter((it) => !it.skip);
        const groups = buildGroups(analysed, { mode: 'near', hash: 'phash', threshold: t, linkage: 'keeper', perClass });
        const o = applyPicks(groups, analysed, keeperPicks, alsoPicks);
        const sel = computeSelection(items, groups, o, { hash: 'phash', threshold: t });
        const copies = keptExactCopies(items, sel.statuses);
        const kept = items.filter((_, i) => sel.statuses[i].status === 'kept');
        // Each content kept once, plus the copies: the copies are exactly the repeats.
        expect(new Set(kept.map((it) => it.sha256)).size + copies.length).toBe(kept.length);
        const pos = new Map(items.map((it, i) => [it.id, i]));
        for (const id of copies) {
          const i = pos.get(id)!;
          expect(sel.statuses[i].status).toBe('kept');
          expect(kept.some((it) => pos.get(it.id)! < i && it.sha256 === items[i].sha256)).toBe(true);
        }
        // Exact copies always share a group when classes are not kept apart, so only a user's
        // "keep too" can keep two of them.
        if (!perClass && o.keepAlso.size === 0) expect(copies).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
