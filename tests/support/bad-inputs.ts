/**
 * The bad-input dataset of the reliability suite (docs/RELIABILITY.md): every awkward file a real
 * folder can hold, generated on the spot into a temp folder, each with what the app must do with it.
 *
 * Pixels come from the distinct photos of ../shared/data/neardup (no two of their originals are
 * within 14 pHash bits of each other), so files that must not group never do. Image formats are
 * written by Debian's Python Pillow (/usr/bin/python3); HEIC and AVIF by the system's libheif
 * (x265 / libaom encoders) through ctypes, since Pillow 9.4 writes neither. Bytes that are not
 * images are written here directly. Nothing is random: two calls write the same files.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { SkipReason } from '../../src/core/types.ts';
import { NEARDUP_IMAGES } from './fixtures.ts';

const run = promisify(execFile);

/** Debian's python3, which has Pillow (python3-pil); `$WINNOW_PYTHON` to use another. */
export const PYTHON = process.env.WINNOW_PYTHON || '/usr/bin/python3';

export type Expectation =
  /** Decoded and hashed: kept or removed, with these displayed dimensions. */
  | { analysed: true; width: number; height: number }
  /** Skipped with this reason; `detail` must match the rest of the manifest's reason. */
  | { analysed: false; reason: SkipReason; detail: RegExp };

export interface BadInput {
  /** Path below the dataset root, '/'-separated, as the manifest writes it. */
  path: string;
  /** What the case is, for the docs and failure messages. */
  what: string;
  expect: Expectation;
}

export interface BadInputSet {
  /** The dataset folder (its own name has a space). */
  root: string;
  cases: BadInput[];
  /** Cases that could not be generated on this machine, and why (e.g. no libheif): they are left out of `cases`. */
  notMade: Record<string, string>;
  /** Displayed size of the EXIF orientation picture. */
  orientationSize: { width: number; height: number };
}

/** Which neardup original supplies each case's pixels: all different photos. */
const PHOTOS: Record<string, string> = {
  orientation: 'g000',
  frame1: 'g002',
  frame2: 'g004',
  cmyk: 'g006',
  progressive: 'g008',
  png16: 'g010',
  palette: 'g012',
  bmp: 'g014',
  avif: 'g016',
  jpegNamedPng: 'g018',
  tiff: 'g020',
  heic: 'g022',
  spaces: 'g024',
  unicode: 'g026',
  emoji: 'g028',
  long: 'g030',
  longUnicode: 'g040',
  upper: 'g032',
  lower: 'g034',
  truncJpeg: 'g036',
  truncPng: 'g038',
  nested: 'g042',
  truncHeader: 'g044',
  newline: 'g046',
  backslash: 'g048',
};

/** 255 bytes of UTF-8 each: the longest name ext4 (and most file systems) allow. */
export const LONG_NAME = `long-${'x'.repeat(255 - 'long-'.length - '.jpg'.length)}.jpg`;
export const LONG_UNICODE_NAME = `${'ü'.repeat(125)}.jpeg`; // 125 × 2 bytes + 5

/** Saved as JPEG under these names (all below names/). */
export const NAMES: Record<string, string> = {
  spaces: 'names/a name  with spaces .jpg',
  unicode: 'names/Ünïcödé — café 北京.jpg',
  emoji: 'names/🐶 dog 🎉 👩‍👩‍👧.jpg',
  long: `names/${LONG_NAME}`,
  longUnicode: `names/${LONG_UNICODE_NAME}`,
  upper: 'names/Case.jpg',
  lower: 'names/case.jpg',
  nested: 'names/sub folder ☕/inner.jpg',
  /** Legal on Linux and macOS: a line break and a backslash inside a name. */
  newline: 'names/line\nbreak.jpg',
  backslash: 'names/back\\slash.jpg',
};

/**
 * Where a kept file lands in the zip when that is not its own path: the zip writer
 * (ZipPathAllocator, tests/unit/core/zip-paths.test.ts) gives the second of two names that differ
 * only in case a " (2)" (they would overwrite each other on Windows and macOS), turns control
 * characters into '_' and a backslash into a folder separator (what Windows extractors do anyway).
 */
