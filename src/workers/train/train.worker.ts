/**
 * The training worker (issue 5): holds the user's labelled images decoded to the network's input
 * size, trains the compact ResNet on them with live progress, pause, resume and cancel, and keeps a
 * checkpoint in IndexedDB after every epoch so a reload resumes the run. The run itself lives in
 * src/ml/train/run.ts; this file is the comlink shell around it and the image decoding.
 */
import * as tf from '@tensorflow/tfjs';
import { expose, releaseProxy, transfer } from 'comlink';
import { chooseBackend, type BackendName } from '../../ml/backend.ts';
import { decodeOptions, pixelsFromBitmap, resizeRgba } from '../../ml/pixels.ts';
import {
  runTraining,
  trainAndTest,
  usableIndices,
  type RunControl,
  type TrainAndTestRequest,
  type TrainingData,
  type TrainOutcome,
  type TrainProgress,
  type TrainRequest,
} from '../../ml/train/run.ts';
import { validateTrainSettings, type TrainSettings } from '../../ml/train/settings.ts';
import { timeTrainingSteps } from '../../ml/train/train.ts';
import { FeatureStore } from '../../store/feature-store.ts';

export type { TrainAndTestRequest, TrainOutcome, TrainProgress, TrainRequest } from '../../ml/train/run.ts';

export interface LoadItem {
  sha256: string;
  /** 0-based class index; negative for an image without a label (kept, never trained on). */
  label: number;
  file: Blob;
}

export interface LoadResult {
  loaded: number;
  failed: { index: number; reason: string }[];
}

export interface TimeStepsRequest {
  settings: TrainSettings;
  trainIdx: Int32Array;
  steps: number;
  backend?: 'auto' | BackendName;
}

/** Images decoding at once: createImageBitmap decodes off the worker's thread, so a few overlap. */
const DECODE_AHEAD = 8;
const PROGRESS_INTERVAL_MS = 250;

let data: TrainingData | null = null;
let backend: BackendName | null = null;
let storePromise: Promise<FeatureStore> | null = null;
const store = () => (storePromise ??= FeatureStore.open());

/** What pause(), resume() and cancel() change while a run awaits between steps. */
let busy: string | null = null;
let cancelled = false;
let gate: { promise: Promise<void>; open: () => void } | null = null;

const control: RunControl = {
  isPaused: () => gate !== null,
  waitWhilePaused: () => gate?.promise ?? Promise.resolve(),
  shouldStop: () => cancelled,
};

function openGate(): void {
  gate?.open();
  gate = null;
}

/** One long call at a time: two runs would share the pause state and the backend's memory. */
async function exclusive<T>(what: string, work: () => Promise<T>): Promise<T> {
  if (busy) throw new Error(`${what}() while ${busy}() is running; cancel it first`);
  busy = what;
  cancelled = false;
  gate = null;
  try {
    return await work();
  } finally {
    busy = null;
    cancelled = false;
    openGate();
  }
}

/** The backend, chosen once (webgpu → webgl → wasm → cpu) unless another one is asked for by name. */
async function ensureBackend(wanted: 'auto' | BackendName | undefined): Promise<BackendName> {
  const preferred = wanted && wanted !== 'auto' ? wanted : undefined;
  if (backend && (!preferred || preferred === backend)) return backend;
  backend = await chooseBackend(preferred);
  return backend;
}

