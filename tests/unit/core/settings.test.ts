import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KEEPER_RULES } from '../../../src/core/keeper.ts';
import {
  BACKENDS,
  DEFAULT_SETTINGS,
  keepFor,
  MAX_THRESHOLD,
  MODES,
  needsEmbeddings,
  settingsFromQuery,
  settingsToQuery,
  type Settings,
} from '../../../src/core/settings.ts';
import { HASH_KINDS } from '../../../src/core/types.ts';

const fraction = fc.integer({ min: 0, max: 100 }).map((n) => n / 100);
const label = fc.string({ minLength: 1, maxLength: 12 });

const settingsArb: fc.Arbitrary<Settings> = fc.record({
  mode: fc.constantFrom(...MODES),
  hash: fc.constantFrom(...HASH_KINDS),
  threshold: fc.integer({ min: 0, max: MAX_THRESHOLD }),
  embeddings: fc.boolean(),
  similarity: fraction,
  keeper: fc.shuffledSubarray([...KEEPER_RULES], { minLength: 3, maxLength: 3 }),
  linkage: fc.constantFrom('keeper' as const, 'strict' as const),
  perClass: fc.boolean(),
  keep: fraction,
  keepByClass: fc.dictionary(label, fraction, { maxKeys: 4 }),
  semanticCut: fc.constantFrom('keep' as const, 'distance' as const),
  distance: fc.integer({ min: 0, max: 200 }).map((n) => n / 100),
  model: fc.constantFrom('mobilenetv2-mid', 'user-0123456789abcdef', 'x.y_z-1'),
  backend: fc.constantFrom(null, ...BACKENDS),
  includeImages: fc.boolean(),
  includeFeatures: fc.boolean(),
});

/** The settings a query can carry: fields that do not apply to the mode are not written. */
function relevant(s: Settings): Partial<Settings> {
  const usesModel = needsEmbeddings(s);
  return {
    mode: s.mode,
    keeper: s.keeper,
    linkage: s.linkage,
    perClass: s.perClass,
    includeImages: s.includeImages,
    includeFeatures: s.includeFeatures,
    ...(s.mode === 'near' ? { hash: s.hash, threshold: s.threshold, embeddings: s.embeddings } : {}),
    ...(s.mode === 'near' && s.embeddings ? { similarity: s.similarity } : {}),
    ...(s.mode === 'semantic' ? { semanticCut: s.semanticCut } : {}),
    ...(s.mode === 'semantic' && s.semanticCut === 'keep' ? { keep: s.keep, keepByClass: s.keepByClass } : {}),
    ...(s.mode === 'semantic' && s.semanticCut === 'distance' ? { distance: s.distance } : {}),
    ...(usesModel ? { model: s.model, backend: s.backend } : {}),
  };
}

describe('settings in the URL', () => {
  it('a query written from settings reads back as the same settings', () => {
    fc.assert(
      fc.property(settingsArb, (s) => {
        const back = settingsFromQuery(new URLSearchParams(settingsToQuery(s).toString()));
        expect(relevant(back)).toEqual(relevant(s));
      }),
    );
  });

  it('the documented semantic preset parses', () => {
    const s = settingsFromQuery(new URLSearchParams('mode=semantic&keep=0.8&model=mobilenetv2-mid&backend=wasm&features=1'));
    expect(s).toMatchObject({ mode: 'semantic', keep: 0.8, model: 'mobilenetv2-mid', backend: 'wasm', includeFeatures: true, semanticCut: 'keep' });
  });

  it('per-class keep fractions split at the last colon, so labels may hold colons', () => {
    const query = new URLSearchParams();
    query.append('keepClass', 'a:b:0.5');
    query.append('keepClass', 'cat:1');
    query.append('keepClass', 'bad');
    query.append('keepClass', 'dog:2');
    const s = settingsFromQuery(query);
    expect(s.keepByClass).toEqual({ 'a:b': 0.5, cat: 1 });
    expect(keepFor(s, 'a:b')).toBe(0.5);
    expect(keepFor(s, 'other')).toBe(DEFAULT_SETTINGS.keep);
  });

  it('a distance alone switches the semantic cut to distance', () => {
    expect(settingsFromQuery(new URLSearchParams('mode=semantic&distance=0.05'))).toMatchObject({ semanticCut: 'distance', distance: 0.05 });
  });

  it('invalid values fall back to the defaults instead of throwing', () => {
    const junk = 'mode=fuzzy&threshold=99&keep=1.5&similarity=-1&distance=3&model=../evil&backend=tpu&cut=maybe&keep=NaN';
    const s = settingsFromQuery(new URLSearchParams(junk));
    expect(s).toEqual({ ...DEFAULT_SETTINGS, keeper: [...DEFAULT_SETTINGS.keeper], keepByClass: {} });
    fc.assert(
      fc.property(fc.string(), fc.string(), (key, value) => {
        const q = new URLSearchParams();
        q.set(key, value);
        const parsed = settingsFromQuery(q);
        expect(parsed.keep).toBeGreaterThanOrEqual(0);
        expect(parsed.keep).toBeLessThanOrEqual(1);
        expect(MODES).toContain(parsed.mode);
      }),
    );
  });

  it('the defaults do not share arrays or records with the frozen default', () => {
    const s = settingsFromQuery(new URLSearchParams());
    s.keeper.push('filesize');
    s.keepByClass.x = 0.1;
    expect(DEFAULT_SETTINGS.keeper).toHaveLength(3);
    expect(DEFAULT_SETTINGS.keepByClass).toEqual({});
  });
});
