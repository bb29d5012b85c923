/**
 * What the grouping worker and its client must agree on about the embedding pairs: how deep the
 * search goes, when it runs on tfjs (in the clustering worker) rather than in the grouping
 * worker's own loops, and which rows it runs over. Pure: imported on both sides of the worker
 * boundary.
 */
import type { GroupItem } from '../../core/groups.ts';

/**
 * Embedding pairs are searched once down to this similarity (or the asked bar, if lower), so the
 * slider's moves above it only re-cut. Mean-centred cosine of unrelated photos sits near 0, so
 * pairs this alike stay few.
 */
export const SIMILARITY_FLOOR = 0.8;

/** Beyond this many embedding pairs the bar is far too low to mean "near-duplicate". */
export const MAX_SIMILAR_PAIRS = 2_000_000;

/**
 * From this many embedded items on, the pairs come from tfjs products in the clustering worker
 * (with progress and a cancel) instead of the grouping worker's JS loops. Measured at d = 1280 on
 * wasm (bench/embed-pairs.run.ts, crossover): a fresh worker with tfjs answers in ~1 s at 1,000
 * and 2,000 rows, where the loops take ~0.8 s and ~3 s; smaller embeddings make the loops cheaper
 * and move the break-even up, hence the margin.
 */
export const TFJS_PAIRS_FROM = 2_000;

/** The similarity the pair search runs down to when grouping at `bar`. */
export function searchFloor(bar: number): number {
  return Math.min(bar, SIMILARITY_FLOOR);
}

/** Embedding rows of loaded items, in the order given, and the item position of each. */
export interface EmbeddedRows {
  positions: number[];
  vectors: Float32Array;
  dim: number;
}

/**
 * The rows of `input` whose id is a loaded item, in input order (rows of ids that are not loaded
 * are dropped). Both sides call this, so pair indices mean the same rows to each.
 */
export function embeddedRows(items: readonly GroupItem[], input: { ids: readonly number[]; vectors: Float32Array; dim: number }): EmbeddedRows {
  const positionOf = new Map(items.map((it, i) => [it.id, i]));
  const positions: number[] = [];
  const rows: number[] = [];
  input.ids.forEach((id, row) => {
    const p = positionOf.get(id);
    if (p !== undefined) positions.push(p), rows.push(row);
  });
  const vectors = new Float32Array(rows.length * input.dim);
  rows.forEach((row, k) => vectors.set(input.vectors.subarray(row * input.dim, (row + 1) * input.dim), k * input.dim));
  return { positions, vectors, dim: input.dim };
}
