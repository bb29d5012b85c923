import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseBackend } from '../../../src/ml/backend.ts';
import { embedBatch } from '../../../src/ml/embed.ts';
import { loadEmbedder, type Embedder } from '../../../src/ml/load-model.ts';
import type { Pixels } from '../../../src/ml/pixels.ts';
import { findModel, loadRegistry } from '../../../src/ml/registry.ts';
import { WASM_DIR, buildModels, cosine, fileFetch, loadForModel, row } from './helpers.ts';

// Five unrelated originals, each with two copies a user would want found.
const GROUPS = ['g000', 'g002', 'g004', 'g006', 'g008'];
const VARIANTS = ['orig', 'jpeg_q50', 'resize50'];
const names = GROUPS.flatMap((g) => VARIANTS.map((v) => `${g}_${v}.jpg`));
const groupOf = (i: number) => Math.floor(i / VARIANTS.length);

let emb: Embedder;
let images: Pixels[];
let vectors: Float32Array;

beforeAll(async () => {
  buildModels();
  // wasm and cpu give identical embeddings (MODELS.md; checked again below); wasm is ~20× faster.
  await chooseBackend('wasm', { wasmPaths: WASM_DIR });
  const entry = findModel(await loadRegistry('/models/', fileFetch()), 'mobilenetv2-mid');
  emb = await loadEmbedder(entry, fileFetch());
  images = names.map((n) => loadForModel(n, entry.inputSize));
});
afterAll(() => emb?.dispose());

describe('embedBatch', () => {
  it('returns n × 1792 and leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    const t0 = performance.now();
    vectors = await embedBatch(emb.model, emb.entry, images);
    const ms = performance.now() - t0;
    console.log(`embedBatch on ${tf.getBackend()}: ${images.length} images at 224 in ${ms.toFixed(0)} ms = ${(ms / images.length).toFixed(1)} ms/image`);
    expect(tf.memory().numTensors).toBe(before);
    expect(vectors).toBeInstanceOf(Float32Array);
    expect(vectors.length).toBe(images.length * 1792);
    // shape [n, 1792]: every row is a real, non-zero feature vector
    for (let i = 0; i < images.length; i++) {
      const r = row(vectors, i, 1792);
      expect(r.every(Number.isFinite)).toBe(true);
      expect(r.some((v) => v !== 0)).toBe(true);
    }
  });

  it('embeds the same image the same way alone and in a batch', async () => {
    const one = await embedBatch(emb.model, emb.entry, [images[3]]);
    expect(one.length).toBe(1792);
    expect(cosine(one, row(vectors, 3, 1792))).toBeGreaterThan(0.99999);
  });

  it('puts each image next to its own JPEG-q50 and half-size copies', () => {
    const n = names.length;
    const sims: string[] = [];
    for (let i = 0; i < n; i++) {
      let best = -1;
      let bestSim = -Infinity;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const s = cosine(row(vectors, i, 1792), row(vectors, j, 1792));
        if (s > bestSim) [best, bestSim] = [j, s];
      }
      sims.push(`${names[i]} → ${names[best]} ${bestSim.toFixed(4)}`);
      expect(groupOf(best), `${names[i]}'s nearest is ${names[best]}`).toBe(groupOf(i));
    }
    // And among the originals alone, each copy's nearest is its own original.
    const origs = GROUPS.map((_, g) => g * VARIANTS.length);
    for (let i = 0; i < n; i++) {
      const sims = origs.map((o) => cosine(row(vectors, i, 1792), row(vectors, o, 1792)));
      expect(sims.indexOf(Math.max(...sims))).toBe(groupOf(i));
    }
    // Raw cosines sit in a narrow band (MODELS.md): log the margin this handful leaves.
    let sameMin = Infinity;
    let otherMax = -Infinity;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const s = cosine(row(vectors, i, 1792), row(vectors, j, 1792));
        if (groupOf(i) === groupOf(j)) sameMin = Math.min(sameMin, s);
        else otherMax = Math.max(otherMax, s);
      }
    }
    console.log(`${sims.join('\n')}\nlowest same-image cosine ${sameMin.toFixed(4)}, highest cross-image ${otherMax.toFixed(4)}`);
  });

  it('refuses images that are not the input size, without leaking', async () => {
    const before = tf.memory().numTensors;
    const big: Pixels = { data: new Uint8ClampedArray(300 * 200 * 4), width: 300, height: 200 };
    await expect(embedBatch(emb.model, emb.entry, [images[0], big])).rejects.toThrow(/image 1 is 300×200, the model takes 224×224/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('returns an empty array for an empty batch', async () => {
    expect((await embedBatch(emb.model, emb.entry, [])).length).toBe(0);
  });

  it('gives the same embeddings on the cpu backend', async () => {
    await chooseBackend('cpu');
    const cpuEmb = await loadEmbedder(emb.entry, fileFetch());
    const before = tf.memory().numTensors;
    const t0 = performance.now();
    const v = await embedBatch(cpuEmb.model, cpuEmb.entry, images.slice(0, 1));
    console.log(`embedBatch on cpu: 1 image at 224 = ${(performance.now() - t0).toFixed(0)} ms`);
    expect(tf.memory().numTensors).toBe(before);
    for (let i = 0; i < 1; i++) expect(cosine(row(v, i, 1792), row(vectors, i, 1792))).toBeGreaterThan(0.99999);
    cpuEmb.dispose();
    await chooseBackend('wasm', { wasmPaths: WASM_DIR });
  });
});
