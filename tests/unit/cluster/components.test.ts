/**
 * The component-wise cut (src/core/cluster/components.ts) against the full algorithm (cosine.ts
 * distances → completeLinkage → cutToK → representatives) on random classes of up to 300 items:
 * near-duplicate groups, exact duplicate rows, tie-heavy integer vectors, several keep fractions,
 * and edge lists cut off at a bound (as the tfjs edge finder leaves them).
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  clusterFromEdges,
  coversK,
  cutForest,
  cutForestAtHeight,
  edgesFromCondensed,
  forestClustering,
  forestZ,
  GiantComponentError,
  linkageBelow,
  rowNormsOf,
  thresholdComponents,
  type EdgeList,
} from '../../../src/core/cluster/components.ts';
import { cosineDistances, condensedIndex, normalizeRows } from '../../../src/core/cluster/cosine.ts';
import { clusterClass, keepCount } from '../../../src/core/cluster/index.ts';
import { completeLinkage } from '../../../src/core/cluster/linkage.ts';
import { clusterCount, cutAtHeight, cutToK, mergesAtOrBelow } from '../../../src/core/cluster/cut.ts';
import { gaussian, rng } from './support.ts';

const KEEPS = [0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 1];

/**
 * Embedding-like classes: a few centres with spread, and items that are near-duplicates (an earlier
 * item plus noise 1e-3) or exact copies of an earlier item, scattered over the indices.
 */
function syntheticClass(seed: number, n: number, d: number, centres: number, nearFraction: number, dupFraction: number): Float32Array {
  const r = rng(seed);
  const c = gaussian(seed + 1, centres * d);
  const noise = gaussian(seed + 2, n * d);
  const X = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const u = r();
    const o = i * d;
    if (i > 0 && u < dupFraction) {
      const src = Math.floor(r() * i) * d;
      X.set(X.subarray(src, src + d), o);
    } else if (i > 0 && u < dupFraction + nearFraction) {
      const src = Math.floor(r() * i) * d;
      for (let q = 0; q < d; q++) X[o + q] = X[src + q] + 1e-3 * noise[o + q];
    } else {
      const which = Math.floor(r() * centres) * d;
      const spread = 0.3 + r();
      for (let q = 0; q < d; q++) X[o + q] = c[which + q] + spread * noise[o + q];
    }
  }
  return X;
}

const embeddingLike = fc
  .record({
    seed: fc.integer({ min: 0, max: 0x7fffffff }),
    n: fc.integer({ min: 1, max: 300 }),
    d: fc.integer({ min: 2, max: 16 }),
    centres: fc.integer({ min: 1, max: 8 }),
    near: fc.constantFrom(0, 0.2, 0.5),
    dup: fc.constantFrom(0, 0.05, 0.3),
  })
  .map(({ seed, n, d, centres, near, dup }) => ({ n, d, X: syntheticClass(seed, n, d, centres, near, dup) }));

/** Tiny integer vectors: equal distances between different vectors everywhere. */
const tieHeavy = fc
  .record({ n: fc.integer({ min: 1, max: 120 }), d: fc.integer({ min: 1, max: 3 }) })
  .chain(({ n, d }) =>
    fc.array(fc.integer({ min: -2, max: 2 }), { minLength: n * d, maxLength: n * d }).map((v) => ({ n, d, X: Float32Array.from(v) })),
  );

interface Full {
  D: Float64Array;
  Z: Float64Array;
}

function full(X: Float32Array, n: number, d: number): Full {
  const D = cosineDistances(X, n, d);
  return { D, Z: completeLinkage(D, n) };
}

/**
 * Whether the data is in the case the module promises exactness for: identical rows aside, every
 * distance between two groups of identical rows is distinct and above every group's own distance.
 */
function unambiguous(X: Float32Array, n: number, d: number, D: Float64Array): boolean {
  const U = normalizeRows(X, n, d);
  const group = new Int32Array(n);
  const key = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const k = Array.from(U.subarray(i * d, (i + 1) * d)).join(',');
    if (!key.has(k)) key.set(k, i);
    group[i] = key.get(k)!;
  }
  const between = new Set<number>();
  let maxSelf = -Infinity;
  const seenPair = new Set<string>();
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = D[condensedIndex(n, i, j)];
      if (group[i] === group[j]) {
        maxSelf = Math.max(maxSelf, v);
        continue;
      }
      const p = `${Math.min(group[i], group[j])},${Math.max(group[i], group[j])}`;
      if (seenPair.has(p)) continue;
      seenPair.add(p);
      if (between.has(v)) return false;
      between.add(v);
    }
  }
  for (const v of between) if (v <= maxSelf) return false;
  return true;
}

