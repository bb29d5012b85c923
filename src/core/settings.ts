import type { NearLinkage } from './groups.ts';
import { KEEPER_RULES } from './keeper.ts';
import { HASH_KINDS, type HashKind, type KeeperRule } from './types.ts';

export type Mode = 'exact' | 'near' | 'semantic';
export const MODES: readonly Mode[] = ['exact', 'near', 'semantic'];

/** Inference backends, fastest first; also the order tried when none is forced. */
export const BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type Backend = (typeof BACKENDS)[number];

/**
 * How semantic clusters are cut from each class's merge tree: to k = keep × class size clusters
 * (the paper's method), or wherever the complete-linkage dissimilarity passes `distance`.
 */
export type SemanticCut = 'keep' | 'distance';

export interface Settings {
  mode: Mode;
  hash: HashKind;
  /** Hamming distance in bits, inclusive. */
  threshold: number;
  /** Near mode: also pair images whose CNN embeddings are at least `similarity` alike. */
  embeddings: boolean;
  /** Cosine similarity bar for embedding near-duplicates (of mean-centred vectors). */
  similarity: number;
  /** Keeper ranking, most important rule first. */
  keeper: KeeperRule[];
  /** 'keeper': members within the threshold of the keeper; 'strict': of each other. */
  linkage: NearLinkage;
  /** Look for duplicates only inside each class folder. */
  perClass: boolean;
  /** Semantic mode: fraction of each class to keep. */
  keep: number;
  /** Per-class overrides of `keep`, by class label. */
  keepByClass: Record<string, number>;
  semanticCut: SemanticCut;
  /** Largest cosine distance between two members of one semantic group, when cut by distance. */
  distance: number;
  /** Embedding model id (a registry id, or 'user-…' for a model the user brought). */
  model: string;
  /** Forced inference backend; null picks the fastest that works. */
  backend: Backend | null;
  /** Put the kept images themselves into the zip. */
  includeImages: boolean;
  /** Put embeddings.npy and features.csv into the zip. */
  includeFeatures: boolean;
}

export const MAX_THRESHOLD = 32;
export const DEFAULT_MODEL = 'mobilenetv2-mid';

/** Chosen on the near-duplicate benchmark; see docs/neardup-threshold.md and docs/neardup-embeddings.md. */
export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze<Settings>({
  mode: 'near',
  hash: 'phash',
  threshold: 10,
  embeddings: true,
  similarity: 0.85,
  keeper: [...KEEPER_RULES],
  linkage: 'keeper',
  perClass: false,
  keep: 0.9,
  keepByClass: {},
  semanticCut: 'keep',
  distance: 0.1,
  model: DEFAULT_MODEL,
  backend: null,
  includeImages: false,
  includeFeatures: false,
});

const MODEL_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/**
 * URL presets (`?mode=semantic&keep=0.9&model=mobilenetv2-mid&backend=wasm&features=1`,
 * `?mode=near&hash=phash&threshold=10&similarity=0.9&keeper=filesize&linkage=strict&perClass=1&images=1`)
 * are a stable, shareable contract; unknown or invalid values fall back to the defaults, never throw.
 * Per-class keep fractions repeat `keepClass=<label>:<fraction>` (split at the last colon, so a
 * label may contain colons).
 */
