/**
 * Node-side plumbing for the embedding measurements (bench/neardup-embeddings.run.ts,
 * bench/embedding-quality.run.ts): decode the shared images, embed them with a shipped model on the
 * tfjs wasm backend, cache the vectors, compute the app's hashes, and the small amount of linear
 * algebra the analyses need.
 *
 * Decoding: JPEG with the test decoder that reproduces libjpeg-turbo (tests/unit/hash/libjpeg-decode.ts;
 * libjpeg-turbo is also what Chromium decodes with), jpeg-js where that one cannot (progressive
 * files); PNG with pngjs; WebP has no decoder in node_modules, so WebP files are decoded by the
 * system Chromium with `createImageBitmap` — the call the app's hash worker makes. Resizing to the model input is
 * `resizeRgba` (pixels.ts), the app's fallback resize: area-weighted when shrinking, bilinear when
 * enlarging (CIFAR's 32 px → 224).
 *
 * Cache: vectors are stored under `$WINNOW_BENCH_CACHE` (default `<os tmp>/winnow-bench-cache`),
 * keyed by the model's weight digests, the input size, and the names and sizes of the files, so a
 * second run of the analysis skips the ~1 minute per 1,000 images of embedding. Set
 * `WINNOW_BENCH_CACHE=off` to always recompute.
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import * as tf from '@tensorflow/tfjs';
import { chooseBackend } from '../../src/ml/backend.ts';
import { embedBatch } from '../../src/ml/embed.ts';
import { loadEmbedder, type Embedder } from '../../src/ml/load-model.ts';
import { resizeRgba, type Pixels } from '../../src/ml/pixels.ts';
import { findModel, loadRegistry, type ModelEntry } from '../../src/ml/registry.ts';
import { computeHashSets } from '../../src/core/hash/index.ts';
import { packHashes, flipDistanceAt } from '../../src/core/hamming.ts';
import { WASM_DIR, buildModels, fileFetch } from '../../tests/unit/ml/helpers.ts';
import { CHROMIUM_ARGS, chromiumPath } from '../../tests/support/browser.ts';
import { CIFAR_TAR } from '../../tests/support/fixtures.ts';
import { decodeJpegLibjpeg } from '../../tests/unit/hash/libjpeg-decode.ts';
import { sharedData } from '../../tests/support/paths.ts';
export { rng } from '../../tests/unit/rng.ts';

const run = promisify(execFile);

export const CIFAR_INDEX = path.join(sharedData, 'cifar10-index.csv');
export const CIFAR_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'] as const;

// ---------------------------------------------------------------------------------------------
// Decoding

/** JPEGs the libjpeg-exact decoder could not read (progressive, arithmetic…) and jpeg-js decoded. */
export const jpegFallbacks: string[] = [];

function decodeJpeg(bytes: Uint8Array, name: string): Pixels {
  try {
    return decodeJpegLibjpeg(bytes);
  } catch {
    jpegFallbacks.push(name);
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
    return { data: img.data, width: img.width, height: img.height };
  }
}

function decodePng(bytes: Uint8Array): Pixels {
  const img = PNG.sync.read(Buffer.from(bytes));
  return { data: new Uint8ClampedArray(img.data.buffer, img.data.byteOffset, img.data.byteLength), width: img.width, height: img.height };
}

