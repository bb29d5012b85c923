/**
 * "Bring your own model": checks a folder the user dropped (a TensorFlow.js `model.json` and its
 * weight shards) without running it. Everything here is plain data work, no tfjs and no DOM, so
 * a damaged or unsuitable folder is refused with a message that names the file at fault before
 * tfjs ever sees it, and the same code runs in Node tests. Running the model once to learn its
 * output width is tfjs work and lives in user-model.ts (`probeModel`).
 */
import { concatBuffers } from '../core/bytes.ts';
import { sha256Hex } from '../core/sha256.ts';
import type { StoredModel } from '../store/schema.ts';

/** One file of the dropped folder; `path` is relative to the folder, '/'-separated. */
export interface FolderFile {
  path: string;
  bytes: ArrayBuffer;
}

export type ModelFormat = 'graph' | 'layers';

/** One weight of a tfjs weights manifest (the fields we read; the rest is kept as it came). */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number };
  [key: string]: unknown;
}

/** model.json as tfjs writes it, after parsing; unknown fields are kept untouched. */
export interface ModelJson {
  format?: string;
  modelTopology: Record<string, unknown>;
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
  [key: string]: unknown;
}

/** A node (graph model) or layer (layers model) whose output could serve as the embedding. */
export interface OutputCandidate {
  /** Graph node name, or layer name. */
  name: string;
  /** Graph op (AvgPool, _FusedConv2D…), or the layer's class name (GlobalAveragePooling2D…). */
  op: string;
  /** A pooling op: these give one vector per image and are the usual embedding layers. */
  pooling: boolean;
  /** One of the model's own outputs (usually the classifier, rarely a good embedding). */
  output: boolean;
}

/** A checked model folder, waiting for the user to confirm the output node and input range. */
export interface ParsedModel {
  /** 'user-' + the first 16 hex digits of SHA-256(model.json bytes + weights). */
  id: string;
  name: string;
  format: ModelFormat;
  /** model.json with its weights manifest rewritten to one group in the one file 'weights.bin'. */
  modelJson: ModelJson;
  /** Every shard, concatenated in manifest order. */
  weights: ArrayBuffer;
  /** Where model.json was found in the folder. */
  jsonPath: string;
  /** The shards that were read, in manifest order (folder paths). */
  shardPaths: string[];
  /** Name of the input node (graph) or input layer (layers), as model.json gives it. */
  input: string;
  /** The input's shape from model.json, -1/null for free dimensions; null when it gives none. */
  inputShape: (number | null)[] | null;
  inputSize: number;
  /** False when the model leaves its input size free and `inputSize` is our default (224). */
  inputSizeFromModel: boolean;
  /** [0, 1] unless the user picks otherwise: model.json does not record it. */
  inputRange: [number, number];
  /** Graph nodes (constants and placeholders left out) or layers, in execution order. */
  candidates: OutputCandidate[];
  /**
   * The last pooling node or layer; failing that, the model's output (for a layers model '', the
   * model's own output). Still to be confirmed by the user.
   */
  defaultOutput: string;
}

/** A folder that is not a usable tfjs model; the message says which file and why. */
export class ModelFolderError extends Error {
  override name = 'ModelFolderError';
}

/** The input ranges offered to the user: what tfjs image models commonly expect. */
export const INPUT_RANGES: readonly (readonly [number, number])[] = [
  [0, 1],
  [-1, 1],
  [0, 255],
];

/** Used when the model leaves height and width free: the size most ImageNet CNNs were trained at. */
export const DEFAULT_INPUT_SIZE = 224;

/** The one weights file a stored model's manifest names. */
export const STORED_WEIGHTS_PATH = 'weights.bin';

// Bytes per stored value; a quantized weight is stored in its quantization dtype. 'string' weights
// have variable length and no image model needs them, so they are refused rather than parsed.
const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, float16: 2, uint16: 2, uint8: 1 };
const QUANT_DTYPES = new Set(['uint8', 'uint16', 'float16']);

