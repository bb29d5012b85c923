/**
 * Measurement, not a test: how much class meaning the shipped embedding carries, as CIFAR-10
 * 10-nearest-neighbour label accuracy: 500 test images (first 50 per class by CIFAR index) against
 * 2,000 train images (first 200 per class), cosine similarity, majority vote of the 10 nearest
 * (a tie goes to the tied label whose member ranks nearest). Compared with raw 32×32 RGB pixels as
 * the floor. Images are 32 px, upscaled to the model input with resizeRgba (bilinear), as the app
 * would when it cannot use createImageBitmap's resize.
 *
 * Writes bench/results-embedding-quality.json. Run alone:
 *     npx vitest run --project bench bench/embedding-quality.run.ts
 * Shares the vector cache with bench/neardup-embeddings.run.ts ($WINNOW_BENCH_CACHE, default
 * /tmp/winnow-bench-cache); first run ~3 min on 2 cores, later runs seconds.
 */
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { repoRoot } from '../tests/support/paths.ts';
import { loadRegistry } from '../src/ml/registry.ts';
import { fileFetch } from '../tests/unit/ml/helpers.ts';
import {
  CIFAR_CLASSES,
  backendName,
  cifarDir,
  cifarSubset,
  decodeFiles,
  disposeModel,
  dotRows,
  embedFiles,
  extractCifarItems,
  meanRow,
  round,
  unitRows,
  jpegFallbacks,
} from './support/embeddings.ts';

const K = 10;
const TRAIN_PER_CLASS = 200;
const TEST_PER_CLASS = 50;

afterAll(() => disposeModel());

/** Raw RGB pixels (0..255, alpha dropped) as an n × (w·h·3) float matrix. */
async function pixelMatrix(files: string[]): Promise<{ x: Float32Array; dim: number }> {
  const imgs = await decodeFiles(files);
  const dim = imgs[0].width * imgs[0].height * 3;
  const x = new Float32Array(files.length * dim);
  imgs.forEach((img, i) => {
    if (img.width * img.height * 3 !== dim) throw new Error(`${files[i]} is ${img.width}×${img.height}`);
    for (let p = 0, o = i * dim; p < img.width * img.height; p++) {
      x[o++] = img.data[p * 4];
      x[o++] = img.data[p * 4 + 1];
      x[o++] = img.data[p * 4 + 2];
    }
  });
  return { x, dim };
}

/**
 * k-NN accuracy of unit-row test vectors against unit-row train vectors. Vote: most neighbours wins;
 * among tied labels, the one with the nearest member. Also 1-NN accuracy and per-class accuracy.
 */
function knn(train: Float64Array, trainLabels: number[], test: Float64Array, testLabels: number[], dim: number, k = K) {
  const nTrain = trainLabels.length;
  let correct = 0;
  let correct1 = 0;
  const perClass = new Array(CIFAR_CLASSES.length).fill(0);
  const sims = new Float64Array(nTrain);
  const order = new Int32Array(nTrain);
  for (let t = 0; t < testLabels.length; t++) {
    for (let i = 0; i < nTrain; i++) {
      sims[i] = dotRows(test, t, train, i, dim);
      order[i] = i;
    }
    // Stable order: higher similarity first, lower train index on exact ties.
    const top = Array.from(order).sort((a, b) => sims[b] - sims[a] || a - b).slice(0, k);
    const votes = new Map<number, { count: number; rank: number }>();
    top.forEach((i, rank) => {
      const v = votes.get(trainLabels[i]);
      if (v) v.count++;
      else votes.set(trainLabels[i], { count: 1, rank });
    });
    let best = -1;
    let bestV = { count: -1, rank: Infinity };
    for (const [label, v] of votes) if (v.count > bestV.count || (v.count === bestV.count && v.rank < bestV.rank)) [best, bestV] = [label, v];
    if (best === testLabels[t]) {
      correct++;
      perClass[testLabels[t]]++;
    }
    if (trainLabels[top[0]] === testLabels[t]) correct1++;
  }
  const n = testLabels.length;
  const acc = correct / n;
  return {
    accuracy: round(acc, 3),
    stdErr: round(Math.sqrt((acc * (1 - acc)) / n), 3),
    oneNN: round(correct1 / n, 3),
    perClass: Object.fromEntries(CIFAR_CLASSES.map((c, i) => [c, round(perClass[i] / testLabels.filter((l) => l === i).length, 2)])),
  };
}

