/**
 * semanticCut against the definitions: brute-force distances from cluster/cosine.ts, the cut of
 * clusterClass on each class alone, and the statistics recomputed from scratch.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ClusterCancelledError, clusterClass, condensedIndex, cosineDistances, keepCount } from '../../../src/core/cluster/index.ts';
import {
  centreRows,
  clusterClasses,
  meanRow,
  semanticCut,
  type SemanticClassInput,
  type SemanticCut,
  type SemanticModel,
} from '../../../src/core/semantic.ts';
import { blobs } from '../cluster/support.ts';

interface Scenario {
  d: number;
  classes: SemanticClassInput[];
}

/** Vectors for n rows: seeded blobs (general position) or tiny integers (duplicates, zero rows, ties). */
const rowsArb = (n: number, d: number): fc.Arbitrary<Float32Array> =>
  fc.oneof(
    fc.record({ seed: fc.integer({ min: 0, max: 0x7fffffff }), centres: fc.integer({ min: 1, max: 4 }) }).map(({ seed, centres }) => blobs(seed, n, d, centres)),
    fc.array(fc.integer({ min: -2, max: 2 }), { minLength: n * d, maxLength: n * d }).map((v) => Float32Array.from(v)),
  );

const scenario: fc.Arbitrary<Scenario> = fc
  .record({
    d: fc.integer({ min: 1, max: 6 }),
    sizes: fc.array(fc.integer({ min: 0, max: 24 }), { minLength: 1, maxLength: 4 }),
  })
  .chain(({ d, sizes }) => {
    const total = sizes.reduce((a, b) => a + b, 0);
    return fc
      .tuple(
        // Ids unrelated to row order, so ordering by id is really tested.
        fc.uniqueArray(fc.integer({ min: 0, max: 1_000_000 }), { minLength: total, maxLength: total }),
        fc.tuple(...sizes.map((n) => rowsArb(n, d))),
      )
      .map(([ids, rows]) => {
        let at = 0;
        const classes = sizes.map((n, c) => {
          const cls = { label: ['cat', 'dog', 'constructor', ''][c], ids: ids.slice(at, at + n), vectors: rows[c] };
          at += n;
          return cls;
        });
        return { d, classes };
      });
  });

const fraction = fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 0.5, 0.9, 1));

/** Brute force: cosine distance between two rows of a class, from the condensed matrix. */
function distanceTable(cls: SemanticClassInput, d: number): (a: number, b: number) => number {
  const n = cls.ids.length;
  const D = cosineDistances(cls.vectors, n, d);
  const pos = new Map(cls.ids.map((id, i) => [id, i]));
  return (a, b) => {
    const i = pos.get(a)!;
    const j = pos.get(b)!;
    return i === j ? 0 : D[condensedIndex(n, i, j)];
  };
}

