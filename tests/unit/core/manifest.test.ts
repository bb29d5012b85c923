import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildGroups, type GroupItem } from '../../../src/core/groups.ts';
import {
  GROUPS_CSV_HEADER,
  MANIFEST_SCHEMA_VERSION,
  buildExportDocuments,
  csvField,
  pathList,
  type ManifestFileInput,
} from '../../../src/core/manifest.ts';
import { NO_OVERRIDES, computeSelection, keepAlso, setKeeper, type SelectionItem } from '../../../src/core/selection.ts';
import { HASH_KINDS, type Hash64, type HashSet } from '../../../src/core/types.ts';
import { clusteredHashes, flipBits } from './arbitraries.ts';
import { validate } from './json-schema-lite.ts';
import { parseCsv } from '../../support/csv.ts';

const schema = JSON.parse(readFileSync(new URL('../../../schema/manifest.schema.json', import.meta.url), 'utf8'));

function hashSet(h: Hash64): HashSet {
  return Object.fromEntries(HASH_KINDS.map((k) => [k, h])) as HashSet;
}
const EVERY_OTHER_NIBBLE = Array.from({ length: 64 }, (_, b) => b).filter((b) => Math.floor(b / 4) % 2 === 1);
const sha = (n: number) => n.toString(16).padStart(64, '0');

interface Scenario {
  files: (ManifestFileInput & SelectionItem & { hashes: HashSet; mirrored: HashSet })[];
}

function scenario(paths: string[], hs: Hash64[], shaOf: number[], labels: string[], skipped: boolean[]): Scenario {
  return {
    files: paths.map((path, i) => ({
      id: i,
      path,
      label: labels[i],
      size: 1000 + (shaOf[i] % 7),
      sha256: skipped[i] && i % 2 ? null : sha(shaOf[i]),
      width: skipped[i] ? null : 64,
      height: skipped[i] ? null : 48,
      hashes: hashSet(hs[shaOf[i] % hs.length]),
      // A mirror hash 32 bits away from its own hash: mirrors only match where a test wants them to.
      mirrored: hashSet(flipBits(hs[shaOf[i] % hs.length], EVERY_OTHER_NIBBLE)),
      skip: skipped[i] ? { reason: 'not-an-image' as const } : null,
    })),
  };
}

function documents(s: Scenario, threshold: number, overrides = NO_OVERRIDES) {
  const analysed = s.files.filter((f) => !f.skip) as unknown as GroupItem[];
  const groups = buildGroups(analysed, { mode: 'near', hash: 'dhash', threshold });
  const selection = computeSelection(s.files, groups, overrides, { hash: 'dhash', threshold });
  const docs = buildExportDocuments({
    toolVersion: '0.1.0',
    createdAt: new Date('2026-01-02T03:04:05.678Z'),
    settings: { mode: 'near', hash: 'dhash', threshold, keeperRule: ['resolution', 'filesize', 'shortest-path'], perClass: false },
    files: s.files,
    groups,
    selection,
  });
  return { docs, groups, selection };
}

const weirdPaths = [
  'cats/a.jpg',
  'cats/a, copy.jpg',
  'cats/say "cheese".jpg',
  'cats/line\nbreak.jpg',
  'dogs/ünïcödé 🐶.png',
  '"quoted-start.jpg',
  'flat.jpg',
  '__proto__/x.jpg',
];

