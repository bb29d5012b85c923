/**
 * The model registry: `public/models/registry.json`, written by `scripts/models/build-models.mjs`
 * at install/build time. It lists every model the app can load from its own origin, with the
 * size and SHA-256 of every file, so a damaged or swapped file is refused before tfjs sees it.
 */

/** One file of a model, relative to the models base URL (e.g. `mobilenetv2-mid/weights.bin`). */
export interface ModelFile {
  readonly path: string;
  /** Lower-case hex SHA-256 of the file's bytes. */
  readonly sha256: string;
  readonly bytes: number;
}

/** What the app needs to know to load a graph model and turn images into embeddings. */
export interface ModelEntry {
  readonly id: string;
  /** Version of the source the weights came from (the npm package's version). */
  readonly version: string;
  readonly name: string;
  /** Where the weights come from, in words (package@version and what the network is). */
  readonly source: string;
  readonly licence: string;
  /** Images go in as `inputSize`×`inputSize` RGB. */
  readonly inputSize: number;
  /** Name of the graph's input node. */
  readonly input: string;
  /**
   * Normalisation: 8-bit channel values 0..255 are mapped linearly onto `[lo, hi]` before the
   * graph (MobileNetV2Mid takes 0..1 and rescales to −1..1 itself).
   */
  readonly inputRange: readonly [number, number];
  /** Node whose output is the embedding, shaped [N, 1, 1, dim] or [N, dim]. */
  readonly outputNode: string;
  /** Length of one embedding. */
  readonly dim: number;
  /** model.json first or not: the loader tells them apart by name (`.json` is the topology). */
  readonly files: readonly ModelFile[];
  /**
   * Base URL the file paths are relative to. Not stored in registry.json: `loadRegistry` sets it
   * to the URL it read the registry from, so an entry carries where its files live.
   */
  readonly baseUrl?: string;
}

/** The subset of `fetch` the loaders use, so tests and other transports can stand in for it. */
export type FetchLike = (
  url: string,
  init?: { signal?: AbortSignal },
) => Promise<{ ok: boolean; status: number; arrayBuffer(): Promise<ArrayBuffer> }>;

/** `${BASE_URL}models/` under Vite; `/models/` elsewhere. */
export const DEFAULT_MODELS_BASE = `${import.meta.env?.BASE_URL ?? '/'}models/`;

const defaultFetch: FetchLike = (url, init) => fetch(url, init);

export class RegistryError extends Error {
  override name = 'RegistryError';
}

/**
 * Joins a base URL and a registry path, and refuses anything that would leave our origin: paths
 * must be plain relative paths (no scheme, no leading `/`, no `..`), and in a page or worker the
 * resolved URL must have the page's origin.
 */
