/**
 * Training the paper's embedder on the user's own labelled images (Birodkar et al. 2019 embed with
 * a network trained on the dataset itself). The network trains in its own worker; this class holds
 * what the page shows: phase, live curves, time left, the saved model, and how each embedder's
 * neighbours agree with the labels on the validation split.
 *
 * Checkpoints go to IndexedDB after every epoch under a key made of the files' fingerprint and the
 * settings, so a reload (or a cancel) followed by the same folder picks up where it stopped.
 */
import { datasetFingerprint } from '../../core/experiment/fingerprint.ts';
import { defaultTrainSettings, type TrainSettings } from '../../ml/train/settings.ts';
import { FeatureStore } from '../../store/feature-store.ts';
import { EmbeddingClient } from '../../workers/embed/client.ts';
import { knnInWorker } from '../../workers/eval/client.ts';
import { TrainingClient, type TrainOutcome, type TrainProgress } from '../../workers/train/client.ts';
import { datasetSplit, type DatasetSplit } from './dataset-split.ts';
import type { Session } from './session.svelte.ts';

export type TrainPhase = 'idle' | 'loading' | 'training' | 'paused' | 'done' | 'cancelled' | 'error';

/** One embedder's 10-NN label accuracy on the validation split. */
export interface KnnRow {
  modelId: string;
  name: string;
  accuracy: number;
  trained: boolean;
}

export class Training {
  phase = $state<TrainPhase>('idle');
  progress = $state.raw<TrainProgress | null>(null);
  outcome = $state.raw<TrainOutcome | null>(null);
  error = $state<string | null>(null);
  notice = $state<string | null>(null);
  /** Pixels decoded so far (the worker keeps them for the experiment too). */
  loaded = $state.raw<{ done: number; total: number } | null>(null);
  comparison = $state.raw<KnnRow[] | null>(null);
  comparing = $state(false);
  settings = $state.raw<TrainSettings | null>(null);
  /** The split the current worker holds pixels for; the experiment evaluates on its test side. */
  split = $state.raw<DatasetSplit | null>(null);
  modelId = $state<string | null>(null);
  /** A model trained on these files in an earlier visit (shown until the user trains again). */
  earlier = $state.raw<{ id: string; name: string; valAccuracy: number; trainedAt: number } | null>(null);

  private client: TrainingClient | null = null;
  /** The files (by identity) whose pixels the worker holds. */
  private loadedFor: readonly unknown[] | null = null;
  private controller: AbortController | null = null;

  constructor(private readonly session: Session) {}

  /** A new folder: what was shown for the last one goes, and its worker (and pixels) with it. */
  forgetOtherFolders(): void {
    if (this.running || this.shownFor === this.session.files) return;
    this.shownFor = this.session.files;
    this.progress = null;
    this.outcome = null;
    this.comparison = null;
    this.error = null;
    this.notice = null;
    this.settings = null;
    this.modelId = null;
    this.earlier = null;
    if (this.phase !== 'idle') this.phase = 'idle';
    this.client?.dispose();
    this.client = null;
    this.loadedFor = null;
    this.split = null;
  }
  private shownFor: readonly unknown[] | null = null;

  /** Why training cannot start on this folder, or null when it can. */
  get blocker(): string | null {
    if (this.session.runState !== 'done') return 'Training starts once the folder has been analysed.';
    const answer = datasetSplit(this.session.files, this.session.results);
    return answer.ok ? null : answer.reason;
  }

  get running(): boolean {
    return this.phase === 'loading' || this.phase === 'training' || this.phase === 'paused';
  }

  /** Settings sized to the folder as it is now (shown before the user starts). */
  proposedSettings(): TrainSettings | null {
    const answer = datasetSplit(this.session.files, this.session.results);
    if (!answer.ok) return null;
    const s = answer.split;
    return defaultTrainSettings({ count: s.train.length, classes: s.classes.length, medianSide: s.medianSide });
  }

