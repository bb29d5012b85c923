import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { comparePaths, isIgnored, labelOf, pathSegments, splitRoot } from '../../../src/core/intake-paths.ts';

/** A name of exactly 255 UTF-8 bytes (the usual file-system limit), mostly 3-byte characters. */
const longName = 'ab' + '猫'.repeat(83) + '.jpg';
const segment = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 20 })
  .filter((s) => !s.includes('/') && s !== '.' && s !== '..');

describe('isIgnored', () => {
  it.each([
    '.DS_Store',
    'cats/.DS_Store',
    '._IMG_0001.jpg', // AppleDouble
    'cats/._IMG_0001.jpg',
    '__MACOSX/cats/IMG_0001.jpg',
    'cats/__MACOSX/._a.jpg',
    'Thumbs.db',
    'cats/thumbs.db',
    'dogs/THUMBS.DB',
    'desktop.ini',
    'dogs/Desktop.ini',
    'ehthumbs.db',
    '.git/objects/ab/cdef',
    'cats/.thumbnails/a.png',
    '.hidden-folder/visible.jpg',
    '$RECYCLE.BIN/a.jpg',
    'System Volume Information/x.jpg',
    'a/b/c/.d/e.jpg',
  ])('ignores %s', (path) => {
    expect(isIgnored(path)).toBe(true);
  });

  it.each([
    'a.jpg',
    'cats/a.jpg',
    'cats/kittens/a b c.jpg',
    'ca.ts/a.jpg', // a dot inside a name is not hidden
    'cats/a..jpg',
    'MACOSX/a.jpg',
    '_MACOSX_/a.jpg',
    'Thumbs.db.jpg',
    'Thumbs/db.jpg',
    'desktop/a.jpg',
    'ünïcödé/Ω.png',
    '🐱/😺.webp',
    `${longName}/${longName}`,
  ])('keeps %s', (path) => {
    expect(isIgnored(path)).toBe(false);
  });

  it('ignores a thumbnail cache only as a file name, and __MACOSX as a folder anywhere', () => {
    expect(isIgnored('Thumbs.db/a.jpg')).toBe(false);
    expect(isIgnored('a/b/__MACOSX')).toBe(true);
  });
});

describe('splitRoot', () => {
  it.each([
    ['photos/a.jpg', 'a.jpg'],
    ['photos/cats/a.jpg', 'cats/a.jpg'],
    ['photos/cats/kittens/a.jpg', 'cats/kittens/a.jpg'],
    ['a.jpg', 'a.jpg'], // no folder: the name is the path
    ['/photos/cats/a.jpg', 'cats/a.jpg'], // FileSystemEntry.fullPath starts with '/'
    ['photos//cats/./a.jpg', 'cats/a.jpg'],
    ['My Photos 2024/Summer trip/IMG 0001 (1).JPG', 'Summer trip/IMG 0001 (1).JPG'],
    ['Ångström/日本語/写真.jpg', '日本語/写真.jpg'],
    ['🐶 dogs/🐕/🦴.png', '🐕/🦴.png'],
  ])('%s → %s', (input, expected) => {
    expect(splitRoot(input)).toBe(expected);
  });

  it('keeps a 255-byte name whole', () => {
    expect(new TextEncoder().encode(longName).length).toBe(255);
    expect(splitRoot(`root/${longName}/${longName}`)).toBe(`${longName}/${longName}`);
  });

  it('strips exactly the root: any root name, any path below it', () => {
    fc.assert(
      fc.property(segment, fc.array(segment, { minLength: 1, maxLength: 6 }), (root, below) => {
        expect(splitRoot([root, ...below].join('/'))).toBe(below.join('/'));
      }),
    );
  });
});

describe('labelOf', () => {
  it.each([
    ['a.jpg', ''], // a flat folder is one class
    ['cats/a.jpg', 'cats'],
    ['cats/kittens/a.jpg', 'cats'], // deeper levels belong to the first folder
    ['  spaced  out /a.jpg', '  spaced  out '],
    ['Ünïcödé/a.jpg', 'Ünïcödé'],
    ['🐱 cats/a.jpg', '🐱 cats'],
    ['e\u0301/a.jpg', 'e\u0301'], // decomposed é (macOS) stays as it is
  ])('%s → %j', (path, label) => {
    expect(labelOf(path)).toBe(label);
  });

  it('a 255-byte folder name is a label', () => {
    expect(labelOf(`${longName}/x.jpg`)).toBe(longName);
  });

  it('is the first segment of any path with a folder, and the root class otherwise', () => {
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 6 }), (segments) => {
        expect(labelOf(segments.join('/'))).toBe(segments.length > 1 ? segments[0] : '');
        expect(pathSegments(segments.join('/'))).toEqual(segments);
      }),
    );
  });
});

describe('comparePaths', () => {
  it('orders by code units, the same in every locale', () => {
    const paths = ['b/a.jpg', 'B/a.jpg', 'a/b.jpg', 'a/B.jpg', 'ä/a.jpg', 'z.jpg', '🐱/a.jpg', 'a/a b.jpg', 'a/a.jpg'];
    expect([...paths].sort(comparePaths)).toEqual(['B/a.jpg', 'a/B.jpg', 'a/a b.jpg', 'a/a.jpg', 'a/b.jpg', 'b/a.jpg', 'z.jpg', 'ä/a.jpg', '🐱/a.jpg']);
  });

  it('is a total order', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        expect(Math.sign(comparePaths(a, b)) + Math.sign(comparePaths(b, a))).toBe(0);
        expect(comparePaths(a, b) === 0).toBe(a === b);
      }),
    );
  });
});
