/**
 * Mean embeddings shipped with the models, for centring small folders: a folder's own mean is
 * mostly its images when it holds few (two images centred on their mean are exact opposites), so
 * the centre is shrunk toward this reference, (n·own + K·ref) / (n + K). Measured in
 * docs/neardup-embeddings.md: with K = 50 no pair of different photos crossed the bar in any small
 * neardup folder, and pHash misses were found at every folder size.
 */
import * as mobilenetv2Mid from './mobilenetv2-mid.ts';

export const SHRINK_K = 50;

const ENCODED: Record<string, { DIM: number; MEAN_BASE64: string }> = { 'mobilenetv2-mid': mobilenetv2Mid };
const decoded = new Map<string, Float32Array>();

/** The reference mean of a shipped model, or null (a user's model has none). */
export function referenceMean(modelId: string): Float32Array | null {
  const cached = decoded.get(modelId);
  if (cached) return cached;
  const entry = Object.hasOwn(ENCODED, modelId) ? ENCODED[modelId] : undefined;
  if (!entry) return null;
  const bytes = Uint8Array.from(atob(entry.MEAN_BASE64), (c) => c.charCodeAt(0));
  const mean = new Float32Array(bytes.buffer);
  if (mean.length !== entry.DIM) throw new Error(`reference mean for ${modelId} has ${mean.length} values, expected ${entry.DIM}`);
  decoded.set(modelId, mean);
  return mean;
}

/** The centre to subtract: the folder's mean shrunk toward the reference; without one, the folder's own. */
export function shrunkMean(own: Float64Array, n: number, reference: Float32Array | null, k = SHRINK_K): Float64Array {
  if (!reference) return own;
  if (reference.length !== own.length) throw new RangeError(`reference mean has ${reference.length} values, the embeddings ${own.length}`);
  const out = new Float64Array(own.length);
  for (let i = 0; i < own.length; i++) out[i] = (n * own[i] + k * reference[i]) / (n + k);
  return out;
}