/** A comlink callback holds a MessagePort until released; a plain function has nothing to release. */
function release(callback: unknown): void {
  if (typeof callback !== 'function') return;
  try {
    (callback as { [releaseProxy]?: () => void })[releaseProxy]?.();
  } catch {
    // already released
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Decodes one file straight to size² RGB bytes at `out[offset…]`, resized as the embed worker does. */
async function decodeInto(file: Blob, size: number, out: Uint8Array, offset: number): Promise<void> {
  const bitmap = await createImageBitmap(file, decodeOptions({ inputSize: size }));
  try {
    let pixels = pixelsFromBitmap(bitmap);
    // A browser that ignores the resize options hands back the full image: resize it here instead.
    if (pixels.width !== size || pixels.height !== size) pixels = resizeRgba(pixels, size, size);
    const rgba = pixels.data;
    for (let p = 0, o = offset; p < size * size; p++) {
      out[o++] = rgba[p * 4];
      out[o++] = rgba[p * 4 + 1];
      out[o++] = rgba[p * 4 + 2];
    }
  } finally {
    bitmap.close();
  }
}

const api = {
  /**
   * Decodes every image to inputSize² RGB (n × s × s × 3 bytes, 30 MB for 10k CIFAR images) and
   * keeps them, with their labels, for the calls below; indices there are positions in `items`.
   * Replaces what an earlier load kept. A file that does not decode is listed in `failed` and left
   * out of every later index list.
   */
  load(items: LoadItem[], opts: { inputSize: number }, onProgress?: (done: number, total: number) => void): Promise<LoadResult> {
    return exclusive('load', async () => {
      try {
        const size = opts.inputSize;
        if (!(Number.isInteger(size) && size >= 8 && size <= 256)) throw new RangeError(`inputSize ${size}: expected a whole number from 8 to 256`);
        data = null; // the old images go now, before the new ones are allocated
        const px = size * size * 3;
        const images = new Uint8Array(items.length * px);
        const labels = Int32Array.from(items, (it) => (Number.isInteger(it.label) ? it.label : -1));
        const failed: LoadResult['failed'] = [];
        let done = 0;
        let last = -Infinity;
        const report = (force: boolean) => {
          const now = performance.now();
          if (!onProgress || (!force && now - last < PROGRESS_INTERVAL_MS)) return;
          last = now;
          Promise.resolve(onProgress(done, items.length)).catch(() => {});
        };
        let next = 0;
        const lane = async () => {
          while (next < items.length && !cancelled) {
            const i = next++;
            try {
              await decodeInto(items[i].file, size, images, i * px);
            } catch (e) {
              failed.push({ index: i, reason: describe(e) || 'could not be decoded' });
            }
            done++;
            report(false);
          }
        };
        await Promise.all(Array.from({ length: Math.min(DECODE_AHEAD, items.length) }, lane));
        if (cancelled) throw new DOMException('Loading was cancelled', 'AbortError');
        report(true);
        failed.sort((a, b) => a.index - b.index);
        data = { images, labels, inputSize: size, failed: new Set(failed.map((f) => f.index)) };
        return { loaded: items.length - failed.length, failed };
      } finally {
        release(onProgress);
      }
    });
  },

  /**
   * Trains the run (or resumes it from its checkpoint when `resume` and the checkpoint's data,
   * settings and split match), checkpointing after every epoch; on completion saves the network
   * as the user model `saveAs.id` and deletes the checkpoint. cancel() ends it after the current
   * step with status 'cancelled' and the last checkpoint kept.
   */
  train(req: TrainRequest, onProgress: (p: TrainProgress) => void): Promise<TrainOutcome> {
    return exclusive('train', async () => {
      try {
        const loaded = data;
        if (!loaded) throw new Error('train() before load()');
        validateTrainSettings(req.settings);
        const name = await ensureBackend(req.backend);
        const outcome = await runTraining(loaded, req, await store(), control, name, onProgress);
        return transfer(outcome, [outcome.valIdx.buffer, outcome.trainIdx.buffer]);
      } finally {
        release(onProgress);
      }
    });
  },

  /** Holds training before its next step (reported as phase 'paused'). */
  pause(): void {
    if (busy && !gate) {
      let open = () => {};
      const promise = new Promise<void>((resolve) => (open = resolve));
      gate = { promise, open };
    }
  },

  resume(): void {
    openGate();
  },

  /** Stops the running call after its current step (or image, while loading); a paused run stops at once. */
  cancel(): void {
    if (!busy) return;
    cancelled = true;
    openGate();
  },

  /**
   * One network of the Figure 2 experiment: from scratch on trainIdx, no validation split, no
   * checkpoint, nothing saved; its accuracy on testIdx. Rejects with an AbortError on cancel().
   */
  trainAndTest(req: TrainAndTestRequest, onProgress?: (p: TrainProgress) => void): Promise<{ testAccuracy: number; history: TrainOutcome['history']; seconds: number }> {
    return exclusive('trainAndTest', async () => {
      try {
        const loaded = data;
        if (!loaded) throw new Error('trainAndTest() before load()');
        const name = await ensureBackend(req.backend);
        return await trainAndTest(loaded, req, control, name, onProgress);
      } finally {
        release(onProgress);
      }
    });
  },

  /**
   * Seconds per training image and per test image with these settings on this backend, from
   * `steps` real training steps (the first two, which compile kernels, left out), for an honest
   * estimate of a run's duration. Nothing is kept.
   */
  timeSteps(req: TimeStepsRequest): Promise<{ secondsPerImage: number; secondsPerTestImage: number }> {
    return exclusive('timeSteps', async () => {
      const loaded = data;
      if (!loaded) throw new Error('timeSteps() before load()');
      const s = validateTrainSettings(req.settings);
      if (s.inputSize !== loaded.inputSize) throw new Error(`settings.inputSize is ${s.inputSize}, but the images were loaded at ${loaded.inputSize}`);
      await ensureBackend(req.backend);
      const idx = usableIndices(loaded, req.trainIdx);
      return timeTrainingSteps(loaded.images, loaded.labels, idx, { inputSize: s.inputSize, width: s.width, blocksPerStage: s.blocksPerStage, batchSize: s.batchSize, augment: s.augment, seed: s.seed }, req.steps);
    });
  },

  /** The backend in use, or null before the first training call. */
  backend(): string | null {
    return backend;
  },

  /** Live tensors, for leak checks: unchanged by train(), trainAndTest() and timeSteps(). */
  tensorCount(): number {
    return tf.memory().numTensors;
  },
};

export type TrainWorkerApi = typeof api;
expose(api);
