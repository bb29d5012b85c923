import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exactGroups, groupWithinThreshold, type Edge } from '../../../src/core/grouping.ts';
import { packHashes } from '../../../src/core/hamming.ts';
import { findNearPairs } from '../../../src/core/pairs.ts';
import { clusteredHashes, flipBits } from './arbitraries.ts';

/** Dense O(k³) complete linkage with the documented tie-breaking: the reference. */
function naiveCompleteLinkage(n: number, edges: readonly Edge[], t: number): number[][] {
  const dist = new Map<string, number>();
  for (const e of edges) {
    if (e.a === e.b || !(e.d <= t)) continue;
    const k = e.a < e.b ? `${e.a},${e.b}` : `${e.b},${e.a}`;
    dist.set(k, Math.min(dist.get(k) ?? Infinity, e.d));
  }
  const d = (a: number, b: number) => dist.get(a < b ? `${a},${b}` : `${b},${a}`) ?? Infinity;
  let clusters = Array.from({ length: n }, (_, i) => [i]);
  for (;;) {
    let best: [number, number, number, number] | null = null; // d, lo, hi, and cluster indices packed below
    let bx = -1;
    let by = -1;
    for (let x = 0; x < clusters.length; x++) {
      for (let y = x + 1; y < clusters.length; y++) {
        let m = 0;
        for (const a of clusters[x]) for (const b of clusters[y]) m = Math.max(m, d(a, b));
        if (m > t) continue;
        const mx = Math.min(...clusters[x]);
        const my = Math.min(...clusters[y]);
        const key: [number, number, number, number] = [m, Math.min(mx, my), Math.max(mx, my), 0];
        if (
          best === null ||
          key[0] < best[0] ||
          (key[0] === best[0] && (key[1] < best[1] || (key[1] === best[1] && key[2] < best[2])))
        ) {
          best = key;
          bx = x;
          by = y;
        }
      }
    }
    if (best === null) break;
    const merged = [...clusters[bx], ...clusters[by]];
    clusters = clusters.filter((_, i) => i !== bx && i !== by);
    clusters.push(merged);
  }
  return clusters
    .filter((c) => c.length > 1)
    .map((c) => c.sort((a, b) => a - b))
    .sort((a, b) => b.length - a.length || a[0] - b[0]);
}

/** Random sparse graphs on up to 14 nodes with distances 0..12. */
const graph = fc.integer({ min: 0, max: 14 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    edges:
      n < 2
        ? fc.constant([] as Edge[])
        : fc.array(
            fc.record({
              a: fc.integer({ min: 0, max: n - 1 }),
              b: fc.integer({ min: 0, max: n - 1 }),
              d: fc.integer({ min: 0, max: 12 }),
            }),
            { maxLength: 60 },
          ),
    t: fc.integer({ min: 0, max: 12 }),
  }),
);

/** Edges from real hashes: every pair within 16 bits, true distances. */
const hashGraph = fc.record({ h: clusteredHashes({ maxLength: 30 }), t: fc.integer({ min: 0, max: 16 }) }).map(({ h, t }) => ({
  n: h.length,
  edges: findNearPairs(packHashes(h), null, 16),
  t,
}));

function edgeDistance(edges: readonly Edge[]): (a: number, b: number) => number {
  const m = new Map<string, number>();
  for (const e of edges) {
    const k = e.a < e.b ? `${e.a},${e.b}` : `${e.b},${e.a}`;
    m.set(k, Math.min(m.get(k) ?? Infinity, e.d));
  }
  return (a, b) => m.get(a < b ? `${a},${b}` : `${b},${a}`) ?? Infinity;
}

