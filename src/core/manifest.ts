/**
 * The documents that go into the export: manifest.json, kept.txt, removed.txt and groups.csv.
 *
 * The manifest is the durable record of a run: what was found, what was decided, and why, in a
 * form another tool can read back. Its shape is described by schema/manifest.schema.json;
 * schemaVersion goes up whenever a field changes meaning or disappears (adding optional fields
 * does not). Everything is sorted so that two exports of the same decisions are byte-identical
 * apart from createdAt. Files are identified by relative path, not by run-local ids.
 */
import type { Group, GroupKind, NearLinkage } from './groups.ts';
import { comparePaths } from './keeper.ts';
import type { Counts, ItemStatusKind, Selection } from './selection.ts';
import type { Mode, SemanticCut } from './settings.ts';
import type { HashKind, KeeperRule } from './types.ts';

/**
 * 2: semantic mode (mode 'semantic', group kind 'semantic', distances may be fractional cosine
 * distances), the embedding model and backend, per-class semantic statistics.
 */
export const MANIFEST_SCHEMA_VERSION = 2;
export const TOOL_NAME = 'winnow';

/** Which network turned images into vectors, and on what. */
export interface ManifestEmbedding {
  model: { id: string; version: string; name: string; dim: number };
  /** The TensorFlow.js backend that ran it (webgpu, webgl, wasm, cpu). */
  backend: string;
  /** Whether the run's mean embedding was subtracted before cosine (raw cosine is squeezed into a narrow band). */
  centred: boolean;
}

export interface ManifestSemanticSettings {
  cut: SemanticCut;
  /** Fraction of each class kept (cut 'keep'). */
  keep: number;
  keepByClass: Record<string, number>;
  /** Largest cosine distance inside a group (cut 'distance'). */
  distance: number;
}

/** The paper's Table 1 row for one class. */
export interface ManifestClassStat {
  label: string;
  n: number;
  kept: number;
  groups: number;
  /** Mean cosine distance of removed members to their kept image, over groups of size > 1; null without such groups. */
  meanDissimilarity: number | null;
}

export interface ManifestSettings {
  mode: Mode;
  hash: HashKind;
  threshold: number;
  keeperRule: KeeperRule[];
  perClass: boolean;
  /** 'keeper': members within the threshold of the keeper; 'strict': of each other. */
  linkage: NearLinkage;
  /** Mirrored copies matched too (the grouping default). */
  mirror: boolean;
  /** Whether the kept images themselves were put into the zip. */
  includeImages?: boolean;
  /** Whether embeddings.npy and features.csv were put into the zip. */
  includeFeatures?: boolean;
  /** Near mode: cosine similarity at or above which two images pair up through their embeddings. */
  similarity?: number;
  semantic?: ManifestSemanticSettings;
  /** Present whenever embeddings took part in the grouping. */
  embedding?: ManifestEmbedding;
}

/** Settings as callers pass them: mirror and linkage default as in buildGroups. */
export type ManifestSettingsInput = Omit<ManifestSettings, 'mirror' | 'linkage'> & {
  mirror?: boolean;
  linkage?: NearLinkage;
};

/** One input file as the manifest needs it (analysed or not). */
export interface ManifestFileInput {
  id: number;
  path: string;
  label: string;
  size: number;
  sha256: string | null;
  width: number | null;
  height: number | null;
}

export interface ManifestInput {
  toolVersion: string;
  createdAt: Date | string;
  settings: ManifestSettingsInput;
  files: readonly ManifestFileInput[];
  groups: readonly Group[];
  /** computeSelection over the same files and groups. */
  selection: Selection;
  /** Semantic mode: per-class statistics, in any order. */
  classStats?: readonly ManifestClassStat[];
}

export interface ManifestFile {
  path: string;
  sha256: string | null;
  label: string;
  size: number;
  width: number | null;
  height: number | null;
  status: ItemStatusKind;
  reason: string;
  group: number | null;
  groupKind: GroupKind | null;
  keeper: string | null;
  distance: number | null;
}

export interface ManifestGroupMember {
  path: string;
  role: 'keeper' | 'member';
  status: ItemStatusKind;
  distance: number | null;
}

export interface ManifestGroup {
  id: number;
  kind: GroupKind;
  keeper: string;
  labels: string[];
  crossClass: boolean;
  members: ManifestGroupMember[];
}

export interface ManifestSummary extends Counts {
  groups: { total: number; exact: number; near: number; semantic: number; crossClass: number };
  byLabel: Record<string, Counts>;
  /** Semantic mode: one row per class, sorted by label. */
  classes?: ManifestClassStat[];
}

export interface Manifest {
  schemaVersion: typeof MANIFEST_SCHEMA_VERSION;
  tool: { name: typeof TOOL_NAME; version: string };
  createdAt: string;
  settings: ManifestSettings;
  summary: ManifestSummary;
  files: ManifestFile[];
  groups: ManifestGroup[];
}

