/**
 * What the user gave us (a folder picked with <input webkitdirectory>, or files and folders dropped
 * on the page) as one sorted list of files with their path below the root and their class label.
 * The path and label rules live in core/intake-paths.ts; this file only talks to the browser.
 */
import { splitLayout, type SplitRole } from '../../core/experiment/eval-split.ts';
import { comparePaths, isIgnored, labelOf, pathSegments, splitRoot } from '../../core/intake-paths.ts';

export interface IntakeFile {
  file: File;
  /** Relative to the root the user gave, '/'-separated, the root's own name excluded. */
  path: string;
  /**
   * First folder below the root, or '' for a file directly in it; in a train/ + test/ (or val/)
   * layout the folder below those, so train/cat and test/cat are one class.
   */
  label: string;
  /** Only in a train/ + test/ layout: which side the file is on (the experiment evaluates on 'test'). */
  split?: SplitRole;
}

export interface IntakeProblem {
  path: string;
  message: string;
}

/** The files of one intake, sorted by path, with what was left out on the way. */
export interface IntakeResult {
  files: IntakeFile[];
  /** The dropped or picked folder's own name; '' when several items or loose files were given. */
  rootName: string;
  /**
   * How many entries were skipped as clutter (hidden files, .DS_Store, Thumbs.db, __MACOSX/…). From a
   * folder drop a skipped folder counts once, since its contents are never read.
   */
  ignored: number;
  /** Their paths; a skipped folder ends in '/'. */
  ignoredPaths: string[];
  /** Entries the browser could not read (moved or deleted meanwhile, no permission); the rest still comes. */
  errors: IntakeProblem[];
}

export interface CollectOptions {
  signal?: AbortSignal;
  /** Files found so far, while a dropped folder is being walked (which takes a while for large trees). */
  onProgress?: (found: number) => void;
}

interface Candidate {
  file: File;
  path: string;
}

/** Sorts, drops clutter, labels. Shared by every intake path so they agree on the rules. */
export function intakeResult(
  candidates: readonly Candidate[],
  extra: { rootName?: string; ignoredPaths?: string[]; errors?: IntakeProblem[] } = {},
): IntakeResult {
  const ignoredPaths = [...(extra.ignoredPaths ?? [])];
  const kept: IntakeFile[] = [];
  for (const { file, path } of candidates) {
    if (isIgnored(path)) ignoredPaths.push(path);
    else kept.push({ file, path, label: labelOf(path) });
  }
  const layout = splitLayout(kept.map((f) => f.path));
  if (layout) {
    for (const f of kept) {
      f.label = layout.labelOf(f.path);
      f.split = layout.roleOf(f.path);
    }
  }
  kept.sort((a, b) => comparePaths(a.path, b.path));
  ignoredPaths.sort(comparePaths);
  const errors = [...(extra.errors ?? [])].sort((a, b) => comparePaths(a.path, b.path));
  return { files: kept, rootName: extra.rootName ?? '', ignored: ignoredPaths.length, ignoredPaths, errors };
}

/**
 * Files from an <input type=file> (with or without webkitdirectory). With a folder, webkitRelativePath
 * begins with the folder's own name, which is the root and is dropped from the path; loose files
 * (no relative path) form one flat class.
 */
export function filesFromInput(list: FileList | readonly File[]): IntakeResult {
  const files = Array.from(list as ArrayLike<File>);
  const candidates = files.map((file) => ({
    file,
    path: file.webkitRelativePath ? splitRoot(relativePathOf(file)) : file.name,
  }));
  const relative = files.find((file) => file.webkitRelativePath)?.webkitRelativePath;
  return intakeResult(candidates, { rootName: relative ? pathSegments(relative)[0] : '' });
}

/**
 * Chromium turns every backslash in webkitRelativePath into '/', also on Linux and macOS, where a
 * backslash is an ordinary character of a name: the file `photos/a\b.jpg` arrives as
 * `photos/a/b.jpg`, a file `b.jpg` in a folder `a` that does not exist (a wrong path in the
 * manifest, a wrong class label at the top level, and a clash with a real `a/b.jpg`). A folder drop
 * gives the exact names. `file.name` is exact, so the last segment is restored from it; a backslash
 * in a folder's name cannot be told from a separator and stays as Chromium gives it.
 */