describe('groupWithinThreshold', () => {
  it('equals a dense reference complete linkage (random graphs and hash graphs)', () => {
    for (const arb of [graph, hashGraph]) {
      fc.assert(
        fc.property(arb, ({ n, edges, t }) => {
          expect(groupWithinThreshold(n, edges, t)).toEqual(naiveCompleteLinkage(n, edges, t));
        }),
        { numRuns: 300 },
      );
    }
  });

  it('every two members of a group are within the threshold (no chaining)', () => {
    fc.assert(
      fc.property(fc.oneof(graph, hashGraph), ({ n, edges, t }) => {
        const d = edgeDistance(edges);
        for (const g of groupWithinThreshold(n, edges, t)) {
          for (const a of g) for (const b of g) if (a !== b) expect(d(a, b)).toBeLessThanOrEqual(t);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('groups are disjoint, sorted, in range, of size ≥ 2, largest first', () => {
    fc.assert(
      fc.property(fc.oneof(graph, hashGraph), ({ n, edges, t }) => {
        const groups = groupWithinThreshold(n, edges, t);
        const seen = new Set<number>();
        let prevSize = Infinity;
        for (const g of groups) {
          expect(g.length).toBeGreaterThanOrEqual(2);
          expect(g.length).toBeLessThanOrEqual(prevSize);
          prevSize = g.length;
          expect([...g].sort((a, b) => a - b)).toEqual(g);
          for (const i of g) {
            expect(i).toBeGreaterThanOrEqual(0);
            expect(i).toBeLessThan(n);
            expect(seen.has(i)).toBe(false);
            seen.add(i);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('is maximal: no two clusters (groups or singletons) could be merged within the threshold', () => {
    fc.assert(
      fc.property(fc.oneof(graph, hashGraph), ({ n, edges, t }) => {
        const d = edgeDistance(edges);
        const groups = groupWithinThreshold(n, edges, t);
        const grouped = new Set(groups.flat());
        const clusters = [...groups];
        for (let i = 0; i < n; i++) if (!grouped.has(i)) clusters.push([i]);
        for (let x = 0; x < clusters.length; x++) {
          for (let y = x + 1; y < clusters.length; y++) {
            let ok = true;
            for (const a of clusters[x]) for (const b of clusters[y]) if (!(d(a, b) <= t)) ok = false;
            expect(ok).toBe(false);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('raising the threshold never splits a group (same distances, nested cuts)', () => {
    fc.assert(
      fc.property(fc.oneof(graph, hashGraph), fc.integer({ min: 0, max: 6 }), ({ n, edges, t }, extra) => {
        const low = groupWithinThreshold(n, edges, t);
        const high = groupWithinThreshold(n, edges, t + extra);
        const groupOf = new Map<number, number>();
        high.forEach((g, k) => g.forEach((i) => groupOf.set(i, k)));
        for (const g of low) {
          const k = groupOf.get(g[0]);
          expect(k).toBeDefined();
          for (const i of g) expect(groupOf.get(i)).toBe(k);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('does not depend on the order or orientation of the edge list', () => {
    fc.assert(
      fc.property(graph, fc.integer(), ({ n, edges, t }, seed) => {
        const shuffled = edges
          .map((e, i) => ({ e: (i + seed) % 2 ? { a: e.b, b: e.a, d: e.d } : e, k: Math.sin(seed + i) }))
          .sort((x, y) => x.k - y.k)
          .map((x) => x.e);
        expect(groupWithinThreshold(n, shuffled, t)).toEqual(groupWithinThreshold(n, edges, t));
      }),
      { numRuns: 200 },
    );
  });

  it('splits a chain A~B~C when A and C are far apart', () => {
    const a = '0000000000000000';
    const b = flipBits(a, [0, 1, 2, 3, 4, 5]); // 6 from A
    const c = flipBits(b, [10, 11, 12, 13, 14, 15]); // 6 from B, 12 from A
    const t = 8;
    const edges = findNearPairs(packHashes([a, b, c]), null, t);
    expect(edges).toEqual([
      { a: 0, b: 1, d: 6 },
      { a: 1, b: 2, d: 6 },
    ]);
    // Single linkage would return [[0, 1, 2]]. Tie at 6: the pair with the smaller index wins.
    expect(groupWithinThreshold(3, edges, t)).toEqual([[0, 1]]);
    // A four-link chain A~B~C~D gives two groups.
    const d = flipBits(c, [20, 21, 22, 23, 24]);
    const edges4 = findNearPairs(packHashes([a, b, c, d]), null, t);
    expect(groupWithinThreshold(4, edges4, t)).toEqual([
      [0, 1],
      [2, 3],
    ]);
  });

  it('merges the closest pair first', () => {
    // B is 5 from A and 2 from C; A and C are far. B goes with C.
    const edges = [
      { a: 0, b: 1, d: 5 },
      { a: 1, b: 2, d: 2 },
    ];
    expect(groupWithinThreshold(3, edges, 10)).toEqual([[1, 2]]);
  });

  it('ignores bad edges and keeps the smallest duplicate', () => {
    const edges = [
      { a: 0, b: 0, d: 0 },
      { a: 0, b: 9, d: 0 },
      { a: -1, b: 1, d: 0 },
      { a: 1, b: 0, d: 20 },
      { a: 0, b: 1, d: 3 },
    ];
    expect(groupWithinThreshold(3, edges, 4)).toEqual([[0, 1]]);
    expect(groupWithinThreshold(3, [{ a: 0, b: 1, d: 5 }], 4)).toEqual([]);
  });

  it('handles a large clique and a large sparse component', () => {
    const n = 3000;
    const clique: Edge[] = [];
    for (let a = 0; a < 300; a++) for (let b = a + 1; b < 300; b++) clique.push({ a, b, d: (a + b) % 5 });
    const path: Edge[] = [];
    for (let a = 300; a < n - 1; a++) path.push({ a, b: a + 1, d: 1 });
    const groups = groupWithinThreshold(n, [...clique, ...path], 4);
    expect(groups[0]).toHaveLength(300);
    expect(groups.slice(1).every((g) => g.length === 2)).toBe(true);
    expect(groups.length - 1).toBe((n - 300) / 2);
  });
});

describe('exactGroups', () => {
  it('groups identical hashes only, and all of them', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('', 'aa', 'bb', 'cc', 'dd', 'ee'), { maxLength: 30 }), (shas) => {
        const groups = exactGroups(shas);
        const seen = new Set<number>();
        for (const g of groups) {
          expect(g.length).toBeGreaterThanOrEqual(2);
          for (const i of g) {
            expect(shas[i]).toBe(shas[g[0]]);
            expect(seen.has(i)).toBe(false);
            seen.add(i);
          }
        }
        for (let i = 0; i < shas.length; i++) {
          const copies = shas.filter((s) => s === shas[i]).length;
          expect(seen.has(i)).toBe(shas[i] !== '' && copies > 1);
        }
      }),
    );
  });

  it('orders groups largest first', () => {
    expect(exactGroups(['x', 'y', 'y', 'x', 'y', 'z'])).toEqual([
      [1, 2, 4],
      [0, 3],
    ]);
  });
});