const GRAPH_POOLING_OPS = new Set(['AvgPool', 'MaxPool', 'AvgPool3D', 'MaxPool3D']);
// Reductions are pooling only over the spatial axes: a Mean over the last axis is a LayerNorm.
const GRAPH_REDUCE_OPS = new Set(['Mean', 'Max']);
// Nodes that cannot be an embedding: weights, inputs, and control-only nodes.
const GRAPH_NON_CANDIDATES = new Set(['Const', 'Placeholder', 'PlaceholderWithDefault', 'NoOp', 'VarHandleOp']);
const LAYERS_POOLING = new Set(['GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'Flatten']);

const fail = (message: string): never => {
  throw new ModelFolderError(message);
};

const baseName = (path: string) => path.slice(path.lastIndexOf('/') + 1);
const dirName = (path: string) => (path.includes('/') ? path.slice(0, path.lastIndexOf('/') + 1) : '');
const plural = (n: number, one: string, many = `${one}s`) => (n === 1 ? one : many);
const quoteList = (xs: readonly string[]) => xs.map((x) => `'${x}'`).join(', ');
// Array.prototype.findLast is ES2023; the app targets ES2022.
function lastWhere<T>(xs: readonly T[], pred: (x: T) => boolean): T | undefined {
  for (let i = xs.length - 1; i >= 0; i--) if (pred(xs[i])) return xs[i];
  return undefined;
}

/** A weight path from the manifest, resolved against model.json's folder; null if it leaves the folder. */
function resolveWeightPath(jsonDir: string, p: string): string | null {
  if (typeof p !== 'string' || p === '' || p.startsWith('/') || p.includes('\\') || /^[a-z][a-z0-9+.-]*:/i.test(p)) return null;
  const out = jsonDir.split('/').filter(Boolean);
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) return null;
      out.pop();
    } else {
      out.push(seg);
    }
  }
  return out.join('/');
}

/** Stored size of one weight, or a ModelFolderError naming the weight. */
function weightBytes(w: WeightSpec, jsonPath: string): number {
  if (typeof w !== 'object' || w === null || typeof w.name !== 'string' || !Array.isArray(w.shape)) {
    return fail(`${jsonPath}: a weights manifest entry has no name or shape`);
  }
  if (!w.shape.every((d) => Number.isInteger(d) && d >= 0)) return fail(`${jsonPath}: weight '${w.name}' has an invalid shape [${w.shape}]`);
  const q = w.quantization?.dtype;
  if (q !== undefined && !QUANT_DTYPES.has(q)) {
    return fail(`${jsonPath}: weight '${w.name}' is quantized as '${q}', which is not supported (uint8, uint16 and float16 are)`);
  }
  const per = DTYPE_BYTES[q ?? w.dtype];
  if (per === undefined || (q === undefined && QUANT_DTYPES.has(w.dtype))) {
    return fail(`${jsonPath}: weight '${w.name}' has dtype '${w.dtype}', which is not supported (float32, int32, bool, complex64 are)`);
  }
  return w.shape.reduce((a, b) => a * b, 1) * per;
}


/** Finds the one model.json: by name first, else the folder's only .json file. */
function findModelJson(files: readonly FolderFile[]): FolderFile {
  const named = files.filter((f) => baseName(f.path).toLowerCase() === 'model.json');
  if (named.length === 1) return named[0];
  if (named.length > 1) {
    return fail(`the folder holds ${named.length} model.json files (${quoteList(named.map((f) => f.path))}): drop the folder of one model only`);
  }
  const json = files.filter((f) => f.path.toLowerCase().endsWith('.json'));
  if (json.length === 1) return json[0];
  if (json.length > 1) {
    return fail(`the folder holds no model.json, and several .json files (${quoteList(json.map((f) => f.path))}): name the model's file model.json`);
  }
  return fail('the folder holds no model.json: drop a folder with a TensorFlow.js model (model.json and its .bin weight files)');
}