  /**
   * The worker with the folder's pixels decoded, started (and filled) on first use; the experiment
   * shares it so the pixels are decoded once.
   */
  async worker(signal?: AbortSignal): Promise<{ client: TrainingClient; split: DatasetSplit }> {
    const answer = datasetSplit(this.session.files, this.session.results);
    if (!answer.ok) throw new Error(answer.reason);
    const split = answer.split;
    const inputSize = (this.settings ?? defaultTrainSettings({ count: split.train.length, classes: split.classes.length, medianSide: split.medianSide })).inputSize;
    if (this.client && this.loadedFor === this.session.files && this.split && this.loadedInputSize === inputSize) return { client: this.client, split: this.split };
    this.client?.dispose();
    const client = new TrainingClient();
    this.client = client;
    this.loaded = { done: 0, total: split.items.length };
    const result = await client.load(
      split.items.map((it) => ({ sha256: it.sha256, label: it.label, file: it.file })),
      { inputSize },
      (done, total) => (this.loaded = { done, total }),
      signal,
    );
    if (result.failed.length > 0) {
      this.notice = `${result.failed.length} image(s) could not be decoded for training and are left out: ${result.failed.slice(0, 3).map((f) => `${split.items[f.index] ? this.session.files[split.items[f.index].id].path : f.index} (${f.reason})`).join('; ')}${result.failed.length > 3 ? '; …' : ''}.`;
      const bad = new Set(result.failed.map((f) => f.index));
      split.train = split.train.filter((i) => !bad.has(i));
      split.test = split.test.filter((i) => !bad.has(i));
    }
    this.loadedFor = this.session.files;
    this.loadedInputSize = inputSize;
    this.split = split;
    return { client, split };
  }
  private loadedInputSize = 0;

  async start(options: { resume?: boolean; settings?: Partial<TrainSettings> } = {}): Promise<void> {
    if (this.running) return;
    const controller = new AbortController();
    this.controller = controller;
    this.error = null;
    this.notice = null;
    this.outcome = null;
    this.comparison = null;
    this.progress = null;
    this.phase = 'loading';
    try {
      const proposed = this.proposedSettings();
      if (!proposed) throw new Error(this.blocker ?? 'nothing to train on');
      this.settings = { ...proposed, ...options.settings };
      const { client, split } = await this.worker(controller.signal);
      const settings = this.settings;
      const fingerprint = splitFingerprint(split);
      const runKey = trainRunKey(fingerprint, settings);
      await rememberLatest(fingerprint, runKey, settings);
      this.phase = 'training';
      const outcome = await client.train(
        {
          runKey,
          fingerprint,
          trainIdx: split.train.slice(),
          settings,
          resume: options.resume ?? true,
          saveAs: {
            id: `user-trained-${fingerprint.slice(0, 10)}-${Date.now().toString(36)}`,
            name: `Trained on ${this.session.rootName || 'this folder'} (${split.train.length.toLocaleString()} images)`,
            classes: split.classes,
            fileCount: split.train.length,
          },
          backend: this.session.settings.backend ?? 'auto',
        },
        (p) => {
          this.progress = p;
          if (p.phase === 'paused') this.phase = 'paused';
          else if (this.phase === 'paused') this.phase = 'training';
        },
        controller.signal,
      );
      this.outcome = outcome;
      if (outcome.resumedFromEpoch != null) this.notice = `Resumed from the checkpoint saved after epoch ${outcome.resumedFromEpoch + 1}.`;
      if (outcome.status === 'cancelled') {
        this.phase = 'cancelled';
        return;
      }
      this.modelId = outcome.modelId ?? null;
      this.phase = 'done';
      if (outcome.modelId) await this.compare(outcome, split, controller.signal);
    } catch (error) {
      if (controller.signal.aborted) {
        this.phase = 'cancelled';
        return;
      }
      this.phase = 'error';
      this.error = error instanceof Error ? error.message : String(error);
    } finally {
      if (this.controller === controller) this.controller = null;
    }
  }

  pause(): void {
    void this.client?.pause();
  }

  resume(): void {
    void this.client?.resume();
  }

  /** Stops after the current step; the last epoch's checkpoint stays, so Start resumes from it. */
  cancel(): void {
    if (!this.running) return;
    void this.client?.cancel();
  }

  /**
   * A checkpoint for this folder, if a reload (or a cancel) left one: the latest training started
   * on these files is remembered with its settings, so epochs the user chose are resumed as chosen.
   */
  async findCheckpoint(): Promise<{ epoch: number; settings: TrainSettings } | null> {
    const answer = datasetSplit(this.session.files, this.session.results);
    if (!answer.ok) return null;
    const fingerprint = splitFingerprint(answer.split);
    const store = await FeatureStore.open();
    try {
      const latest = (await store.getMeta(latestKey(fingerprint))) as { runKey: string; settings: TrainSettings } | undefined;
      if (!latest) return null;
      const cp = await store.getCheckpoint(latest.runKey);
      return cp && cp.fingerprint === fingerprint ? { epoch: cp.epoch, settings: latest.settings } : null;
    } finally {
      store.close();
    }
  }

