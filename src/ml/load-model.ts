/**
 * Loading an embedding model: fetch its files from our own origin, check every byte against the
 * registry's SHA-256 before tfjs sees them, build the graph from memory, and warm it up once.
 */
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_MODELS_BASE, modelFileUrl, type FetchLike, type ModelEntry, type ModelFile } from './registry.ts';
import { concatBuffers } from '../core/bytes.ts';
import { sha256Hex } from '../core/sha256.ts';

/** A loaded model and the registry entry that describes how to feed it. */
export interface Embedder {
  readonly model: tf.GraphModel;
  readonly entry: ModelEntry;
  /** Frees the model's weights. The embedder cannot be used afterwards. */
  dispose(): void;
}

export interface LoadEmbedderOptions {
  /** Overrides `entry.baseUrl` (and the default `${BASE_URL}models/`). */
  baseUrl?: string;
  signal?: AbortSignal;
  /** Run one dummy batch so the first real batch does not pay for kernel/shader set-up. Default true. */
  warmUp?: boolean;
}

/** A model file whose bytes are not those the registry lists. */
export class ModelIntegrityError extends Error {
  override name = 'ModelIntegrityError';
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`model file ${path} is damaged: ${detail}`);
  }
}

const defaultFetch: FetchLike = (url, init) => fetch(url, init);

function isIOHandler(x: unknown): x is tf.io.IOHandler {
  return typeof x === 'object' && x !== null && typeof (x as tf.io.IOHandler).load === 'function';
}

export { sha256Hex };

async function fetchVerified(file: ModelFile, baseUrl: string, fetchFn: FetchLike, signal?: AbortSignal): Promise<ArrayBuffer> {
  const url = modelFileUrl(baseUrl, file.path);
  const res = await fetchFn(url, { signal });
  if (!res.ok) throw new Error(`model file ${file.path} could not be fetched from ${url} (HTTP ${res.status})`);
  const buf = await res.arrayBuffer();
  if (buf.byteLength !== file.bytes) {
    throw new ModelIntegrityError(file.path, `${buf.byteLength} bytes, the registry lists ${file.bytes}`);
  }
  const digest = await sha256Hex(buf);
  if (digest !== file.sha256) {
    throw new ModelIntegrityError(file.path, `SHA-256 mismatch (expected ${file.sha256}, got ${digest})`);
  }
  return buf;
}

function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i + 1);
}


/**
 * Fetches every file of a registry entry, verifies each one's size and SHA-256, and returns the
 * model artifacts for `tf.io.fromMemory`. Nothing reaches tfjs unless every file checks out.
 */
export async function fetchModelArtifacts(
  entry: ModelEntry,
  fetchFn: FetchLike = defaultFetch,
  opts: { baseUrl?: string; signal?: AbortSignal } = {},
): Promise<tf.io.ModelArtifacts> {
  const baseUrl = opts.baseUrl ?? entry.baseUrl ?? DEFAULT_MODELS_BASE;
  const buffers = await Promise.all(entry.files.map((f) => fetchVerified(f, baseUrl, fetchFn, opts.signal)));
  const byPath = new Map(entry.files.map((f, i) => [f.path, buffers[i]]));
  const jsonFile = entry.files.find((f) => f.path.endsWith('.json'));
  if (!jsonFile) throw new Error(`model '${entry.id}' lists no model .json file`);
  let json: {
    modelTopology?: unknown;
    weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
    format?: string;
    generatedBy?: string;
    convertedBy?: string | null;
    userDefinedMetadata?: tf.io.ModelArtifacts['userDefinedMetadata'];
    signature?: unknown;
  };
  try {
    json = JSON.parse(new TextDecoder().decode(byPath.get(jsonFile.path)));
  } catch {
    throw new Error(`model file ${jsonFile.path} is not valid JSON`);
  }
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new Error(`model file ${jsonFile.path} is not a tfjs model (no modelTopology/weightsManifest)`);
  }
  // Weight paths in model.json are relative to it; each must be a file the registry vouches for.
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const weightParts: ArrayBuffer[] = [];
  for (const group of json.weightsManifest) {
    for (const p of group.paths) {
      const path = dirOf(jsonFile.path) + p;
      const buf = byPath.get(path);
      if (!buf) throw new Error(`model file ${jsonFile.path} names weights '${p}', which the registry does not list`);
      weightParts.push(buf);
    }
    weightSpecs.push(...group.weights);
  }
  return {
    modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
    weightSpecs,
    weightData: concatBuffers(weightParts),
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy ?? undefined,
    userDefinedMetadata: json.userDefinedMetadata,
    signature: json.signature as tf.io.ModelArtifacts['signature'],
  };
}

/** Runs one all-zero image through the graph and checks the output really is `dim` wide. */
async function warmUpAndCheck(model: tf.GraphModel, entry: ModelEntry): Promise<void> {
  const x = tf.zeros([1, entry.inputSize, entry.inputSize, 3]);
  let y: tf.Tensor | undefined;
  try {
    y = model.execute({ [entry.input]: x }, entry.outputNode) as tf.Tensor;
    await y.data(); // forces the kernels (and, on GPUs, shader compilation) to run now
    const width = y.shape[y.shape.length - 1];
    if (y.size !== entry.dim || width !== entry.dim) {
      throw new Error(`model '${entry.id}': output ${entry.outputNode} has shape [${y.shape}], expected ${entry.dim} values per image`);
    }
  } finally {
    x.dispose();
    y?.dispose();
  }
}

/**
 * Loads the embedding model an entry describes.
 *
 * `source` is normally a fetch function (default: `fetch`) used to get the entry's files from
 * our origin; each file's size and SHA-256 are checked against the registry and a mismatch is
 * refused with a `ModelIntegrityError` ("model file X is damaged: SHA-256 mismatch …") before
 * tfjs parses anything. `source` may instead be a tfjs IOHandler (e.g. a user's own model from
 * `tf.io.browserFiles`): then the entry only describes how to feed it, and the caller vouches for
 * the bytes. The model is warmed up once and its output width checked against `entry.dim`.
 *
 * Run `chooseBackend()` first; this function uses whatever backend is active.
 */
export async function loadEmbedder(
  entry: ModelEntry,
  source: FetchLike | tf.io.IOHandler = defaultFetch,
  opts: LoadEmbedderOptions = {},
): Promise<Embedder> {
  const handler = isIOHandler(source)
    ? source
    : tf.io.fromMemory(await fetchModelArtifacts(entry, source, { baseUrl: opts.baseUrl, signal: opts.signal }));
  opts.signal?.throwIfAborted();
  const model = await tf.loadGraphModel(handler);
  try {
    const inputs = model.inputs.map((t) => t.name);
    if (!inputs.includes(entry.input)) {
      throw new Error(`model '${entry.id}' has no input node '${entry.input}' (inputs: ${inputs.join(', ')})`);
    }
    if (opts.warmUp !== false) await warmUpAndCheck(model, entry);
    opts.signal?.throwIfAborted();
  } catch (err) {
    model.dispose();
    throw err;
  }
  let disposed = false;
  return {
    model,
    entry,
    dispose() {
      if (!disposed) model.dispose();
      disposed = true;
    },
  };
}
