import { computeHashSets } from '../../core/hash/index.ts';
import { lanczosSimdAvailable } from '../../core/hash/lanczos-wasm.ts';
import { checkDecodable, describeTruncation, FORMAT_NAMES } from '../../core/sniff.ts';
import type { SkipReason } from '../../core/types.ts';
import type { FeatureStore, KnownKeys, StoredFailure, StoredFeatures } from '../../store/feature-store.ts';
import { FEATURE_VERSION } from '../../store/schema.ts';
import { decodeImage, makeThumbnail } from './decode.ts';
import { SHA256_CHUNK_BYTES, sha256Hex, sha256HexOfBlob } from '../../core/sha256.ts';

/**
 * Files up to this size are read whole: they are decoded from those bytes anyway, and Web Crypto,
 * which only digests a whole buffer, hashes them several times faster than the incremental hash.
 */
export const WHOLE_READ_BYTES = 64 * 1024 * 1024;

/**
 * Larger files are never decoded. The pixel limit (100 MP) allows at most about 400 MB even for an
 * uncompressed 32-bit BMP, so nothing decodable is lost, while a multi-gigabyte file handed to the
 * decoder would be read whole into the worker's memory and could take the tab down with it.
 */
export const MAX_DECODE_BYTES = 512 * 1024 * 1024;

/**
 * How much of a file read in pieces the sniffing and header check see: a JPEG's frame header can
 * sit megabytes in, behind a large ICC profile, and the pixel limit must see it before decoding.
 */
const HEAD_BYTES = 16 * 1024 * 1024;

export type FileAnalysis =
  | { ok: true; sha256: string; cached: boolean; features: StoredFeatures }
  | { ok: false; sha256: string | null; cached: boolean; reason: SkipReason; detail: string };

/**
 * What stage two decodes from: the bytes already read, or, for a file too large to have been read
 * whole, the file itself (a handle, nothing held in memory).
 */
export type Source = ArrayBuffer | Blob;

export type ReadOutcome =
  | { done: true; analysis: FileAnalysis }
  | { done: false; sha256: string; source: Source };

/**
 * Stage one for a batch: the bytes give each file's content key, and one store lookup for the
 * whole batch (two where some keys have no features) ends the work for every key already known,
 * so a second run decodes nothing. `known` (FeatureStore.knownKeys) spares the lookup of keys
 * that are certainly not stored.
 */
export async function readFiles(files: readonly Blob[], store: FeatureStore, known?: KnownKeys | null): Promise<ReadOutcome[]> {
  const read = await readAll(files);
  const keys = read.flatMap((r) => (r.kind === 'bytes' ? [r.sha256] : []));
  // With a snapshot of the stored keys, a first run over new files asks the store nothing.
  const maybeStored = known ? keys.filter((key) => known.features.has(key)) : keys;
  const stored = maybeStored.length > 0 ? await store.getMany(maybeStored) : new Map<string, StoredFeatures>();
  const unknown = keys.filter((key) => !stored.has(key) && (!known || known.failures.has(key)));
  const failures = unknown.length > 0 ? await store.getFailures(unknown) : new Map<string, StoredFailure>();
  return read.map((r): ReadOutcome => {
    if (r.kind === 'done') return { done: true, analysis: r.analysis };
    const hit = stored.get(r.sha256);
    if (hit && hit.featureVersion === FEATURE_VERSION) {
      return { done: true, analysis: { ok: true, sha256: r.sha256, cached: true, features: hit } };
    }
    const failure = failures.get(r.sha256);
    if (failure && failure.featureVersion === FEATURE_VERSION) {
      return { done: true, analysis: { ok: false, sha256: r.sha256, cached: true, reason: failure.reason, detail: failure.detail } };
    }
    return { done: false, sha256: r.sha256, source: r.source };
  });
}

type ReadBytes = { kind: 'bytes'; sha256: string; source: Source } | { kind: 'done'; analysis: FileAnalysis };

/** Files up to this size are read together with the rest of their batch (see readAll). */
const JOINT_READ_BYTES = 4 * 1024 * 1024;

/**
 * Reads a batch. Each read of a File is a round trip to the browser process that costs about a
 * millisecond, more than decoding a small image, so the small files are read in one request as one
 * Blob made of them all and cut apart here. If that read fails (a file moved, deleted or changed
 * since it was listed), each file is read alone, so the error lands on the file that has it.
 */
async function readAll(files: readonly Blob[]): Promise<ReadBytes[]> {
  const joint = files.flatMap((file, i) => (file.size > 0 && file.size <= JOINT_READ_BYTES ? [i] : []));
  const out: (ReadBytes | undefined)[] = new Array(files.length);
  if (joint.length > 1) {
    let whole: ArrayBuffer | null = null;
    try {
      whole = await new Blob(joint.map((i) => files[i])).arrayBuffer();
    } catch {
      // read alone below
    }
    if (whole) {
      let offset = 0;
      await Promise.all(
        joint.map((i) => {
          const bytes = whole.slice(offset, (offset += files[i].size));
          return sha256Hex(bytes).then((sha256) => (out[i] = { kind: 'bytes', sha256, source: bytes }));
        }),
      );
    }
  }
  await Promise.all(files.map(async (file, i) => (out[i] ??= await readBytes(file))));
  return out as ReadBytes[];
}