/** Decodes files that jpeg-js/pngjs cannot read, in one headless Chromium, with createImageBitmap. */
async function decodeInChromium(files: readonly string[]): Promise<Pixels[]> {
  if (files.length === 0) return [];
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true });
  try {
    const page = await browser.newPage();
    const out: Pixels[] = [];
    for (const file of files) {
      const b64 = (await readFile(file)).toString('base64');
      const res = await page.evaluate(async (data: string) => {
        const bin = atob(data);
        const bytes = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
        // Same options as src/workers/hash/decode.ts.
        const bitmap = await createImageBitmap(new Blob([bytes]), { imageOrientation: 'from-image', colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
        const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
        const ctx = canvas.getContext('2d')!;
        ctx.drawImage(bitmap, 0, 0);
        const rgba = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
        let s = '';
        for (let i = 0; i < rgba.length; i += 0x8000) s += String.fromCharCode(...rgba.subarray(i, i + 0x8000));
        return { width: bitmap.width, height: bitmap.height, rgba: btoa(s) };
      }, b64);
      out.push({ data: new Uint8ClampedArray(Buffer.from(res.rgba, 'base64')), width: res.width, height: res.height });
    }
    return out;
  } finally {
    await browser.close();
  }
}

/** Decodes image files to RGBA; JPEG/PNG in Node, anything else in Chromium. Order is kept. */
export async function decodeFiles(files: readonly string[]): Promise<Pixels[]> {
  const out: Pixels[] = new Array(files.length);
  const other: number[] = [];
  for (let i = 0; i < files.length; i++) {
    const ext = path.extname(files[i]).toLowerCase();
    if (ext === '.jpg' || ext === '.jpeg') out[i] = decodeJpeg(await readFile(files[i]), files[i]);
    else if (ext === '.png') out[i] = decodePng(await readFile(files[i]));
    else other.push(i);
  }
  const decoded = await decodeInChromium(other.map((i) => files[i]));
  other.forEach((i, k) => (out[i] = decoded[k]));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Hashes

/** Packed pHash tables (plain and of the mirrored image) for the flip-invariant distance. */
export interface PhashTables {
  table: Uint32Array;
  mirrored: Uint32Array;
}

export function phashTables(images: readonly Pixels[]): PhashTables {
  const sets = images.map((p) => computeHashSets(p.data, p.width, p.height));
  return { table: packHashes(sets.map((s) => s.hashes.phash)), mirrored: packHashes(sets.map((s) => s.mirrored.phash)) };
}

export function phashDistance(t: PhashTables, i: number, j: number): number {
  return flipDistanceAt(t.table, t.mirrored, i, j);
}

// ---------------------------------------------------------------------------------------------
// Embedding with a cache

let loaded: Embedder | null = null;

/** Loads a registry model on the wasm backend (building public/models/ first if needed). */
export async function loadModel(id: string): Promise<Embedder> {
  if (loaded?.entry.id === id) return loaded;
  loaded?.dispose();
  buildModels();
  await chooseBackend('wasm', { wasmPaths: WASM_DIR });
  const entry = findModel(await loadRegistry('/models/', fileFetch()), id);
  const size = benchInputSize(entry);
  loaded = await loadEmbedder(entry, fileFetch(), { warmUp: size === entry.inputSize });
  if (size !== entry.inputSize) resizeGraphInput(loaded, size / 32);
  return loaded;
}

/**
 * Lets the converted MobileNetV2 graph take another input side: its placeholder pins 224, and its
 * final average pool is a 7 × 7 window (224 / 32), which is a global mean only at that size. An
 * experiment's patch of tfjs's parsed graph, not something the app does.
 */
function resizeGraphInput(embedder: Embedder, side: number): void {
  type Node = { op: string; attrParams: Record<string, { value: unknown } | undefined> };
  const graph = (embedder.model as unknown as { executor: { graph: { placeholders: Node[]; nodes: Record<string, Node> } } }).executor.graph;
  for (const p of graph.placeholders) if (p.attrParams.shape) p.attrParams.shape.value = [-1, -1, -1, 3];
  let pools = 0;
  for (const node of Object.values(graph.nodes)) {
    if (node.op !== 'AvgPool' || !node.attrParams.kernelSize) continue;
    node.attrParams.kernelSize.value = [1, side, side, 1];
    pools++;
  }
  if (pools !== 1) throw new Error(`resizeGraphInput: expected one AvgPool, found ${pools}`);
}

export function disposeModel(): void {
  loaded?.dispose();
  loaded = null;
}

export function cacheDir(): string | null {
  const env = process.env.WINNOW_BENCH_CACHE;
  if (env === 'off') return null;
  return env || path.join(os.tmpdir(), 'winnow-bench-cache');
}

export interface EmbedResult {
  vectors: Float32Array;
  dim: number;
  /** Milliseconds per image for the embedding alone, or null when the vectors came from the cache. */
  msPerImage: number | null;
  cached: boolean;
}

/**
 * Embeds files with a registry model: decode → resizeRgba to inputSize² → embedBatch, in batches.
 * `tag` names the preprocessing (part of the cache key).
 */
/**
 * The model's input side for these benches: the registry's, or $WINNOW_BENCH_INPUT_SIZE to measure
 * what a smaller input costs in neighbour quality and gains in speed.
 */
export function benchInputSize(entry: ModelEntry): number {
  const size = Number(process.env.WINNOW_BENCH_INPUT_SIZE);
  return Number.isInteger(size) && size >= 32 && size % 32 === 0 ? size : entry.inputSize;
}

export async function embedFiles(modelId: string, files: readonly string[], tag = 'libjpeg+resizeRgba', batch = 16): Promise<EmbedResult> {
  const registry = await loadRegistry('/models/', fileFetch()).catch(() => null);
  const found: ModelEntry | null = registry ? findModel(registry, modelId) : null;
  const entry = found && { ...found, inputSize: benchInputSize(found) };
  const sizes = await Promise.all(files.map(async (f) => (await stat(f)).size));
  const key = createHash('sha256')
    .update(JSON.stringify({ modelId, files: entry?.files.map((f) => f.sha256) ?? null, inputSize: entry?.inputSize, tag, list: files.map((f, i) => [path.basename(path.dirname(f)), path.basename(f), sizes[i]]) }))
    .digest('hex')
    .slice(0, 24);
  const dir = cacheDir();
  const cacheFile = dir ? path.join(dir, `${modelId}-${key}.f32`) : null;
  if (entry && cacheFile && existsSync(cacheFile)) {
    const buf = await readFile(cacheFile);
    const vectors = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    if (vectors.length === files.length * entry.dim) return { vectors, dim: entry.dim, msPerImage: null, cached: true };
  }
  const emb = await loadModel(modelId);
  const { dim } = emb.entry;
  const inputSize = benchInputSize(emb.entry);
  const vectors = new Float32Array(files.length * dim);
  let ms = 0;
  for (let start = 0; start < files.length; start += batch) {
    const chunk = files.slice(start, start + batch);
    const pixels = (await decodeFiles(chunk)).map((p) => resizeRgba(p, inputSize));
    const t0 = performance.now();
    const v = await embedBatch(emb.model, { ...emb.entry, inputSize }, pixels);
    ms += performance.now() - t0;
    vectors.set(v, start * dim);
  }
  if (cacheFile && dir) {
    await mkdir(dir, { recursive: true });
    await writeFile(cacheFile, new Uint8Array(vectors.buffer));
  }
  return { vectors, dim, msPerImage: ms / files.length, cached: false };
}

export function backendName(): string {
  return tf.getBackend() ?? 'none';
}

// ---------------------------------------------------------------------------------------------
// CIFAR-10 subsets

export interface CifarItem {
  /** Path inside the archive, e.g. `train/cat/0000.jpg`. */
  member: string;
  split: 'train' | 'test';
  index: number;
  label: number;
  cls: string;
}

/**
 * The first `perClass` images of each class of a split, in CIFAR index order (cifar10-index.csv),
 * classes in label order. Deterministic.
 */
export async function cifarSubset(split: 'train' | 'test', perClass: number): Promise<CifarItem[]> {
  const [header, ...lines] = (await readFile(CIFAR_INDEX, 'utf8')).trim().split(/\r?\n/);
  const cols = header.split(',');
  const at = (c: string[], name: string) => c[cols.indexOf(name)];
  const byClass = new Map<number, CifarItem[]>();
  for (const line of lines) {
    const c = line.split(',');
    if (at(c, 'split') !== split) continue;
    const file = at(c, 'file');
    const item: CifarItem = { member: file.slice(file.indexOf(`${split}/`)), split, index: Number(at(c, 'cifar_index')), label: Number(at(c, 'label')), cls: at(c, 'class') };
    const list = byClass.get(item.label) ?? [];
    list.push(item);
    byClass.set(item.label, list);
  }
  const out: CifarItem[] = [];
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    out.push(...byClass.get(label)!.sort((a, b) => a.index - b.index).slice(0, perClass));
  }
  return out;
}

/** Extracts the given archive members into dest (once; existing files are kept). Returns their paths. */
export async function extractCifarItems(dest: string, items: readonly CifarItem[]): Promise<string[]> {
  const paths = items.map((it) => path.join(dest, it.member));
  const missing = items.filter((_, i) => !existsSync(paths[i]));
  if (missing.length > 0) {
    await mkdir(dest, { recursive: true });
    const list = path.join(dest, `.members-${process.pid}.txt`);
    await writeFile(list, missing.map((m) => m.member).join('\n') + '\n');
    await run('tar', ['-xzf', CIFAR_TAR, '-C', dest, '-T', list], { maxBuffer: 1 << 24 });
  }
  return paths;
}

/** Where the benches keep extracted CIFAR files (beside the vector cache, or a fresh temp dir). */
export function cifarDir(): string {
  return path.join(cacheDir() ?? path.join(os.tmpdir(), `winnow-bench-${process.pid}`), 'cifar');
}

// ---------------------------------------------------------------------------------------------
// Linear algebra on row-major n × dim matrices

export function meanRow(x: Float32Array, n: number, dim: number): Float64Array {
  const m = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) m[d] += x[i * dim + d];
  for (let d = 0; d < dim; d++) m[d] /= n;
  return m;
}

