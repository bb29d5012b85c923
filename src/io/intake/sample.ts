/**
 * The bundled sample dataset (public/sample/), fetched from our own origin so a first-time visitor
 * can try the app without files of their own. It goes through the same intake rules as a drop.
 */
import { pathSegments } from '../../core/intake-paths.ts';
import { intakeResult, type CollectOptions, type IntakeProblem, type IntakeResult } from './collect.ts';

/** public/sample/index.json: every file of the sample, paths relative to the sample root. */
export interface SampleIndex {
  files: SampleEntry[];
}

export interface SampleEntry {
  path: string;
  size: number;
  sha256: string;
}

/** Parallel downloads; browsers allow six connections per origin over HTTP/1.1 anyway. */
const FETCH_CONCURRENCY = 6;

/**
 * Every file listed in `${base}index.json`, as Files named by their last path segment with
 * lastModified 0 (the sample must analyse the same on every machine), labelled by their first folder;
 * rootName is 'sample'. A missing or malformed index throws; a file that cannot be fetched is
 * reported in `errors`.
 */
export async function filesFromSample(
  base: string = import.meta.env.BASE_URL + 'sample/',
  options: Omit<CollectOptions, 'onProgress'> & { onProgress?: (done: number, total: number) => void } = {},
): Promise<IntakeResult> {
  const { signal, onProgress } = options;
  const root = base.endsWith('/') ? base : `${base}/`;
  const index = await loadIndex(`${root}index.json`, signal);

  const candidates: { file: File; path: string }[] = [];
  const errors: IntakeProblem[] = [];
  let next = 0;
  let done = 0;
  const fetchOne = async () => {
    while (next < index.files.length) {
      const entry = index.files[next++];
      const segments = pathSegments(entry.path);
      const url = root + segments.map(encodeURIComponent).join('/');
      try {
        const response = await fetch(url, { signal });
        if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
        const blob = await response.blob();
        if (blob.size !== entry.size) {
          errors.push({ path: entry.path, message: `The sample file has ${blob.size} bytes where the index says ${entry.size}.` });
        }
        const file = new File([blob], segments[segments.length - 1], { type: blob.type, lastModified: 0 });
        candidates.push({ file, path: segments.join('/') });
      } catch (error) {
        if (signal?.aborted) throw error;
        errors.push({ path: entry.path, message: `The sample file could not be fetched: ${error instanceof Error ? error.message : String(error)}` });
      }
      onProgress?.(++done, index.files.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(FETCH_CONCURRENCY, index.files.length) }, fetchOne));
  signal?.throwIfAborted();
  return intakeResult(candidates, { rootName: 'sample', errors });
}

async function loadIndex(url: string, signal?: AbortSignal): Promise<SampleIndex> {
  let response: Response;
  try {
    response = await fetch(url, { signal });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new Error(`The sample's index (${url}) could not be fetched: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!response.ok) throw new Error(`The sample's index (${url}) could not be fetched: HTTP ${response.status}.`);
  const index: unknown = await response.json().catch(() => null);
  if (!isSampleIndex(index)) throw new Error(`The sample's index (${url}) is not in the expected { files: [{ path, size, sha256 }] } format.`);
  return index;
}

function isSampleIndex(value: unknown): value is SampleIndex {
  if (typeof value !== 'object' || value === null || !Array.isArray((value as SampleIndex).files)) return false;
  return (value as SampleIndex).files.every(
    (f) =>
      typeof f === 'object' &&
      f !== null &&
      typeof f.path === 'string' &&
      pathSegments(f.path).length > 0 &&
      // Paths stay inside the sample folder.
      !pathSegments(f.path).includes('..') &&
      typeof f.size === 'number' &&
      typeof f.sha256 === 'string',
  );
}