async function readBytes(file: Blob): Promise<ReadBytes> {
  const done = (analysis: FileAnalysis): ReadBytes => ({ kind: 'done', analysis });
  if (file.size === 0) {
    return done({ ok: false, sha256: null, cached: false, reason: 'empty-file', detail: 'The file is empty (0 bytes).' });
  }
  try {
    if (file.size > WHOLE_READ_BYTES) return { kind: 'bytes', sha256: await sha256HexOfBlob(file), source: file };
    const bytes = await file.arrayBuffer();
    return { kind: 'bytes', sha256: await sha256Hex(bytes), source: bytes };
  } catch (error) {
    const detail = `The file could not be read (moved, deleted or not permitted?): ${message(error)}`;
    return done({ ok: false, sha256: null, cached: false, reason: 'read-error', detail });
  }
}

/**
 * Stage two: decode once, then hashes and thumbnail from the same pixels. The caller stores the
 * results of a whole batch in one transaction (storeResults).
 */
export async function computeFeatures(sha256: string, source: Source): Promise<FileAnalysis> {
  const skip = (reason: SkipReason, detail: string): FileAnalysis => ({ ok: false, sha256, cached: false, reason, detail });
  const size = source instanceof Blob ? source.size : source.byteLength;
  let head: Uint8Array;
  try {
    // Bytes read whole are seen whole (a view, no copy); a large file only by its start.
    head = source instanceof Blob ? new Uint8Array(await source.slice(0, HEAD_BYTES).arrayBuffer()) : new Uint8Array(source);
  } catch (error) {
    return skip('read-error', `The file could not be read (moved, deleted or not permitted?): ${message(error)}`);
  }
  const check = checkDecodable(head, size);
  if (!check.ok) return skip(check.reason, check.detail);
  if (size > MAX_DECODE_BYTES) {
    return skip(
      'too-large',
      `This ${FORMAT_NAMES[check.format]} file is ${megabytes(size)}, over the limit of ${megabytes(MAX_DECODE_BYTES)} for decoding in the browser; ` +
        `it was not decoded, to keep the tab from running out of memory. Its SHA-256 was computed in ${megabytes(SHA256_CHUNK_BYTES)} pieces, so exact copies of it are still found.`,
    );
  }

  let decoded;
  try {
    decoded = await decodeImage(source, check.format, head, check);
  } catch (error) {
    // Only bytes read whole can show where a file ends; a large file's start says nothing about that.
    const truncated = source instanceof Blob ? null : describeTruncation(head, check.format);
    return skip(
      'corrupt-image',
      truncated ?? `The browser could not decode this ${check.format.toUpperCase()} file (damaged or truncated?): ${message(error)}`,
    );
  }
  try {
    const { hashes, mirrored } = computeHashSets(decoded.rgba, decoded.pixelWidth, decoded.pixelHeight);
    const thumb = await makeThumbnail(decoded, source, check.format);
    const features: StoredFeatures = {
      sha256,
      width: decoded.width,
      height: decoded.height,
      format: check.format,
      hashes,
      mirrored,
      thumb: thumb.bytes,
      thumbType: thumb.type,
      decodedBy: decoded.bitmap ? 'browser' : 'wasm',
      resizedBy: lanczosSimdAvailable() ? 'simd' : 'typescript',
      ...(decoded.pixelWidth !== decoded.width || decoded.pixelHeight !== decoded.height ? { decodedSize: [decoded.pixelWidth, decoded.pixelHeight] as [number, number] } : {}),
      thumbWidth: thumb.width,
      thumbHeight: thumb.height,
      computedAt: Date.now(),
      featureVersion: FEATURE_VERSION,
    };
    return { ok: true, sha256, cached: false, features };
  } finally {
    decoded.bitmap?.close();
  }
}

/**
 * Decoded pixels of the images analysed at once may add up to this many (4 bytes each, and as
 * much again for the bitmap): small images are decoded several at a time, since each decode
 * waits mostly on the browser process, while large ones go one by one.
 */
const CONCURRENT_PIXELS = 16_000_000;
const CONCURRENT_FILES = 8;

/**
 * Stage two for many files, several at a time within CONCURRENT_PIXELS and CONCURRENT_FILES; an
 * image whose size its header does not tell counts as the whole budget. Results in input order.
 */
export async function computeAll(items: readonly { sha256: string; source: Source }[]): Promise<FileAnalysis[]> {
  const out: FileAnalysis[] = new Array(items.length);
  let next = 0;
  let pixels = 0;
  let running = 0;
  const costs = items.map(({ source }) => {
    if (source instanceof Blob) return CONCURRENT_PIXELS;
    const check = checkDecodable(new Uint8Array(source), source.byteLength);
    if (!check.ok) return 0; // refused before decoding
    return check.width !== undefined && check.height !== undefined ? Math.min(CONCURRENT_PIXELS, check.width * check.height) : CONCURRENT_PIXELS;
  });
  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      if (next === items.length && running === 0) return resolve();
      while (next < items.length && running < CONCURRENT_FILES && (running === 0 || pixels + costs[next] <= CONCURRENT_PIXELS)) {
        const i = next++;
        running++;
        pixels += costs[i];
        computeFeatures(items[i].sha256, items[i].source).then((analysis) => {
          out[i] = analysis;
          running--;
          pixels -= costs[i];
          pump();
        }, reject);
      }
    };
    pump();
  });
  return out;
}

/** "1.1 GB", "512 MB": binary units, as file managers show them. */
function megabytes(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  if (mb >= 1024) return `${Number((mb / 1024).toFixed(1))} GB`;
  return `${Number(mb.toFixed(mb >= 10 ? 0 : 1))} MB`;
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