/** Checks shared by both modes; returns the kept ids per label. */
function checkCut(s: Scenario, model: SemanticModel, cut: SemanticCut): Map<string, Set<number>> {
  const labelOf = new Map<number, string>();
  for (const c of s.classes) for (const id of c.ids) labelOf.set(id, c.label);
  const seen = new Set<number>();
  const removed = new Set<number>();
  cut.groups.forEach((g, i) => {
    expect(g.id).toBe(i + 1);
    expect(g.kind).toBe('semantic');
    expect(g.crossClass).toBe(false);
    expect(g.members.length).toBeGreaterThan(1);
    expect(g.members[0]).toBe(g.keeper);
    if (i > 0) {
      const prev = cut.groups[i - 1];
      expect(prev.members.length > g.members.length || (prev.members.length === g.members.length && prev.keeper < g.keeper)).toBe(true);
    }
    const label = labelOf.get(g.keeper)!;
    expect(g.labels).toEqual([label]);
    const dist = distanceTable(s.classes.find((c) => c.label === label)!, s.d);
    expect(Object.keys(g.distances).length).toBe(g.members.length);
    expect(g.distances[g.keeper]).toBe(0);
    for (let m = 0; m < g.members.length; m++) {
      const id = g.members[m];
      expect(labelOf.get(id)).toBe(label);
      expect(seen.has(id)).toBe(false);
      seen.add(id);
      if (m > 0) {
        removed.add(id);
        // Bit-identical to the matrix the linkage used.
        expect(g.distances[id]).toBe(dist(g.keeper, id));
        if (m > 1) {
          const [p, q] = [g.members[m - 1], id];
          expect(g.distances[p] < g.distances[q] || (g.distances[p] === g.distances[q] && p < q)).toBe(true);
        }
      }
    }
  });

  const kept = new Map<string, Set<number>>();
  for (const c of s.classes) kept.set(c.label, new Set(c.ids.filter((id) => !removed.has(id))));
  // Stats against a recomputation from the groups and the brute-force distances.
  const allSizes = new Map<number, number>();
  let sumOfMeans = 0;
  let groupsAll = 0;
  let maxAll: number | null = null;
  expect(cut.classStats.map((c) => c.label)).toEqual(s.classes.map((c) => c.label));
  for (const [ci, c] of s.classes.entries()) {
    const st = cut.classStats[ci];
    const n = c.ids.length;
    const groups = cut.groups.filter((g) => g.labels[0] === c.label);
    const dist = distanceTable(c, s.d);
    const means = groups.map((g) => g.members.slice(1).reduce((acc, id) => acc + dist(g.keeper, id), 0) / (g.members.length - 1));
    const maxes = groups.flatMap((g) => g.members.slice(1).map((id) => dist(g.keeper, id)));
    const k = kept.get(c.label)!.size;
    expect(st).toMatchObject({ n, k, removed: n - k, groupsOver1: groups.length });
    if (groups.length === 0) {
      expect(st.meanDissimilarity).toBeNull();
      expect(st.maxDissimilarity).toBeNull();
    } else {
      expect(st.meanDissimilarity!).toBeCloseTo(means.reduce((a, b) => a + b, 0) / means.length, 12);
      expect(st.maxDissimilarity).toBe(Math.max(...maxes));
    }
    // Size histogram: groups plus singletons.
    const sizes = new Map<number, number>();
    for (const g of groups) sizes.set(g.members.length, (sizes.get(g.members.length) ?? 0) + 1);
    if (k - groups.length > 0) sizes.set(1, k - groups.length);
    expect(st.sizeHistogram).toEqual([...sizes].sort((a, b) => a[0] - b[0]).map(([size, count]) => ({ size, count })));
    for (const [size, count] of sizes) allSizes.set(size, (allSizes.get(size) ?? 0) + count);
    sumOfMeans += means.reduce((a, b) => a + b, 0);
    groupsAll += groups.length;
    for (const v of maxes) if (maxAll === null || v > maxAll) maxAll = v;
  }
  expect(cut.sizeHistogram).toEqual([...allSizes].sort((a, b) => a[0] - b[0]).map(([size, count]) => ({ size, count })));
  const nAll = s.classes.reduce((a, c) => a + c.ids.length, 0);
  expect(cut.sizeHistogram.reduce((a, h) => a + h.size * h.count, 0)).toBe(nAll);
  expect(cut.overall).toMatchObject({ n: nAll, removed: removed.size, k: nAll - removed.size, groupsOver1: groupsAll, maxDissimilarity: maxAll });
  if (groupsAll === 0) expect(cut.overall.meanDissimilarity).toBeNull();
  else expect(cut.overall.meanDissimilarity!).toBeCloseTo(sumOfMeans / groupsAll, 12);
  expect(model.classes.length).toBe(s.classes.length);
  return kept;
}

