import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseNpy } from '../../../src/core/cluster/npy.ts';
import { buildFeatureFiles, FEATURES_CSV_HEADER } from '../../../src/core/features-export.ts';
import { parseCsv } from '../../support/csv.ts';


describe('embeddings.npy + features.csv', () => {
  it('row i of the csv describes row i of the matrix, for any paths', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 10 }), { maxLength: 12 }),
        fc.integer({ min: 1, max: 6 }),
        (paths, dim) => {
          const rows = paths.map((path, i) => ({
            path,
            sha256: i.toString(16).padStart(64, '0'),
            label: path.slice(0, 2),
            vector: Float32Array.from({ length: dim }, (_, j) => i * 10 + j + 0.5),
          }));
          const out = buildFeatureFiles(rows, dim);
          const npy = parseNpy(out.npy);
          expect(npy.shape).toEqual([paths.length, dim]);
          const csv = parseCsv(out.csv);
          expect(csv[0]).toEqual([...FEATURES_CSV_HEADER]);
          expect(csv).toHaveLength(paths.length + 1);
          for (let r = 0; r < paths.length; r++) {
            const [index, path, sha256, label] = csv[r + 1];
            expect(Number(index)).toBe(r);
            const source = rows.find((x) => x.path === path)!;
            expect(source.sha256).toBe(sha256);
            expect(source.label).toBe(label);
            expect(Array.from(npy.data.subarray(r * dim, (r + 1) * dim))).toEqual(Array.from(source.vector));
          }
        },
      ),
    );
  });

  it('refuses a vector of the wrong length', () => {
    expect(() => buildFeatureFiles([{ path: 'a', sha256: 'x', label: '', vector: new Float32Array(3) }], 4)).toThrow(/expected 4/);
  });
});
