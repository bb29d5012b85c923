/**
 * The opt-in "include features" part of the export: `embeddings.npy` (float32, n × d) and
 * `features.csv` (row, path, sha256, label), row i of one describing row i of the other, so the
 * vectors can be taken to numpy/pandas without Winnow. Rows follow the manifest's path order;
 * files without an embedding (skipped, or failed to embed) have no row.
 */
import { writeNpyFloat32 } from './cluster/npy.ts';
import { comparePaths } from './keeper.ts';
import { csvField } from './manifest.ts';

export interface FeatureRow {
  path: string;
  sha256: string;
  label: string;
  /** d floats. */
  vector: Float32Array;
}

export const FEATURES_CSV_HEADER = ['row', 'path', 'sha256', 'label'] as const;

export interface FeatureFiles {
  npy: Uint8Array;
  csv: string;
  rows: number;
  dim: number;
}

export function buildFeatureFiles(rows: readonly FeatureRow[], dim: number): FeatureFiles {
  const sorted = [...rows].sort((a, b) => comparePaths(a.path, b.path));
  const data = new Float32Array(sorted.length * dim);
  const lines: string[] = [FEATURES_CSV_HEADER.join(',')];
  sorted.forEach((r, i) => {
    if (r.vector.length !== dim) throw new RangeError(`embedding of ${r.path} has ${r.vector.length} values, expected ${dim}`);
    data.set(r.vector, i * dim);
    lines.push([i, r.path, r.sha256, r.label].map(csvField).join(','));
  });
  return { npy: writeNpyFloat32(sorted.length, dim, data), csv: lines.join('\r\n') + '\r\n', rows: sorted.length, dim };
}
