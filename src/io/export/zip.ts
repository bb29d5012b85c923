/**
 * The export zip, streamed.
 *
 * client-zip's makeZip pulls entries from an async iterable only when the consumer asks for more
 * bytes, so at most one image is being read at any time and nothing is accumulated here: memory
 * stays flat whether the export holds ten files or fifty thousand. Entries are stored, not
 * deflated (images are already compressed; see docs/zip-library.md). Every name goes through
 * ZipPathAllocator, so no entry can escape the extraction folder and none collide.
 */
import { makeZip } from 'client-zip';
import { ZipPathAllocator } from '../../core/zip-paths.ts';

/** The text documents written at the root of the zip, before any image. */
export interface ExportTexts {
  manifestJson: string;
  keptTxt: string;
  removedTxt: string;
  groupsCsv: string;
}

export interface KeptFile {
  /** Relative path as in the manifest; sanitised before it becomes an entry name. */
  path: string;
  file: File | Blob;
  lastModified?: Date | number;
}

/** A further document at the root of the zip, after the texts (e.g. embeddings.npy). */
export interface ExtraDocument {
  name: (typeof FEATURE_DOCUMENT_NAMES)[number];
  data: string | Uint8Array;
}

export interface ExportStreamOptions {
  documents: ExportTexts;
  extras?: readonly ExtraDocument[];
  /** Images to include, read one at a time; omit for a manifest-only export. */
  keptFiles?: AsyncIterable<KeptFile> | Iterable<KeptFile>;
  signal?: AbortSignal;
  /** Timestamp of the text entries (default: now). */
  createdAt?: Date;
  /** Called with (original path, entry name or null when the path had no usable name). */
  onEntry?: (path: string, entryName: string | null) => void;
}

export const FEATURE_DOCUMENT_NAMES = ['embeddings.npy', 'features.csv'] as const;
/** Names an image can never take, whether or not this export writes them, so paths do not depend on options. */
export const DOCUMENT_NAMES = ['manifest.json', 'kept.txt', 'removed.txt', 'groups.csv', ...FEATURE_DOCUMENT_NAMES] as const;

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The export was aborted.', 'AbortError');
}

type ZipInput = { input: string | Blob | Uint8Array; name: string; lastModified: Date | number; size?: number };

async function* entries(options: ExportStreamOptions): AsyncGenerator<ZipInput> {
  const { documents, keptFiles, signal } = options;
  const when = options.createdAt ?? new Date();
  const texts: [string, string][] = [
    ['manifest.json', documents.manifestJson],
    ['kept.txt', documents.keptTxt],
    ['removed.txt', documents.removedTxt],
    ['groups.csv', documents.groupsCsv],
  ];
  for (const [name, text] of texts) {
    if (signal?.aborted) throw abortReason(signal);
    yield { input: text, name, lastModified: when };
  }
  for (const extra of options.extras ?? []) {
    if (signal?.aborted) throw abortReason(signal);
    yield { input: extra.data, name: extra.name, lastModified: when };
  }
  if (!keptFiles) return;
  // Images may not take the documents' names, whatever they were called.
  const names = new ZipPathAllocator(DOCUMENT_NAMES);
  for await (const kept of keptFiles) {
    if (signal?.aborted) throw abortReason(signal);
    const name = names.allocate(kept.path);
    options.onEntry?.(kept.path, name);
    if (name === null) continue;
    const file = kept.file;
    const lastModified =
      kept.lastModified ?? ('lastModified' in file ? (file as File).lastModified : when);
    // A Blob is read through blob.stream() by client-zip, chunk by chunk.
    yield { input: file, name, lastModified, size: file.size };
  }
}

/**
 * A ReadableStream of the zip bytes: manifest.json, kept.txt, removed.txt, groups.csv, the extras
 * (embeddings.npy, features.csv) when asked for, then the
 * kept images under their (sanitised) relative paths. Aborting the signal errors the stream and
 * stops reading files, also in the middle of a large one.
 */
