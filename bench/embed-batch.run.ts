/**
 * `BENCH_ONLY=embed-batch npm run bench`: the default model's time per image on tfjs wasm (Node,
 * one thread, the same SIMD binary the app serves) for batches of 1 to 64, on 320 CIFAR-10 images
 * decoded beforehand, so only the model call is timed. The batches take turns, two rounds, and
 * the faster round counts: the machine is shared. The app's batch (16) is the reference. Writes
 * bench/results-embed-batch.json.
 */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { embedBatch, resizeRgba } from '../src/ml/index.ts';
import { repoRoot } from '../tests/support/paths.ts';
import { cifarDir, cifarSubset, decodeFiles, extractCifarItems, loadModel, round } from './support/embeddings.ts';

const only = process.env.BENCH_ONLY?.split(',').filter(Boolean) ?? [];
const MODEL = 'mobilenetv2-mid';
const BATCHES = [1, 4, 8, 16, 32, 64];
const APP_BATCH = 16;

test.runIf(only.includes('embed-batch'))(
  'embed-batch',
  async () => {
    const files = await extractCifarItems(cifarDir(), await cifarSubset('train', 32));
    const embedder = await loadModel(MODEL);
    const { entry, model } = embedder;
    const pixels = (await decodeFiles(files)).map((p) => resizeRgba(p, entry.inputSize));
    const best = new Map<number, number>();
    for (let round_ = 0; round_ < 2; round_++) {
      for (const batch of BATCHES) {
        const t0 = performance.now();
        for (let start = 0; start < pixels.length; start += batch) {
          const v = await embedBatch(model, entry, pixels.slice(start, start + batch));
          expect(v.length).toBe(Math.min(batch, pixels.length - start) * entry.dim);
        }
        const ms = (performance.now() - t0) / pixels.length;
        best.set(batch, Math.min(best.get(batch) ?? Infinity, ms));
      }
    }
    const reference = best.get(APP_BATCH)!;
    const rows = BATCHES.map((batch) => ({ batch, msPerImage: round(best.get(batch)!, 2), speedVsApp: round(reference / best.get(batch)!, 3) }));
    const out = { machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version }, model: MODEL, images: pixels.length, inputSize: entry.inputSize, appBatch: APP_BATCH, rows };
    await writeFile(path.join(repoRoot, 'bench/results-embed-batch.json'), JSON.stringify(out, null, 2) + '\n');
    console.log(JSON.stringify(out, null, 2));
  },
  1_800_000,
);
