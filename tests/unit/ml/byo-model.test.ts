import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { chooseBackend } from '../../../src/ml/backend.ts';
import { ModelFolderError, parseModelFolder, toStoredModel, type FolderFile, type ParsedModel } from '../../../src/ml/byo-model.ts';
import { embedBatch, toInputTensor } from '../../../src/ml/embed.ts';
import { loadEmbedder } from '../../../src/ml/load-model.ts';
import { findModel, loadRegistry } from '../../../src/ml/registry.ts';
import { loadUserEmbedder, probeModel } from '../../../src/ml/user-model.ts';
import { FeatureStore } from '../../../src/store/feature-store.ts';
import { PUBLIC_MODELS, WASM_DIR, buildModels, cosine, fileFetch, loadForModel } from './helpers.ts';

const AVGPOOL =
  'StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/StatefulPartitionedCall/predict/MobilenetV2/Logits/AvgPool';

const ab = (b: Uint8Array): ArrayBuffer => b.slice().buffer;
const text = (s: string): ArrayBuffer => ab(new TextEncoder().encode(s));

/** The shipped graph model as a converter would write it: model.json and three shards. */
let graphFolder: FolderFile[];
let graphJson: { weightsManifest: { paths: string[]; weights: { name: string; dtype: string; quantization?: { dtype: string } }[] }[] };
/** A tiny layers model (conv → global average pool → dense) saved by tfjs itself. */
let layersFolder: FolderFile[];
let layersRef: tf.LayersModel;

function shards(bin: Uint8Array, n: number): Uint8Array[] {
  const size = Math.ceil(bin.length / n);
  return Array.from({ length: n }, (_, i) => bin.subarray(i * size, Math.min(bin.length, (i + 1) * size)));
}

function folderOf(json: unknown, parts: Uint8Array[], names = parts.map((_, i) => `group1-shard${i + 1}of${parts.length}.bin`)): FolderFile[] {
  return [{ path: 'model.json', bytes: text(JSON.stringify(json)) }, ...parts.map((p, i) => ({ path: names[i], bytes: ab(p) }))];
}

/** Like graphFolder, with model.json changed by `edit`. */
function withJson(edit: (j: typeof graphJson) => void): FolderFile[] {
  const j = JSON.parse(JSON.stringify(graphJson));
  edit(j);
  return [{ path: 'model.json', bytes: text(JSON.stringify(j)) }, ...graphFolder.slice(1)];
}

async function saveLayers(model: tf.LayersModel): Promise<FolderFile[]> {
  let out: FolderFile[] = [];
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const data = Array.isArray(a.weightData) ? tf.io.concatenateArrayBuffers(a.weightData) : (a.weightData as ArrayBuffer);
      const json = {
        format: 'layers-model',
        generatedBy: 'test',
        convertedBy: null,
        modelTopology: a.modelTopology,
        weightsManifest: [{ paths: ['./group1-shard1of1.bin'], weights: a.weightSpecs }],
      };
      out = [
        { path: 'model.json', bytes: text(JSON.stringify(json)) },
        { path: 'group1-shard1of1.bin', bytes: data.slice(0) },
      ];
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return out;
}

async function expectFolderError(files: FolderFile[], message: RegExp): Promise<void> {
  const err = await parseModelFolder(files, 'm').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ModelFolderError);
  expect((err as Error).message).toMatch(message);
}

beforeAll(async () => {
  buildModels();
  await chooseBackend('wasm', { wasmPaths: WASM_DIR });
  graphJson = JSON.parse(readFileSync(join(PUBLIC_MODELS, 'mobilenetv2-mid', 'model.json'), 'utf8'));
  const bin = new Uint8Array(readFileSync(join(PUBLIC_MODELS, 'mobilenetv2-mid', 'weights.bin')));
  graphJson.weightsManifest[0].paths = ['group1-shard1of3.bin', 'group1-shard2of3.bin', 'group1-shard3of3.bin'];
  graphFolder = folderOf(graphJson, shards(bin, 3));

  layersRef = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [32, 32, 3], filters: 6, kernelSize: 3, activation: 'relu', name: 'conv' }),
      tf.layers.globalAveragePooling2d({ name: 'pool' }),
      tf.layers.dense({ units: 5, name: 'logits' }),
    ],
  });
  layersFolder = await saveLayers(layersRef);
});

