/**
 * Temp dataset folders for the browser tests, made from the real images in ../shared/data (never copied
 * into the repo). Each helper returns what it wrote so a test can state its expectations.
 */
import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sharedData } from './paths.ts';

const run = promisify(execFile);

export const NEARDUP_IMAGES = path.join(sharedData, 'neardup/images');
export const NEARDUP_TRUTH = path.join(sharedData, 'neardup/ground_truth.csv');
export const CIFAR_TAR = path.join(sharedData, 'cifar10.tar.gz');

const made: string[] = [];

/** A fresh empty folder under the OS temp dir; removeTempDirs() deletes all of them. */
export async function tempDir(prefix = 'winnow-e2e-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/**
 * Copies neardup images flat into dest (created if needed); filter picks by file name
 * (e.g. `g000_orig.jpg`): a list of names, a RegExp or a predicate. Returns the names copied, sorted.
 */
export async function copyNeardup(
  dest: string,
  filter?: readonly string[] | RegExp | ((name: string) => boolean),
): Promise<string[]> {
  const all = (await readdir(NEARDUP_IMAGES)).sort();
  let names: string[];
  if (!filter) names = all;
  else if (filter instanceof RegExp) names = all.filter((n) => filter.test(n));
  else if (typeof filter === 'function') names = all.filter(filter);
  else {
    const missing = filter.filter((n) => !all.includes(n));
    if (missing.length > 0) throw new Error(`copyNeardup: not in neardup/images: ${missing.join(', ')}`);
    names = [...filter].sort();
  }
  await mkdir(dest, { recursive: true });
  // The shared originals are read-only and copyFile keeps the mode; make the copies ordinary files.
  await Promise.all(
    names.map(async (n) => {
      await copyFile(path.join(NEARDUP_IMAGES, n), path.join(dest, n));
      await chmod(path.join(dest, n), 0o644);
    }),
  );
  return names;
}

export interface NeardupRow {
  /** File name inside images/, e.g. `g000_orig.jpg`. */
  name: string;
  /** Files with the same groupId duplicate each other; a distractor is a group of one. */
  groupId: number;
  transform: string;
  bytes: number;
  sha256: string;
}

/** neardup/ground_truth.csv, parsed (its fields hold no commas or quotes). */
export async function neardupTruth(): Promise<NeardupRow[]> {
  const [header, ...lines] = (await readFile(NEARDUP_TRUTH, 'utf8')).trim().split(/\r?\n/);
  const cols = header.split(',').map((c) => c.trim());
  const at = (cells: string[], col: string) => cells[cols.indexOf(col)];
  return lines.map((line) => {
    const cells = line.split(',').map((c) => c.trim());
    return {
      name: path.basename(at(cells, 'file')),
      groupId: Number(at(cells, 'group_id')),
      transform: at(cells, 'transform'),
      bytes: Number(at(cells, 'bytes')),
      sha256: at(cells, 'sha256'),
    };
  });
}

/**
 * Extracts CIFAR-10 members into dest, keeping the ImageFolder layout: folders (`train/cat`) or single
 * files (`test/dog/0007.jpg`), as named in the archive (no leading `./`).
 */
export async function extractCifar(dest: string, members: readonly string[]): Promise<void> {
  if (members.length === 0) throw new Error('extractCifar: name at least one member');
  await mkdir(dest, { recursive: true });
  await run('tar', ['-xzf', CIFAR_TAR, '-C', dest, '--', ...members], { maxBuffer: 1 << 24 });
}

/**
 * A fresh folder of CIFAR-10 training classes, the first `perClass` files of each (by name):
 * returns the folder that holds the class folders.
 */
export async function cifarTrainClasses(classes: readonly string[], perClass: number): Promise<string> {
  const root = path.join(await tempDir(), `cifar-${classes.length}x${perClass}`);
  await extractCifar(root, classes.map((c) => `train/${c}`));
  for (const c of classes) {
    const dir = path.join(root, 'train', c);
    const names = (await readdir(dir)).sort();
    await Promise.all(names.slice(perClass).map((n) => rm(path.join(dir, n))));
  }
  return path.join(root, 'train');
}

/** Files that are not images though they are named like one. Returns their names. */
export async function writeBadFiles(dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const jpeg = await readFile(path.join(NEARDUP_IMAGES, 'g000_orig.jpg'));
  const files: Record<string, Uint8Array | string> = {
    'empty.jpg': new Uint8Array(0),
    'notes.jpg': 'This is a text file with an image extension.\n',
    'truncated.jpg': jpeg.subarray(0, 600), // a JPEG header and the start of the scan, then nothing
  };
  await Promise.all(Object.entries(files).map(([name, data]) => writeFile(path.join(dir, name), data)));
  return Object.keys(files).sort();
}