export function makeExportStream(options: ExportStreamOptions): ReadableStream<Uint8Array> {
  const { signal } = options;
  const reader = makeZip(entries(options), { buffersAreUTF8: true }).getReader();
  // client-zip cancels by throwing the reason into its generator, so its cancel() rejects with
  // that reason; a cancel is a normal end for us, hence the catch.
  const stop = (reason: unknown): Promise<void> => reader.cancel(reason).catch(() => {});
  let onAbort: (() => void) | null = null;
  const cleanup = (): void => {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    onAbort = null;
  };
  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (!signal) return;
      if (signal.aborted) {
        const reason = abortReason(signal);
        void stop(reason);
        controller.error(reason);
        return;
      }
      onAbort = () => {
        const reason = abortReason(signal);
        cleanup();
        void stop(reason);
        try {
          controller.error(reason);
        } catch {
          // already closed or errored
        }
      };
      signal.addEventListener('abort', onAbort, { once: true });
    },
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (signal?.aborted) return; // onAbort has errored the stream
        if (done) {
          cleanup();
          controller.close();
        } else controller.enqueue(value);
      } catch (error) {
        cleanup();
        controller.error(error);
      }
    },
    cancel(reason) {
      cleanup();
      return stop(reason);
    },
  });
}

// The File System Access API is Chromium-only and not in TypeScript's DOM lib yet.
interface SaveFilePickerOptions {
  suggestedName?: string;
  types?: { description?: string; accept: Record<string, string[]> }[];
}
interface WritableFileHandle {
  createWritable(): Promise<WritableStream<Uint8Array>>;
}
type ShowSaveFilePicker = (options?: SaveFilePickerOptions) => Promise<WritableFileHandle>;

export type SaveOutcome = 'saved' | 'downloaded' | 'cancelled';

export interface SaveOptions {
  signal?: AbortSignal;
  /** For tests and for callers that want the download fallback only. */
  usePicker?: boolean;
}

function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}

/**
 * Writes the stream to disk. Where the File System Access API exists, the user picks a file and
 * the zip streams straight into it ('saved'). Otherwise (or if the picker is refused for a reason
 * other than the user cancelling, e.g. no user activation or a cross-origin frame) the stream is
 * collected into a Blob, which Chromium backs by disk for large sizes, and downloaded through a
 * temporary <a download> ('downloaded'). Closing the picker gives 'cancelled'; an abort rejects.
 *
 * Call it straight from the click handler: the picker needs the click's user activation.
 */
export async function saveStream(
  stream: ReadableStream<Uint8Array>,
  filename: string,
  options: SaveOptions = {},
): Promise<SaveOutcome> {
  const { signal } = options;
  if (signal?.aborted) {
    await stream.cancel(abortReason(signal)).catch(() => {});
    throw abortReason(signal);
  }

  const picker = (globalThis as { showSaveFilePicker?: ShowSaveFilePicker }).showSaveFilePicker;
  if (options.usePicker !== false && typeof picker === 'function') {
    let writable: WritableStream<Uint8Array> | null = null;
    try {
      const handle = await picker({
        suggestedName: filename,
        types: [{ description: 'Zip archive', accept: { 'application/zip': ['.zip'] } }],
      });
      writable = await handle.createWritable();
    } catch (error) {
      if (isAbort(error) && !signal?.aborted) {
        await stream.cancel('save cancelled').catch(() => {});
        return 'cancelled';
      }
      if (signal?.aborted) {
        await stream.cancel(abortReason(signal)).catch(() => {});
        throw abortReason(signal);
      }
      writable = null; // fall through to the download
    }
    if (writable !== null) {
      // pipeTo aborts the writable on error or abort, so no half-written file is committed.
      await stream.pipeTo(writable, signal ? { signal } : {});
      return 'saved';
    }
  }

  // pipeThrough with the signal cancels the source on abort even if it was not made with one.
  const source = signal ? stream.pipeThrough(new TransformStream<Uint8Array, Uint8Array>(), { signal }) : stream;
  const blob = await new Response(source).blob();
  if (signal?.aborted) throw abortReason(signal);
  const url = URL.createObjectURL(blob);
  try {
    const a = document.createElement('a');
    a.href = url;
    a.download = filename;
    a.rel = 'noopener';
    a.style.display = 'none';
    document.body.append(a);
    a.click();
    a.remove();
  } finally {
    // Revoking at once can cancel the download in some browsers; a minute is plenty to start it.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }
  return 'downloaded';
}
