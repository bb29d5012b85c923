/** Which images train and which only evaluate: the rule every trained network in the app relies on. */
import { describe, expect, it } from 'vitest';
import { datasetSplit, HELD_OUT_FRACTION } from '../../../src/ui/state/dataset-split.ts';
import type { IntakeFile } from '../../../src/io/intake/collect.ts';
import type { FileAnalysis } from '../../../src/workers/hash/analyse.ts';

function folder(entries: { path: string; label: string; split?: 'train' | 'test'; ok?: boolean }[]) {
  const files = entries.map((e) => ({ file: new File(['x'], e.path.split('/').pop()!), path: e.path, label: e.label, split: e.split }) as IntakeFile);
  const results = entries.map((e, i) =>
    e.ok === false
      ? ({ ok: false, sha256: `bad${i}`, reason: 'not-an-image', detail: '' } as unknown as FileAnalysis)
      : ({ ok: true, sha256: i.toString(16).padStart(64, '0'), features: { width: 32, height: 32 } } as unknown as FileAnalysis),
  );
  return { files, results };
}

const flat = (perClass: number, classes = ['cat', 'dog']) => classes.flatMap((c) => Array.from({ length: perClass }, (_, i) => ({ path: `${c}/${i}.jpg`, label: c })));

describe('datasetSplit', () => {
  it('evaluates on the test folder when the drop has one, and trains on the rest', () => {
    const { files, results } = folder([
      ...flat(3).map((e) => ({ ...e, path: `train/${e.path}`, split: 'train' as const })),
      ...flat(2).map((e) => ({ ...e, path: `test/${e.path}`, split: 'test' as const })),
    ]);
    const answer = datasetSplit(files, results);
    if (!answer.ok) throw new Error(answer.reason);
    const s = answer.split;
    expect(s.source).toBe('folders');
    expect(s.classes).toEqual(['cat', 'dog']);
    expect(Array.from(s.train, (i) => files[s.items[i].id].split)).toEqual(Array(6).fill('train'));
    expect(Array.from(s.test, (i) => files[s.items[i].id].split)).toEqual(Array(4).fill('test'));
  });

  it('holds out a stratified share, the same one every time, never overlapping the training side', () => {
    const { files, results } = folder(flat(50));
    const a = datasetSplit(files, results);
    const b = datasetSplit(files, results);
    if (!a.ok || !b.ok) throw new Error('no split');
    expect(a.split.source).toBe('held-out');
    expect(Array.from(a.split.test)).toEqual(Array.from(b.split.test));
    expect(a.split.test.length).toBe(Math.round(HELD_OUT_FRACTION * 50) * 2);
    const test = new Set(a.split.test);
    expect(Array.from(a.split.train).some((i) => test.has(i))).toBe(false);
    expect(a.split.train.length + a.split.test.length).toBe(100);
    for (const label of [0, 1]) expect(Array.from(a.split.test).filter((i) => a.split.items[i].label === label)).toHaveLength(10);
  });

  it('leaves out files in the root and files that did not decode, and counts them', () => {
    const { files, results } = folder([...flat(5), { path: 'loose.jpg', label: '' }, { path: 'cat/broken.jpg', label: 'cat', ok: false }]);
    const answer = datasetSplit(files, results);
    if (!answer.ok) throw new Error(answer.reason);
    expect(answer.split.leftOut).toBe(2);
    expect(answer.split.items).toHaveLength(10);
  });

  it('says why it cannot train: no labels, one class, a class with a single training image', () => {
    const none = folder([{ path: 'a.jpg', label: '' }, { path: 'b.jpg', label: '' }]);
    expect(datasetSplit(none.files, none.results)).toMatchObject({ ok: false, reason: expect.stringContaining('subfolder') });
    const one = folder(flat(5, ['cat']));
    expect(datasetSplit(one.files, one.results)).toMatchObject({ ok: false, reason: expect.stringContaining("one ('cat')") });
    const thin = folder([...flat(5, ['cat']), { path: 'train/dog/1.jpg', label: 'dog', split: 'train' }, { path: 'test/dog/2.jpg', label: 'dog', split: 'test' }]);
    expect(datasetSplit(thin.files, thin.results)).toMatchObject({ ok: false, reason: expect.stringContaining("'dog'") });
  });
});
