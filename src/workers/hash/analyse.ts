import { computeHashSets } from '../../core/hash/index.ts';
import { checkDecodable } from '../../core/sniff.ts';
import type { SkipReason } from '../../core/types.ts';
import type { FeatureStore, StoredFeatures } from '../../store/feature-store.ts';
import { FEATURE_VERSION } from '../../store/schema.ts';
import { decodeImage, makeThumbnail } from './decode.ts';
import { sha256Hex } from '../../core/sha256.ts';

export type FileAnalysis =
  | { ok: true; sha256: string; cached: boolean; features: StoredFeatures }
  | { ok: false; sha256: string | null; cached: boolean; reason: SkipReason; detail: string };

export type ReadOutcome =
  | { done: true; analysis: FileAnalysis }
  | { done: false; sha256: string; bytes: ArrayBuffer };

/**
 * Stage one for a batch: the bytes give each file's content key, and one store lookup for the
 * whole batch ends the work for every key already known, so a second run decodes nothing.
 */
export async function readFiles(files: readonly Blob[], store: FeatureStore): Promise<ReadOutcome[]> {
  const read = await Promise.all(files.map(readBytes));
  const keys = read.flatMap((r) => (r.kind === 'bytes' ? [r.sha256] : []));
  const stored = keys.length > 0 ? await store.getMany(keys) : new Map<string, StoredFeatures>();
  return Promise.all(
    read.map(async (r): Promise<ReadOutcome> => {
      if (r.kind === 'done') return { done: true, analysis: r.analysis };
      const hit = stored.get(r.sha256);
      if (hit && hit.featureVersion === FEATURE_VERSION) {
        return { done: true, analysis: { ok: true, sha256: r.sha256, cached: true, features: hit } };
      }
      const failure = await store.getFailure(r.sha256);
      if (failure && failure.featureVersion === FEATURE_VERSION) {
        return { done: true, analysis: { ok: false, sha256: r.sha256, cached: true, reason: failure.reason, detail: failure.detail } };
      }
      return { done: false, sha256: r.sha256, bytes: r.bytes };
    }),
  );
}

type ReadBytes = { kind: 'bytes'; sha256: string; bytes: ArrayBuffer } | { kind: 'done'; analysis: FileAnalysis };

async function readBytes(file: Blob): Promise<ReadBytes> {
  const done = (analysis: FileAnalysis): ReadBytes => ({ kind: 'done', analysis });
  if (file.size === 0) {
    return done({ ok: false, sha256: null, cached: false, reason: 'empty-file', detail: 'The file is empty (0 bytes).' });
  }
  let bytes: ArrayBuffer;
  try {
    bytes = await file.arrayBuffer();
  } catch (error) {
    const detail = `The file could not be read (moved, deleted or not permitted?): ${message(error)}`;
    return done({ ok: false, sha256: null, cached: false, reason: 'read-error', detail });
  }
  return { kind: 'bytes', sha256: await sha256Hex(bytes), bytes };
}

/** Stage two: decode once, then hashes and thumbnail from the same pixels; stored before returning. */
/**
 * Stage two: decode once, then hashes and thumbnail from the same pixels. The caller stores the
 * results of a whole batch in one transaction (storeResults).
 */
export async function computeFeatures(sha256: string, bytes: ArrayBuffer): Promise<FileAnalysis> {
  // The whole file as a view (no copy): metadata such as a large ICC profile can push a JPEG's
  // frame header far past any fixed-size head, and the size check must see it before decoding.
  const check = checkDecodable(new Uint8Array(bytes), bytes.byteLength);
  if (!check.ok) return { ok: false, sha256, cached: false, reason: check.reason, detail: check.detail };

  let decoded;
  try {
    decoded = await decodeImage(new Blob([bytes]));
  } catch (error) {
    return {
      ok: false,
      sha256,
      cached: false,
      reason: 'corrupt-image',
      detail: `The browser could not decode this ${check.format.toUpperCase()} file (damaged or truncated?): ${message(error)}`,
    };
  }
  try {
    const { hashes, mirrored } = computeHashSets(decoded.rgba, decoded.width, decoded.height);
    const thumb = await makeThumbnail(decoded.bitmap, bytes, check.format);
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
    return { ok: true, sha256, cached: false, features };
  } finally {
    decoded.bitmap.close();
  }
}

/** Everything a batch computed, in one transaction; known-bad files too, so they are not decoded again. */
export async function storeResults(results: readonly FileAnalysis[], store: FeatureStore): Promise<void> {
  const features = results.flatMap((r) => (r.ok && !r.cached ? [r.features] : []));
  await store.putMany(features);
  for (const r of results) {
    if (!r.ok && !r.cached && r.sha256 !== null && r.reason !== 'analysis-failed') {
      await store.putFailure({ sha256: r.sha256, reason: r.reason, detail: r.detail, featureVersion: FEATURE_VERSION });
    }
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
