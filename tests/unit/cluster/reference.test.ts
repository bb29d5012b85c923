/**
 * Agreement with scipy / scikit-learn on the reference Gaussian-mixture sets
 * (shared/data/reference/cluster, made by reference/scripts/cluster_ref.py).
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { clusterClass, type ClassClustering } from '../../../src/core/cluster/index.ts';
import { canonicalLabels, cutAtHeight, cutToK, heightWindow } from '../../../src/core/cluster/cut.ts';
import { representatives } from '../../../src/core/cluster/representatives.ts';
import { loadRefSet, refSetNames } from './support.ts';

const names = refSetNames();

test('reference sets are present', () => {
  expect(names.length).toBeGreaterThanOrEqual(4);
});

describe.each(names)('%s', (name) => {
  const ref = loadRefSet(name); // small; the k values are needed to name the tests
  const { n, dim: d } = ref;
  let result: ClassClustering;
  let Z: Float64Array;
  beforeAll(() => {
    result = clusterClass(ref.X, n, d);
    Z = result.Z;
  });

  test('merge heights equal scipy within 1e-9; Z identical to scipy otherwise', () => {
    expect(Z.length).toBe(ref.Z.length);
    const ours = Array.from({ length: n - 1 }, (_, r) => Z[4 * r + 2]).sort((a, b) => a - b);
    const theirs = Array.from({ length: n - 1 }, (_, r) => ref.Z[4 * r + 2]).sort((a, b) => a - b);
    let maxErr = 0;
    for (let r = 0; r < n - 1; r++) maxErr = Math.max(maxErr, Math.abs(ours[r] - theirs[r]));
    console.log(`cluster reference ${name}: max |height − scipy height| = ${maxErr.toExponential(2)}`);
    expect(maxErr).toBeLessThan(1e-9);
    // Same merges in the same order with the same cluster ids and sizes.
    for (let r = 0; r < n - 1; r++) {
      expect([Z[4 * r], Z[4 * r + 1], Z[4 * r + 3]]).toEqual([ref.Z[4 * r], ref.Z[4 * r + 1], ref.Z[4 * r + 3]]);
      expect(Math.abs(Z[4 * r + 2] - ref.Z[4 * r + 2])).toBeLessThan(1e-9);
    }
  });

  test.each(Object.keys(ref.k))('k = %s: partition = scikit-learn, representatives = reference', (kText) => {
    const k = Number(kText);
    const rk = ref.k[kText];
    const sk = canonicalLabels(rk.sklearn_labels);
    expect(Array.from(sk)).toEqual(rk.canonical_labels);

    const cut = result.cut(k);
    expect(cut.k).toBe(k);
    expect(Array.from(cut.labels)).toEqual(Array.from(sk));
    expect(Array.from(cut.sizes)).toEqual(rk.cluster_sizes);
    expect(Array.from(cut.representatives)).toEqual(rk.representatives);
    // Representatives from the reference partition itself (independent of our clustering).
    expect(Array.from(representatives(ref.X, n, d, sk))).toEqual(rk.representatives);
    // The scipy Z cut the same way gives the same partition too.
    expect(Array.from(cutToK(ref.Z, n, k))).toEqual(Array.from(sk));

    // Height window and a height cut inside it.
    const [lo, hi] = heightWindow(Z, n, k);
    expect(Math.abs(lo - rk.cut_height_window[0])).toBeLessThan(1e-9);
    expect(Math.abs(hi - rk.cut_height_window[1])).toBeLessThan(1e-9);
    expect(Array.from(cutAtHeight(Z, n, (lo + hi) / 2))).toEqual(Array.from(sk));
  });
});