export const ZIP_ENTRY: Record<string, string> = {
  [NAMES.lower]: 'names/case (2).jpg',
  [NAMES.newline]: 'names/line_break.jpg',
  [NAMES.backslash]: 'names/back/slash.jpg',
};

/** An SVG that would fetch off the origin if anything rendered it; the test's network guard sees that. */
const SVG = `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="640" height="480">
  <rect width="640" height="480" fill="#c33"/>
  <image href="https://svg-was-rendered.example/pixel.png" xlink:href="https://svg-was-rendered.example/pixel.png" width="10" height="10"/>
  <script>fetch('https://svg-was-rendered.example/script')</script>
</svg>
`;

/**
 * The Python half: every file Pillow or libheif writes. Arguments as one JSON object on argv[1];
 * prints {made, notes} as JSON. Exits non-zero if a file does not come out as meant.
 */
const GENERATOR = String.raw`
import ctypes, io, json, os, struct, sys, zlib
from PIL import Image, ImageOps

args = json.loads(sys.argv[1])
root = args['root']
photos = args['photos']
made = {}
notes = {}

def out(rel):
    p = os.path.join(root, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p

def photo(role, mode='RGB'):
    return Image.open(photos[role]).convert(mode)

def png_chunk(kind, data):
    body = kind + data
    return struct.pack('>I', len(data)) + body + struct.pack('>I', zlib.crc32(body) & 0xffffffff)

def write_png(rel, width, height, depth, colour, scanlines):
    # scanlines: an iterable of filtered scanline bytes, deflated as a stream (the bomb never sits in memory whole)
    z = zlib.compressobj(9)
    data = b''.join(z.compress(part) for part in scanlines) + z.flush()
    ihdr = struct.pack('>IIBBBBB', width, height, depth, colour, 0, 0, 0)
    with open(out(rel), 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + png_chunk(b'IHDR', ihdr) + png_chunk(b'IDAT', data) + png_chunk(b'IEND', b''))

# EXIF orientation 1-8: one displayed picture, stored turned so that each file's tag turns it back.
# ImageOps.exif_transpose applies these methods to stored pixels; storing their inverses makes every
# file display as 'upright'. Whole 16-pixel blocks, so every turn of the picture quantises alike.
upright = photo('orientation')
w, h = upright.size
upright = upright.crop((0, 0, w - w % 16, h - h % 16))
T = Image.Transpose
inverse = {1: None, 2: T.FLIP_LEFT_RIGHT, 3: T.ROTATE_180, 4: T.FLIP_TOP_BOTTOM,
           5: T.TRANSPOSE, 6: T.ROTATE_90, 7: T.TRANSVERSE, 8: T.ROTATE_270}
for o, method in inverse.items():
    stored = upright if method is None else upright.transpose(method)
    exif = Image.Exif()
    exif[0x0112] = o
    rel = 'orientation/exif-%d.jpg' % o
    stored.save(out(rel), 'JPEG', quality=95, subsampling=0, exif=exif.tobytes())
    shown = ImageOps.exif_transpose(Image.open(out(rel))).convert('L')
    worst = max(abs(a - b) for a, b in zip(shown.getdata(), upright.convert('L').getdata()))
    if shown.size != upright.size or worst > 16:
        raise SystemExit('orientation %d does not display upright (size %r, worst pixel %d)' % (o, shown.size, worst))
made['orientation'] = list(upright.size)

# Formats the browser decodes.
photo('progressive').save(out('formats/progressive.jpg'), 'JPEG', quality=90, progressive=True)
if not Image.open(out('formats/progressive.jpg')).info.get('progressive'):
    raise SystemExit('progressive.jpg is not progressive')
p = photo('cmyk')
p.save(out('formats/cmyk-reference.png'))
p.convert('CMYK').save(out('formats/cmyk.jpg'), 'JPEG', quality=92)  # Adobe APP14, inverted CMYK as Photoshop writes
if Image.open(out('formats/cmyk.jpg')).mode != 'CMYK':
    raise SystemExit('cmyk.jpg is not CMYK')
photo('bmp').save(out('formats/bitmap.bmp'))
photo('jpegNamedPng').save(out('formats/really a jpeg.png'), 'JPEG', quality=90)
Image.new('RGB', (1, 1), (200, 30, 60)).save(out('formats/one-pixel.png'))

# 16-bit RGB PNG, by hand (Pillow writes 16 bits only for grey): each 8-bit value v becomes v * 257.
p = photo('png16'); w, h = p.size; raw = p.tobytes()
write_png('formats/sixteen-bit.png', w, h, 16, 2,
          (b'\x00' + bytes(b for v in raw[y * w * 3:(y + 1) * w * 3] for b in (v, v)) for y in range(h)))

# Palette PNG with a tRNS chunk: index 0 transparent, the next 15 half transparent, the rest opaque.
photo('palette').quantize(256).save(out('formats/palette-alpha.png'), transparency=bytes([0] + [128] * 15 + [255] * 240))
if 'transparency' not in Image.open(out('formats/palette-alpha.png')).info:
    raise SystemExit('palette-alpha.png has no tRNS')

# Animations: frame 1 one photo, frame 2 another; the first frame is what counts.
f1 = photo('frame1'); f2 = photo('frame2').resize(f1.size)
f1.save(out('animated/frame1-still.png')); f2.save(out('animated/frame2-still.png'))
f1.save(out('animated/animated.gif'), save_all=True, append_images=[f2], duration=300, loop=0)
f1.save(out('animated/animated.webp'), save_all=True, append_images=[f2], duration=300, loop=0, quality=90)
f1.save(out('animated/animated-apng.png'), save_all=True, append_images=[f2], duration=300, loop=0)
for rel in ['animated/animated.gif', 'animated/animated.webp', 'animated/animated-apng.png']:
    if getattr(Image.open(out(rel)), 'n_frames', 1) != 2:
        raise SystemExit(rel + ' is not animated')

# TIFF, which Chromium does not decode.
photo('tiff').save(out('unsupported/scan.tiff'), compression='tiff_lzw')

def heif_encode(rel, compression, im):
    """HEIC (compression 1, x265) or AVIF (4, libaom) through the system libheif; a reason string when it cannot."""
    try:
        lib = ctypes.CDLL('libheif.so.1')
    except OSError as e:
        return 'libheif.so.1 is not installed (%s)' % e
    class Err(ctypes.Structure):
        _fields_ = [('code', ctypes.c_int), ('subcode', ctypes.c_int), ('message', ctypes.c_char_p)]
    for name in ['heif_context_get_encoder_for_format', 'heif_image_create', 'heif_image_add_plane',
                 'heif_context_encode_image', 'heif_context_write_to_file', 'heif_encoder_set_lossy_quality']:
        getattr(lib, name).restype = Err
    lib.heif_context_alloc.restype = ctypes.c_void_p
    lib.heif_image_get_plane.restype = ctypes.c_void_p
    if not lib.heif_have_encoder_for_format(compression):
        return 'this libheif has no encoder for compression format %d' % compression
    def ok(e):
        if e.code != 0:
            raise RuntimeError(e.message.decode())
    try:
        ctx = ctypes.c_void_p(lib.heif_context_alloc())
        enc = ctypes.c_void_p(); img = ctypes.c_void_p(); handle = ctypes.c_void_p(); stride = ctypes.c_int()
        ok(lib.heif_context_get_encoder_for_format(ctx, compression, ctypes.byref(enc)))
        ok(lib.heif_encoder_set_lossy_quality(enc, 85))
        w, h = im.size
        ok(lib.heif_image_create(w, h, 1, 10, ctypes.byref(img)))  # heif_colorspace_RGB, heif_chroma_interleaved_RGB
        ok(lib.heif_image_add_plane(img, 10, w, h, 8))  # heif_channel_interleaved, 8 bits
        plane = lib.heif_image_get_plane(img, 10, ctypes.byref(stride))
        raw = im.tobytes()
        for y in range(h):
            ctypes.memmove(plane + y * stride.value, raw[y * w * 3:(y + 1) * w * 3], w * 3)
        ok(lib.heif_context_encode_image(ctx, img, enc, None, ctypes.byref(handle)))
        ok(lib.heif_context_write_to_file(ctx, out(rel).encode()))
    except Exception as e:
        return 'libheif failed: %s' % e
    return None

why = heif_encode('unsupported/phone.heic', 1, photo('heic'))
if why:
    # Still a HEIC to a sniffer and to the browser: an ftyp box of brand heic and an empty meta box.
    notes['heic-encoded'] = why + '; wrote a HEIC container (ftyp heic + meta) without image data instead'
    with open(out('unsupported/phone.heic'), 'wb') as f:
        f.write(struct.pack('>I', 24) + b'ftypheic' + b'\0\0\0\0' + b'mif1heic' + struct.pack('>I', 12) + b'meta' + b'\0\0\0\0')
why = heif_encode('formats/picture.avif', 4, photo('avif'))
if why:
    notes['avif'] = why

# Decompression bomb: a 30,000 x 30,000 one-bit grey PNG, all black: about 110 KB, 900 megapixels.
side = 30000
row = b'\x00' * (1 + side // 8)
write_png('damaged/bomb-30000x30000.png', side, side, 1, 0, (row * 1000 for _ in range(side // 1000)))
# Under the pixel limit but wider than any canvas: 40,000 x 8 (0.3 megapixels).
write_png('damaged/wide-40000x8.png', 40000, 8, 1, 0, (b'\x00' * (1 + 40000 // 8) for _ in range(8)))

# A JPEG and a PNG cut in the middle of their image data, and a JPEG cut inside its header.
buf = io.BytesIO(); photo('truncJpeg').save(buf, 'JPEG', quality=90); b = buf.getvalue()
open(out('damaged/truncated-half.jpg'), 'wb').write(b[:len(b) // 2])
buf = io.BytesIO(); photo('truncPng').save(buf, 'PNG'); b = buf.getvalue()
open(out('damaged/truncated-half.png'), 'wb').write(b[:len(b) // 2])
buf = io.BytesIO(); photo('truncHeader').save(buf, 'JPEG', quality=90); b = buf.getvalue()
open(out('damaged/truncated-header.jpg'), 'wb').write(b[:120])  # SOI, APP0, part of the first DQT

for role, rel in args['names'].items():
    photo(role).save(out(rel), 'JPEG', quality=90)

print(json.dumps({'made': made, 'notes': notes}))
`;