  /**
   * A network trained on exactly these training files in an earlier visit, newest first: offered
   * again instead of training anew.
   */
  async findTrainedModel(): Promise<{ id: string; name: string; valAccuracy: number; trainedAt: number } | null> {
    const answer = datasetSplit(this.session.files, this.session.results);
    if (!answer.ok) return null;
    const fingerprint = splitFingerprint(answer.split);
    const store = await FeatureStore.open();
    try {
      const mine = (await store.listModels()).filter((m) => m.trained?.fingerprint === fingerprint).sort((a, b) => b.trained!.trainedAt - a.trained!.trainedAt);
      const m = mine[0];
      return m ? { id: m.id, name: m.name, valAccuracy: m.trained!.valAccuracy, trainedAt: m.trained!.trainedAt } : null;
    } finally {
      store.close();
    }
  }

  /** Makes the trained network the run's embedder and switches to semantic mode. */
  useTrainedModel(id: string | null = this.modelId): void {
    if (!id) return;
    this.session.settings.model = id;
    this.session.settings.mode = 'semantic';
    this.session.settingsChanged();
  }

  /**
   * 10-NN label accuracy on the training run's validation images, for the trained network and for
   * the model the run used before, so the user sees which one understands their classes.
   */
  async compare(outcome: TrainOutcome, split: DatasetSplit, signal: AbortSignal): Promise<void> {
    this.comparing = true;
    try {
      const models: { id: string; name: string; trained: boolean }[] = [{ id: outcome.modelId!, name: 'trained on this dataset', trained: true }];
      const before = this.session.settings.model;
      if (before !== outcome.modelId) models.push({ id: before, name: before, trained: false });
      const rows: KnnRow[] = [];
      const fit = outcome.trainIdx;
      const val = outcome.valIdx;
      const embedder = new EmbeddingClient();
      try {
        for (const m of models) {
          const picked = [...fit, ...val];
          const answer = await embedder.embedAll(
            picked.map((i) => ({ sha256: split.items[i].sha256, file: split.items[i].file })),
            { modelId: m.id, backend: this.session.settings.backend ?? undefined, signal },
          );
          const dim = answer.dim;
          const failed = new Set(answer.failed);
          const rowsOf = (from: number, list: Int32Array) => {
            const keep = Array.from(list, (_, k) => from + k).filter((r) => !failed.has(r));
            const vectors = new Float32Array(keep.length * dim);
            keep.forEach((r, k) => vectors.set(answer.vectors.subarray(r * dim, (r + 1) * dim), k * dim));
            return { vectors, labels: Int32Array.from(keep, (r) => split.items[picked[r]].label) };
          };
          const a = rowsOf(0, fit);
          const b = rowsOf(fit.length, val);
          const knn = await knnInWorker({ train: a.vectors, trainLabels: a.labels, test: b.vectors, testLabels: b.labels, dim, k: 10 }, signal);
          rows.push({ modelId: m.id, name: m.trained ? m.name : answer.info.name, accuracy: knn.accuracy, trained: m.trained });
        }
      } finally {
        embedder.dispose();
      }
      this.comparison = rows;
    } catch (error) {
      if (!signal.aborted) this.notice = `Could not compare the embedders: ${error instanceof Error ? error.message : String(error)}`;
    } finally {
      this.comparing = false;
    }
  }

  dispose(): void {
    this.controller?.abort();
    this.client?.dispose();
    this.client = null;
  }
}

/** Of the training side only: adding test images does not make it another training set. */
export function splitFingerprint(split: DatasetSplit): string {
  return datasetFingerprint(Array.from(split.train, (i) => ({ sha256: split.items[i].sha256, label: split.classes[split.items[i].label] })));
}

const latestKey = (fingerprint: string) => `train-latest:${fingerprint.slice(0, 24)}`;

async function rememberLatest(fingerprint: string, runKey: string, settings: TrainSettings): Promise<void> {
  const store = await FeatureStore.open();
  try {
    await store.setMeta(latestKey(fingerprint), { runKey, settings });
  } finally {
    store.close();
  }
}

/** Checkpoint key: another folder, or other settings, never resume a different run. */
export function trainRunKey(fingerprint: string, s: TrainSettings): string {
  return `train:${fingerprint.slice(0, 24)}:${s.inputSize}:${s.width}x${s.blocksPerStage}:${s.epochs}:${s.batchSize}:${s.lr}:${s.seed}`;
}