describe('parseModelFolder: graph model', () => {
  let parsed: ParsedModel;
  it('reads a sharded graph model, picks the AvgPool node, and reads the input', async () => {
    const t0 = performance.now();
    parsed = await parseModelFolder(graphFolder, 'mobilenet');
    console.log(`parseModelFolder: 4.3 MB graph model in ${(performance.now() - t0).toFixed(0)} ms`);
    expect(parsed.format).toBe('graph');
    expect(parsed.name).toBe('mobilenet');
    expect(parsed.id).toMatch(/^user-[0-9a-f]{16}$/);
    expect(parsed.shardPaths).toEqual(['group1-shard1of3.bin', 'group1-shard2of3.bin', 'group1-shard3of3.bin']);
    expect(parsed.weights.byteLength).toBe(4300775);
    // Buffer.equals, not toEqual: a deep compare of 4 MB element by element takes seconds.
    expect(Buffer.from(parsed.weights).equals(readFileSync(join(PUBLIC_MODELS, 'mobilenetv2-mid', 'weights.bin')))).toBe(true);
    expect(parsed.modelJson.weightsManifest).toHaveLength(1);
    expect(parsed.modelJson.weightsManifest[0].paths).toEqual(['weights.bin']);
    expect(parsed.input).toBe('input');
    expect(parsed.inputShape).toEqual([null, 224, 224, 3]);
    expect(parsed.inputSize).toBe(224);
    expect(parsed.inputSizeFromModel).toBe(true);
    expect(parsed.inputRange).toEqual([0, 1]);
    expect(parsed.defaultOutput).toBe(AVGPOOL);
    expect(parsed.candidates.filter((c) => c.pooling).map((c) => c.name)).toEqual([AVGPOOL]);
    expect(parsed.candidates.some((c) => c.op === 'Const' || c.op === 'Placeholder')).toBe(false);
    expect(parsed.candidates.find((c) => c.output)?.name).toBe('Identity');
    // Execution order: the pool comes after every conv and before the classifier.
    const names = parsed.candidates.map((c) => c.name);
    expect(names.indexOf(AVGPOOL)).toBeGreaterThan(names.findIndex((n) => n.includes('Conv_1')));
    expect(names.indexOf(AVGPOOL)).toBeLessThan(names.indexOf('Identity'));
  });

  it('gives the same id however the weights are sharded, and another for other weights', async () => {
    const bin = new Uint8Array(parsed.weights);
    const j = JSON.parse(JSON.stringify(graphJson));
    j.weightsManifest[0].paths = ['a.bin', 'b.bin'];
    const two = await parseModelFolder(folderOf(j, shards(bin, 2), ['a.bin', 'b.bin']), 'x');
    expect(two.weights.byteLength).toBe(bin.length);
    const changed = bin.slice();
    changed[100] ^= 1;
    const other = await parseModelFolder(folderOf(graphJson, shards(changed, 3)), 'x');
    expect(other.id).not.toBe(parsed.id);
  });

  it('probes the AvgPool node at 1792 and the classifier at 5, leaking nothing', async () => {
    const before = tf.memory().numTensors;
    expect((await probeModel(parsed, parsed.defaultOutput)).dim).toBe(1792);
    expect(await probeModel(parsed, 'Identity')).toEqual({ dim: 5, shape: [1, 5] });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a feature map and an unknown node, leaking nothing', async () => {
    const before = tf.memory().numTensors;
    const conv = parsed.candidates.find((c) => c.name.endsWith('Conv_1/Relu6'))!.name;
    await expect(probeModel(parsed, conv)).rejects.toThrow(/gives 87808 values per image .*feature map.*pick a pooling node/);
    await expect(probeModel(parsed, 'nope')).rejects.toThrow(/did not run on a 224×224 image/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stores, loads and embeds exactly like the shipped model', async () => {
    const store = FeatureStore.inMemory();
    const { dim } = await probeModel(parsed, parsed.defaultOutput);
    await store.putModel(toStoredModel(parsed, { outputNode: parsed.defaultOutput, dim }, 1));
    expect((await store.listModels()).map((m) => [m.id, m.name, m.format, m.dim])).toEqual([[parsed.id, 'mobilenet', 'graph', 1792]]);

    const before = tf.memory().numTensors;
    const user = await loadUserEmbedder(store, parsed.id);
    expect(user.entry).toMatchObject({ id: parsed.id, version: `user:${AVGPOOL}:224:0,1`, input: 'input', outputNode: AVGPOOL, dim: 1792, inputSize: 224, inputRange: [0, 1] });
    const entry = findModel(await loadRegistry('/models/', fileFetch()), 'mobilenetv2-mid');
    const shipped = await loadEmbedder(entry, fileFetch());
    const imgs = [loadForModel('g000_orig.jpg', 224), loadForModel('g002_orig.jpg', 224)];
    const inside = tf.memory().numTensors;
    const a = await embedBatch(user.model, user.entry, imgs);
    expect(tf.memory().numTensors).toBe(inside);
    const b = await embedBatch(shipped.model, shipped.entry, imgs);
    expect(a.length).toBe(2 * 1792);
    expect(cosine(a.subarray(0, 1792), b.subarray(0, 1792))).toBeGreaterThan(0.999999);
    expect(cosine(a.subarray(1792), b.subarray(1792))).toBeGreaterThan(0.999999);
    user.dispose();
    shipped.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('parseModelFolder: layers model', () => {
  let parsed: ParsedModel;
  it('reads a tfjs-saved layers model and picks the pooling layer', async () => {
    parsed = await parseModelFolder(layersFolder, 'tiny');
    expect(parsed.format).toBe('layers');
    expect(parsed.candidates).toEqual([
      { name: 'conv', op: 'Conv2D', pooling: false, output: false },
      { name: 'pool', op: 'GlobalAveragePooling2D', pooling: true, output: false },
      { name: 'logits', op: 'Dense', pooling: false, output: true },
    ]);
    expect(parsed.defaultOutput).toBe('pool');
    expect(parsed.inputShape).toEqual([null, 32, 32, 3]);
    expect(parsed.inputSize).toBe(32);
    expect(parsed.modelJson.weightsManifest[0].paths).toEqual(['weights.bin']);
  });

  it('probes the pooling layer, the model output and a conv map', async () => {
    const before = tf.memory().numTensors;
    expect(await probeModel(parsed, 'pool')).toEqual({ dim: 6, shape: [1, 6] });
    expect(await probeModel(parsed, '')).toEqual({ dim: 5, shape: [1, 5] });
    expect(await probeModel(parsed, 'conv')).toEqual({ dim: 30 * 30 * 6, shape: [1, 30, 30, 6] });
    await expect(probeModel(parsed, 'nope')).rejects.toThrow(/model 'tiny': the model has no layer 'nope'/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('loads from the store and embeds at the pooling layer, as the original model computes it', async () => {
    const store = FeatureStore.inMemory();
    await store.putModel(toStoredModel(parsed, { outputNode: 'pool', dim: 6, inputRange: [-1, 1] }));
    const before = tf.memory().numTensors;
    const user = await loadUserEmbedder(store, parsed.id);
    expect(user.entry).toMatchObject({ dim: 6, inputSize: 32, inputRange: [-1, 1], outputNode: 'pool', version: 'user:pool:32:-1,1' });
    const imgs = [loadForModel('g000_orig.jpg', 32), loadForModel('g004_orig.jpg', 32), loadForModel('g006_orig.jpg', 32)];
    const inside = tf.memory().numTensors;
    const got = await embedBatch(user.model, user.entry, imgs);
    expect(tf.memory().numTensors).toBe(inside);
    expect(got.length).toBe(3 * 6);

    const cut = tf.model({ inputs: layersRef.inputs, outputs: layersRef.getLayer('pool').output as tf.SymbolicTensor });
    const wantT = tf.tidy(() => cut.predict(toInputTensor(user.entry, imgs)) as tf.Tensor);
    const want = wantT.dataSync() as Float32Array;
    wantT.dispose();
    for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(want[i], 5);
    expect(got.some((v) => v !== 0)).toBe(true);

    user.dispose();
    user.dispose(); // twice is harmless
    expect(tf.memory().numTensors).toBe(before);
  });

  it("embeds at the model's own output when the node is ''", async () => {
    const store = FeatureStore.inMemory();
    await store.putModel(toStoredModel(parsed, { outputNode: '', dim: 5 }));
    const before = tf.memory().numTensors;
    const user = await loadUserEmbedder(store, parsed.id);
    expect((await embedBatch(user.model, user.entry, [loadForModel('g000_orig.jpg', 32)])).length).toBe(5);
    user.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a stored width that the model does not give, and an unknown id', async () => {
    const store = FeatureStore.inMemory();
    await store.putModel(toStoredModel(parsed, { outputNode: 'pool', dim: 7 }));
    const before = tf.memory().numTensors;
    await expect(loadUserEmbedder(store, parsed.id)).rejects.toThrow(/model 'tiny': output gives 6 values per image, 7 were stored/);
    await expect(loadUserEmbedder(store, 'user-0000')).rejects.toThrow(/no stored model 'user-0000'/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('takes a functional model with a free input size and defaults to 224', async () => {
    const input = tf.input({ shape: [null, null, 3], name: 'img' });
    const conv = tf.layers.conv2d({ filters: 3, kernelSize: 1, name: 'c1' }).apply(input) as tf.SymbolicTensor;
    const pooled = tf.layers.globalMaxPooling2d({ name: 'gmp' }).apply(conv) as tf.SymbolicTensor;
    const m = tf.model({ inputs: input, outputs: pooled });
    const p = await parseModelFolder(await saveLayers(m), 'free');
    expect(p.input).toBe('img');
    expect(p.inputSize).toBe(224);
    expect(p.inputSizeFromModel).toBe(false);
    expect(p.defaultOutput).toBe('gmp');
    expect((await probeModel(p, 'gmp')).dim).toBe(3);
    m.dispose();
  });

  it('defaults to the model output when there is no pooling layer', async () => {
    const m = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [8, 8, 3], filters: 2, kernelSize: 8, name: 'k' })] });
    const p = await parseModelFolder(await saveLayers(m), 'nopool');
    expect(p.defaultOutput).toBe('');
    expect((await probeModel(p, '')).dim).toBe(2);
    m.dispose();
  });
});

describe('parseModelFolder: errors', () => {
  it('no model.json', async () => {
    await expectFolderError([{ path: 'README.md', bytes: text('hi') }], /the folder holds no model\.json/);
    await expectFolderError([], /the folder holds no model\.json/);
  });

  it('several model.json', async () => {
    const files = [...graphFolder.map((f) => ({ ...f, path: `a/${f.path}` })), ...layersFolder.map((f) => ({ ...f, path: `b/${f.path}` }))];
    await expectFolderError(files, /the folder holds 2 model\.json files \('a\/model\.json', 'b\/model\.json'\)/);
  });

  it('finds a model.json in a subfolder, and a lone .json of another name', async () => {
    const sub = await parseModelFolder(layersFolder.map((f) => ({ ...f, path: `export/${f.path}` })), '');
    expect(sub.name).toBe('export');
    expect(sub.shardPaths).toEqual(['export/group1-shard1of1.bin']);
    const renamed = await parseModelFolder([{ ...layersFolder[0], path: 'tiny.json' }, layersFolder[1]], 't');
    expect(renamed.format).toBe('layers');
  });

  it('invalid JSON', async () => {
    await expectFolderError([{ path: 'model.json', bytes: text('{"format": "graph-model",') }], /^model\.json is not valid JSON \(/);
  });

  it('not a tfjs model', async () => {
    await expectFolderError([{ path: 'model.json', bytes: text('{"name": "my-app", "version": "1.0.0"}') }], /model\.json is not a TensorFlow\.js model: it has no modelTopology/);
    await expectFolderError([{ path: 'model.json', bytes: text('{"modelTopology": {}}') }], /model\.json is not a TensorFlow\.js model: it has no weightsManifest/);
    await expectFolderError([{ path: 'model.json', bytes: text('{"modelTopology": {"x": 1}, "weightsManifest": []}') }], /neither 'node' nor 'class_name'/);
    await expectFolderError([{ path: 'model.json', bytes: text('{"format": "onnx", "modelTopology": {}, "weightsManifest": []}') }], /format 'onnx' is neither/);
  });

  it('a missing shard, by name', async () => {
    await expectFolderError(
      graphFolder.filter((f) => f.path !== 'group1-shard2of3.bin'),
      /^weight file 'group1-shard2of3\.bin' named by model\.json is missing from the folder$/,
    );
    await expectFolderError(graphFolder.slice(0, 1), /weight files 'group1-shard1of3\.bin', 'group1-shard2of3\.bin', 'group1-shard3of3\.bin' named by model\.json are missing/);
  });

  it('an extra shard', async () => {
    await expectFolderError(
      [...graphFolder, { path: 'group1-shard1of1.bin', bytes: new ArrayBuffer(8) }],
      /the folder holds weight file 'group1-shard1of1\.bin' that model\.json does not name/,
    );
  });

  it('other files beside the model are fine', async () => {
    expect((await parseModelFolder([...layersFolder, { path: 'LICENSE.txt', bytes: text('MIT') }], 'x')).format).toBe('layers');
  });

  it('a short shard, by name', async () => {
    const files = graphFolder.map((f) => (f.path === 'group1-shard2of3.bin' ? { ...f, bytes: f.bytes.slice(0, f.bytes.byteLength - 10) } : f));
    await expectFolderError(files, /hold 4300765 bytes, model\.json describes 4300775 \(10 bytes short\); 'group1-shard2of3\.bin' looks truncated/);
    const last = graphFolder.map((f) => (f.path === 'group1-shard3of3.bin' ? { ...f, bytes: f.bytes.slice(0, 5) } : f));
    await expectFolderError(last, /bytes short\); 'group1-shard3of3\.bin' looks truncated/);
    const empty = layersFolder.map((f, i) => (i === 1 ? { ...f, bytes: new ArrayBuffer(0) } : f));
    await expectFolderError(empty, /weight file 'group1-shard1of1\.bin' holds 0 bytes.*'group1-shard1of1\.bin' is empty/);
  });

  it('weights longer than the manifest', async () => {
    const files = graphFolder.map((f) => (f.path === 'group1-shard3of3.bin' ? { ...f, bytes: ab(new Uint8Array([...new Uint8Array(f.bytes), 0, 0])) } : f));
    await expectFolderError(files, /hold 4300777 bytes, model\.json describes 4300775 \(2 bytes too many\)/);
  });

  it('an unsupported dtype', async () => {
    await expectFolderError(
      withJson((j) => {
        j.weightsManifest[0].weights[0].dtype = 'string';
        delete j.weightsManifest[0].weights[0].quantization;
      }),
      /weight '.*Conv2D_weights' has dtype 'string', which is not supported/,
    );
    await expectFolderError(
      withJson((j) => {
        j.weightsManifest[0].weights[3].quantization!.dtype = 'int4';
      }),
      /is quantized as 'int4', which is not supported/,
    );
  });

  it('weights outside the folder', async () => {
    await expectFolderError(
      withJson((j) => {
        j.weightsManifest[0].paths[0] = 'https://example.com/w.bin';
      }),
      /names weights at 'https:\/\/example\.com\/w\.bin', outside the folder/,
    );
  });

  it('inputs Winnow cannot feed', async () => {
    const gray = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 2, kernelSize: 3 })] });
    await expectFolderError(await saveLayers(gray), /takes 1 channels per pixel .*Winnow feeds RGB/);
    gray.dispose();
    const wide = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [32, 64, 3], filters: 2, kernelSize: 3 })] });
    await expectFolderError(await saveLayers(wide), /is 32×64; only square inputs are supported/);
    wide.dispose();
    await expectFolderError(
      withJson((j) => {
        const t = j as unknown as { modelTopology: { node: { op: string; attr: { dtype: { type: string } } }[] } };
        t.modelTopology.node.find((n) => n.op === 'Placeholder')!.attr.dtype = { type: 'DT_INT32' };
      }),
      /input 'input' takes int32; Winnow feeds float32 images/,
    );
  });

  it('toStoredModel checks the choice', async () => {
    const p = await parseModelFolder(layersFolder, 'tiny');
    expect(() => toStoredModel(p, { outputNode: 'nope', dim: 3 })).toThrow(/'nope' is not a node of this model/);
    expect(() => toStoredModel(p, { outputNode: 'pool', dim: 0 })).toThrow(/positive integer/);
    expect(() => toStoredModel(p, { outputNode: 'pool', dim: 6, inputRange: [1, 0] })).toThrow(/lo < hi/);
    const s = toStoredModel(p, { outputNode: 'pool', dim: 6, inputRange: [0, 255] }, 42);
    expect(s).toMatchObject({ id: p.id, name: 'tiny', format: 'layers', outputNode: 'pool', dim: 6, inputSize: 32, inputRange: [0, 255], createdAt: 42 });
  });
});
