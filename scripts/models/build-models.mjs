#!/usr/bin/env node
// Converts the model weights that ship inside npm packages into plain static files served from our
// own origin (public/models/), and writes public/models/registry.json describing them with SHA-256
// digests. Runs before dev/build/test (`npm run models`). Nothing is downloaded: the weights come
// from node_modules, installed by npm at install time.
//
// nsfwjs ships MobileNetV2Mid as a tfjs graph model whose weights are base64 strings wrapped in
// browserify JS modules (`group1-shardXofN.min.js`). Here they are decoded and concatenated, in the
// order the weights manifest lists them, into ONE `weights.bin`, and model.json is rewritten to
// point at it. That saves the 33 % base64 overhead and lets the browser cache plain binary.
//
// Idempotent: when registry.json already describes the same source version and every file on disk
// has the recorded size and SHA-256, nothing is decoded or written.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync, copyFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// `--out DIR` writes somewhere else (tests use a temporary folder); default public/models/.
const outArg = process.argv.indexOf('--out');
const outRoot = outArg > 0 && process.argv[outArg + 1] ? resolve(process.argv[outArg + 1]) : join(root, 'public', 'models');
const require = createRequire(join(root, 'package.json'));

/** Every model this script produces. The registry lists them in this order. */
const MODELS = [
  {
    id: 'mobilenetv2-mid',
    pkg: 'nsfwjs',
    // The version the app is pinned to; a different installed version is refused (see MODELS.md:
    // an unpinned install once resolved an older one).
    expectVersion: '4.4.0',
    moduleSpecifier: 'nsfwjs/models/mobilenet_v2_mid',
    exportName: 'MobileNetV2MidModel',
    name: 'MobileNetV2Mid',
    describeSource: (v) =>
      `nsfwjs@${v} (MobileNetV2 width 1.4, ImageNet-initialised, fine-tuned on a 5-class content dataset)`,
    licence: 'MIT (nsfwjs code and packaging, (c) Infinite Red); Apache-2.0 (MobileNetV2 base weights)',
    inputSize: 224,
    input: 'input',
    inputRange: [0, 1],
    outputNode:
      'StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/StatefulPartitionedCall/predict/MobilenetV2/Logits/AvgPool',
    dim: 1792,
  },
];

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

/** Bytes one weight occupies in the binary, from its dtype or its quantization dtype. */
function weightBytes(w) {
  const n = w.shape.reduce((a, b) => a * b, 1);
  const dtype = w.quantization?.dtype ?? w.dtype;
  const per = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 }[dtype];
  if (per === undefined) throw new Error(`weight ${w.name}: unsupported dtype ${dtype}`);
  return n * per;
}

