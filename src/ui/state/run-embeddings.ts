/**
 * The embeddings of one run, as the page keeps them: raw vectors (what the export writes) and the
 * mean the grouping subtracts. Raw cosine between CNN features sits in a narrow band near 1 for
 * any two photos; subtracting the run's mean embedding spreads it out, so one similarity bar or
 * distance cut means roughly the same on different datasets (docs/neardup-embeddings.md).
 *
 * Centred rows are made when a worker needs them (and handed over), not kept beside the raw ones:
 * at 50,000 images × 1,792 dimensions each copy is 358 MB of the tab.
 */
import { meanRow, type SemanticClassInput } from '../../core/semantic.ts';
import { referenceMean, shrunkMean } from '../../ml/reference-means/index.ts';
import type { EmbedderInfo } from '../../workers/embed/client.ts';

export interface RunEmbeddings {
  info: EmbedderInfo;
  dim: number;
  /** File ids that have a vector, in row order. */
  ids: number[];
  raw: Float32Array;
  /** What centredRows subtracts; null when the run stays raw (centredOn null). */
  mean: Float64Array | null;
  rowOf: Map<number, number>;
  /** File ids the model could not read (they are kept, outside any embedding group). */
  failed: number[];
  /** Whether a mean was subtracted (always for shipped models; for a user's model from MIN_TO_CENTRE files). */
  centredOn: 'own+reference' | 'own' | null;
}

/**
 * A user's model ships no reference mean, and below this many files a folder's own mean is
 * mostly the images themselves (two images centred are exact opposites): such runs stay raw.
 */
export const MIN_TO_CENTRE = 20;

export function runEmbeddings(
  ids: readonly number[],
  answer: { vectors: Float32Array; dim: number; failed: readonly number[] },
  info: EmbedderInfo,
): RunEmbeddings {
  const { dim } = answer;
  const failedRows = new Set(answer.failed);
  const kept: number[] = [];
  const failed: number[] = [];
  ids.forEach((id, row) => (failedRows.has(row) ? failed.push(id) : kept.push(id)));
  // With no failures the answer's rows are already the kept rows: a copy would be 358 MB at 50,000 images.
  const raw = failed.length === 0 && answer.vectors.length === kept.length * dim ? answer.vectors : new Float32Array(kept.length * dim);
  if (raw !== answer.vectors) {
    let k = 0;
    ids.forEach((_, row) => {
      if (failedRows.has(row)) return;
      raw.set(answer.vectors.subarray(row * dim, (row + 1) * dim), k * dim);
      k++;
    });
  }
  const reference = referenceMean(info.modelId);
  const useReference = reference !== null && reference.length === dim;
  const centredOn = useReference ? 'own+reference' : kept.length >= MIN_TO_CENTRE ? 'own' : null;
  const mean = centredOn === null ? null : shrunkMean(meanRow(raw, kept.length, dim), kept.length, useReference ? reference : null);
  return { info, dim, ids: kept, raw, mean, rowOf: new Map(kept.map((id, row) => [id, row])), failed, centredOn };
}

export const isCentred = (e: RunEmbeddings): boolean => e.centredOn !== null;

/**
 * The grouping's rows (raw minus the mean, rounded to float32 as core/semantic's centreRows rounds
 * them) of these embedding rows, all of them by default: a new array, the caller's to hand over.
 */
export function centredRows(e: RunEmbeddings, rows?: readonly number[]): Float32Array {
  const { dim, raw, mean } = e;
  const count = rows ? rows.length : e.ids.length;
  const out = new Float32Array(count * dim);
  for (let k = 0; k < count; k++) {
    const from = (rows ? rows[k] : k) * dim;
    const to = k * dim;
    if (mean === null) out.set(raw.subarray(from, from + dim), to);
    else for (let q = 0; q < dim; q++) out[to + q] = raw[from + q] - mean[q];
  }
  return out;
}

/** One clustering input per class label, rows new (they are transferred to the worker). */
export function classInputs(e: RunEmbeddings, labelOf: (id: number) => string): SemanticClassInput[] {
  const byLabel = new Map<string, number[]>();
  for (const id of e.ids) {
    const label = labelOf(id);
    let list = byLabel.get(label);
    if (!list) byLabel.set(label, (list = []));
    list.push(id);
  }
  return [...byLabel].map(([label, ids]) => ({ label, ids, vectors: centredRows(e, ids.map((id) => e.rowOf.get(id)!)) }));
}

/** 1 − cos of two files' centred embeddings; null if either has none. For keeper overrides. */
export function cosineDistanceBetween(e: RunEmbeddings): (a: number, b: number) => number | null {
  return (a, b) => {
    const ra = e.rowOf.get(a);
    const rb = e.rowOf.get(b);
    if (ra === undefined || rb === undefined) return null;
    const [x, y] = [centredRows(e, [ra]), centredRows(e, [rb])];
    let dot = 0, nx = 0, ny = 0;
    for (let i = 0; i < e.dim; i++) {
      dot += x[i] * y[i];
      nx += x[i] * x[i];
      ny += y[i] * y[i];
    }
    if (nx === 0 || ny === 0) return 1;
    return 1 - Math.max(-1, Math.min(1, dot / Math.sqrt(nx * ny)));
  };
}