describe('semanticCut', () => {
  test('keep mode: each class keeps exactly keepCount(n, f); groups partition the removed files and their keepers', () => {
    fc.assert(
      fc.property(scenario, fraction, fc.option(fraction, { nil: undefined }), (s, f, fCat) => {
        const model = clusterClasses(s.classes, s.d);
        const keepByClass = fCat === undefined ? undefined : { cat: fCat };
        const cut = semanticCut(model, { keep: f, keepByClass });
        const kept = checkCut(s, model, cut);
        for (const [ci, c] of s.classes.entries()) {
          const want = keepCount(c.ids.length, c.label === 'cat' && fCat !== undefined ? fCat : f);
          expect(kept.get(c.label)!.size).toBe(want);
          expect(cut.classStats[ci].k).toBe(want);
        }
        // Deterministic: the same cut twice gives the same groups.
        expect(semanticCut(model, { keep: f, keepByClass })).toEqual(cut);
      }),
      { numRuns: 150 },
    );
  });

  test('threshold mode: every two members of a group are within t', () => {
    fc.assert(
      fc.property(scenario, fc.double({ min: 0, max: 2, noNaN: true }), (s, t) => {
        const model = clusterClasses(s.classes, s.d);
        // Exactly at merge heights too, where a rounding slip would show.
        const heights = model.classes.flatMap((c) => (c.clustering ? Array.from({ length: c.n - 1 }, (_, r) => c.clustering!.Z[4 * r + 2]) : []));
        for (const th of [t, ...heights.slice(0, 6)]) {
          const cut = semanticCut(model, { threshold: th });
          checkCut(s, model, cut);
          for (const g of cut.groups) {
            const dist = distanceTable(s.classes.find((c) => c.label === g.labels[0])!, s.d);
            for (const a of g.members) for (const b of g.members) expect(dist(a, b)).toBeLessThanOrEqual(th);
            for (const id of g.members) expect(g.distances[id]).toBeLessThanOrEqual(th);
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  test('agrees with clusterClass run on each class alone (partition and keeper)', () => {
    fc.assert(
      fc.property(scenario, fraction, fc.double({ min: 0, max: 2, noNaN: true }), (s, f, t) => {
        const model = clusterClasses(s.classes, s.d);
        const cuts: ({ keep: number } | { threshold: number })[] = [{ keep: f }, { threshold: t }];
        for (const options of cuts) {
          const cut = semanticCut(model, options);
          for (const [index, c] of s.classes.entries()) {
            const n = c.ids.length;
            if (n < 2) {
              expect(cut.groups.some((g) => g.labels[0] === c.label)).toBe(false);
              continue;
            }
            const alone = clusterClass(c.vectors, n, s.d);
            // Classes share working arrays (core/cluster/scratch.ts): none may see another's leftovers.
            expect(model.classes[index].clustering!.Z).toEqual(alone.Z);
            const ref = 'keep' in options ? alone.cut(keepCount(n, options.keep)) : alone.cutAtHeight(options.threshold);
            const want: number[][] = [];
            for (let k = 0; k < ref.k; k++) {
              if (ref.sizes[k] < 2) continue;
              const rep = c.ids[ref.representatives[k]];
              const others = c.ids.filter((_, i) => ref.labels[i] === k && c.ids[i] !== rep).sort((a, b) => a - b);
              want.push([rep, ...others]);
            }
            const got = cut.groups
              .filter((g) => g.labels[0] === c.label)
              .map((g) => [g.keeper, ...g.members.slice(1).sort((a, b) => a - b)]);
            const key = (x: number[]) => x.join(',');
            expect(got.map(key).sort()).toEqual(want.map(key).sort());
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  test('keeperOf picks another member; distances and stats follow it', () => {
    fc.assert(
      fc.property(scenario, fraction, fc.nat(), (s, f, pick) => {
        const model = clusterClasses(s.classes, s.d);
        const base = semanticCut(model, { keep: f });
        const calls: number[] = [];
        const cut = semanticCut(model, { keep: f }, ({ members, representative }) => {
          expect(members).toContain(representative);
          calls.push(representative);
          return members[pick % members.length];
        });
        expect(calls.length).toBe(base.groups.length);
        checkCut(s, model, cut);
        // Same clusters, possibly different keepers.
        const sets = (c: SemanticCut) => c.groups.map((g) => [...g.members].sort((a, b) => a - b).join(',')).sort();
        expect(sets(cut)).toEqual(sets(base));
      }),
      { numRuns: 60 },
    );
  });

  test('small fixed case: two tight pairs and an outlier', () => {
    const vectors = Float32Array.from([1, 0, 1, 0.01, 0, 1, 0.02, 1, -1, -1]);
    const model = clusterClasses([{ label: 'a', ids: [10, 11, 12, 13, 14], vectors }], 2);
    const cut = semanticCut(model, { keep: 0.6 }); // k = 3
    expect(cut.groups.map((g) => g.members.length)).toEqual([2, 2]);
    expect(cut.groups.map((g) => g.id)).toEqual([1, 2]);
    // Ties in size: by keeper id.
    expect(cut.groups[0].keeper).toBeLessThan(cut.groups[1].keeper);
    expect(cut.classStats[0]).toMatchObject({ n: 5, k: 3, removed: 2, groupsOver1: 2 });
    expect(cut.sizeHistogram).toEqual([
      { size: 1, count: 1 },
      { size: 2, count: 2 },
    ]);
    expect(semanticCut(model, { threshold: 0 }).groups).toEqual([]);
    expect(semanticCut(model, { threshold: 2 }).groups[0].members.length).toBe(5);
  });

  test('classes of 0 and 1 files; bad input', () => {
    const model = clusterClasses(
      [
        { label: 'empty', ids: [], vectors: new Float32Array(0) },
        { label: 'one', ids: [7], vectors: Float32Array.from([1, 2]) },
      ],
      2,
    );
    expect(model.classes.map((c) => c.clustering)).toEqual([null, null]);
    const cut = semanticCut(model, { keep: 0 });
    expect(cut.groups).toEqual([]);
    expect(cut.classStats.map((c) => [c.n, c.k, c.removed])).toEqual([
      [0, 0, 0],
      [1, 1, 0],
    ]);
    expect(cut.sizeHistogram).toEqual([{ size: 1, count: 1 }]);
    expect(() => semanticCut(model, { keep: 1.5 })).toThrow(RangeError);
    expect(() => semanticCut(model, { keep: 0.5, keepByClass: { one: -1 } })).toThrow(RangeError);
    expect(() => semanticCut(model, { threshold: NaN })).toThrow(RangeError);
    const v = Float32Array.from([1, 0, 0, 1]);
    expect(() => clusterClasses([{ label: 'a', ids: [1, 2], vectors: v }, { label: 'a', ids: [3, 4], vectors: v }], 2)).toThrow(/twice/);
    expect(() => clusterClasses([{ label: 'a', ids: [1, 2], vectors: v }, { label: 'b', ids: [2, 3], vectors: v }], 2)).toThrow(/twice/);
    expect(() => clusterClasses([{ label: 'a', ids: [1], vectors: v }], 2)).toThrow(RangeError);
    expect(() => clusterClasses([{ label: 'a', ids: [1], vectors: Float32Array.from([NaN, 0]) }], 2)).toThrow(RangeError);
    const two = clusterClasses([{ label: 'a', ids: [1, 2], vectors: v }], 2);
    expect(() => semanticCut(two, { keep: 0 }, () => 99)).toThrow(/not a member/);
  });

  test('progress rises to the total across classes; shouldStop cancels', () => {
    const d = 8;
    const classes = [600, 1, 0, 1500].map((n, c) => ({
      label: `c${c}`,
      ids: Array.from({ length: n }, (_, i) => c * 10_000 + i),
      vectors: blobs(c + 1, n, d, 5),
    }));
    const seen: [number, number, string, string][] = [];
    clusterClasses(classes, d, { onProgress: (done, total, label, stage) => seen.push([done, total, label, stage]) });
    expect(seen.length).toBeGreaterThan(4);
    for (let i = 1; i < seen.length; i++) expect(seen[i][0]).toBeGreaterThanOrEqual(seen[i - 1][0]);
    for (const [done, total] of seen) {
      expect(total).toBe(2101);
      expect(done).toBeLessThanOrEqual(total);
      expect(Number.isInteger(done)).toBe(true);
    }
    expect(seen[seen.length - 1].slice(0, 3)).toEqual([2101, 2101, 'c3']);
    expect(seen.some(([, , label, stage]) => label === 'c3' && stage === 'distances')).toBe(true);
    let polls = 0;
    expect(() => clusterClasses(classes, d, { shouldStop: () => ++polls > 2 })).toThrow(ClusterCancelledError);
  });
});

describe('centring', () => {
  test('meanRow is the column mean; centred rows average to ~0 and keep their differences', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 1000 }),
        (n, d, seed) => {
          const X = blobs(seed, n, d, 2);
          const mean = meanRow(X, n, d);
          for (let q = 0; q < d; q++) {
            let s = 0;
            for (let i = 0; i < n; i++) s += X[i * d + q];
            expect(mean[q]).toBeCloseTo(s / n, 12);
          }
          const C = centreRows(X, n, d);
          const after = meanRow(C, n, d);
          for (let q = 0; q < d; q++) expect(Math.abs(after[q])).toBeLessThan(1e-5);
          for (let i = 0; i < n; i++) for (let q = 0; q < d; q++) expect(C[i * d + q]).toBe(Math.fround(X[i * d + q] - mean[q]));
        },
      ),
    );
  });

  test('an explicit mean is subtracted as given; shapes are checked', () => {
    const X = Float32Array.from([1, 2, 3, 4]);
    expect(Array.from(centreRows(X, 2, 2, Float64Array.from([1, 1])))).toEqual([0, 1, 2, 3]);
    expect(Array.from(meanRow(new Float32Array(0), 0, 3))).toEqual([0, 0, 0]);
    expect(() => centreRows(X, 2, 2, new Float64Array(3))).toThrow(RangeError);
    expect(() => meanRow(X, 3, 2)).toThrow(RangeError);
  });
});
