/**
 * The paper's Figure 2, run in the tab: for each keep fraction and seed, train a network from
 * scratch with identical settings on (a) the semantic-clustering subset, (b) a class-stratified
 * random subset of the same size per class, (c) the perceptual-hash (CE-Dedup) subset of that size,
 * and test it on images none of them (nor the embedder, nor the clustering) has seen.
 *
 * Every finished cell is written to IndexedDB at once, so a reload or a cancel loses at most the
 * network being trained; running again with the same folder and settings skips what is done.
 */
import { experimentCells, validateExperiment, DEFAULT_EXPERIMENT, type Cell, type ExperimentSettings, type Method } from '../../core/experiment/plan.ts';
import { estimateSeconds } from '../../core/experiment/estimate.ts';
import { figure2Svg } from '../../core/experiment/plot.ts';
import { resultsCsv, resultsJson, summarize, type CellResult, type SummaryPoint } from '../../core/experiment/results.ts';
import { classTargets, hashSubset, randomSubset } from '../../core/experiment/subsets.ts';
import { packHashInto } from '../../core/hamming.ts';
import type { Hash64 } from '../../core/types.ts';
import { defaultTrainSettings, type TrainSettings } from '../../ml/train/settings.ts';
import { FeatureStore } from '../../store/feature-store.ts';
import { ClusteringClient } from '../../workers/cluster/client.ts';
import { EmbeddingClient } from '../../workers/embed/client.ts';
import type { DatasetSplit } from './dataset-split.ts';
import { classInputs, runEmbeddings } from './run-embeddings.ts';
import type { Session } from './session.svelte.ts';
import { splitFingerprint, type Training } from './training.svelte.ts';

export type ExperimentPhase = 'idle' | 'estimating' | 'preparing' | 'running' | 'done' | 'cancelled' | 'error';

export interface ExperimentRunInfo {
  fingerprint: string;
  embedder: string;
  evaluation: string;
  trainCount: number;
  testCount: number;
  network: TrainSettings;
  startedAt: string;
}

export class Experiment {
  phase = $state<ExperimentPhase>('idle');
  fractionsText = $state(DEFAULT_EXPERIMENT.fractions.join(', '));
  seeds = $state(DEFAULT_EXPERIMENT.seeds);
  epochs = $state(DEFAULT_EXPERIMENT.epochs);
  methods = $state<Method[]>([...DEFAULT_EXPERIMENT.methods]);
  /**
   * 'small' (ResNet-8, width 8) has half the residual blocks and half the channels of the
   * embedder's ResNet-14: the experiment trains (fractions × methods × seeds) networks, which on a
   * laptop's CPU is the difference between minutes and hours. 'embedder' is the paper's setting (same architecture throughout).
   */
  network = $state<'small' | 'embedder'>(new URLSearchParams(location.search).get('expNet') === 'embedder' ? 'embedder' : 'small');
  error = $state<string | null>(null);
  notice = $state<string | null>(null);
  estimate = $state.raw<{ seconds: number; cells: number; imageEpochs: number } | null>(null);
  results = $state.raw<CellResult[]>([]);
  current = $state.raw<{ cell: Cell; index: number; total: number; epoch: number; epochs: number; startedAt: number } | null>(null);
  info = $state.raw<ExperimentRunInfo | null>(null);
  summary = $derived.by((): SummaryPoint[] => summarize(this.results, this.methods));
  svg = $derived.by((): string | null => (this.results.length > 0 ? figure2Svg(this.summary, { title: 'Test accuracy of networks trained from scratch on each subset' }) : null));

  private controller: AbortController | null = null;

  constructor(
    private readonly session: Session,
    private readonly training: Training,
  ) {}

  /** A new folder: the last folder's results and estimate are not this one's. */
  forgetOtherFolders(): void {
    if (this.running || this.shownFor === this.session.files) return;
    this.shownFor = this.session.files;
    this.results = [];
    this.estimate = null;
    this.info = null;
    this.error = null;
    this.notice = null;
    this.current = null;
    if (this.phase !== 'idle') this.phase = 'idle';
  }
  private shownFor: readonly unknown[] | null = null;

  get running(): boolean {
    return this.phase === 'estimating' || this.phase === 'preparing' || this.phase === 'running';
  }

  /** The validated settings, or the message that says what is wrong with the inputs. */
  parsed(): { ok: true; settings: ExperimentSettings } | { ok: false; reason: string } {
    try {
      const fractions = this.fractionsText.split(/[\s,;]+/).filter(Boolean).map(Number);
      if (fractions.some((f) => !Number.isFinite(f))) throw new Error(`Fractions must be numbers such as 1, 0.9, 0.8: '${this.fractionsText}'`);
      return { ok: true, settings: validateExperiment({ fractions, seeds: this.seeds, methods: this.methods, epochs: this.epochs, evalFraction: DEFAULT_EXPERIMENT.evalFraction }) };
    } catch (e) {
      return { ok: false, reason: e instanceof Error ? e.message : String(e) };
    }
  }

