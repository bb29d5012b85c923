import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ZipPathAllocator, safeZipPath } from '../../../src/core/zip-paths.ts';

/** Strings rich in the characters that matter: separators, dots, drives, controls, Unicode. */
const nastyPath = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc
    .tuple(
      fc.array(
        fc.constantFrom('..', '.', '', ' ', '. .', '...', 'C:', 'c:', '\\', '/', '\u0000', '\n', '\u007f', '\u0085', 'a', 'B', 'é', '🐶', '\ud800', '\udc00', ' x ', 'x.jpg'),
        { maxLength: 12 },
      ),
      fc.constantFrom('/', '\\', ''),
    )
    .map(([parts, sep]) => parts.join(sep)),
  fc.array(fc.constantFrom('..', '.', 'a', 'C:', '\\', '/', '. ', ' ..'), { maxLength: 10 }).map((p) => p.join('/')),
);

describe('safeZipPath', () => {
  it('never yields "..", absolute paths, drive prefixes, control characters or empty names', () => {
    fc.assert(
      fc.property(nastyPath, (p) => {
        const s = safeZipPath(p);
        if (s === null) return;
        expect(s.length).toBeGreaterThan(0);
        expect(s.startsWith('/')).toBe(false);
        expect(s).not.toMatch(/^[A-Za-z]:/);
        expect(s).not.toContain('\\');
        // eslint-disable-next-line no-control-regex
        expect(s).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
        for (const seg of s.split('/')) {
          expect(seg).not.toBe('');
          expect(seg).not.toBe('.');
          expect(seg).not.toBe('..');
          expect(seg).not.toMatch(/^[. ]*$/); // Windows trims trailing dots/spaces: ". ." would become ".."
        }
        // Well-formed UTF-16, so it encodes to UTF-8 losslessly.
        expect(s).toBe(Buffer.from(s, 'utf8').toString('utf8'));
      }),
      { numRuns: 2000 },
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(nastyPath, (p) => {
        const s = safeZipPath(p);
        if (s !== null) expect(safeZipPath(s)).toBe(s);
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps ordinary relative paths exactly', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 10 }).filter((s) => !/[\\/\p{Cc}]/u.test(s) && !/^[. ]*$/.test(s) && !/^[A-Za-z]:/.test(s)), { minLength: 1, maxLength: 4 }),
        (segs) => {
          const p = segs.join('/');
          expect(safeZipPath(p)).toBe(p);
        },
      ),
    );
  });

  it('handles the classic cases', () => {
    expect(safeZipPath('../evil.jpg')).toBe('evil.jpg');
    expect(safeZipPath('a/../../b.jpg')).toBe('a/b.jpg');
    expect(safeZipPath('/etc/passwd')).toBe('etc/passwd');
    expect(safeZipPath('C:\\Windows\\x.jpg')).toBe('Windows/x.jpg');
    expect(safeZipPath('C:/D:x.jpg')).toBe('x.jpg');
    expect(safeZipPath('..\\..\\x.jpg')).toBe('x.jpg');
    expect(safeZipPath('./cats/./a.jpg')).toBe('cats/a.jpg');
    expect(safeZipPath('//server/share/a.jpg')).toBe('server/share/a.jpg');
    expect(safeZipPath('a/. ./b')).toBe('a/b');
    expect(safeZipPath('nul\u0000byte\n.jpg')).toBe('nul_byte_.jpg');
    expect(safeZipPath('my cats/😺 fluffy (1).jpg')).toBe('my cats/😺 fluffy (1).jpg');
    expect(safeZipPath('lone\ud800.jpg')).toBe('lone\ufffd.jpg');
    expect(safeZipPath('a:b/c.jpg')).toBe('b/c.jpg');
    expect(safeZipPath('x/a:b.jpg')).toBe('x/a:b.jpg');
    expect(safeZipPath('..')).toBeNull();
    expect(safeZipPath('')).toBeNull();
    expect(safeZipPath('/./../')).toBeNull();
  });
});

describe('ZipPathAllocator', () => {
  it('makes names unique case-insensitively and after sanitising', () => {
    const z = new ZipPathAllocator(['manifest.json']);
    expect(z.allocate('cats/a.jpg')).toBe('cats/a.jpg');
    expect(z.allocate('cats/A.JPG')).toBe('cats/A (2).JPG');
    expect(z.allocate('./cats//a.jpg')).toBe('cats/a (3).jpg');
    expect(z.allocate('manifest.json')).toBe('manifest (2).json');
    expect(z.allocate('Cats/b.jpg')).toBe('Cats (2)/b.jpg'); // another class folder, kept apart
    expect(z.allocate('Cats/c.jpg')).toBe('Cats (2)/c.jpg'); // same folder as the previous one
    expect(z.allocate('cats/b.jpg')).toBe('cats/b.jpg');
    expect(z.allocate('.hidden')).toBe('.hidden');
    expect(z.allocate('.HIDDEN')).toBe('.HIDDEN (2)');
    expect(z.allocate('x')).toBe('x');
    expect(z.allocate('x/y.jpg')).toBe('x (2)/y.jpg'); // a folder cannot share a file's name
    expect(z.allocate('v1.2/z.jpg')).toBe('v1.2/z.jpg');
    expect(z.allocate('v1.2')).toBe('v1 (2).2');
    expect(z.allocate('caf\u00e9.jpg')).toBe('caf\u00e9.jpg');
    expect(z.allocate('cafe\u0301.jpg')).toBe('cafe\u0301 (2).jpg'); // same name after NFC
    expect(z.allocate('../..')).toBeNull();
  });

  it('never hands out two names that collide, and every name is safe', () => {
    fc.assert(
      fc.property(fc.array(nastyPath, { maxLength: 30 }), (paths) => {
        const z = new ZipPathAllocator(['manifest.json', 'kept.txt']);
        const files = new Set<string>(['manifest.json', 'kept.txt']);
        const folders = new Set<string>();
        for (const p of paths) {
          const name = z.allocate(p);
          if (name === null) {
            expect(safeZipPath(p)).toBeNull();
            continue;
          }
          expect(safeZipPath(name)).toBe(name);
          const key = name.normalize('NFC').toLowerCase();
          expect(files.has(key)).toBe(false);
          expect(folders.has(key)).toBe(false);
          files.add(key);
          const segs = key.split('/');
          for (let i = 1; i < segs.length; i++) {
            const folder = segs.slice(0, i).join('/');
            expect(files.has(folder)).toBe(false);
            folders.add(folder);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
