/**
 * What an experiment run consists of: the settings the user picks and the list of training runs
 * ("cells") they expand to. Validated into a copy with defaults, as tfjs-models' load() does.
 */

export type Method = 'semantic' | 'random' | 'hash';

/** Canonical order, used for cells, tables and the legend. */
export const METHODS: readonly Method[] = ['semantic', 'random', 'hash'];

export interface ExperimentSettings {
  /** Fractions of each class kept, in (0, 1]; 1 is the full training set. */
  fractions: number[];
  /** Repeats of every cell with a different seed, so the plot can show a spread. */
  seeds: number;
  methods: Method[];
  epochs: number;
  /** Share of each class held out for evaluation when the data has no test folder. */
  evalFraction: number;
}

/**
 * The left part of the paper's Figure 2, small enough for a tab: one full run plus three fractions ×
 * three methods is 10 trainings per seed. Frozen, arrays included, since every caller shares it.
 */
export const DEFAULT_EXPERIMENT: ExperimentSettings = Object.freeze({
  fractions: Object.freeze([1, 0.9, 0.8, 0.7]) as number[],
  seeds: 3,
  methods: Object.freeze(['semantic', 'random', 'hash']) as Method[],
  epochs: 15,
  evalFraction: 0.2,
}) as ExperimentSettings;

/** Fills in defaults and checks every field; throws an Error whose message can be shown as it is. */
export function validateExperiment(s: Partial<ExperimentSettings>): ExperimentSettings {
  const fractions = s.fractions ?? DEFAULT_EXPERIMENT.fractions;
  if (!Array.isArray(fractions) || fractions.length === 0) throw new Error('Choose at least one fraction of the training set to keep.');
  for (const f of fractions) {
    if (typeof f !== 'number' || !(f > 0 && f <= 1)) throw new Error(`A kept fraction must be above 0 and at most 1 (got ${String(f)}).`);
  }
  const seeds = s.seeds ?? DEFAULT_EXPERIMENT.seeds;
  if (!Number.isInteger(seeds) || seeds < 1 || seeds > 10) throw new Error(`Seeds must be a whole number from 1 to 10 (got ${String(seeds)}).`);
  const methods = s.methods ?? DEFAULT_EXPERIMENT.methods;
  if (!Array.isArray(methods) || methods.length === 0) throw new Error('Choose at least one method to compare.');
  for (const m of methods) {
    if (!METHODS.includes(m)) throw new Error(`Unknown method ${JSON.stringify(m)}; choose from ${METHODS.join(', ')}.`);
  }
  const epochs = s.epochs ?? DEFAULT_EXPERIMENT.epochs;
  if (!Number.isInteger(epochs) || epochs < 1 || epochs > 200) throw new Error(`Epochs must be a whole number from 1 to 200 (got ${String(epochs)}).`);
  const evalFraction = s.evalFraction ?? DEFAULT_EXPERIMENT.evalFraction;
  if (typeof evalFraction !== 'number' || !(evalFraction >= 0.05 && evalFraction <= 0.5)) {
    throw new Error(`The held-out share must be from 5% to 50% (got ${String(evalFraction)}).`);
  }
  return {
    fractions: [...new Set(fractions)].sort((a, b) => b - a),
    seeds,
    methods: METHODS.filter((m) => methods.includes(m)),
    epochs,
    evalFraction,
  };
}

export interface Cell {
  fraction: number;
  /** The repeat, 0 … seeds−1; also what seeds the subset and the training. */
  seed: number;
  /** 'full': fraction 1, the same training set for every method, so it is trained once. */
  method: Method | 'full';
}

/**
 * Every training run, seed by seed (then fraction descending, then method), so that a run stopped
 * part-way already has every method at the seeds it finished.
 */
export function experimentCells(s: ExperimentSettings): Cell[] {
  const fractions = [...new Set(s.fractions)].sort((a, b) => b - a);
  const methods = METHODS.filter((m) => s.methods.includes(m));
  const cells: Cell[] = [];
  for (let seed = 0; seed < s.seeds; seed++) {
    for (const fraction of fractions) {
      if (fraction === 1) cells.push({ fraction, seed, method: 'full' });
      else for (const method of methods) cells.push({ fraction, seed, method });
    }
  }
  return cells;
}