/** Forest for cut k, edges = every pair below `below`; null if those do not cover k. */
function ours(D: Float64Array, n: number, k: number, below = Infinity, maxComponent?: number) {
  return clusterFromEdges(n, edgesFromCondensed(D, n, below), k, { maxComponent });
}

describe('thresholdComponents', () => {
  test('matches a breadth-first search of the t-graph', () => {
    fc.assert(
      fc.property(embeddingLike, fc.double({ min: 0, max: 1, noNaN: true }), ({ n, d, X }, t) => {
        const D = cosineDistances(X, n, d);
        const comps = thresholdComponents(n, edgesFromCondensed(D, n, Infinity), t);
        const seen = new Int32Array(n).fill(-1);
        let next = 0;
        for (let s = 0; s < n; s++) {
          if (seen[s] >= 0) continue;
          const queue = [s];
          seen[s] = next;
          while (queue.length > 0) {
            const v = queue.pop()!;
            for (let w = 0; w < n; w++) if (w !== v && seen[w] < 0 && D[condensedIndex(n, v, w)] <= t) (seen[w] = next), queue.push(w);
          }
          next++;
        }
        expect(Array.from(comps.component)).toEqual(Array.from(seen));
        expect(comps.count).toBe(next);
        expect(comps.largest).toBe(Math.max(0, ...comps.sizes));
      }),
      { numRuns: 60 },
    );
  });
});

