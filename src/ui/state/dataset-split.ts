/**
 * Which images train an embedder or the experiment's networks, and which only ever evaluate them.
 * A drop with train/ and test/ (or val/) folders says so itself; otherwise a stratified share is held
 * out once, with a fixed seed, before anything is trained, so the same images stay unseen by the
 * embedder, by the clustering that picks subsets, and by the networks trained on those subsets.
 */
import { heldOutSplit } from '../../core/experiment/eval-split.ts';
import type { IntakeFile } from '../../io/intake/collect.ts';
import type { FileAnalysis } from '../../workers/hash/analyse.ts';

/** Share held out for evaluation when the folder has no test/ or val/ folder. */
export const HELD_OUT_FRACTION = 0.2;
const HELD_OUT_SEED = 20_190_000;

export interface DatasetSplit {
  source: 'folders' | 'held-out';
  /** Class names, sorted; a label's index is its class number. */
  classes: string[];
  /** One per usable file (analysed, labelled): the file id, its sha256 and class number. */
  items: { id: number; sha256: string; label: number; file: File }[];
  /** Positions in `items`. */
  train: Int32Array;
  test: Int32Array;
  /** Median of the longer image side, which sizes the network's input. */
  medianSide: number;
  /** Files left out, with why (unlabelled ones in the root, images that did not decode). */
  leftOut: number;
}

export type SplitAnswer = { ok: true; split: DatasetSplit } | { ok: false; reason: string };

export function datasetSplit(files: readonly IntakeFile[], results: readonly (FileAnalysis | null)[]): SplitAnswer {
  const usable: { id: number; sha256: string; labelName: string; file: File; role?: 'train' | 'test'; side: number }[] = [];
  let leftOut = 0;
  files.forEach((f, id) => {
    const r = results[id];
    if (!r?.ok || f.label === '') {
      leftOut++;
      return;
    }
    usable.push({ id, sha256: r.sha256, labelName: f.label, file: f.file, role: f.split, side: Math.max(r.features.width, r.features.height) });
  });
  const classes = [...new Set(usable.map((u) => u.labelName))].sort();
  if (classes.length < 2) {
    return { ok: false, reason: classes.length === 0 ? 'Training needs labelled images: put each class in its own subfolder.' : `Training needs at least two classes (subfolders); this folder has one ('${classes[0]}').` };
  }
  const labelOf = new Map(classes.map((c, i) => [c, i]));
  const items = usable.map((u) => ({ id: u.id, sha256: u.sha256, label: labelOf.get(u.labelName)!, file: u.file }));
  const labels = Int32Array.from(items, (it) => it.label);
  const fromFolders = usable.some((u) => u.role === 'test');
  let train: Int32Array;
  let test: Int32Array;
  if (fromFolders) {
    const t: number[] = [];
    const e: number[] = [];
    usable.forEach((u, i) => (u.role === 'test' ? e : t).push(i));
    train = Int32Array.from(t);
    test = Int32Array.from(e);
  } else {
    ({ train, test } = heldOutSplit(labels, Int32Array.from(items, (_, i) => i), HELD_OUT_FRACTION, HELD_OUT_SEED));
  }
  const perClass = new Int32Array(classes.length);
  for (const i of train) perClass[labels[i]]++;
  const thin = classes.filter((_, c) => perClass[c] < 2);
  if (thin.length > 0) return { ok: false, reason: `Every class needs at least two training images; ${thin.map((c) => `'${c}'`).join(', ')} ${thin.length === 1 ? 'has' : 'have'} fewer.` };
  const sides = usable.map((u) => u.side).sort((a, b) => a - b);
  return { ok: true, split: { source: fromFolders ? 'folders' : 'held-out', classes, items, train, test, medianSide: sides[sides.length >> 1], leftOut } };
}
