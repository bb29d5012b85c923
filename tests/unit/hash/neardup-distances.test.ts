/**
 * Near-duplicate benchmark (../shared/data/neardup): how far each transform moves each hash, how
 * close unrelated photos come, and which hash + threshold to ship as the default. Prints the
 * tables quoted in docs/neardup-threshold.md and asserts the facts the recommendation rests on.
 *
 * (A vitest file rather than scripts/*.ts: this project's Node 20 cannot run TypeScript directly.)
 *
 * Decoding: JPEGs with the libjpeg-turbo-identical test decoder (the pixels Pillow and, for
 * baseline JPEGs, browsers built on libjpeg-turbo produce), PNG with pngjs. The 49 format_webp
 * files are skipped: nothing in this project decodes WebP in Node. A second pass with jpeg-js
 * (a different IDCT and chroma upsampling) checks that the conclusion does not hinge on the decoder.
 *
 * Distances are flip-invariant, as the product computes them (src/core/hamming.ts
 * flipDistanceAt): min(d(a, b), d(a, mirror b), d(mirror a, b)).
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, test } from 'vitest';
import { HASH_KINDS, type HashKind } from '../../../src/core/types.ts';
import { hammingHex } from '../../../src/core/hash/hamming.ts';
import { computeHashSets, type HashSets } from '../../../src/core/hash/index.ts';
import { decodeFile, SHARED_DATA } from './decode.ts';
import { decodeJpegLibjpeg } from './libjpeg-decode.ts';

const ROOT = `${SHARED_DATA}/neardup`;

interface Item {
  file: string;
  group: number;
  transform: string;
  sets: HashSets;
}

function loadItems(decoder: 'libjpeg' | 'jpeg-js'): Item[] {
  const lines = readFileSync(`${ROOT}/ground_truth.csv`, 'utf8').trim().split('\n');
  const header = lines[0].split(',');
  const col = (name: string) => header.indexOf(name);
  const items: Item[] = [];
  for (const line of lines.slice(1)) {
    const f = line.split(',');
    const file = f[col('file')];
    if (file.endsWith('.webp')) continue;
    const path = `${ROOT}/${file}`;
    const img = decoder === 'libjpeg' && file.endsWith('.jpg') ? decodeJpegLibjpeg(readFileSync(path)) : decodeFile(path)!;
    items.push({ file, group: Number(f[col('group_id')]), transform: f[col('transform')], sets: computeHashSets(img.data, img.width, img.height) });
  }
  return items;
}

/** Per-kind distances for one orientation of a pair. */
type Dist = Record<HashKind, number>;

/** The three orientations the product compares: (a, b), (a, mirror b), (mirror a, b). */
function orientations(a: HashSets, b: HashSets): Dist[] {
  const d = (x: Record<HashKind, string>, y: Record<HashKind, string>): Dist =>
    Object.fromEntries(HASH_KINDS.map((k) => [k, hammingHex(x[k], y[k])])) as Dist;
  return [d(a.hashes, b.hashes), d(a.hashes, b.mirrored), d(a.mirrored, b.hashes)];
}

interface Pair {
  same: boolean;
  /** Transform of the non-original file when the pair is (orig, variant) of one group, else ''. */
  variantOf: string;
  o: Dist[];
}

/** A decision rule: the pair is a near-duplicate if it holds in some orientation. */
interface Rule {
  name: string;
  /** Score per orientation; the rule is `min over orientations of score ≤ t`. */
  score: (d: Dist) => number;
}

const RULES: Rule[] = [
  ...HASH_KINDS.map((k): Rule => ({ name: k, score: (d) => d[k] })),
  { name: 'phash+dhash (sum)', score: (d) => d.phash + d.dhash },
  { name: 'max(phash,dhash)', score: (d) => Math.max(d.phash, d.dhash) },
  { name: 'phash+whash (sum)', score: (d) => d.phash + d.whash },
  { name: 'sum of all four', score: (d) => d.phash + d.dhash + d.ahash + d.whash },
];

const score = (p: Pair, r: Rule) => Math.min(...p.o.map(r.score));

function makePairs(items: Item[]): Pair[] {
  const pairs: Pair[] = [];
  for (let i = 0; i < items.length; i++) {
    for (let j = i + 1; j < items.length; j++) {
      const a = items[i];
      const b = items[j];
      const same = a.group === b.group;
      let variantOf = '';
      if (same && a.transform === 'orig') variantOf = b.transform;
      if (same && b.transform === 'orig') variantOf = a.transform;
      pairs.push({ same, variantOf, o: orientations(a.sets, b.sets) });
    }
  }
  return pairs;
}

interface RuleSummary {
  rule: string;
  /** Smallest score between different groups (the closest false pair). */
  minFalse: number;
  /** Pair recall (all same-group pairs, 12 files a group → 66 pairs) at a threshold. */
  recallAt: (t: number) => number;
  /** Variant-to-original recall at a threshold (one row per non-original file). */
  variantRecallAt: (t: number) => number;
  falseAt: (t: number) => number;
}

