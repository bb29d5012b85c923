/**
 * scipy's tie-breaking, reproduced exactly. fixtures/scipy_ties.json holds tie-heavy condensed
 * matrices (multiples of 1/4: every tie is exact, inputs bit-identical on both sides) with
 * scipy's complete-linkage Z; see fixtures/make_scipy_ties.py.
 */
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { completeLinkage } from '../../../src/core/cluster/linkage.ts';
import { cutToK } from '../../../src/core/cluster/cut.ts';

interface TieCase {
  n: number;
  D: number[];
  Z: number[][];
}
const fixture = JSON.parse(readFileSync(new URL('./fixtures/scipy_ties.json', import.meta.url), 'utf8')) as {
  scipy: string;
  cases: TieCase[];
};

test(`Z equals scipy ${fixture.scipy} row for row on ${fixture.cases.length} tie-heavy matrices`, () => {
  let tiedHeights = 0;
  for (const c of fixture.cases) {
    const Z = completeLinkage(Float64Array.from(c.D), c.n);
    expect(Array.from(Z)).toEqual(c.Z.flat());
    const h = c.Z.map((row) => row[2]);
    tiedHeights += h.length - new Set(h).size;
    // And hence the same partition at every k.
    const scipyZ = Float64Array.from(c.Z.flat());
    for (let k = 1; k <= c.n; k++) expect(cutToK(Z, c.n, k)).toEqual(cutToK(scipyZ, c.n, k));
  }
  expect(tiedHeights).toBeGreaterThan(100); // the fixture really is about ties
});

test('the input matrix is left alone unless inPlace', () => {
  const c = fixture.cases.find((x) => x.n > 10)!;
  const D = Float64Array.from(c.D);
  completeLinkage(D, c.n);
  expect(Array.from(D)).toEqual(c.D);
  completeLinkage(D, c.n, { inPlace: true });
  expect(Array.from(D)).not.toEqual(c.D);
});
