/**
 * Paths of dropped files: which ones are operating-system clutter, where the dropped root ends, and
 * which class folder a file belongs to. Pure, so the rules are tested in Node; src/io/intake applies
 * them to what the browser hands over.
 *
 * Paths are '/'-separated, as webkitRelativePath and FileSystemEntry give them. Names are kept
 * exactly as they come (no Unicode normalisation, no case folding): they are written back to the
 * manifest and must match the user's files.
 */

/** Folders that only operating systems and tools create; nothing inside them is a dataset image. */
const IGNORED_FOLDERS = new Set(['__macosx', '$recycle.bin', 'system volume information']);
/** Files Windows writes into image folders (thumbnail caches, folder settings). */
const IGNORED_FILES = new Set(['thumbs.db', 'ehthumbs.db', 'ehthumbs_vista.db', 'desktop.ini']);

/** The segments of a path, without empty ones (a leading '/', a doubled '//') and '.'. */
export function pathSegments(path: string): string[] {
  return path.split('/').filter((s) => s !== '' && s !== '.');
}

/**
 * Whether a file is clutter rather than data: anything hidden (a segment starting with '.', which
 * covers .DS_Store, AppleDouble '._name' files, .git, .Trashes, .thumbnails), Windows' Thumbs.db and
 * desktop.ini, and anything inside __MACOSX/ (the resource forks macOS puts into zip files).
 * Matching is case-insensitive because Windows and macOS file systems are.
 */
export function isIgnored(path: string): boolean {
  const segments = pathSegments(path);
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (segment.startsWith('.')) return true;
    const lower = segment.toLowerCase();
    if (IGNORED_FOLDERS.has(lower)) return true;
    if (i === segments.length - 1 && IGNORED_FILES.has(lower)) return true;
  }
  return false;
}

/**
 * The path below the dropped root. webkitRelativePath starts with the chosen folder's own name
 * ("photos/cats/a.jpg" → "cats/a.jpg"); a bare name (a file picked without a folder) is kept.
 */
export function splitRoot(relativePath: string): string {
  const segments = pathSegments(relativePath);
  return (segments.length > 1 ? segments.slice(1) : segments).join('/');
}

/**
 * The class of a file: its first folder below the root ("cats/a.jpg" → "cats",
 * "cats/kittens/b.jpg" → "cats"), or '' for a file directly in the root, so a flat folder is one class.
 */
export function labelOf(pathRelativeToRoot: string): string {
  const segments = pathSegments(pathRelativeToRoot);
  return segments.length > 1 ? segments[0] : '';
}

/**
 * Orders paths by UTF-16 code units: the same order on every machine and locale (localeCompare is
 * not), which keeps runs and manifests reproducible.
 */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