function summarise(pairs: Pair[], r: Rule): RuleSummary {
  const sameScores: number[] = [];
  const variantScores: number[] = [];
  const falseScores: number[] = [];
  for (const p of pairs) {
    const s = score(p, r);
    if (p.same) {
      sameScores.push(s);
      if (p.variantOf) variantScores.push(s);
    } else falseScores.push(s);
  }
  const frac = (xs: number[], t: number) => xs.filter((x) => x <= t).length / xs.length;
  return {
    rule: r.name,
    minFalse: minOf(falseScores),
    recallAt: (t) => frac(sameScores, t),
    variantRecallAt: (t) => frac(variantScores, t),
    falseAt: (t) => falseScores.filter((x) => x <= t).length,
  };
}

/** Math.min(...xs) overflows the stack on 150k pairs. */
const minOf = (xs: number[]) => xs.reduce((a, b) => (b < a ? b : a), Infinity);

const pct = (x: number) => `${(100 * x).toFixed(1)}%`.padStart(6);

describe('near-duplicate benchmark', () => {
  let items: Item[];
  let pairs: Pair[];

  beforeAll(() => {
    items = loadItems('libjpeg');
    pairs = makePairs(items);
  }, 300_000);

  test('per-transform distance to the original and closest false pair, per hash', () => {
    const transforms = [...new Set(items.map((i) => i.transform))].filter((t) => t !== 'orig' && t !== 'distractor');
    const out: string[] = [];
    out.push(`files hashed: ${items.length} (format_webp skipped), groups: ${new Set(items.map((i) => i.group)).size}, pairs: ${pairs.length} (${pairs.filter((p) => p.same).length} same-group)`);
    out.push(`flip-invariant distance of each variant to its original, mean / max bits:`);
    out.push(`${'transform'.padEnd(12)}${HASH_KINDS.map((k) => k.padStart(12)).join('')}`);
    for (const t of transforms) {
      const rows = pairs.filter((p) => p.variantOf === t);
      const cells = HASH_KINDS.map((k) => {
        const xs = rows.map((p) => Math.min(...p.o.map((d) => d[k])));
        return `${(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(1)} / ${Math.max(...xs)}`.padStart(12);
      });
      out.push(`${t.padEnd(12)}${cells.join('')}`);
    }
    const hflip = pairs.filter((p) => p.variantOf === 'hflip');
    out.push(
      `${'hflip plain'.padEnd(12)}${HASH_KINDS.map((k) => {
        const xs = hflip.map((p) => p.o[0][k]);
        return `${(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(1)} / ${Math.max(...xs)}`.padStart(12);
      }).join('')}   (without the mirrored hashes)`,
    );
    const falses = pairs.filter((p) => !p.same);
    out.push(`${'min false'.padEnd(12)}${HASH_KINDS.map((k) => String(minOf(falses.map((p) => Math.min(...p.o.map((d) => d[k]))))).padStart(12)).join('')}`);
    out.push(`${'min false*'.padEnd(12)}${HASH_KINDS.map((k) => String(minOf(falses.map((p) => p.o[0][k]))).padStart(12)).join('')}   (* plain distance, no mirror)`);
    console.log(out.join('\n'));

    // Basic facts: copies are identical, a mirror is found through the mirrored hashes.
    for (const p of pairs.filter((q) => q.variantOf === 'exact_copy' || q.variantOf === 'format_png')) {
      for (const k of HASH_KINDS) expect(Math.min(...p.o.map((d) => d[k]))).toBe(0);
    }
    for (const p of hflip) {
      for (const k of HASH_KINDS) expect(Math.min(...p.o.map((d) => d[k])), k).toBeLessThanOrEqual(4);
    }
  });

  test('thresholds: recall with zero false pairs, per rule', () => {
    const out: string[] = [];
    out.push('rule               minFalse   t=minFalse-1: pairs / variants    t=minFalse-4: pairs / variants   t(0.75·minFalse)');
    const sums = RULES.map((r) => summarise(pairs, r));
    for (const s of sums) {
      const t1 = s.minFalse - 1;
      const t4 = s.minFalse - 4;
      const t75 = Math.floor(0.75 * s.minFalse);
      out.push(
        `${s.rule.padEnd(19)}${String(s.minFalse).padStart(8)}   t=${String(t1).padStart(2)}: ${pct(s.recallAt(t1))} / ${pct(s.variantRecallAt(t1))}` +
          `        t=${String(t4).padStart(2)}: ${pct(s.recallAt(t4))} / ${pct(s.variantRecallAt(t4))}      t=${t75}: ${pct(s.variantRecallAt(t75))}`,
      );
    }
    // Recall per threshold for the single hashes, and false pairs, to see the whole trade-off.
    out.push('\nvariant-to-original recall (false pairs) by threshold:');
    out.push(`${'t'.padStart(3)}${HASH_KINDS.map((k) => k.padStart(18)).join('')}`);
    for (let t = 4; t <= 20; t += 2) {
      out.push(`${String(t).padStart(3)}${sums.slice(0, 4).map((s) => `${pct(s.variantRecallAt(t))} (${s.falseAt(t)})`.padStart(18)).join('')}`);
    }
    const sum = sums.find((x) => x.rule === 'phash+dhash (sum)')!;
    out.push('\npHash+dHash sum rule, variant recall (false pairs) by threshold:');
    out.push([20, 22, 24, 26, 28, 30, 32].map((t) => `T=${t}: ${pct(sum.variantRecallAt(t)).trim()} (${sum.falseAt(t)})`).join('  '));
    // OR rule: pHash ≤ t1 or dHash ≤ t2, in the same orientation.
    const orRows: string[] = [];
    for (const t1 of [8, 10, 12]) {
      for (const t2 of [4, 6, 8, 10]) {
        const hit = (p: Pair) => p.o.some((d) => d.phash <= t1 || d.dhash <= t2);
        const fp = pairs.filter((p) => !p.same && hit(p)).length;
        const variants = pairs.filter((p) => p.variantOf);
        orRows.push(`phash≤${t1} OR dhash≤${t2}: variants ${pct(variants.filter(hit).length / variants.length)}, false pairs ${fp}`);
      }
    }
    out.push(`\n${orRows.join('\n')}`);
    // Per-transform recall at the candidate default.
    out.push('\nper-transform variant recall at pHash ≤ 10 / ≤ 12 / dHash ≤ 10:');
    for (const t of [...new Set(pairs.map((p) => p.variantOf))].filter(Boolean)) {
      const rows = pairs.filter((p) => p.variantOf === t);
      const rec = (k: HashKind, th: number) => pct(rows.filter((p) => Math.min(...p.o.map((d) => d[k])) <= th).length / rows.length);
      out.push(`${t.padEnd(12)} ${rec('phash', 10)} ${rec('phash', 12)} ${rec('dhash', 10)}`);
    }
    // How thin is the tail of unrelated pairs? Counts of false pairs at small distances.
    const falses = pairs.filter((p) => !p.same);
    out.push(`\nfalse pairs (of ${falses.length}) at or below d:`);
    out.push(`${'d'.padStart(3)}${HASH_KINDS.map((k) => k.padStart(8)).join('')}`);
    for (let d = 14; d <= 24; d += 2) {
      out.push(`${String(d).padStart(3)}${HASH_KINDS.map((k) => String(falses.filter((p) => Math.min(...p.o.map((x) => x[k])) <= d).length).padStart(8)).join('')}`);
    }
    // The same tail for every rule, relative to its closest false pair: how fast it thickens.
    out.push('\nfalse pairs at or below minFalse + 0 / +2 / +4 / +6 / +8, per rule:');
    for (const s of sums) {
      out.push(`${s.rule.padEnd(19)}${[0, 2, 4, 6, 8].map((x) => String(s.falseAt(s.minFalse + x)).padStart(7)).join('')}`);
    }
    console.log(out.join('\n'));

    // The shipped default (DEFAULT_SETTINGS: pHash, 10) must sit several bits below the closest
    // false pair and find every copy, re-encode, resize, brightness, grey and mirror variant.
    const ph = sums.find((s) => s.rule === 'phash')!;
    expect(ph.minFalse - 10).toBeGreaterThanOrEqual(4);
    expect(ph.falseAt(10)).toBe(0);
    for (const t of ['exact_copy', 'resize50', 'jpeg_q50', 'bright10', 'hflip', 'grayscale', 'format_png']) {
      const rows = pairs.filter((p) => p.variantOf === t);
      expect(rows.every((p) => Math.min(...p.o.map((d) => d.phash)) <= 10), t).toBe(true);
    }
  });

  test('the conclusion does not depend on the JPEG decoder (jpeg-js)', () => {
    const alt = makePairs(loadItems('jpeg-js'));
    const out: string[] = ['jpeg-js decode: closest false pair and variant recall at pHash ≤ 10:'];
    for (const r of RULES.slice(0, 4)) {
      const s = summarise(alt, r);
      out.push(`${r.name.padEnd(8)} minFalse ${s.minFalse}, variant recall at 10: ${pct(s.variantRecallAt(10))}, false pairs at 10: ${s.falseAt(10)}`);
    }
    console.log(out.join('\n'));
    const ph = summarise(alt, RULES[0]);
    expect(ph.falseAt(10)).toBe(0);
    expect(Math.abs(ph.variantRecallAt(10) - summarise(pairs, RULES[0]).variantRecallAt(10))).toBeLessThan(0.02);
  }, 300_000);
});