function parseJson(file: FolderFile): ModelJson {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(file.bytes));
  } catch (e) {
    return fail(`${file.path} is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const j = raw as Partial<ModelJson> | null;
  if (typeof j !== 'object' || j === null || Array.isArray(j) || typeof j.modelTopology !== 'object' || j.modelTopology === null) {
    return fail(`${file.path} is not a TensorFlow.js model: it has no modelTopology`);
  }
  if (!Array.isArray(j.weightsManifest)) return fail(`${file.path} is not a TensorFlow.js model: it has no weightsManifest`);
  j.weightsManifest.forEach((g, i) => {
    if (typeof g !== 'object' || g === null || !Array.isArray(g.paths) || !Array.isArray(g.weights)) {
      fail(`${file.path}: weightsManifest[${i}] must have 'paths' and 'weights' lists`);
    }
  });
  return j as ModelJson;
}

function detectFormat(j: ModelJson, jsonPath: string): ModelFormat {
  if (j.format === 'graph-model') return 'graph';
  if (j.format === 'layers-model') return 'layers';
  if (j.format !== undefined && j.format !== null && j.format !== '') {
    return fail(`${jsonPath}: format '${String(j.format)}' is neither 'graph-model' nor 'layers-model'`);
  }
  // Files from before tfjs 1.0 have no format field; the topology tells them apart.
  if (Array.isArray(j.modelTopology.node)) return 'graph';
  if (typeof j.modelTopology.class_name === 'string' || typeof j.modelTopology.model_config === 'object') return 'layers';
  return fail(`${jsonPath} is not a TensorFlow.js graph or layers model: its modelTopology has neither 'node' nor 'class_name'`);
}

interface ReadWeights {
  weights: ArrayBuffer;
  specs: WeightSpec[];
  shardPaths: string[];
}

/**
 * Reads the shards the manifest names, in manifest order, and checks each group's bytes against
 * its weight specs. Groups are checked one by one so the message can name the shards at fault.
 */
function readWeights(j: ModelJson, jsonFile: FolderFile, byPath: ReadonlyMap<string, FolderFile>): ReadWeights {
  const jsonPath = jsonFile.path;
  const jsonDir = dirName(jsonPath);
  const groups = j.weightsManifest.map((g) => ({
    paths: g.paths.map((p) => {
      const resolved = resolveWeightPath(jsonDir, p);
      if (resolved === null) fail(`${jsonPath} names weights at '${p}', outside the folder: only files inside it are read`);
      return resolved as string;
    }),
    weights: g.weights,
  }));
  const named = groups.flatMap((g) => g.paths);
  const twice = named.filter((p, i) => named.indexOf(p) !== i);
  if (twice.length) fail(`${jsonPath} names the weight ${plural(twice.length, 'file')} ${quoteList([...new Set(twice)])} twice`);
  const missing = named.filter((p) => !byPath.has(p));
  if (missing.length) {
    fail(`weight ${plural(missing.length, 'file')} ${quoteList(missing)} named by ${jsonPath} ${missing.length === 1 ? 'is' : 'are'} missing from the folder`);
  }
  // Files that look like weights but are not named: most likely shards of another model or export.
  const used = new Set(named);
  const extra = [...byPath.keys()].filter((p) => p !== jsonPath && !used.has(p) && /(\.bin$|shard\d+of\d+)/i.test(baseName(p)));
  if (extra.length) {
    fail(`the folder holds weight ${plural(extra.length, 'file')} ${quoteList(extra)} that ${jsonPath} does not name (from another model?): remove ${extra.length === 1 ? 'it' : 'them'} or drop the right folder`);
  }

  const specs: WeightSpec[] = [];
  const parts: ArrayBuffer[] = [];
  for (const g of groups) {
    const expected = g.weights.reduce((n, w) => n + weightBytes(w, jsonPath), 0);
    const shards = g.paths.map((p) => byPath.get(p) as FolderFile);
    const got = shards.reduce((n, f) => n + f.bytes.byteLength, 0);
    if (got !== expected) {
      // tfjs writes every shard of a group at one size but the last, so a smaller one before the
      // last is the damaged one; with none such, the fault is in the last shard.
      const empty = shards.filter((f) => f.bytes.byteLength === 0).map((f) => f.path);
      const full = Math.max(0, ...shards.slice(0, -1).map((f) => f.bytes.byteLength));
      const small = shards.slice(0, -1).filter((f) => f.bytes.byteLength < full).map((f) => f.path);
      const culprit = empty.length ? empty : small.length ? small : [g.paths[g.paths.length - 1]];
      const how = got < expected ? `${expected - got} bytes short` : `${got - expected} bytes too many`;
      const state = empty.length ? 'empty' : got < expected ? 'truncated' : 'too long';
      const verb = empty.length ? (culprit.length === 1 ? 'is' : 'are') : culprit.length === 1 ? 'looks' : 'look';
      const hint = `; ${quoteList(culprit)} ${verb} ${state}`;
      fail(`weight ${plural(g.paths.length, 'file')} ${quoteList(g.paths)} ${g.paths.length === 1 ? 'holds' : 'hold'} ${got} bytes, ${jsonPath} describes ${expected} (${how})${hint}`);
    }
    parts.push(...shards.map((f) => f.bytes));
    specs.push(...g.weights);
  }
  return { weights: concatBuffers(parts), specs, shardPaths: named };
}

/** Byte offset of every weight in the concatenated buffer, by name. */
function weightOffsets(specs: readonly WeightSpec[]): Map<string, { spec: WeightSpec; offset: number }> {
  const out = new Map<string, { spec: WeightSpec; offset: number }>();
  let offset = 0;
  for (const spec of specs) {
    out.set(spec.name, { spec, offset });
    offset += weightBytes(spec, 'model.json');
  }
  return out;
}

interface InputInfo {
  name: string;
  shape: (number | null)[] | null;
}

/** Height = width from an [N, H, W, C] input, or our default when the model leaves it free. */
function inputSizeOf(input: InputInfo, jsonPath: string): { size: number; fromModel: boolean } {
  const s = input.shape;
  if (s === null) return { size: DEFAULT_INPUT_SIZE, fromModel: false };
  const known = (d: number | null): d is number => typeof d === 'number' && d > 0;
  if (s.length !== 4) {
    return fail(`${jsonPath}: input '${input.name}' has shape [${s.map((d) => d ?? -1)}]; Winnow feeds images as [N, height, width, 3]`);
  }
  const [, h, w, c] = s;
  if (known(c) && c !== 3) {
    return fail(`${jsonPath}: input '${input.name}' takes ${c} channels per pixel (shape [${s.map((d) => d ?? -1)}]); Winnow feeds RGB images, [N, height, width, 3]`);
  }
  if (known(h) && known(w)) {
    if (h !== w) return fail(`${jsonPath}: input '${input.name}' is ${h}×${w}; only square inputs are supported`);
    return { size: h, fromModel: true };
  }
  if (known(h) || known(w)) return { size: (known(h) ? h : w) as number, fromModel: true };
  return { size: DEFAULT_INPUT_SIZE, fromModel: false };
}

// ---------------------------------------------------------------------------------------------
// Graph models

interface GraphNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, { shape?: { dim?: { size?: string | number }[]; unknownRank?: boolean }; type?: string; tensor?: unknown }>;
}

const inputNodeName = (ref: string) => ref.replace(/^\^/, '').replace(/:\d+$/, '');

/** Node indices in an order where every node comes after its inputs, keeping file order otherwise. */
function topologicalOrder(nodes: readonly GraphNode[]): number[] {
  const index = new Map(nodes.map((n, i) => [n.name, i]));
  const state = new Uint8Array(nodes.length); // 0 new, 1 on the stack, 2 done
  const order: number[] = [];
  // Iterative, because real graphs have chains thousands of nodes deep.
  for (let root = 0; root < nodes.length; root++) {
    if (state[root]) continue;
    const stack: [number, number][] = [[root, 0]];
    state[root] = 1;
    while (stack.length) {
      const top = stack[stack.length - 1];
      const ins = nodes[top[0]].input ?? [];
      if (top[1] < ins.length) {
        const j = index.get(inputNodeName(ins[top[1]++]));
        // A node already on the stack is a loop edge (NextIteration); it does not order anything.
        if (j !== undefined && state[j] === 0) {
          state[j] = 1;
          stack.push([j, 0]);
        }
      } else {
        state[top[0]] = 2;
        order.push(top[0]);
        stack.pop();
      }
    }
  }
  return order;
}

function dimsOf(attrShape: { dim?: { size?: string | number }[]; unknownRank?: boolean } | undefined): (number | null)[] | null {
  if (!attrShape || attrShape.unknownRank || !Array.isArray(attrShape.dim)) return null;
  return attrShape.dim.map((d) => {
    const n = Number(d.size ?? -1);
    return Number.isFinite(n) && n > 0 ? n : null;
  });
}

/** Reads a small int32 Const (a reduction's axes) from the weights, or null if it is not there. */
function readIntConst(name: string, offsets: ReturnType<typeof weightOffsets>, weights: ArrayBuffer): number[] | null {
  const w = offsets.get(name);
  if (!w || w.spec.dtype !== 'int32' || w.spec.quantization) return null;
  const n = w.spec.shape.reduce((a, b) => a * b, 1);
  if (n > 8) return null;
  return Array.from(new Int32Array(weights.slice(w.offset, w.offset + 4 * n)));
}

function graphModel(j: ModelJson, jsonPath: string, read: ReadWeights) {
  const nodes = j.modelTopology.node as GraphNode[];
  if (!nodes.every((n) => typeof n === 'object' && n !== null && typeof n.name === 'string' && typeof n.op === 'string')) {
    fail(`${jsonPath}: every graph node needs a name and an op`);
  }
  const byName = new Map(nodes.map((n) => [n.name, n]));

  const placeholders = nodes.filter((n) => n.op === 'Placeholder');
  if (placeholders.length === 0) fail(`${jsonPath}: the graph has no input (Placeholder) node`);
  if (placeholders.length > 1) {
    fail(`${jsonPath}: the graph takes ${placeholders.length} inputs (${quoteList(placeholders.map((n) => n.name))}); Winnow feeds one image tensor`);
  }
  const inputNode = placeholders[0];
  const dtype = inputNode.attr?.dtype?.type;
  if (dtype !== undefined && dtype !== 'DT_FLOAT') {
    fail(`${jsonPath}: input '${inputNode.name}' takes ${dtype.replace(/^DT_/, '').toLowerCase()}; Winnow feeds float32 images`);
  }
  const input: InputInfo = { name: inputNode.name, shape: dimsOf(inputNode.attr?.shape?.shape) };

  const consumed = new Set(nodes.flatMap((n) => (n.input ?? []).map(inputNodeName)));
  const sig = (j.signature as { outputs?: Record<string, { name?: string }> } | undefined)?.outputs;
  const sigOutputs = sig ? Object.values(sig).map((o) => inputNodeName(String(o?.name ?? ''))).filter((n) => byName.has(n)) : [];
  const isOutput = (n: GraphNode) => (sigOutputs.length ? sigOutputs.includes(n.name) : !consumed.has(n.name));

  const offsets = weightOffsets(read.specs);
  const isPooling = (n: GraphNode): boolean => {
    if (GRAPH_POOLING_OPS.has(n.op)) return true;
    if (!GRAPH_REDUCE_OPS.has(n.op)) return false;
    const axesRef = n.input?.[1];
    const axes = axesRef ? readIntConst(inputNodeName(axesRef), offsets, read.weights) : null;
    // Axes we cannot read: a Mean near the end of a CNN is its global average pool far more often
    // than not; a Max is not assumed to pool.
    if (axes === null) return n.op === 'Mean';
    return axes.length === 2 && axes.map((a) => (a < 0 ? a + 4 : a)).sort().join() === '1,2';
  };

  const candidates: OutputCandidate[] = topologicalOrder(nodes)
    .map((i) => nodes[i])
    .filter((n) => !GRAPH_NON_CANDIDATES.has(n.op))
    .map((n) => ({ name: n.name, op: n.op, pooling: isPooling(n), output: isOutput(n) }));
  if (candidates.length === 0) fail(`${jsonPath}: the graph has no operations besides inputs and constants`);
  const lastPool = lastWhere(candidates, (c) => c.pooling);
  const lastOut = lastWhere(candidates, (c) => c.output) ?? candidates[candidates.length - 1];
  return { input, candidates, defaultOutput: (lastPool ?? lastOut).name };
}

// ---------------------------------------------------------------------------------------------
// Layers models

interface LayerJson {
  class_name?: string;
  name?: string;
  config?: { name?: string; batch_input_shape?: (number | null)[]; batch_shape?: (number | null)[]; input_shape?: (number | null)[]; [k: string]: unknown };
}

const layerName = (l: LayerJson) => String(l.config?.name ?? l.name ?? '');

function layerInputShape(l: LayerJson | undefined): (number | null)[] | null {
  const c = l?.config;
  const s = c?.batch_input_shape ?? c?.batch_shape ?? (c?.input_shape ? [null, ...c.input_shape] : undefined);
  return Array.isArray(s) ? s.map((d) => (typeof d === 'number' && d > 0 ? d : null)) : null;
}

function layersModel(j: ModelJson, jsonPath: string) {
  const topo = (j.modelTopology.model_config ?? j.modelTopology) as { class_name?: string; config?: unknown };
  // Old Sequential files keep the layer list as the config itself.
  const cfg = topo.config as { layers?: LayerJson[]; input_layers?: unknown[] } | LayerJson[] | undefined;
  const layers = Array.isArray(cfg) ? cfg : cfg?.layers;
  if (!Array.isArray(layers) || layers.length === 0) return fail(`${jsonPath}: the layers model lists no layers`);

  let input: InputInfo;
  if (topo.class_name === 'Sequential') {
    input = { name: layerName(layers[0]), shape: layerInputShape(layers[0]) };
  } else {
    const refs = (Array.isArray(cfg) ? [] : (cfg?.input_layers ?? [])) as unknown[];
    // [[name, 0, 0], …], or in newer Keras files a single [name, 0, 0].
    const names = (typeof refs[0] === 'string' ? [refs[0]] : refs.map((r) => (Array.isArray(r) ? r[0] : r))).map(String);
    if (names.length !== 1) {
      return fail(`${jsonPath}: the model takes ${names.length} inputs${names.length ? ` (${quoteList(names)})` : ''}; Winnow feeds one image tensor`);
    }
    input = { name: names[0], shape: layerInputShape(layers.find((l) => layerName(l) === names[0])) };
  }

  const outRefs = (Array.isArray(cfg) ? [] : ((cfg as { output_layers?: unknown[] })?.output_layers ?? [])) as unknown[];
  const outNames = new Set((typeof outRefs[0] === 'string' ? [outRefs[0]] : outRefs.map((r) => (Array.isArray(r) ? r[0] : r))).map(String));
  const candidates: OutputCandidate[] = layers
    .filter((l) => l.class_name !== 'InputLayer')
    .map((l, i, all) => ({
      name: layerName(l),
      op: String(l.class_name ?? '?'),
      pooling: LAYERS_POOLING.has(String(l.class_name)),
      output: outNames.size ? outNames.has(layerName(l)) : i === all.length - 1,
    }));
  if (candidates.length === 0) fail(`${jsonPath}: the layers model has no layers besides its input`);
  const lastPool = lastWhere(candidates, (c) => c.pooling);
  return { input, candidates, defaultOutput: lastPool ? lastPool.name : '' };
}

// ---------------------------------------------------------------------------------------------

/**
 * Checks a dropped folder holding one TensorFlow.js model and gets it ready to store. Throws a
 * `ModelFolderError` for: no model.json or several; invalid JSON; a JSON that is not a tfjs
 * model; weight files missing (named), not named by the manifest (extra .bin / shard files),
 * of the wrong total size (the shard at fault named where that can be told), or of a dtype
 * tfjs image models do not use; inputs that are not one [N, H, W, 3] float image.
 */
export async function parseModelFolder(files: readonly FolderFile[], name: string): Promise<ParsedModel> {
  const byPath = new Map(files.map((f) => [f.path.replace(/^\.?\//, ''), { ...f, path: f.path.replace(/^\.?\//, '') }]));
  const jsonFile = findModelJson([...byPath.values()]);
  const json = parseJson(jsonFile);
  const format = detectFormat(json, jsonFile.path);
  const read = readWeights(json, jsonFile, byPath);
  const m = format === 'graph' ? graphModel(json, jsonFile.path, read) : layersModel(json, jsonFile.path);
  const size = inputSizeOf(m.input, jsonFile.path);
  const digest = await sha256Hex(concatBuffers([jsonFile.bytes, read.weights]));
  const modelJson: ModelJson = { ...json, weightsManifest: [{ paths: [STORED_WEIGHTS_PATH], weights: read.specs }] };
  return {
    id: `user-${digest.slice(0, 16)}`,
    name: name.trim() || baseName(dirName(jsonFile.path).replace(/\/$/, '')) || 'my model',
    format,
    modelJson,
    weights: read.weights,
    jsonPath: jsonFile.path,
    shardPaths: read.shardPaths,
    input: m.input.name,
    inputShape: m.input.shape,
    inputSize: size.size,
    inputSizeFromModel: size.fromModel,
    inputRange: [0, 1],
    candidates: m.candidates,
    defaultOutput: m.defaultOutput,
  };
}

/** What the user confirmed, and the width the probe measured. */
export interface ModelChoice {
  outputNode: string;
  dim: number;
  inputRange?: readonly [number, number];
  inputSize?: number;
}

/** The record to `putModel`, once the user has confirmed the output node and the probe has run. */
export function toStoredModel(parsed: ParsedModel, choice: ModelChoice, now: number = Date.now()): StoredModel {
  const range = choice.inputRange ?? parsed.inputRange;
  if (!(Number.isFinite(range[0]) && Number.isFinite(range[1]) && range[0] < range[1])) fail(`input range [${range}] must be [lo, hi] with lo < hi`);
  if (!Number.isInteger(choice.dim) || choice.dim <= 0) fail(`embedding width ${choice.dim} must be a positive integer`);
  const inputSize = choice.inputSize ?? parsed.inputSize;
  if (!Number.isInteger(inputSize) || inputSize <= 0) fail(`input size ${inputSize} must be a positive integer`);
  if (choice.outputNode === '' && parsed.format === 'graph') fail('a graph model needs an output node');
  if (choice.outputNode !== '' && !parsed.candidates.some((c) => c.name === choice.outputNode)) {
    fail(`'${choice.outputNode}' is not a node of this model`);
  }
  return {
    id: parsed.id,
    name: parsed.name,
    format: parsed.format,
    modelJson: parsed.modelJson,
    weights: parsed.weights,
    outputNode: choice.outputNode,
    inputSize,
    inputRange: [range[0], range[1]],
    dim: choice.dim,
    createdAt: now,
  };
}