// BENCH_ONLY=a,b runs only the benches whose names start with one of those (as bench/intake.run.ts).
const only = process.env.BENCH_ONLY?.split(',').filter(Boolean) ?? [];
test.runIf(only.length === 0 || only.some((o) => 'embedding-quality'.startsWith(o)))('embedding-quality', async () => {
  const t0 = performance.now();
  const train = await cifarSubset('train', TRAIN_PER_CLASS);
  const testItems = await cifarSubset('test', TEST_PER_CLASS);
  const dir = cifarDir();
  const trainPaths = await extractCifarItems(dir, train);
  const testPaths = await extractCifarItems(dir, testItems);
  const trainLabels = train.map((it) => it.label);
  const testLabels = testItems.map((it) => it.label);

  const results: Record<string, unknown>[] = [];
  const add = (name: string, what: string, r: ReturnType<typeof knn>) => {
    results.push({ name, what, ...r });
    console.log(`${name.padEnd(32)} 10-NN ${r.accuracy.toFixed(3)} ± ${r.stdErr.toFixed(3)}   1-NN ${r.oneNN.toFixed(3)}`);
  };

  // Raw pixels: the floor any embedding should beat.
  const px = { train: await pixelMatrix(trainPaths), test: await pixelMatrix(testPaths) };
  const pd = px.train.dim;
  add('pixels-32-raw', 'raw 32×32 RGB, cosine', knn(unitRows(px.train.x, train.length, pd), trainLabels, unitRows(px.test.x, testItems.length, pd), testLabels, pd));
  const pMean = meanRow(px.train.x, train.length, pd);
  add('pixels-32-centred', 'raw 32×32 RGB minus train mean, cosine', knn(unitRows(px.train.x, train.length, pd, pMean), trainLabels, unitRows(px.test.x, testItems.length, pd, pMean), testLabels, pd));

  // Every model in the registry (today: mobilenetv2-mid).
  const registry = await loadRegistry('/models/', fileFetch());
  const timing: Record<string, number | null> = {};
  for (const entry of registry) {
    const tr = await embedFiles(entry.id, trainPaths);
    const te = await embedFiles(entry.id, testPaths);
    timing[entry.id] = tr.msPerImage ?? te.msPerImage;
    const dim = tr.dim;
    add(`${entry.id}-raw`, `${entry.id} @${entry.inputSize}, cosine`, knn(unitRows(tr.vectors, train.length, dim), trainLabels, unitRows(te.vectors, testItems.length, dim), testLabels, dim));
    const mean = meanRow(tr.vectors, train.length, dim);
    add(`${entry.id}-centred`, `${entry.id} @${entry.inputSize}, minus train mean, cosine`, knn(unitRows(tr.vectors, train.length, dim, mean), trainLabels, unitRows(te.vectors, testItems.length, dim, mean), testLabels, dim));
  }

  const out = {
    what: `CIFAR-10 ${K}-NN label accuracy: ${testItems.length} test vs ${train.length} train (class-balanced, first by CIFAR index), cosine, majority vote, tie → nearest`,
    command: 'npx vitest run --project bench bench/embedding-quality.run.ts',
    chance: 0.1,
    backend: backendName(),
    machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version },
    msPerImage: timing,
    decoding: { jpeg: 'libjpeg-turbo-exact test decoder', jpegFallbacksToJpegJs: jpegFallbacks.length, png: 'pngjs', webp: 'Chromium createImageBitmap' },
    results,
    seconds: round((performance.now() - t0) / 1000, 1),
  };
  await writeFile(path.join(repoRoot, 'bench/results-embedding-quality.json'), JSON.stringify(out, null, 2) + '\n');
  expect(JSON.parse(await readFile(path.join(repoRoot, 'bench/results-embedding-quality.json'), 'utf8')).results.length).toBeGreaterThan(0);
});