/** The installed package's folder. (nsfwjs's `exports` hides package.json, so walk up from its main.) */
function packageDir(pkg) {
  let dir = dirname(require.resolve(pkg));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate) && JSON.parse(readFileSync(candidate, 'utf8')).name === pkg) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the folder of ${pkg}`);
    dir = up;
  }
}

function installedVersion(pkg) {
  return JSON.parse(readFileSync(join(packageDir(pkg), 'package.json'), 'utf8')).version;
}

/** Writes atomically (temp file + rename), so an interrupted run never leaves a half file behind. */
function writeAtomic(path, data) {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

function upToDate(previous, entry) {
  if (!previous || previous.version !== entry.version || previous.source !== entry.source) return false;
  for (const key of ['inputSize', 'input', 'outputNode', 'dim', 'licence', 'name']) {
    if (previous[key] !== entry[key]) return false;
  }
  if (JSON.stringify(previous.inputRange) !== JSON.stringify(entry.inputRange)) return false;
  if (!Array.isArray(previous.files) || previous.files.length === 0) return false;
  return previous.files.every((f) => {
    const p = join(outRoot, f.path);
    if (!existsSync(p)) return false;
    const buf = readFileSync(p);
    return buf.length === f.bytes && sha256(buf) === f.sha256;
  });
}

async function convert(spec, version) {
  const mod = await import(spec.moduleSpecifier);
  const def = mod[spec.exportName];
  if (!def || typeof def.modelJson !== 'function' || !Array.isArray(def.weightBundles)) {
    throw new Error(`${spec.moduleSpecifier} does not export ${spec.exportName} with modelJson()/weightBundles`);
  }
  const json = (await def.modelJson()).default;
  if (json?.format !== 'graph-model' || !Array.isArray(json.weightsManifest)) {
    throw new Error(`${spec.moduleSpecifier}: expected a tfjs graph model JSON`);
  }
  // nsfwjs names each bundle group1-shard{i+1}of{N} and looks them up by the manifest's paths.
  const shards = new Map();
  const n = def.weightBundles.length;
  for (let i = 0; i < n; i++) {
    const b64 = (await def.weightBundles[i]()).default;
    if (typeof b64 !== 'string') throw new Error(`${spec.moduleSpecifier}: weight bundle ${i} is not a base64 string`);
    shards.set(`group1-shard${i + 1}of${n}`, Buffer.from(b64, 'base64'));
  }
  const parts = [];
  const weights = [];
  for (const group of json.weightsManifest) {
    for (const p of group.paths) {
      const buf = shards.get(p);
      if (!buf) throw new Error(`${spec.moduleSpecifier}: no weight bundle for manifest path ${p}`);
      parts.push(buf);
    }
    weights.push(...group.weights);
  }
  const bin = Buffer.concat(parts);
  const expected = weights.reduce((a, w) => a + weightBytes(w), 0);
  if (bin.length !== expected) {
    throw new Error(`${spec.id}: decoded ${bin.length} weight bytes, the manifest describes ${expected}`);
  }
  // Check the nodes we rely on exist, so a changed package fails here rather than in the browser.
  const nodes = new Map(json.modelTopology.node.map((nd) => [nd.name, nd]));
  const inputNode = nodes.get(spec.input);
  if (inputNode?.op !== 'Placeholder') throw new Error(`${spec.id}: no Placeholder input node '${spec.input}'`);
  if (!nodes.has(spec.outputNode)) throw new Error(`${spec.id}: output node not in the graph: ${spec.outputNode}`);

  const modelJson = {
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
    userDefinedMetadata: json.userDefinedMetadata,
    modelTopology: json.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights }],
  };
  return { modelJson: Buffer.from(JSON.stringify(modelJson)), bin };
}

async function main() {
  const started = performance.now();
  const registryPath = join(outRoot, 'registry.json');
  let previous = [];
  try {
    previous = JSON.parse(readFileSync(registryPath, 'utf8'));
    if (!Array.isArray(previous)) previous = [];
  } catch {
    previous = [];
  }

  const registry = [];
  let changed = false;
  for (const spec of MODELS) {
    const version = installedVersion(spec.pkg);
    if (version !== spec.expectVersion) {
      throw new Error(`${spec.pkg}@${version} is installed, ${spec.expectVersion} is required (run npm ci)`);
    }
    const entry = {
      id: spec.id,
      version,
      name: spec.name,
      source: spec.describeSource(version),
      licence: spec.licence,
      inputSize: spec.inputSize,
      input: spec.input,
      inputRange: spec.inputRange,
      outputNode: spec.outputNode,
      dim: spec.dim,
      files: [],
    };
    const old = previous.find((e) => e?.id === spec.id);
    if (upToDate(old, entry)) {
      entry.files = old.files;
      registry.push(entry);
      continue;
    }
    const dir = join(outRoot, spec.id);
    mkdirSync(dir, { recursive: true });
    const { modelJson, bin } = await convert(spec, version);
    const written = [
      ['model.json', modelJson],
      ['weights.bin', bin],
    ];
    for (const [name, buf] of written) {
      writeAtomic(join(dir, name), buf);
      entry.files.push({ path: `${spec.id}/${name}`, sha256: sha256(buf), bytes: buf.length });
    }
    // Ship the package's licence next to the weights it covers.
    copyFileSync(join(packageDir(spec.pkg), 'LICENSE'), join(dir, 'LICENSE.txt'));
    registry.push(entry);
    changed = true;
  }

  const text = `${JSON.stringify(registry, null, 2)}\n`;
  if (changed || !existsSync(registryPath) || readFileSync(registryPath, 'utf8') !== text) {
    mkdirSync(outRoot, { recursive: true });
    writeAtomic(registryPath, text);
    changed = true;
  }
  const ms = Math.round(performance.now() - started);
  const where = relative(process.cwd(), outRoot) || '.';
  console.log(`models: ${changed ? 'wrote' : 'up to date'} ${registry.map((e) => e.id).join(', ')} in ${where} (${ms} ms)`);
}

main().catch((err) => {
  console.error(`models: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