  /** Network settings shared by every cell: the embedder's architecture, no validation split. */
  private networkSettings(split: DatasetSplit, epochs: number): TrainSettings {
    const base = this.training.settings ?? defaultTrainSettings({ count: split.train.length, classes: split.classes.length, medianSide: split.medianSide });
    const size = this.network === 'small' ? { width: 8, blocksPerStage: 1 } : {};
    return { ...base, ...size, epochs, validationFraction: 0, patience: 0 };
  }

  /** Times a few training steps, then multiplies out: an estimate of the whole run before it starts. */
  async estimateDuration(): Promise<void> {
    const parsed = this.parsed();
    if (!parsed.ok) {
      this.error = parsed.reason;
      return;
    }
    const controller = this.begin('estimating');
    try {
      const { client, split } = await this.training.worker(controller.signal);
      const s = parsed.settings;
      const network = this.networkSettings(split, s.epochs);
      const timing = await client.timeSteps({ settings: network, trainIdx: split.train.slice(), steps: 6 }, controller.signal);
      const cells = experimentCells(s);
      const est = estimateSeconds({
        cells,
        trainCountOf: (c) => Math.round(c.fraction * split.train.length),
        epochs: s.epochs,
        secondsPerImageEpoch: timing.secondsPerImage,
        testCount: split.test.length,
        secondsPerTestImage: timing.secondsPerTestImage,
        overheadPerCell: 2,
      });
      this.estimate = { seconds: est.seconds, cells: cells.length, imageEpochs: est.imageEpochs };
      this.phase = 'idle';
    } catch (e) {
      this.failed(controller, e);
    } finally {
      this.end(controller);
    }
  }

  async run(): Promise<void> {
    const parsed = this.parsed();
    if (!parsed.ok) {
      this.error = parsed.reason;
      return;
    }
    const s = parsed.settings;
    const controller = this.begin('preparing');
    const signal = controller.signal;
    let store: FeatureStore | null = null;
    try {
      const { client, split } = await this.training.worker(signal);
      const network = this.networkSettings(split, s.epochs);
      const fingerprint = splitFingerprint(split);
      const embedder = this.training.modelId ?? this.session.settings.model;
      const key = experimentKey(fingerprint, embedder, s, network);
      store = await FeatureStore.open();
      const saved = ((await store.getMeta(key)) as { results: CellResult[]; info: ExperimentRunInfo } | undefined) ?? null;
      const cells = experimentCells(s);
      // Cells of other fractions or seeds stay out of this run's plot (and out of what is saved next).
      this.results = (saved?.results ?? []).filter((r) => cells.some((c) => sameCell(r, c)));
      this.info = saved?.info ?? {
        fingerprint,
        embedder,
        evaluation: split.source === 'folders' ? `the ${split.test.length.toLocaleString()} images of the test/val folder` : `a stratified ${Math.round(split.test.length / split.items.length * 100)} % of each class held out (${split.test.length.toLocaleString()} images)`,
        trainCount: split.train.length,
        testCount: split.test.length,
        network,
        startedAt: new Date().toISOString(),
      };
      if (saved) this.notice = `Continuing: ${saved.results.length} network(s) finished earlier are kept.`;
      const subsets = await this.subsetMaker(split, embedder, s, signal);
      this.phase = 'running';
      for (let index = 0; index < cells.length; index++) {
        const cell = cells[index];
        if (this.results.some((r) => sameCell(r, cell))) continue;
        const subset = subsets(cell);
        this.current = { cell, index, total: cells.length, epoch: 0, epochs: s.epochs, startedAt: performance.now() };
        const started = performance.now();
        const answer = await client.trainAndTest(
          { trainIdx: subset.keep, testIdx: split.test.slice(), settings: { ...network, seed: network.seed + cell.seed } },
          (p) => {
            if (this.current) this.current = { ...this.current, epoch: p.epoch, epochs: p.epochs };
          },
          signal,
        );
        const result: CellResult = { ...cell, trainCount: subset.keep.length, testAccuracy: answer.testAccuracy, epochs: answer.history.length, seconds: (performance.now() - started) / 1000, ...(subset.threshold !== undefined ? { threshold: subset.threshold } : {}) };
        this.results = [...this.results, result];
        await store.setMeta(key, { results: $state.snapshot(this.results), info: $state.snapshot(this.info) });
      }
      this.current = null;
      this.phase = 'done';
    } catch (e) {
      this.failed(controller, e);
    } finally {
      // An open connection would block another tab's schema upgrade.
      store?.close();
      this.end(controller);
    }
  }