/** Writes the dataset into `parent/bad inputs/` and returns its cases. */
export async function writeBadInputs(parent: string): Promise<BadInputSet> {
  const root = path.join(parent, 'bad inputs');
  await mkdir(root, { recursive: true });
  const photos = Object.fromEntries(Object.entries(PHOTOS).map(([role, g]) => [role, path.join(NEARDUP_IMAGES, `${g}_orig.jpg`)]));
  let stdout: string;
  try {
    ({ stdout } = await run(PYTHON, ['-c', GENERATOR, JSON.stringify({ root, photos, names: NAMES })], { maxBuffer: 1 << 24 }));
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`writeBadInputs: ${PYTHON} with Pillow could not write the dataset: ${e.stderr || e.message}`);
  }
  const { made, notes } = JSON.parse(stdout) as { made: { orientation: [number, number] }; notes: Record<string, string> };
  const [ow, oh] = made.orientation;

  // Bytes that are not images, written directly.
  const put = async (rel: string, data: string | Uint8Array) => {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), data);
  };
  await put('damaged/empty.jpg', new Uint8Array(0));
  await put('misnamed/notes.jpg', 'Shopping list: milk, eggs.\nThis is a text file with an image extension.\n');
  await put('unsupported/drawing.svg', SVG);
  await put('misnamed/drawing named png.png', SVG);

  const size = async (g: string) => {
    // Pillow keeps the source size for every format written from a photo; read it from the JPEG's SOF.
    const jpeg = await readFile(path.join(NEARDUP_IMAGES, `${g}_orig.jpg`));
    for (let i = 2; i + 9 < jpeg.length; ) {
      const marker = jpeg[i + 1];
      const length = jpeg.readUInt16BE(i + 2);
      if (marker >= 0xc0 && marker <= 0xc3) return { width: jpeg.readUInt16BE(i + 7), height: jpeg.readUInt16BE(i + 5) };
      i += 2 + length;
    }
    throw new Error(`no frame header in ${g}_orig.jpg`);
  };
  const analysed = async (role: string) => ({ analysed: true as const, ...(await size(PHOTOS[role])) });
  const skipped = (reason: SkipReason, detail: RegExp): Expectation => ({ analysed: false, reason, detail });

  const cases: BadInput[] = [];
  const add = (p: string, what: string, expect: Expectation) => cases.push({ path: p, what, expect });

  for (let o = 1; o <= 8; o++) {
    add(`orientation/exif-${o}.jpg`, `EXIF orientation ${o}`, { analysed: true, width: ow, height: oh });
  }
  add('formats/progressive.jpg', 'progressive JPEG', await analysed('progressive'));
  add('formats/cmyk.jpg', 'CMYK JPEG (Adobe, inverted)', await analysed('cmyk'));
  add('formats/cmyk-reference.png', 'RGB original of the CMYK JPEG', await analysed('cmyk'));
  add('formats/bitmap.bmp', 'BMP', await analysed('bmp'));
  add('formats/really a jpeg.png', 'JPEG named .png', await analysed('jpegNamedPng'));
  add('formats/one-pixel.png', '1×1 pixel', { analysed: true, width: 1, height: 1 });
  add('formats/sixteen-bit.png', '16-bit RGB PNG', await analysed('png16'));
  add('formats/palette-alpha.png', 'palette PNG with alpha (tRNS)', await analysed('palette'));
  if (notes.avif === undefined) add('formats/picture.avif', 'AVIF', await analysed('avif'));
  const frame = await size(PHOTOS.frame1);
  add('animated/animated.gif', 'animated GIF (2 frames)', { analysed: true, ...frame });
  add('animated/animated.webp', 'animated WebP (2 frames)', { analysed: true, ...frame });
  add('animated/animated-apng.png', 'APNG (2 frames)', { analysed: true, ...frame });
  add('animated/frame1-still.png', 'still of the first frame', { analysed: true, ...frame });
  add('animated/frame2-still.png', 'still of the second frame', { analysed: true, ...frame });
  for (const [role, rel] of Object.entries(NAMES)) add(rel, `file name: ${role}`, await analysed(role));

  add('damaged/empty.jpg', 'zero bytes', skipped('empty-file', /\(The file is empty \(0 bytes\)\.\)$/));
  add('misnamed/notes.jpg', 'text file named .jpg', skipped('not-an-image', /this looks like a text file/));
  add('damaged/truncated-header.jpg', 'JPEG cut inside its header', skipped('corrupt-image', /JPEG file is cut short: it ends after 120 bytes/));
  add('damaged/truncated-half.jpg', 'JPEG cut in the middle of its scan', skipped('corrupt-image', /This JPEG file is cut short: it ends after [\d,]+ bytes, in the middle of its compressed image data \(there is no end-of-image marker\)\.\)$/));
  add('damaged/truncated-half.png', 'PNG cut in the middle of its image data', skipped('corrupt-image', /This PNG file is cut short: it ends after [\d,]+ bytes, inside its image data \(IDAT chunk\), which needs [\d,]+ more bytes\.\)$/));
  add('damaged/bomb-30000x30000.png', 'decompression bomb: 30,000 × 30,000 PNG of ~110 KB', skipped('too-large', /30,000 × 30,000 pixels \(900 megapixels\), over the limit of 100 megapixels; it was not decoded/));
  add('damaged/wide-40000x8.png', 'wider than a canvas can be: 40,000 × 8 PNG', skipped('too-large', /40,000 × 8 pixels; browsers cannot draw an image wider or taller than 32,767 pixels, so it was not decoded/));
  add('unsupported/scan.tiff', 'TIFF', skipped('unsupported-format', /TIFF is not decodable in this browser/));
  add('unsupported/phone.heic', 'HEIC', skipped('unsupported-format', /HEIC .* is not decodable in this browser/));
  add('unsupported/drawing.svg', 'SVG (would fetch off-origin if rendered)', skipped('unsupported-format', /SVG is never rendered/));
  add('misnamed/drawing named png.png', 'SVG named .png', skipped('unsupported-format', /SVG is never rendered/));

  return { root, cases, notMade: notes, orientationSize: { width: ow, height: oh } };
}