export function settingsFromQuery(query: URLSearchParams, base: Readonly<Settings> = DEFAULT_SETTINGS): Settings {
  const settings: Settings = { ...base, keeper: [...base.keeper], keepByClass: { ...base.keepByClass } };
  const mode = query.get('mode');
  if (mode && (MODES as readonly string[]).includes(mode)) settings.mode = mode as Mode;
  const hash = query.get('hash');
  if (hash && (HASH_KINDS as readonly string[]).includes(hash)) settings.hash = hash as HashKind;
  const threshold = Number.parseInt(query.get('threshold') ?? '', 10);
  if (Number.isFinite(threshold) && threshold >= 0 && threshold <= MAX_THRESHOLD) settings.threshold = threshold;
  settings.embeddings = flag(query.get('embeddings'), settings.embeddings);
  settings.similarity = unitNumber(query.get('similarity'), settings.similarity);
  const keeper = query.get('keeper');
  if (keeper) {
    const rules = keeper.split(',').filter((r): r is KeeperRule => (KEEPER_RULES as readonly string[]).includes(r));
    if (rules.length > 0) settings.keeper = [...new Set([...rules, ...KEEPER_RULES])];
  }
  const linkage = query.get('linkage');
  if (linkage === 'keeper' || linkage === 'strict') settings.linkage = linkage;
  settings.perClass = flag(query.get('perClass'), settings.perClass);
  settings.keep = unitNumber(query.get('keep'), settings.keep);
  for (const entry of query.getAll('keepClass')) {
    const at = entry.lastIndexOf(':');
    if (at < 0) continue;
    const fraction = unitNumber(entry.slice(at + 1), Number.NaN);
    if (!Number.isNaN(fraction)) settings.keepByClass[entry.slice(0, at)] = fraction;
  }
  const cut = query.get('cut');
  if (cut === 'keep' || cut === 'distance') settings.semanticCut = cut;
  const distance = query.get('distance');
  if (distance !== null) {
    const value = unitNumber(distance, Number.NaN, 2);
    if (!Number.isNaN(value)) {
      settings.distance = value;
      if (cut === null) settings.semanticCut = 'distance';
    }
  }
  const model = query.get('model');
  if (model && MODEL_ID.test(model)) settings.model = model;
  const backend = query.get('backend');
  if (backend && (BACKENDS as readonly string[]).includes(backend)) settings.backend = backend as Backend;
  settings.includeImages = flag(query.get('images'), settings.includeImages);
  settings.includeFeatures = flag(query.get('features'), settings.includeFeatures);
  return settings;
}

/** The query that reproduces these settings; defaults are left out so links stay short. */
export function settingsToQuery(settings: Settings, base: Readonly<Settings> = DEFAULT_SETTINGS): URLSearchParams {
  const query = new URLSearchParams();
  query.set('mode', settings.mode);
  if (settings.mode === 'near') {
    query.set('hash', settings.hash);
    query.set('threshold', String(settings.threshold));
    if (settings.embeddings !== base.embeddings) query.set('embeddings', settings.embeddings ? '1' : '0');
    if (settings.embeddings && settings.similarity !== base.similarity) query.set('similarity', String(settings.similarity));
  }
  if (settings.mode === 'semantic') {
    if (settings.semanticCut === 'distance') query.set('distance', String(settings.distance));
    else {
      query.set('keep', String(settings.keep));
      for (const label of Object.keys(settings.keepByClass).sort()) {
        query.append('keepClass', `${label}:${settings.keepByClass[label]}`);
      }
    }
  }
  const usesModel = settings.mode === 'semantic' || (settings.mode === 'near' && settings.embeddings);
  if (usesModel && settings.model !== base.model) query.set('model', settings.model);
  if (usesModel && settings.backend) query.set('backend', settings.backend);
  if (settings.keeper.join(',') !== base.keeper.join(',')) query.set('keeper', settings.keeper.join(','));
  if (settings.linkage !== base.linkage) query.set('linkage', settings.linkage);
  if (settings.perClass) query.set('perClass', '1');
  if (settings.includeImages) query.set('images', '1');
  if (settings.includeFeatures) query.set('features', '1');
  return query;
}

/** The keep fraction that applies to one class. */
export function keepFor(settings: Pick<Settings, 'keep' | 'keepByClass'>, label: string): number {
  return Object.hasOwn(settings.keepByClass, label) ? settings.keepByClass[label] : settings.keep;
}

/** Whether a run with these settings needs CNN embeddings. */
export function needsEmbeddings(settings: Pick<Settings, 'mode' | 'embeddings'>): boolean {
  return settings.mode === 'semantic' || (settings.mode === 'near' && settings.embeddings);
}

function flag(value: string | null, fallback: boolean): boolean {
  if (value === null) return fallback;
  return value === '1' || value === 'true' || value === 'yes';
}

/** A number in [0, max] written plainly (no exponent tricks, no NaN), else the fallback. */
function unitNumber(value: string | null, fallback: number, max = 1): number {
  if (value === null || !/^\d*\.?\d+$/.test(value.trim())) return fallback;
  const n = Number(value);
  return n >= 0 && n <= max ? n : fallback;
}