  cancel(): void {
    this.controller?.abort(new DOMException('Cancelled', 'AbortError'));
  }

  csv(): string {
    return resultsCsv(this.results);
  }

  json(): string {
    return resultsJson({ settings: { experiment: this.parsed(), ...this.info }, results: this.results, summary: this.summary, meta: { app: 'Winnow', paper: 'Birodkar, Mobahi, Bengio 2019, Figure 2' } });
  }

  /**
   * Subsets per cell. Semantic: the embedder's vectors of the training images, clustered per class
   * with complete linkage (the same worker and cut as semantic mode), one keeper per cluster.
   * Random and hash subsets then take exactly the semantic subset's size in each class.
   */
  private async subsetMaker(split: DatasetSplit, modelId: string, s: ExperimentSettings, signal: AbortSignal): Promise<(cell: Cell) => { keep: Int32Array; threshold?: number }> {
    const labels = Int32Array.from(split.items, (it) => it.label);
    const trainIdx = split.train;
    const semantic = new Map<number, Int32Array>();
    const needsSemantic = s.methods.includes('semantic') && s.fractions.some((f) => f < 1);
    if (needsSemantic) {
      const embedder = new EmbeddingClient();
      const clusterer = new ClusteringClient();
      try {
        const answer = await embedder.embedAll(Array.from(trainIdx, (i) => ({ sha256: split.items[i].sha256, file: split.items[i].file })), { modelId, backend: this.session.settings.backend ?? undefined, signal });
        // Row r is trainIdx[r]; ids below are positions in split.items.
        const e = runEmbeddings(Array.from(trainIdx), answer, answer.info);
        await clusterer.load({ dim: e.dim, classes: classInputs(e, (i) => String(split.items[i].label)), fast: trainIdx.length >= 3000 * split.classes.length }, { signal });
        for (const fraction of s.fractions) {
          if (fraction >= 1) continue;
          const cut = await clusterer.cut({ keep: fraction, keepByClass: {} });
          const removed = new Set<number>();
          for (const g of cut.groups) for (const m of g.members) if (m !== g.keeper) removed.add(m);
          semantic.set(fraction, Int32Array.from(trainIdx).filter((i) => !removed.has(i)));
        }
      } finally {
        embedder.dispose();
        clusterer.dispose();
      }
    }
    const hashes = new Uint32Array(split.items.length * 2);
    split.items.forEach((it, i) => {
      const r = this.session.results[it.id];
      if (r?.ok) packHashInto(r.features.hashes.phash as Hash64, hashes, i);
    });
    return (cell) => {
      if (cell.method === 'full' || cell.fraction >= 1) return { keep: Int32Array.from(trainIdx) };
      const sem = semantic.get(cell.fraction);
      let targets = new Map<number, number>();
      if (sem) for (const i of sem) targets.set(labels[i], (targets.get(labels[i]) ?? 0) + 1);
      else targets = classTargets(labels, trainIdx, cell.fraction);
      if (cell.method === 'semantic') return { keep: sem! };
      if (cell.method === 'random') return { keep: randomSubset(labels, trainIdx, targets, cell.seed) };
      const h = hashSubset({ hashes, labels, idx: trainIdx, targets, seed: cell.seed });
      return { keep: h.keep, threshold: Math.max(0, ...h.thresholds.values()) };
    };
  }

  private begin(phase: ExperimentPhase): AbortController {
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    this.phase = phase;
    this.error = null;
    return controller;
  }

  private end(controller: AbortController): void {
    if (this.controller === controller) this.controller = null;
  }

  private failed(controller: AbortController, e: unknown): void {
    this.current = null;
    if (controller.signal.aborted) {
      this.phase = 'cancelled';
      return;
    }
    this.phase = 'error';
    this.error = e instanceof Error ? e.message : String(e);
  }

  dispose(): void {
    this.controller?.abort();
  }
}

const sameCell = (a: Cell, b: Cell) => a.fraction === b.fraction && a.seed === b.seed && a.method === b.method;

function experimentKey(fingerprint: string, embedder: string, s: ExperimentSettings, n: TrainSettings): string {
  return `experiment:${fingerprint.slice(0, 24)}:${embedder}:${n.inputSize}:${n.width}x${n.blocksPerStage}:${s.epochs}:${n.batchSize}:${n.lr}:${n.augment}`;
}