export function modelFileUrl(baseUrl: string, path: string): string {
  if (!isPlainRelativePath(path)) throw new RegistryError(`model file path is not a plain relative path: ${path}`);
  const url = `${baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`}${path}`;
  const here = (globalThis as { location?: { href: string; origin: string } }).location;
  if (here && new URL(url, here.href).origin !== here.origin) {
    throw new RegistryError(`refusing to fetch model file from another origin: ${url}`);
  }
  return url;
}

function isPlainRelativePath(path: string): boolean {
  return (
    typeof path === 'string' &&
    path.length > 0 &&
    !path.startsWith('/') &&
    !path.includes('\\') &&
    !/^[a-z][a-z0-9+.-]*:/i.test(path) &&
    path.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..')
  );
}

/**
 * Validates one registry entry into a fresh, frozen copy (unknown keys dropped). Throws a
 * `RegistryError` naming the entry and the field when something is missing or malformed.
 */
export function parseModelEntry(raw: unknown, baseUrl?: string): ModelEntry {
  const r = raw as Record<string, unknown>;
  const id = typeof r?.id === 'string' && r.id ? r.id : '?';
  const fail = (what: string): never => {
    throw new RegistryError(`registry entry '${id}': ${what}`);
  };
  if (typeof raw !== 'object' || raw === null) fail('not an object');
  const str = (k: string): string => (typeof r[k] === 'string' && (r[k] as string).length > 0 ? (r[k] as string) : fail(`'${k}' must be a non-empty string`));
  const posInt = (k: string): number => (Number.isInteger(r[k]) && (r[k] as number) > 0 ? (r[k] as number) : fail(`'${k}' must be a positive integer`));
  const range = r.inputRange as number[];
  if (!Array.isArray(range) || range.length !== 2 || !range.every((v) => Number.isFinite(v)) || range[0] >= range[1]) {
    fail("'inputRange' must be [lo, hi] with lo < hi");
  }
  if (!Array.isArray(r.files) || r.files.length === 0) fail("'files' must be a non-empty array");
  const files = (r.files as unknown[]).map((f, i) => {
    const o = f as Record<string, unknown>;
    if (typeof o !== 'object' || o === null) return fail(`files[${i}] is not an object`);
    if (typeof o.path !== 'string' || !isPlainRelativePath(o.path)) return fail(`files[${i}].path must be a plain relative path`);
    if (typeof o.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(o.sha256)) return fail(`files[${i}].sha256 must be 64 lower-case hex digits`);
    if (!Number.isInteger(o.bytes) || (o.bytes as number) <= 0) return fail(`files[${i}].bytes must be a positive integer`);
    return Object.freeze({ path: o.path, sha256: o.sha256, bytes: o.bytes as number });
  });
  if (files.filter((f) => f.path.endsWith('.json')).length !== 1) fail('exactly one file must be the model .json');
  const entry: ModelEntry = {
    id: str('id'),
    version: str('version'),
    name: str('name'),
    source: str('source'),
    licence: str('licence'),
    inputSize: posInt('inputSize'),
    input: str('input'),
    inputRange: Object.freeze([range[0], range[1]]) as readonly [number, number],
    outputNode: str('outputNode'),
    dim: posInt('dim'),
    files: Object.freeze(files),
    ...(baseUrl === undefined ? {} : { baseUrl }),
  };
  return Object.freeze(entry);
}

/** Validates a whole registry document (an array of entries with unique ids). */
export function parseRegistry(raw: unknown, baseUrl?: string): ModelEntry[] {
  if (!Array.isArray(raw)) throw new RegistryError('registry.json must hold an array of model entries');
  const entries = raw.map((e) => parseModelEntry(e, baseUrl));
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.id)) throw new RegistryError(`registry lists model '${e.id}' twice`);
    seen.add(e.id);
  }
  return entries;
}

/**
 * Fetches and validates `${baseUrl}registry.json` from our own origin. Each entry comes back with
 * `baseUrl` set, ready for `loadEmbedder(entry)`.
 */
export async function loadRegistry(
  baseUrl: string = DEFAULT_MODELS_BASE,
  fetchFn: FetchLike = defaultFetch,
  signal?: AbortSignal,
): Promise<ModelEntry[]> {
  const url = modelFileUrl(baseUrl, 'registry.json');
  const res = await fetchFn(url, { signal });
  if (!res.ok) {
    throw new RegistryError(`model registry ${url} could not be read (HTTP ${res.status}); run \`npm run models\``);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(await res.arrayBuffer()));
  } catch {
    throw new RegistryError(`model registry ${url} is not valid JSON`);
  }
  return parseRegistry(raw, baseUrl);
}

/** The entry with this id, or a clear error listing the ids there are. */
export function findModel(entries: readonly ModelEntry[], id: string): ModelEntry {
  const e = entries.find((x) => x.id === id);
  if (!e) throw new RegistryError(`no model '${id}' in the registry (have: ${entries.map((x) => x.id).join(', ') || 'none'})`);
  return e;
}

/** The model the app embeds with unless the user picks another. */
export const DEFAULT_MODEL_ID = 'mobilenetv2-mid';
