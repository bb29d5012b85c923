/**
 * Camera-sized JPEGs for tests and benchmarks: near-duplicate benchmark originals enlarged (Pillow,
 * Lanczos) to a given long side, optionally stored turned with an EXIF orientation that turns them
 * back, as phones write portrait photos. Written by Debian's Python Pillow, like the bad-input set.
 */
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { promisify } from 'node:util';
import { PYTHON } from './bad-inputs.ts';
import { NEARDUP_IMAGES } from './fixtures.ts';

const run = promisify(execFile);

export interface LargePhoto {
  /** File name to write in the folder. */
  name: string;
  /** Benchmark group whose original is enlarged, e.g. 'g000'. */
  group: string;
  /** Long side of the displayed picture, in pixels (the short side keeps the aspect ratio). */
  long: number;
  /** EXIF orientation to store (1: none); the pixels are stored turned so that it displays upright. */
  orientation?: number;
}

const WRITER = String.raw`
import json, sys
from PIL import Image
spec = json.loads(sys.argv[1])
T = Image.Transpose
inverse = {1: None, 2: T.FLIP_LEFT_RIGHT, 3: T.ROTATE_180, 4: T.FLIP_TOP_BOTTOM,
           5: T.TRANSPOSE, 6: T.ROTATE_90, 7: T.TRANSVERSE, 8: T.ROTATE_270}
sizes = {}
for p in spec['photos']:
    im = Image.open('%s/%s_orig.jpg' % (spec['source'], p['group'])).convert('RGB')
    w, h = im.size
    scale = p['long'] / max(w, h)
    shown = im.resize((round(w * scale), round(h * scale)), Image.LANCZOS)
    o = p.get('orientation', 1)
    stored = shown if inverse[o] is None else shown.transpose(inverse[o])
    kw = {}
    if o != 1:
        exif = Image.Exif()
        exif[0x0112] = o
        kw['exif'] = exif.tobytes()
    stored.save('%s/%s' % (spec['dir'], p['name']), 'JPEG', quality=90, **kw)
    sizes[p['name']] = list(shown.size)
print(json.dumps(sizes))
`;

/** Writes the photos into `dir`; returns each file's displayed size. */
export async function writeLargePhotos(dir: string, photos: readonly LargePhoto[]): Promise<Record<string, [number, number]>> {
  await mkdir(dir, { recursive: true });
  const { stdout } = await run(PYTHON, ['-c', WRITER, JSON.stringify({ dir, source: NEARDUP_IMAGES, photos })], { maxBuffer: 1 << 24 });
  return JSON.parse(stdout) as Record<string, [number, number]>;
}