describe('manifest', () => {
  it('validates against the schema and is consistent with the selection', () => {
    const base = '00ff00ff00ff00ff';
    const hs = [base, flipBits(base, [3]), 'ffffffffffffffff', '123456789abcdef0'];
    const s = scenario(weirdPaths, hs, [0, 0, 1, 2, 2, 3, 3, 0], ['cats', 'cats', 'cats', 'cats', 'dogs', '', '', '__proto__'], [false, false, false, false, false, false, true, false]);
    const { docs, groups } = documents(s, 6, keepAlso(NO_OVERRIDES, 1));
    const m = docs.manifest;
    expect(validate(schema, JSON.parse(docs.manifestJson))).toEqual([]);
    expect(m.schemaVersion).toBe(MANIFEST_SCHEMA_VERSION);
    expect(m.createdAt).toBe('2026-01-02T03:04:05.678Z');
    expect(m.settings.mirror).toBe(true);
    expect(m.files.map((f) => f.path)).toEqual([...weirdPaths].sort());
    expect(m.summary.total).toBe(weirdPaths.length);
    expect(m.summary.skipped).toBe(1);
    expect(Object.keys(m.summary.byLabel)).toEqual(['', '__proto__', 'cats', 'dogs']);
    expect(JSON.parse(docs.manifestJson).summary.byLabel.__proto__).toEqual({ total: 1, kept: 0, removed: 1, skipped: 0 });
    expect(m.groups.length).toBe(groups.length);
    expect(m.summary.groups.crossClass).toBe(m.groups.filter((g) => g.crossClass).length);
    const skipped = m.files.find((f) => f.path === 'flat.jpg')!;
    expect(skipped).toMatchObject({ status: 'skipped', sha256: sha(3), width: null, group: null, keeper: null, distance: null });
    expect(skipped.reason).toBe('skipped: not-an-image');
    const kept = m.files.filter((f) => f.status === 'kept').map((f) => f.path);
    const removed = m.files.filter((f) => f.status === 'removed').map((f) => f.path);
    expect(kept.length + removed.length + 1).toBe(weirdPaths.length);
    expect(m.files.find((f) => f.path === 'cats/a, copy.jpg')!.reason).toBe('kept: user choice');
    for (const f of m.files) if (f.status === 'removed') expect(f.keeper).not.toBeNull();
  });

  it('kept.txt and removed.txt: sorted, one per line, unusual paths quoted', () => {
    expect(pathList(['b', 'a/x', 'A'])).toBe('A\na/x\nb\n');
    expect(pathList([])).toBe('');
    expect(pathList(['line\nbreak.jpg', '"q.jpg', 'ok "inner".jpg'])).toBe(
      '"\\"q.jpg"\n"line\\nbreak.jpg"\nok "inner".jpg\n',
    );
    // Each quoted line is a JSON string that decodes to the original path.
    for (const line of pathList(weirdPaths).trimEnd().split('\n')) {
      const path = line.startsWith('"') ? JSON.parse(line) : line;
      expect(weirdPaths).toContain(path);
    }
  });

  it('groups.csv quotes commas, quotes and newlines per RFC 4180', () => {
    expect(csvField('plain/path.jpg')).toBe('plain/path.jpg');
    expect(csvField('a, "b"\nc.jpg')).toBe('"a, ""b""\nc.jpg"');
    expect(csvField(null)).toBe('');
    expect(csvField(6)).toBe('6');

    const hs = ['0000000000000000', 'ffffffffffffffff'];
    const tricky = 'cats/a, "b"\nc.jpg';
    const s = scenario(['cats/plain.jpg', tricky, 'cats/other.jpg'], hs, [0, 0, 1], ['cats', 'cats', 'cats'], [false, false, false]);
    const { docs } = documents(s, 4);
    const rows = parseCsv(docs.groupsCsv);
    expect(rows[0]).toEqual([...GROUPS_CSV_HEADER]);
    expect(rows.slice(1)).toEqual([
      ['1', 'exact', 'cats/plain.jpg', 'keeper', '0', 'cats'],
      ['1', 'exact', tricky, 'member', '0', 'cats'],
    ]);
    expect(docs.groupsCsv).toContain('"cats/a, ""b""\nc.jpg"');
    expect(docs.groupsCsv.endsWith('\r\n')).toBe(true);
  });

  it('random runs always produce schema-valid manifests with matching lists', () => {
    const arb = clusteredHashes({ minLength: 1, maxLength: 20 }).chain((hs) =>
      fc.record({
        hs: fc.constant(hs),
        n: fc.integer({ min: 0, max: 20 }),
        t: fc.integer({ min: 0, max: 12 }),
      }).chain(({ hs, n, t }) =>
        fc.record({
          hs: fc.constant(hs),
          t: fc.constant(t),
          paths: fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8, unit: 'grapheme' }), { minLength: n, maxLength: n }),
          shaOf: fc.array(fc.nat({ max: 30 }), { minLength: n, maxLength: n }),
          labels: fc.array(fc.constantFrom('a', 'b', '', 'constructor'), { minLength: n, maxLength: n }),
          skipped: fc.array(fc.integer({ min: 0, max: 5 }).map((x) => x === 0), { minLength: n, maxLength: n }),
          pick: fc.nat(),
        }),
      ),
    );
    fc.assert(
      fc.property(arb, ({ hs, t, paths, shaOf, labels, skipped, pick }) => {
        const s = scenario(paths, hs, shaOf, labels, skipped);
        let { docs, groups } = documents(s, t);
        if (groups.length > 0) {
          const g = groups[pick % groups.length];
          ({ docs } = documents(s, t, setKeeper(NO_OVERRIDES, g.id, g.members[pick % g.members.length])));
        }
        expect(validate(schema, JSON.parse(docs.manifestJson))).toEqual([]);
        const m = docs.manifest;
        const decode = (txt: string) =>
          txt === '' ? [] : txt.slice(0, -1).split('\n').map((l) => (l.startsWith('"') ? JSON.parse(l) : l));
        expect(decode(docs.keptTxt)).toEqual(m.files.filter((f) => f.status === 'kept').map((f) => f.path));
        expect(decode(docs.removedTxt)).toEqual(m.files.filter((f) => f.status === 'removed').map((f) => f.path));
        const rows = parseCsv(docs.groupsCsv);
        expect(rows.length - 1).toBe(m.groups.reduce((n, g) => n + g.members.length, 0));
        for (const g of m.groups) {
          expect(g.members.filter((x) => x.role === 'keeper')).toHaveLength(1);
          expect(g.members[0].path).toBe(g.keeper);
          expect(g.members[0].status).toBe('kept');
        }
      }),
      { numRuns: 150 },
    );
  });

  it('the validator catches broken manifests', () => {
    const s = scenario(['a.jpg', 'b.jpg'], ['0000000000000000'], [0, 0], ['', ''], [false, false]);
    const good = JSON.parse(documents(s, 0).docs.manifestJson);
    expect(validate(schema, good)).toEqual([]);
    const broken = structuredClone(good);
    broken.schemaVersion = 1;
    delete broken.files[0].status;
    broken.files[1].distance = 'far';
    broken.settings.extra = true;
    broken.groups[0].members = broken.groups[0].members.slice(0, 1);
    expect(validate(schema, broken)).toEqual([
      '$.schemaVersion: expected 2',
      '$.settings: unexpected property extra',
      '$.files[0]: missing status',
      '$.files[1].distance: expected number|null, got string',
      '$.groups[0].members: fewer than 2 items',
    ]);
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.properties.schemaVersion.const).toBe(MANIFEST_SCHEMA_VERSION);
  });
});

