import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildModels } from './helpers.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const out = mkdtempSync(join(tmpdir(), 'winnow-models-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('scripts/models/build-models.mjs', () => {
  it('writes model.json + one weights.bin + registry.json, and they agree', () => {
    expect(buildModels(out)).toMatch(/wrote mobilenetv2-mid/);
    const registry = JSON.parse(readFileSync(join(out, 'registry.json'), 'utf8'));
    expect(registry).toHaveLength(1);
    const e = registry[0];
    expect(e).toMatchObject({ id: 'mobilenetv2-mid', version: '4.4.0', inputSize: 224, input: 'input', inputRange: [0, 1], dim: 1792 });
    expect(e.outputNode).toMatch(/MobilenetV2\/Logits\/AvgPool$/);
    expect(e.source).toMatch(/^nsfwjs@4\.4\.0 /);
    expect(e.files.map((f: { path: string }) => f.path)).toEqual(['mobilenetv2-mid/model.json', 'mobilenetv2-mid/weights.bin']);
    for (const f of e.files) {
      const buf = readFileSync(join(out, f.path));
      expect(buf.length).toBe(f.bytes);
      expect(sha(buf)).toBe(f.sha256);
    }
    const model = JSON.parse(readFileSync(join(out, 'mobilenetv2-mid/model.json'), 'utf8'));
    expect(model.weightsManifest).toHaveLength(1);
    expect(model.weightsManifest[0].paths).toEqual(['weights.bin']);
    // uint8-quantised weights: one byte per value, in manifest order.
    const values = model.weightsManifest[0].weights.reduce((n: number, w: { shape: number[] }) => n + w.shape.reduce((a, b) => a * b, 1), 0);
    expect(readFileSync(join(out, 'mobilenetv2-mid/weights.bin')).length).toBe(values);
  });

  it('is idempotent, and repairs a damaged output', () => {
    const before = readFileSync(join(out, 'registry.json'), 'utf8');
    expect(buildModels(out)).toMatch(/up to date/);
    const bin = join(out, 'mobilenetv2-mid/weights.bin');
    const good = readFileSync(bin);
    const bad = Buffer.from(good);
    bad[1000] ^= 0xff;
    writeFileSync(bin, bad);
    expect(buildModels(out)).toMatch(/wrote mobilenetv2-mid/);
    expect(readFileSync(bin).equals(good)).toBe(true);
    expect(readFileSync(join(out, 'registry.json'), 'utf8')).toBe(before);
  });
});