/** Rows minus `mean` (if given), scaled to unit length, in float64. A zero row stays zero. */
export function unitRows(x: Float32Array, n: number, dim: number, mean?: ArrayLike<number> | null): Float64Array {
  const out = new Float64Array(n * dim);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let d = 0; d < dim; d++) {
      const v = x[i * dim + d] - (mean ? mean[d] : 0);
      out[i * dim + d] = v;
      s += v * v;
    }
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let d = 0; d < dim; d++) out[i * dim + d] *= inv;
  }
  return out;
}

/** Cosine of rows i and j of unit-row matrices a and b. */
export function dotRows(a: Float64Array, i: number, b: Float64Array, j: number, dim: number): number {
  let s = 0;
  const ai = i * dim;
  const bj = j * dim;
  for (let d = 0; d < dim; d++) s += a[ai + d] * b[bj + d];
  return s;
}

/** Full n_a × n_b cosine matrix of unit-row matrices. */
export function cosineMatrix(a: Float64Array, na: number, b: Float64Array, nb: number, dim: number): Float64Array {
  const out = new Float64Array(na * nb);
  for (let i = 0; i < na; i++) for (let j = 0; j < nb; j++) out[i * nb + j] = dotRows(a, i, b, j, dim);
  return out;
}

/** q-quantile (0..1) of values, linear interpolation; does not modify the input. */
export function quantile(values: ArrayLike<number>, q: number): number {
  const s = Float64Array.from(values).sort();
  if (s.length === 0) return NaN;
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export const round = (x: number, digits = 4) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);
