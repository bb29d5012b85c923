import * as tf from '@tensorflow/tfjs';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Through the package index, as the worker will import it.
import { chooseBackend, embedBatch, fetchModelArtifacts, findModel, loadEmbedder, loadRegistry, ModelIntegrityError, type ModelEntry } from '../../../src/ml/index.ts';
import { PUBLIC_MODELS, WASM_DIR, buildModels, cosine, fileFetch, loadForModel } from './helpers.ts';

let entry: ModelEntry;
const tmp = mkdtempSync(join(tmpdir(), 'winnow-ml-'));

beforeAll(async () => {
  buildModels();
  await chooseBackend('wasm', { wasmPaths: WASM_DIR });
  entry = findModel(await loadRegistry('/models/', fileFetch()), 'mobilenetv2-mid');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A copy of public/models/ with one file changed by `damage`. */
function damagedCopy(name: string, damage: (b: Buffer) => Buffer): string {
  const dir = mkdtempSync(join(tmp, `${name}-`));
  cpSync(PUBLIC_MODELS, dir, { recursive: true });
  const file = join(dir, 'mobilenetv2-mid', 'weights.bin');
  writeFileSync(file, damage(readFileSync(file)));
  return dir;
}

describe('loadEmbedder', () => {
  it('loads the shipped model from our origin only, warms it up, and frees it on dispose', async () => {
    const before = tf.memory().numTensors;
    const f = fileFetch();
    const emb = await loadEmbedder(entry, f);
    expect(f.urls.sort()).toEqual(['/models/mobilenetv2-mid/model.json', '/models/mobilenetv2-mid/weights.bin']);
    expect(emb.model.inputs.map((t) => t.name)).toContain('input');
    expect(tf.memory().numTensors).toBeGreaterThan(before); // the weights
    emb.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a weights file with one byte flipped, before tfjs sees it', async () => {
    const dir = damagedCopy('flip', (b) => {
      const c = Buffer.from(b);
      c[c.length >> 1] ^= 0x01;
      return c;
    });
    const before = tf.memory().numTensors;
    const err = await loadEmbedder(entry, fileFetch(dir)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelIntegrityError);
    expect((err as Error).message).toMatch(/^model file mobilenetv2-mid\/weights\.bin is damaged: SHA-256 mismatch/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a truncated weights file', async () => {
    const dir = damagedCopy('short', (b) => b.subarray(0, b.length - 10));
    await expect(loadEmbedder(entry, fileFetch(dir))).rejects.toThrow(/weights\.bin is damaged: 4300765 bytes, the registry lists 4300775/);
  });

  it('reports a missing file', async () => {
    await expect(loadEmbedder(entry, fileFetch(join(tmp, 'empty')))).rejects.toThrow(/could not be fetched .*HTTP 404/);
  });

  it('refuses a model whose output is not the registered width', async () => {
    const before = tf.memory().numTensors;
    await expect(loadEmbedder({ ...entry, dim: 1280 }, fileFetch())).rejects.toThrow(/expected 1280 values per image/);
    expect(tf.memory().numTensors).toBe(before); // the half-loaded model was disposed
  });

  it('accepts a tfjs IOHandler (a user-supplied model) and embeds the same', async () => {
    const artifacts = await fetchModelArtifacts(entry, fileFetch());
    const viaHandler = await loadEmbedder(entry, tf.io.fromMemory(artifacts));
    const viaFetch = await loadEmbedder(entry, fileFetch());
    const img = [loadForModel('g000_orig.jpg', 224)];
    const a = await embedBatch(viaHandler.model, entry, img);
    const b = await embedBatch(viaFetch.model, entry, img);
    expect(cosine(a, b)).toBeGreaterThan(0.999999);
    viaHandler.dispose();
    viaFetch.dispose();
  });
});
