/**
 * Entry names for the export zip.
 *
 * Paths come from the user's file system and end up in an archive that someone else may extract
 * with any tool on any OS. An entry like "../x", "/etc/x", "C:\x" or "a\..\..\x" (backslashes
 * are separators on Windows) could write outside the extraction folder ("zip slip"). Every name
 * goes through safeZipPath(), which can only remove or replace characters, never add a way up.
 * Everything else (Unicode, emoji, spaces, case) is kept as the user named it.
 */

// C0 controls, DEL and C1 controls: invisible, and NUL truncates names in C-based extractors.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
// A UTF-16 surrogate without its partner cannot be encoded as UTF-8.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
// Windows drops trailing dots and spaces from each segment, so ". ." or "..." can act as "..".
// Segments made only of dots and spaces (including "", "." and "..") are removed outright.
const DOTS_AND_SPACES = /^[. ]*$/;
// "C:" at the start of a name: on Windows, a drive-relative path.
const DRIVE = /^[A-Za-z]:/;

/**
 * A relative, '/'-separated entry name that stays inside the zip root, or null when nothing
 * usable is left (e.g. "../.." or ""). Idempotent: safeZipPath(safeZipPath(p)) === safeZipPath(p).
 */
export function safeZipPath(path: string): string | null {
  if (typeof path !== 'string') return null;
  const cleaned = path
    .replace(LONE_SURROGATE, '\ufffd')
    .replace(CONTROL, '_')
    .replace(/\\/g, '/');
  const segments: string[] = [];
  for (const segment of cleaned.split('/')) {
    let s = segment;
    if (segments.length === 0) {
      // Only the first surviving segment can carry a drive prefix; strip repeats ("C:D:x").
      while (DRIVE.test(s)) s = s.slice(2);
    }
    if (DOTS_AND_SPACES.test(s)) continue; // "", ".", "..", "...", " ", ". ."
    segments.push(s);
  }
  return segments.length === 0 ? null : segments.join('/');
}

/** Key under which two names collide on a case-insensitive, normalising file system. */
function collisionKey(path: string): string {
  return path.normalize('NFC').toLowerCase();
}

/** "name.ext" → "name (n).ext", folders get the suffix at the end; a leading dot is part of the name (".hidden (2)"). */
function withSuffix(name: string, n: number, isFolder: boolean): string {
  const dot = name.lastIndexOf('.');
  if (isFolder || dot <= 0) return `${name} (${n})`;
  return `${name.slice(0, dot)} (${n})${name.slice(dot)}`;
}

/**
 * Hands out unique entry names for one archive. Names that differ only in case or Unicode
 * normalisation, or that become equal after sanitising, get " (2)", " (3)", … before the
 * extension. A file and a folder cannot share a name either ("a" and "a/b.jpg"): the later one is
 * renamed. Folders that differ only in case are also kept apart ("Cats/" and "cats (2)/") so two
 * classes are never merged on extraction.
 */
export class ZipPathAllocator {
  /** Collision keys of every file and folder already in the archive. */
  private readonly taken = new Set<string>();
  /** Exact sanitised folder path → folder path used in the archive. */
  private readonly folders = new Map<string, string>();

  /** Names that must not be used by allocated files (e.g. 'manifest.json' at the root). */
  constructor(reserved: Iterable<string> = []) {
    for (const name of reserved) {
      const safe = safeZipPath(name);
      if (safe !== null) this.taken.add(collisionKey(safe));
    }
  }

  /** The archive name for `path`, or null if the path has no usable name at all. */
  allocate(path: string): string | null {
    const safe = safeZipPath(path);
    if (safe === null) return null;
    const segments = safe.split('/');
    const fileName = segments.pop()!;

    let parent = ''; // folder path used in the archive, '' = root
    let exactParent = ''; // the same folder as the input named it
    for (const seg of segments) {
      exactParent = exactParent === '' ? seg : `${exactParent}/${seg}`;
      let folder = this.folders.get(exactParent);
      if (folder === undefined) {
        folder = this.unique(parent, seg, true);
        this.folders.set(exactParent, folder);
        this.taken.add(collisionKey(folder));
      }
      parent = folder;
    }
    const full = this.unique(parent, fileName, false);
    this.taken.add(collisionKey(full));
    return full;
  }

  private unique(parent: string, name: string, isFolder: boolean): string {
    const join = (n: string): string => (parent === '' ? n : `${parent}/${n}`);
    let candidate = join(name);
    for (let n = 2; this.taken.has(collisionKey(candidate)); n++) candidate = join(withSuffix(name, n, isFolder));
    return candidate;
  }
}
