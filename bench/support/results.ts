/**
 * bench/results.json: one object per benchmark — name, ours, peer, peer_name, ratio (how many times
 * better ours is; > 1 is better), unit, and any extra figures — plus the machine. Each bench file
 * records its own names; a record replaces the earlier one of the same name, so running one
 * benchmark (`npm run bench -- intake`) updates its rows and leaves the others.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../../tests/support/paths.ts';

export interface BenchResult {
  name: string;
  ours: number | null;
  peer: number | null;
  peer_name: string | null;
  ratio: number | null;
  unit: string;
  [extra: string]: unknown;
}

export const RESULTS_FILE = path.join(repoRoot, 'bench/results.json');

function machine(): Record<string, unknown> {
  let browser: string | null = null;
  try {
    browser = execFileSync('/usr/bin/chromium', ['--version']).toString().trim();
  } catch {
    browser = null;
  }
  return { cores: os.cpus().length, cpu: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), browser, node: process.version };
}

/** Adds or replaces rows by name; rows keep the order in which names first appeared. */
export async function recordResults(rows: readonly BenchResult[]): Promise<void> {
  if (rows.length === 0) return;
  let previous: BenchResult[] = [];
  if (existsSync(RESULTS_FILE)) {
    try {
      const parsed = JSON.parse(await readFile(RESULTS_FILE, 'utf8'));
      if (Array.isArray(parsed?.results)) previous = parsed.results;
    } catch {
      previous = []; // a damaged file is rewritten from this run's rows
    }
  }
  const merged = [...previous];
  for (const row of rows) {
    const at = merged.findIndex((r) => r.name === row.name);
    if (at >= 0) merged[at] = { ...row, recordedAt: new Date().toISOString() };
    else merged.push({ ...row, recordedAt: new Date().toISOString() });
  }
  await writeFile(RESULTS_FILE, JSON.stringify({ machine: machine(), results: merged }, null, 2) + '\n');
}
