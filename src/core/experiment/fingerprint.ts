/**
 * Which dataset a result belongs to, without naming a file: results saved from one run are only
 * comparable with another when both trained on the same images under the same labels.
 */
import { Sha256 } from '../sha256.ts';

/**
 * SHA-256 (hex) of the sorted lines "sha256\tlabel\n". Sorting makes the order of intake irrelevant;
 * the label is in the line because relabelling a file changes the experiment. File names are left
 * out on purpose: renaming a file changes nothing the embedder sees.
 */
export function datasetFingerprint(items: readonly { sha256: string; label: string }[]): string {
  const lines = items.map((item) => `${item.sha256.toLowerCase()}\t${item.label}\n`);
  // Code-unit order, as comparePaths: the same on every machine and locale.
  lines.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const hash = new Sha256();
  const encoder = new TextEncoder();
  for (const line of lines) hash.update(encoder.encode(line));
  return hash.hex();
}