function relativePathOf(file: File): string {
  const relative = file.webkitRelativePath;
  if (!file.name.includes('\\')) return relative;
  const mangled = file.name.replace(/\\/g, '/');
  return relative.endsWith(`/${mangled}`) ? relative.slice(0, relative.length - mangled.length) + file.name : relative;
}

/**
 * Files from a drop. One dropped folder is the root; several dropped folders become classes under a
 * virtual root (each folder's name is its label); loose files dropped alone, or beside folders, sit in
 * the root with label ''.
 *
 * Not async on purpose: the DataTransfer's items are only readable during the drop event, so every
 * entry is taken synchronously here, before the first await; the walk happens afterwards.
 */
export function filesFromDrop(dt: DataTransfer, options: CollectOptions = {}): Promise<IntakeResult> {
  const entries: FileSystemEntry[] = [];
  const loose: File[] = [];
  const items = dt.items ? Array.from(dt.items) : [];
  for (const item of items) {
    if (item.kind !== 'file') continue; // dragged text or links
    const entry = typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null;
    if (entry) {
      entries.push(entry);
    } else {
      // Files dragged from another page or app have no file-system entry, only a File.
      const file = item.getAsFile();
      if (file) loose.push(file);
    }
  }
  if (items.length === 0) loose.push(...Array.from(dt.files));
  return collectEntries(entries, loose, options);
}

/** How many File objects are requested from entries at once. */
const FILE_CONCURRENCY = 32;

/** Walks dropped entries. Exported for browser tests that build entries without a real drop. */
export async function collectEntries(
  entries: readonly FileSystemEntry[],
  loose: readonly File[] = [],
  options: CollectOptions = {},
): Promise<IntakeResult> {
  const { signal, onProgress } = options;
  const candidates: Candidate[] = loose.map((file) => ({ file, path: file.name }));
  const fileEntries: { entry: FileSystemFileEntry; path: string }[] = [];
  const ignoredPaths: string[] = [];
  const errors: IntakeProblem[] = [];

  const visit = async (entry: FileSystemEntry, path: string): Promise<void> => {
    signal?.throwIfAborted();
    if (isIgnored(path)) {
      ignoredPaths.push(entry.isDirectory ? `${path}/` : path);
    } else if (isDirectory(entry)) {
      await walk(entry, path);
    } else if (isFile(entry)) {
      fileEntries.push({ entry, path });
    }
  };
  const walk = async (dir: FileSystemDirectoryEntry, path: string): Promise<void> => {
    const reader = dir.createReader();
    // readEntries gives at most 100 entries a call (Chrome); only an empty batch means the end.
    for (;;) {
      let batch: FileSystemEntry[];
      try {
        batch = await readBatch(reader);
      } catch (error) {
        errors.push({ path: path ? `${path}/` : dir.name, message: `This folder could not be read: ${describe(error)}` });
        return;
      }
      if (batch.length === 0) return;
      for (const entry of batch) await visit(entry, path ? `${path}/${entry.name}` : entry.name);
      onProgress?.(candidates.length + fileEntries.length);
    }
  };

  const root = entries.length === 1 && loose.length === 0 ? entries[0] : null;
  if (root && isDirectory(root)) {
    await walk(root, ''); // the dropped folder is the root: its own name is not part of any path
  } else {
    for (const entry of entries) await visit(entry, entry.name);
  }

  let next = 0;
  const resolveFiles = async () => {
    while (next < fileEntries.length) {
      signal?.throwIfAborted();
      const { entry, path } = fileEntries[next++];
      try {
        candidates.push({ file: await fileOf(entry), path });
      } catch (error) {
        errors.push({ path, message: `This file could not be read: ${describe(error)}` });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(FILE_CONCURRENCY, fileEntries.length) }, resolveFiles));
  signal?.throwIfAborted();
  return intakeResult(candidates, { rootName: root?.isDirectory ? root.name : '', ignoredPaths, errors });
}

function isDirectory(entry: FileSystemEntry): entry is FileSystemDirectoryEntry {
  return entry.isDirectory;
}

function isFile(entry: FileSystemEntry): entry is FileSystemFileEntry {
  return entry.isFile;
}

function readBatch(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

function describe(error: unknown): string {
  if (error instanceof DOMException) return error.message ? `${error.name}: ${error.message}` : error.name;
  return error instanceof Error ? error.message : String(error);
}
