/**
 * filesFromInput and backslashes: Chromium reports webkitRelativePath with every '\' turned into
 * '/', also on Linux and macOS where '\' is an ordinary character in a file name (seen in
 * tests/e2e/bad-input.test.ts: `names/back\slash.jpg` came back as `names/back/slash.jpg`). The fake
 * Files below carry what Chromium hands over: the exact name, and the rewritten relative path.
 */
import { describe, expect, it } from 'vitest';
import { filesFromInput } from '../../../src/io/intake/collect.ts';

/** A File as Chromium's folder picker gives it for `onDisk` (a path below and including the picked folder). */
function pickedFromDisk(onDisk: string): File {
  const name = onDisk.split('/').pop()!;
  const file = new File(['x'], name);
  Object.defineProperty(file, 'webkitRelativePath', { value: onDisk.replace(/\\/g, '/') });
  return file;
}

const summary = (files: File[]) => filesFromInput(files).files.map((f) => [f.path, f.label]);

describe('filesFromInput: backslashes in file names', () => {
  it('keeps the name exactly as on disk, in a class folder and at the top level', () => {
    expect(summary([pickedFromDisk('photos/cats/back\\slash.jpg'), pickedFromDisk('photos/a\\b.jpg'), pickedFromDisk('photos/\\lead.jpg')])).toEqual([
      ['\\lead.jpg', ''],
      ['a\\b.jpg', ''], // not a file b.jpg in a class 'a'
      ['cats/back\\slash.jpg', 'cats'],
    ]);
  });

  it('does not merge a backslash name with the real folder path it would be rewritten to', () => {
    const list = filesFromInput([pickedFromDisk('photos/a/b.jpg'), pickedFromDisk('photos/a\\b.jpg')]);
    expect(list.files.map((f) => f.path)).toEqual(['a/b.jpg', 'a\\b.jpg']);
    expect(list.files.map((f) => f.label)).toEqual(['a', '']);
  });

  it('leaves names without backslashes, and paths that do not end in the name, as given', () => {
    expect(summary([pickedFromDisk('photos/cats/plain.jpg')])).toEqual([['cats/plain.jpg', 'cats']]);
    const odd = new File(['x'], 'x\\y.jpg');
    Object.defineProperty(odd, 'webkitRelativePath', { value: 'photos/other.jpg' });
    expect(summary([odd])).toEqual([['other.jpg', '']]);
  });
});
