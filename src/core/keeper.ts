/**
 * Which copy of a duplicate set to keep.
 *
 * The user orders the rules; each rule only breaks the ties left by the ones before it. A final
 * comparison of paths (then ids) makes the choice a total order, so the keeper never depends on
 * the order in which files were read.
 */
import type { KeeperRule } from './types.ts';

export const KEEPER_RULES: readonly KeeperRule[] = ['resolution', 'filesize', 'shortest-path'];
export const DEFAULT_KEEPER_RULE: readonly KeeperRule[] = ['resolution', 'filesize', 'shortest-path'];

/** What the rules look at. */
export interface KeeperCandidate {
  id: number;
  path: string;
  width: number;
  height: number;
  /** Bytes. */
  size: number;
}

/** Plain code-unit order: locale-independent, so every machine picks the same keeper. */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function num(x: number): number {
  return Number.isFinite(x) ? x : 0;
}

/**
 * Comparator that sorts the best candidate first (negative when `a` is better than `b`).
 * Unknown rules and repeats are ignored.
 */
export function keeperComparator(
  rules: readonly KeeperRule[] = DEFAULT_KEEPER_RULE,
): (a: KeeperCandidate, b: KeeperCandidate) => number {
  const seen = new Set<KeeperRule>();
  const steps: ((a: KeeperCandidate, b: KeeperCandidate) => number)[] = [];
  for (const rule of rules) {
    if (seen.has(rule)) continue;
    seen.add(rule);
    if (rule === 'resolution') {
      steps.push((a, b) => num(b.width) * num(b.height) - num(a.width) * num(a.height));
    } else if (rule === 'filesize') {
      steps.push((a, b) => num(b.size) - num(a.size));
    } else if (rule === 'shortest-path') {
      steps.push((a, b) => a.path.length - b.path.length);
    }
  }
  return (a, b) => {
    for (const step of steps) {
      const c = step(a, b);
      if (c !== 0) return c;
    }
    return comparePaths(a.path, b.path) || a.id - b.id;
  };
}

/** The best of a non-empty list under the rules (linear, no sort). */
export function pickKeeper<T extends KeeperCandidate>(
  candidates: readonly T[],
  rules: readonly KeeperRule[] = DEFAULT_KEEPER_RULE,
): T {
  if (candidates.length === 0) throw new RangeError('pickKeeper needs at least one candidate');
  const cmp = keeperComparator(rules);
  let best = candidates[0];
  for (let i = 1; i < candidates.length; i++) if (cmp(candidates[i], best) < 0) best = candidates[i];
  return best;
}
