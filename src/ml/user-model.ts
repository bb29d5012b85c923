/**
 * Running a user's own model ("bring your own model", see byo-model.ts for the folder checks).
 * Both tfjs formats end up behind the one call `embedBatch` makes, `model.execute(feeds, node)`:
 * a graph model is used as it is; a layers model is cut at the chosen layer and wrapped in a small
 * adapter, so embed.ts and its callers need not know which kind they hold.
 */
import * as tf from '@tensorflow/tfjs';
import type { FeatureStore } from '../store/feature-store.ts';
import type { StoredModel } from '../store/schema.ts';
import type { ModelFormat, ModelJson, ParsedModel } from './byo-model.ts';
import type { Embedder } from './load-model.ts';
import type { ModelEntry } from './registry.ts';

/**
 * Outputs wider than this are refused: they are feature maps, not embeddings (MobileNetV2's last
 * conv map is 7·7·1792 = 87 808 floats an image), and would fill memory on a large dataset.
 */
export const MAX_EMBEDDING_DIM = 16_384;

/** The tfjs artifacts of a stored (or just parsed) model: model.json's fields and the weights. */
export function userModelArtifacts(modelJson: ModelJson, weights: ArrayBuffer): tf.io.ModelArtifacts {
  const j = modelJson;
  return {
    modelTopology: j.modelTopology,
    weightSpecs: j.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[],
    weightData: weights,
    format: j.format,
    generatedBy: j.generatedBy as string | undefined,
    convertedBy: (j.convertedBy as string | null | undefined) ?? undefined,
    // trainingConfig is left out on purpose: with it tfjs compiles the model, and a custom loss
    // or optimizer it does not know would stop a model we only run forwards.
    userDefinedMetadata: j.userDefinedMetadata as tf.io.ModelArtifacts['userDefinedMetadata'],
    signature: j.signature as tf.io.ModelArtifacts['signature'],
    modelInitializer: j.modelInitializer as tf.io.ModelArtifacts['modelInitializer'],
    initializerSignature: j.initializerSignature as tf.io.ModelArtifacts['initializerSignature'],
  };
}

type Feeds = tf.Tensor | tf.Tensor[] | tf.NamedTensorMap;

/**
 * A layers model cut at the embedding layer, with the face of a GraphModel that embedBatch uses
 * (`execute`, `inputs`, `outputs`, `dispose`). The output name passed to `execute` is ignored: the
 * cut already ends at the chosen layer.
 */
class LayersAsGraph {
  constructor(
    private readonly full: tf.LayersModel,
    private readonly head: tf.LayersModel,
  ) {}

  get inputs(): tf.ModelTensorInfo[] {
    return this.head.inputs.map((t) => ({ name: t.name, shape: t.shape as number[], dtype: t.dtype }));
  }

  get outputs(): tf.ModelTensorInfo[] {
    return this.head.outputs.map((t) => ({ name: t.name, shape: t.shape as number[], dtype: t.dtype }));
  }

  execute(feeds: Feeds, _outputs?: string | string[]): tf.Tensor {
    const x = feeds instanceof tf.Tensor ? feeds : Array.isArray(feeds) ? feeds[0] : Object.values(feeds)[0];
    // predict runs in inference mode (dropout and batch-norm as at test time) and keeps the batch whole.
    return this.head.predict(x, { batchSize: Math.max(1, x.shape[0] ?? 1) }) as tf.Tensor;
  }

  dispose(): void {
    // The head is only a view over the full model's layers (tf.model does not count references to
    // them), so disposing the full model frees every weight; disposing the head too would throw.
    this.full.dispose();
  }
}