export function buildManifest(input: ManifestInput): Manifest {
  const { files, groups, selection } = input;
  const fileById = new Map<number, ManifestFileInput>();
  for (const f of files) fileById.set(f.id, f);
  const statusById = new Map(selection.statuses.map((s) => [s.id, s]));
  const pathOf = (id: number | null): string | null =>
    id === null ? null : (fileById.get(id)?.path ?? null);

  const outFiles: ManifestFile[] = files.map((f) => {
    const s = statusById.get(f.id);
    if (s === undefined) throw new Error(`no selection status for file ${f.id} (${f.path})`);
    return {
      path: f.path,
      sha256: f.sha256,
      label: f.label,
      size: f.size,
      width: f.width,
      height: f.height,
      status: s.status,
      reason: s.reason,
      group: s.group,
      groupKind: s.groupKind,
      keeper: pathOf(s.keeper),
      distance: s.distance,
    };
  });
  outFiles.sort((a, b) => comparePaths(a.path, b.path));

  const outGroups: ManifestGroup[] = groups.map((g) => {
    const keeperId = selection.keepers.get(g.id) ?? g.keeper;
    const dist = selection.distances.get(g.id);
    // Effective keeper first, the rest in the grouping's order.
    const order = [keeperId, ...g.members.filter((m) => m !== keeperId)];
    return {
      id: g.id,
      kind: g.kind,
      keeper: pathOf(keeperId) ?? '',
      labels: [...g.labels],
      crossClass: g.crossClass,
      members: order.map((m) => ({
        path: pathOf(m) ?? '',
        role: m === keeperId ? ('keeper' as const) : ('member' as const),
        status: statusById.get(m)?.status ?? 'kept',
        distance: dist?.get(m) ?? g.distances[m] ?? null,
      })),
    };
  });
  outGroups.sort((a, b) => a.id - b.id);

  // Null prototype: a label may be '__proto__' or 'constructor'.
  const byLabel: Record<string, Counts> = Object.create(null);
  for (const label of Object.keys(selection.counts.byLabel).sort(comparePaths)) {
    const c = selection.counts.byLabel[label];
    byLabel[label] = { total: c.total, kept: c.kept, removed: c.removed, skipped: c.skipped };
  }
  const { total, kept, removed, skipped } = selection.counts;
  return {
    schemaVersion: MANIFEST_SCHEMA_VERSION,
    tool: { name: TOOL_NAME, version: input.toolVersion },
    createdAt:
      typeof input.createdAt === 'string' ? input.createdAt : input.createdAt.toISOString(),
    settings: {
      mode: input.settings.mode,
      hash: input.settings.hash,
      threshold: input.settings.threshold,
      keeperRule: [...input.settings.keeperRule],
      perClass: input.settings.perClass,
      linkage: input.settings.linkage ?? 'keeper',
      mirror: input.settings.mirror ?? true,
      ...optional('includeImages', input.settings.includeImages),
      ...optional('includeFeatures', input.settings.includeFeatures),
      ...optional('similarity', input.settings.similarity),
      ...optional('semantic', input.settings.semantic && { ...input.settings.semantic, keepByClass: sortedRecord(input.settings.semantic.keepByClass) }),
      ...optional('embedding', input.settings.embedding && { ...input.settings.embedding, model: { ...input.settings.embedding.model } }),
    },
    summary: {
      total,
      kept,
      removed,
      skipped,
      groups: {
        total: outGroups.length,
        exact: outGroups.filter((g) => g.kind === 'exact').length,
        near: outGroups.filter((g) => g.kind === 'near').length,
        semantic: outGroups.filter((g) => g.kind === 'semantic').length,
        crossClass: outGroups.filter((g) => g.crossClass).length,
      },
      byLabel,
      ...optional('classes', input.classStats && [...input.classStats].sort((a, b) => comparePaths(a.label, b.label)).map((c) => ({ ...c }))),
    },
    files: outFiles,
    groups: outGroups,
  };
}

/** `{ key: value }` when the value is defined, else nothing, so absent settings stay absent. */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}

function sortedRecord<V>(record: Record<string, V>): Record<string, V> {
  // Null prototype: a label may be '__proto__'.
  const out: Record<string, V> = Object.create(null);
  for (const key of Object.keys(record).sort(comparePaths)) out[key] = record[key];
  return out;
}

// eslint-disable-next-line no-control-regex
const NEEDS_QUOTING_IN_LIST = /[\u0000-\u001f\u007f]/;

/**
 * One path per line, sorted, '\n' after each. A path that contains a control character (a newline
 * would split it into two lines) or starts with '"' is written as a JSON string literal instead,
 * the way git quotes unusual paths; every other path is written verbatim.
 */
export function pathList(paths: Iterable<string>): string {
  const sorted = [...paths].sort(comparePaths);
  let out = '';
  for (const p of sorted) {
    out += (NEEDS_QUOTING_IN_LIST.test(p) || p.startsWith('"') ? JSON.stringify(p) : p) + '\n';
  }
  return out;
}

/** RFC 4180 field: quoted when it holds a comma, quote, CR or LF; quotes doubled. */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const GROUPS_CSV_HEADER = ['group_id', 'kind', 'path', 'role', 'distance', 'label'] as const;

/** One row per group member, keeper first; CRLF line ends as RFC 4180 asks. */
export function groupsCsv(manifest: Manifest): string {
  const labelOf = new Map(manifest.files.map((f) => [f.path, f.label]));
  const rows: string[] = [GROUPS_CSV_HEADER.join(',')];
  for (const g of manifest.groups) {
    for (const m of g.members) {
      rows.push(
        [g.id, g.kind, m.path, m.role, m.distance, labelOf.get(m.path) ?? '']
          .map(csvField)
          .join(','),
      );
    }
  }
  return rows.join('\r\n') + '\r\n';
}

export interface ExportDocuments {
  manifest: Manifest;
  /** Pretty-printed manifest.json content. */
  manifestJson: string;
  keptTxt: string;
  removedTxt: string;
  groupsCsv: string;
}

export function buildExportDocuments(input: ManifestInput): ExportDocuments {
  const manifest = buildManifest(input);
  return {
    manifest,
    manifestJson: JSON.stringify(manifest, null, 2) + '\n',
    keptTxt: pathList(manifest.files.filter((f) => f.status === 'kept').map((f) => f.path)),
    removedTxt: pathList(manifest.files.filter((f) => f.status === 'removed').map((f) => f.path)),
    groupsCsv: groupsCsv(manifest),
  };
}
