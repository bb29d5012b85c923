/**
 * What the experiment reports: one result per trained cell, the per-method summary the plot draws,
 * and the CSV and JSON downloads, which carry enough to redo and to re-plot the run elsewhere.
 */
import { csvField } from '../manifest.ts';
import type { Cell, Method } from './plan.ts';

export interface CellResult extends Cell {
  /** Images the embedder was trained on. */
  trainCount: number;
  /** kNN accuracy on the held-out images, in [0, 1]. */
  testAccuracy: number;
  /** Epochs actually run (early stopping may end a run sooner than planned). */
  epochs: number;
  seconds: number;
  /** Hash method only: the largest per-class Hamming threshold reached. */
  threshold?: number;
}

export interface SummaryPoint {
  method: Method;
  fraction: number;
  mean: number;
  /** Sample standard deviation (n − 1); 0 when n = 1. */
  sd: number;
  n: number;
}

/**
 * Mean and spread per method and fraction, methods in the given order, fractions descending. A
 * 'full' result is every method's point at its fraction: all of them would train on the same set.
 */
export function summarize(results: CellResult[], methods: Method[]): SummaryPoint[] {
  const fractions = [...new Set(results.map((r) => r.fraction))].sort((a, b) => b - a);
  const out: SummaryPoint[] = [];
  for (const method of methods) {
    for (const fraction of fractions) {
      const values = results
        .filter((r) => r.fraction === fraction && (r.method === method || r.method === 'full'))
        .map((r) => r.testAccuracy);
      if (values.length === 0) continue;
      const n = values.length;
      const mean = values.reduce((a, b) => a + b, 0) / n;
      const sd = n < 2 ? 0 : Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
      out.push({ method, fraction, mean, sd, n });
    }
  }
  return out;
}

export const RESULTS_CSV_HEADER = ['fraction', 'seed', 'method', 'train_count', 'test_accuracy', 'epochs', 'seconds', 'threshold'] as const;

/** One row per cell in the order given; CRLF as RFC 4180 asks; numbers unrounded; no threshold → empty field. */
export function resultsCsv(results: CellResult[]): string {
  const rows: string[] = [RESULTS_CSV_HEADER.join(',')];
  for (const r of results) {
    rows.push(
      [r.fraction, r.seed, r.method, r.trainCount, r.testAccuracy, r.epochs, r.seconds, r.threshold ?? null].map(csvField).join(','),
    );
  }
  return rows.join('\r\n') + '\r\n';
}

/** Pretty JSON with a format tag, so a later version can still read what an earlier one wrote. */
export function resultsJson(o: { settings: unknown; results: CellResult[]; summary: SummaryPoint[]; meta?: Record<string, unknown> }): string {
  return (
    JSON.stringify(
      { format: 'winnow-experiment', version: 1, meta: o.meta ?? {}, settings: o.settings, results: o.results, summary: o.summary },
      null,
      2,
    ) + '\n'
  );
}