/** Something `execute` can be called on like a GraphModel, and its one input's name. */
interface Runner {
  model: tf.GraphModel;
  input: string;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Loads a graph or layers model from memory, cut or pointed at `outputNode`. */
async function loadRunner(format: ModelFormat, modelJson: ModelJson, weights: ArrayBuffer, outputNode: string, label: string): Promise<Runner> {
  const handler = tf.io.fromMemory(userModelArtifacts(modelJson, weights));
  if (format === 'graph') {
    let model: tf.GraphModel;
    try {
      model = await tf.loadGraphModel(handler);
    } catch (e) {
      throw new Error(`${label}: tfjs could not build the graph (${describe(e)})`);
    }
    if (model.inputs.length !== 1) {
      const names = model.inputs.map((t) => t.name).join(', ');
      model.dispose();
      throw new Error(`${label}: the graph takes ${names ? `inputs ${names}` : 'no input'}; Winnow feeds one image tensor`);
    }
    return { model, input: model.inputs[0].name };
  }

  let full: tf.LayersModel;
  try {
    full = await tf.loadLayersModel(handler);
  } catch (e) {
    throw new Error(`${label}: tfjs could not build the layers model (${describe(e)})`);
  }
  let head = full;
  try {
    if (full.inputs.length !== 1) throw new Error(`the model takes ${full.inputs.length} inputs; Winnow feeds one image tensor`);
    if (outputNode !== '') {
      let layer: tf.layers.Layer;
      try {
        layer = full.getLayer(outputNode);
      } catch {
        throw new Error(`the model has no layer '${outputNode}'`);
      }
      // A layer used more than once has no single output; its first use is the one in the model's main path.
      const output = (layer.inboundNodes.length > 1 ? layer.getOutputAt(0) : layer.output) as tf.SymbolicTensor;
      if (Array.isArray(output)) throw new Error(`layer '${outputNode}' has several outputs; pick another`);
      head = tf.model({ inputs: full.inputs, outputs: output });
    }
  } catch (e) {
    full.dispose();
    throw new Error(`${label}: ${describe(e)}`);
  }
  const adapter = new LayersAsGraph(full, head);
  // embedBatch and Embedder are typed for tfjs GraphModels, of which the adapter implements the
  // part they call; the cast keeps embed.ts unaware of layers models.
  return { model: adapter as unknown as tf.GraphModel, input: full.inputs[0].name };
}

/** Runs one all-zero image and returns the output shape. Every tensor is disposed. */
async function runZeros(runner: Runner, outputNode: string, inputSize: number): Promise<number[]> {
  const x = tf.zeros([1, inputSize, inputSize, 3]);
  let y: tf.Tensor | tf.Tensor[] | undefined;
  try {
    y = runner.model.execute({ [runner.input]: x }, outputNode || undefined);
    if (Array.isArray(y)) throw new Error(`output '${outputNode}' gives ${y.length} tensors; pick a node with one output`);
    await y.data(); // makes the backend run the kernels now, so a failure shows here
    return y.shape;
  } finally {
    x.dispose();
    if (Array.isArray(y)) y.forEach((t) => t.dispose());
    else y?.dispose();
  }
}

/** The values one image yields at the output, or an error that says why the node cannot embed. */
function dimOf(shape: readonly number[], node: string): number {
  const where = node ? `output '${node}'` : "the model's output";
  if (shape.length === 0 || shape[0] !== 1) {
    throw new Error(`${where} has shape [${shape}], which does not keep one row per image; pick a node after the input but before any step that mixes images`);
  }
  const dim = shape.slice(1).reduce((a, b) => a * b, 1);
  if (dim > MAX_EMBEDDING_DIM) {
    throw new Error(`${where} gives ${dim} values per image (shape [${shape}]): that is a feature map, not an embedding; pick a pooling node`);
  }
  if (dim === 0) throw new Error(`${where} gives no values per image (shape [${shape}])`);
  return dim;
}

/**
 * Loads a parsed model, runs one all-zero image to `outputNode` ('' = a layers model's own
 * output) and reports how many values one image yields there. The model is disposed afterwards
 * and no tensor outlives the call. Use the active tfjs backend (`chooseBackend()` first).
 */
export async function probeModel(
  parsed: Pick<ParsedModel, 'format' | 'modelJson' | 'weights' | 'inputSize' | 'name'>,
  outputNode: string,
): Promise<{ dim: number; shape: number[] }> {
  const label = `model '${parsed.name}'`;
  const runner = await loadRunner(parsed.format, parsed.modelJson, parsed.weights, outputNode, label);
  try {
    let shape: number[];
    try {
      shape = await runZeros(runner, outputNode, parsed.inputSize);
    } catch (e) {
      throw new Error(`${label} did not run on a ${parsed.inputSize}×${parsed.inputSize} image: ${describe(e)}`);
    }
    try {
      return { dim: dimOf(shape, outputNode), shape };
    } catch (e) {
      throw new Error(`${label}: ${describe(e)}`);
    }
  } finally {
    runner.model.dispose();
  }
}

/** The registry-shaped description embedBatch and the worker read, for a stored user model. */
export function userModelEntry(m: Omit<StoredModel, 'weights' | 'modelJson'>, input: string): ModelEntry {
  return Object.freeze({
    id: m.id,
    // The vectors depend on these as much as on the weights; they are part of the store key, so
    // saving the same model with another output node or input never reuses the old vectors.
    version: `user:${m.outputNode || 'output'}:${m.inputSize}:${m.inputRange[0]},${m.inputRange[1]}`,
    name: m.name,
    source: `your own ${m.format} model '${m.name}', stored in this browser`,
    licence: 'as given by whoever made the model',
    inputSize: m.inputSize,
    input,
    inputRange: Object.freeze([m.inputRange[0], m.inputRange[1]]) as readonly [number, number],
    outputNode: m.outputNode,
    dim: m.dim,
    // Nothing to fetch: the bytes come from IndexedDB, checked when they were stored.
    files: Object.freeze([]),
  });
}

/**
 * Loads a user model kept in the feature store and returns an Embedder like `loadEmbedder` does:
 * `embedBatch(embedder.model, embedder.entry, pixels)` works for graph and layers models alike.
 * The model is warmed up with one zero image and its output width checked against the stored
 * `dim`. Use the active tfjs backend (`chooseBackend()` first).
 */
export async function loadUserEmbedder(store: Pick<FeatureStore, 'getModel'>, id: string, opts: { warmUp?: boolean } = {}): Promise<Embedder> {
  const stored = await store.getModel(id);
  if (!stored) throw new Error(`no stored model '${id}' (it may have been deleted)`);
  const label = `model '${stored.name}'`;
  const runner = await loadRunner(stored.format, stored.modelJson as ModelJson, stored.weights, stored.outputNode, label);
  try {
    if (opts.warmUp !== false) {
      const dim = dimOf(await runZeros(runner, stored.outputNode, stored.inputSize), stored.outputNode);
      if (dim !== stored.dim) throw new Error(`${label}: output gives ${dim} values per image, ${stored.dim} were stored`);
    }
  } catch (e) {
    runner.model.dispose();
    throw e;
  }
  const { weights: _w, modelJson: _j, ...meta } = stored;
  const entry = userModelEntry(meta, runner.input);
  let disposed = false;
  return {
    model: runner.model,
    entry,
    dispose() {
      if (!disposed) runner.model.dispose();
      disposed = true;
    },
  };
}
