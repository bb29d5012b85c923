import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { findModel, loadRegistry, modelFileUrl, parseModelEntry, parseRegistry } from '../../../src/ml/registry.ts';
import { PUBLIC_MODELS, buildModels, fileFetch } from './helpers.ts';

beforeAll(() => buildModels());
afterEach(() => vi.unstubAllGlobals());

const good = () => JSON.parse(readFileSync(join(PUBLIC_MODELS, 'registry.json'), 'utf8'))[0];

describe('loadRegistry', () => {
  it('reads the generated registry from the models base URL', async () => {
    const f = fileFetch();
    const entries = await loadRegistry('/models/', f);
    expect(f.urls).toEqual(['/models/registry.json']);
    const e = findModel(entries, 'mobilenetv2-mid');
    expect(e).toMatchObject({ version: '4.4.0', inputSize: 224, dim: 1792, input: 'input', baseUrl: '/models/' });
    expect(e.inputRange).toEqual([0, 1]);
    for (const file of e.files) {
      const buf = readFileSync(join(PUBLIC_MODELS, file.path));
      expect(createHash('sha256').update(buf).digest('hex')).toBe(file.sha256);
    }
    expect(Object.isFrozen(e)).toBe(true);
  });

  it('says what to do when the registry is missing', async () => {
    await expect(loadRegistry('/nowhere/', fileFetch())).rejects.toThrow(/HTTP 404.*npm run models/);
  });

  it('names unknown models', () => {
    expect(() => findModel([], 'clip')).toThrow(/no model 'clip'/);
  });
});

describe('parseModelEntry', () => {
  it.each([
    ['a path leaving the folder', (e: any) => (e.files[1].path = '../secret.bin'), /plain relative path/],
    ['an absolute URL', (e: any) => (e.files[1].path = 'https://cdn.example/w.bin'), /plain relative path/],
    ['a protocol-relative URL', (e: any) => (e.files[1].path = '//cdn.example/w.bin'), /plain relative path/],
    ['a short digest', (e: any) => (e.files[0].sha256 = 'abc'), /sha256/],
    ['no dim', (e: any) => delete e.dim, /'dim'/],
    ['a reversed input range', (e: any) => (e.inputRange = [1, 0]), /inputRange/],
    ['no model json', (e: any) => (e.files = e.files.slice(1)), /model \.json/],
  ])('refuses %s', (_, mutate, message) => {
    const e = good();
    mutate(e);
    expect(() => parseModelEntry(e)).toThrow(message);
  });

  it('refuses duplicate ids', () => {
    expect(() => parseRegistry([good(), good()])).toThrow(/twice/);
  });
});

describe('modelFileUrl', () => {
  it('joins base and path', () => {
    expect(modelFileUrl('/models', 'a/b.bin')).toBe('/models/a/b.bin');
    expect(modelFileUrl('/app/models/', 'a/b.bin')).toBe('/app/models/a/b.bin');
  });

  it('refuses a base on another origin when running in a page', () => {
    vi.stubGlobal('location', { href: 'https://winnow.example/app/', origin: 'https://winnow.example' });
    expect(modelFileUrl('/models/', 'x.bin')).toBe('/models/x.bin');
    expect(() => modelFileUrl('https://cdn.example/models/', 'x.bin')).toThrow(/another origin/);
  });
});