describe('manifest in semantic mode', () => {
  it('records the model, the semantic settings and Table 1, and validates', () => {
    const files = ['cats/a.jpg', 'cats/b.jpg', 'cats/c.jpg', 'dogs/d.jpg'].map((path, id) => ({
      id,
      path,
      label: path.split('/')[0],
      size: 100 + id,
      sha256: sha(id),
      width: 32,
      height: 32,
      skip: null,
    }));
    const groups = [
      { id: 1, kind: 'semantic' as const, members: [1, 0, 2], keeper: 1, distances: { 1: 0, 0: 0.0125, 2: 0.25 }, labels: ['cats'], crossClass: false },
    ];
    const selection = computeSelection(files, groups, NO_OVERRIDES, { hash: 'phash', threshold: 0 });
    const settings = {
      mode: 'semantic' as const,
      hash: 'phash' as const,
      threshold: 10,
      keeperRule: ['resolution' as const],
      perClass: true,
      semantic: { cut: 'keep' as const, keep: 0.5, keepByClass: { dogs: 1, cats: 0.34 }, distance: 0.1 },
      embedding: { model: { id: 'mobilenetv2-mid', version: '4.4.0', name: 'MobileNetV2Mid', dim: 1792 }, backend: 'wasm', centred: true },
      includeFeatures: true,
    };
    const classStats = [
      { label: 'dogs', n: 1, kept: 1, groups: 0, meanDissimilarity: null },
      { label: 'cats', n: 3, kept: 1, groups: 1, meanDissimilarity: 0.13125 },
    ];
    const docs = buildExportDocuments({ toolVersion: '0.2.0', createdAt: '2026-11-23T00:00:00.000Z', settings, files, groups, selection, classStats });
    const json = JSON.parse(docs.manifestJson);
    expect(validate(schema, json)).toEqual([]);
    expect(json.settings.mode).toBe('semantic');
    expect(Object.keys(json.settings.semantic.keepByClass)).toEqual(['cats', 'dogs']);
    expect(json.settings.embedding.model.dim).toBe(1792);
    expect(json.summary.groups).toMatchObject({ total: 1, semantic: 1, near: 0, exact: 0 });
    expect(json.summary.classes.map((c: { label: string }) => c.label)).toEqual(['cats', 'dogs']);
    const c = json.files.find((f: { path: string }) => f.path === 'cats/c.jpg');
    expect(c).toMatchObject({ status: 'removed', groupKind: 'semantic', keeper: 'cats/b.jpg', distance: 0.25 });
    expect(json.files.find((f: { path: string }) => f.path === 'dogs/d.jpg')).toMatchObject({ status: 'kept', group: null });
    // A hash-mode manifest carries none of the semantic fields.
    const s = scenario(['a.jpg', 'b.jpg'], ['0000000000000000'], [0, 0], ['', ''], [false, false]);
    const plain = JSON.parse(documents(s, 0).docs.manifestJson);
    expect(plain.settings.embedding).toBeUndefined();
    expect(plain.summary.classes).toBeUndefined();
  });
});