describe('cut from components = cut of the full dendrogram', () => {
  test('embedding-like classes with near and exact duplicates: same partition and keepers at every keep fraction', () => {
    let checked = 0;
    fc.assert(
      fc.property(embeddingLike, ({ n, d, X }) => {
        const { D, Z } = full(X, n, d);
        const exact = unambiguous(X, n, d, D);
        const whole = clusterClass(X, n, d);
        for (const keep of KEEPS) {
          const k = keepCount(n, keep);
          const forest = ours(D, n, k)!;
          expect(forest).not.toBeNull();
          const cut = cutForest(forest, k);
          expect(clusterCount(cut.labels)).toBe(n === 0 ? 0 : k);
          if (exact) for (let r = 0; r < n - k; r++) expect(forest.heights[r]).toBe(Z[4 * r + 2]);
          if (exact && !cut.tiedAtCut) {
            expect(Array.from(cut.labels)).toEqual(Array.from(cutToK(Z, n, k)));
            const mine = forestClustering(forest, X, d).cut(k);
            const theirs = whole.cut(k);
            expect(Array.from(mine.representatives)).toEqual(Array.from(theirs.representatives));
            expect(Array.from(mine.sizes)).toEqual(Array.from(theirs.sizes));
            checked++;
          }
        }
      }),
      { numRuns: 120 },
    );
    // The generator must mostly land in the promised case, or this test proves little.
    expect(checked).toBeGreaterThan(120 * KEEPS.length * 0.6);
  });

  test('without duplicates the forest is the first rows of scipy\'s Z, and height cuts agree', () => {
    fc.assert(
      fc.property(
        embeddingLike.filter(({ n }) => n >= 2),
        fc.constantFrom(...KEEPS),
        ({ n, d, X }, keep) => {
          const { D, Z } = full(X, n, d);
          fc.pre(unambiguous(X, n, d, D) && new Set(D).size === D.length);
          const k = keepCount(n, keep);
          const forest = ours(D, n, k)!;
          expect(Array.from(forestZ(forest))).toEqual(Array.from(Z.subarray(0, 4 * forest.count)));
          expect(forest.count).toBe(mergesAtOrBelow(Z, n, forest.t));
          if (forest.count === 0) return;
          const h = forest.heights[Math.max(0, n - k - 1)];
          expect(Array.from(cutForestAtHeight(forest, h))).toEqual(Array.from(cutAtHeight(Z, n, h)));
        },
      ),
      { numRuns: 80 },
    );
  });

  test('edge lists cut off at a bound: null exactly when the full run has too few merges below it', () => {
    fc.assert(
      fc.property(embeddingLike, fc.constantFrom(...KEEPS), fc.double({ min: 0, max: 1.2, noNaN: true }), ({ n, d, X }, keep, below) => {
        const { D, Z } = full(X, n, d);
        const k = keepCount(n, keep);
        const forest = ours(D, n, k, below);
        // Largest usable t: the largest distance under the bound.
        let largest = -Infinity;
        for (const v of D) if (v < below && v > largest) largest = v;
        const available = largest === -Infinity ? 0 : mergesAtOrBelow(Z, n, largest);
        if (forest === null) expect(available).toBeLessThan(n - k);
        else {
          expect(coversK(forest, k)).toBe(true);
          expect(forest.t).toBeLessThan(below);
          if (unambiguous(X, n, d, D) && !cutForest(forest, k).tiedAtCut) {
            expect(Array.from(cutForest(forest, k).labels)).toEqual(Array.from(cutToK(Z, n, k)));
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  // Here the full run's tie-breaking can pick another valid dendrogram (it reaches a component
  // through whichever member its chain meets first): only what holds for every one is asserted,
  // and how often the partitions still agree is printed.
  test('tie-heavy vectors: k clusters, each of diameter ≤ the cut height', () => {
    let equal = 0;
    let runs = 0;
    fc.assert(
      fc.property(tieHeavy, fc.constantFrom(...KEEPS), ({ n, d, X }, keep) => {
        const { D, Z } = full(X, n, d);
        const k = keepCount(n, keep);
        const forest = ours(D, n, k)!;
        const { labels, height } = cutForest(forest, k);
        expect(clusterCount(labels)).toBe(n === 0 ? 0 : k);
        for (let i = 0; i < n; i++) {
          for (let j = i + 1; j < n; j++) if (labels[i] === labels[j]) expect(D[condensedIndex(n, i, j)]).toBeLessThanOrEqual(height);
        }
        runs++;
        if (n === 0 || Array.from(labels).join() === Array.from(cutToK(Z, n, k)).join()) equal++;
      }),
      { numRuns: 150 },
    );
    console.log(`components: tie-heavy classes cut identically to the full run in ${equal} of ${runs}`);
  });
});

describe('limits', () => {
  test('a component over the cap raises GiantComponentError; the tries before it are reported', () => {
    const n = 60;
    const d = 4;
    const X = syntheticClass(7, n, d, 1, 0, 0);
    const D = cosineDistances(X, n, d);
    expect(() => linkageBelow(n, edgesFromCondensed(D, n, Infinity), 2, { maxComponent: 10 })).toThrow(GiantComponentError);
    expect(() => ours(D, n, 1, Infinity, 10)).toThrow(GiantComponentError);
  });

  test('cuts the forest does not cover throw; k = n needs no edge', () => {
    const n = 50;
    const X = syntheticClass(3, n, 8, 3, 0.2, 0);
    const D = cosineDistances(X, n, 8);
    const forest = ours(D, n, 45)!;
    expect(coversK(forest, n - forest.count)).toBe(true);
    expect(() => cutForest(forest, n - forest.count - 1)).toThrow(RangeError);
    expect(() => cutForestAtHeight(forest, forest.t + 0.1)).toThrow(RangeError);
    const none: EdgeList = { i: new Int32Array(0), j: new Int32Array(0), d: new Float64Array(0), count: 0, below: 0 };
    expect(Array.from(cutForest(clusterFromEdges(n, none, n)!, n).labels)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(clusterFromEdges(n, none, n - 1)).toBeNull();
  });

  test('rowNormsOf is the norm normalizeRows divides by', () => {
    const X = syntheticClass(5, 20, 7, 2, 0.3, 0.2);
    const norms = rowNormsOf(X, 20, 7);
    const U = normalizeRows(X, 20, 7);
    for (let i = 0; i < 20; i++) for (let q = 0; q < 7; q++) expect(X[i * 7 + q] / norms[i]).toBe(U[i * 7 + q]);
  });
});
