import type { NearLinkage } from './groups.ts';
import { KEEPER_RULES } from './keeper.ts';
import { HASH_KINDS, type HashKind, type KeeperRule } from './types.ts';

export type Mode = 'exact' | 'near';
export const MODES: readonly Mode[] = ['exact', 'near'];

export interface Settings {
  mode: Mode;
  hash: HashKind;
  /** Hamming distance in bits, inclusive. */
  threshold: number;
  /** Keeper ranking, most important rule first. */
  keeper: KeeperRule[];
  /** 'keeper': members within the threshold of the keeper; 'strict': of each other. */
  linkage: NearLinkage;
  /** Look for duplicates only inside each class folder. */
  perClass: boolean;
  /** Put the kept images themselves into the zip. */
  includeImages: boolean;
}

export const MAX_THRESHOLD = 32;

/** Chosen on the near-duplicate benchmark; see docs/neardup-threshold.md. */
export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze<Settings>({
  mode: 'near',
  hash: 'phash',
  threshold: 10,
  keeper: [...KEEPER_RULES],
  linkage: 'keeper',
  perClass: false,
  includeImages: false,
});

/**
 * URL presets (`?mode=near&hash=phash&threshold=10&keeper=filesize,resolution&linkage=strict&perClass=1&images=1`) are a
 * stable, shareable contract; unknown or invalid values fall back to the defaults, never throw.
 */
export function settingsFromQuery(query: URLSearchParams, base: Readonly<Settings> = DEFAULT_SETTINGS): Settings {
  const settings: Settings = { ...base, keeper: [...base.keeper] };
  const mode = query.get('mode');
  if (mode && (MODES as readonly string[]).includes(mode)) settings.mode = mode as Mode;
  const hash = query.get('hash');
  if (hash && (HASH_KINDS as readonly string[]).includes(hash)) settings.hash = hash as HashKind;
  const threshold = Number.parseInt(query.get('threshold') ?? '', 10);
  if (Number.isFinite(threshold) && threshold >= 0 && threshold <= MAX_THRESHOLD) settings.threshold = threshold;
  const keeper = query.get('keeper');
  if (keeper) {
    const rules = keeper.split(',').filter((r): r is KeeperRule => (KEEPER_RULES as readonly string[]).includes(r));
    if (rules.length > 0) settings.keeper = [...new Set([...rules, ...KEEPER_RULES])];
  }
  const linkage = query.get('linkage');
  if (linkage === 'keeper' || linkage === 'strict') settings.linkage = linkage;
  settings.perClass = flag(query.get('perClass'), settings.perClass);
  settings.includeImages = flag(query.get('images'), settings.includeImages);
  return settings;
}

/** The query that reproduces these settings; defaults are left out so links stay short. */
export function settingsToQuery(settings: Settings, base: Readonly<Settings> = DEFAULT_SETTINGS): URLSearchParams {
  const query = new URLSearchParams();
  query.set('mode', settings.mode);
  if (settings.mode === 'near') {
    query.set('hash', settings.hash);
    query.set('threshold', String(settings.threshold));
  }
  if (settings.keeper.join(',') !== base.keeper.join(',')) query.set('keeper', settings.keeper.join(','));
  if (settings.linkage !== base.linkage) query.set('linkage', settings.linkage);
  if (settings.perClass) query.set('perClass', '1');
  if (settings.includeImages) query.set('images', '1');
  return query;
}

function flag(value: string | null, fallback: boolean): boolean {
  if (value === null) return fallback;
  return value === '1' || value === 'true' || value === 'yes';
}
