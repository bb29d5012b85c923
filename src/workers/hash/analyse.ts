import { computeHashSets } from '../../core/hash/index.ts';
import { checkDecodable } from '../../core/sniff.ts';
import type { SkipReason } from '../../core/types.ts';
import type { FeatureStore, StoredFeatures } from '../../store/feature-store.ts';
import { FEATURE_VERSION } from '../../store/schema.ts';
import { decodeImage, makeThumbnail } from './decode.ts';
import { sha256Hex } from './sha256.ts';

export type FileAnalysis =
  | { ok: true; sha256: string; cached: boolean; features: StoredFeatures }
  | { ok: false; sha256: string | null; cached: boolean; reason: SkipReason; detail: string };

export type ReadOutcome =
  | { done: true; analysis: FileAnalysis }
  | { done: false; sha256: string; bytes: ArrayBuffer };

/**
 * Stage one: the bytes give the content key, and a stored result for that key ends the work here,
 * so a second run over the same files decodes nothing.
 */
export async function readFile(file: Blob, store: FeatureStore): Promise<ReadOutcome> {
  if (file.size === 0) {
    return { done: true, analysis: { ok: false, sha256: null, cached: false, reason: 'empty-file', detail: 'The file is empty (0 bytes).' } };
  }
  let bytes: ArrayBuffer;
  try {
    bytes = await file.arrayBuffer();
  } catch (error) {
    const detail = `The file could not be read (moved, deleted or not permitted?): ${message(error)}`;
    return { done: true, analysis: { ok: false, sha256: null, cached: false, reason: 'read-error', detail } };
  }
  const sha256 = await sha256Hex(bytes);
  const hit = (await store.getMany([sha256])).get(sha256);
  if (hit && hit.featureVersion === FEATURE_VERSION) {
    return { done: true, analysis: { ok: true, sha256, cached: true, features: hit } };
  }
  const failure = await store.getFailure(sha256);
  if (failure && failure.featureVersion === FEATURE_VERSION) {
    return { done: true, analysis: { ok: false, sha256, cached: true, reason: failure.reason, detail: failure.detail } };
  }
  return { done: false, sha256, bytes };
}

/** Stage two: decode once, then hashes and thumbnail from the same pixels; stored before returning. */
export async function computeFeatures(sha256: string, bytes: ArrayBuffer, store: FeatureStore): Promise<FileAnalysis> {
  // The whole file as a view (no copy): metadata such as a large ICC profile can push a JPEG's
  // frame header far past any fixed-size head, and the size check must see it before decoding.
  const check = checkDecodable(new Uint8Array(bytes), bytes.byteLength);
  if (!check.ok) return remember(store, { sha256, reason: check.reason, detail: check.detail });

  let decoded;
  try {
    decoded = await decodeImage(new Blob([bytes]));
  } catch (error) {
    return remember(store, {
      sha256,
      reason: 'corrupt-image',
      detail: `The browser could not decode this ${check.format.toUpperCase()} file (damaged or truncated?): ${message(error)}`,
    });
  }
  try {
    const { hashes, mirrored } = computeHashSets(decoded.rgba, decoded.width, decoded.height);
    const thumb = await makeThumbnail(decoded.bitmap);
    const features: StoredFeatures = {
      sha256,
      width: decoded.width,
      height: decoded.height,
      format: check.format,
      hashes,
      mirrored,
      thumb: thumb.blob,
      thumbWidth: thumb.width,
      thumbHeight: thumb.height,
      computedAt: Date.now(),
      featureVersion: FEATURE_VERSION,
    };
    await store.put(features);
    return { ok: true, sha256, cached: false, features };
  } finally {
    decoded.bitmap.close();
  }
}

async function remember(
  store: FeatureStore,
  failure: { sha256: string; reason: SkipReason; detail: string },
): Promise<FileAnalysis> {
  await store.putFailure({ ...failure, featureVersion: FEATURE_VERSION });
  return { ok: false, cached: false, ...failure };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
