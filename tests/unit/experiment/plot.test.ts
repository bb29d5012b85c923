import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { Method } from '../../../src/core/experiment/plan.ts';
import { figure2Svg } from '../../../src/core/experiment/plot.ts';
import type { SummaryPoint } from '../../../src/core/experiment/results.ts';

interface PlottedPoint {
  method: string;
  fraction: number;
  mean: number;
  x: number;
  y: number;
}

function plotted(svg: string): PlottedPoint[] {
  const out: PlottedPoint[] = [];
  for (const m of svg.matchAll(/<g class="point" ([^>]*)>/g)) {
    const attr = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(m[1])![1];
    const [x, y] = attr('transform').match(/-?[\d.]+/g)!.map(Number);
    out.push({ method: attr('data-method'), fraction: Number(attr('data-fraction')), mean: Number(attr('data-mean')), x, y });
  }
  return out;
}

/** Every tag closed in order, nothing after the root: the structure an XML parser would accept. */
function expectWellFormed(svg: string): void {
  const stack: string[] = [];
  const body = svg.trim();
  expect(body.startsWith('<svg ')).toBe(true);
  for (const m of body.matchAll(/<(\/?)([a-zA-Z][\w-]*)[^>]*?(\/?)>/g)) {
    if (m[1]) expect(stack.pop()).toBe(m[2]);
    else if (!m[3]) stack.push(m[2]);
  }
  expect(stack).toEqual([]);
  // Outside tags, '<' never appears, and '&' only as an entity.
  const text = body.replace(/<[^>]*>/g, '');
  expect(text).not.toMatch(/<|&(?!(amp|lt|gt|quot|apos);)/);
}

const summaryArb = fc
  .uniqueArray(
    fc.record({
      method: fc.constantFrom<Method>('semantic', 'random', 'hash'),
      fraction: fc.constantFrom(1, 0.9, 0.8, 0.7, 0.5),
      mean: fc.double({ min: 0, max: 1, noNaN: true }),
      sd: fc.double({ min: 0, max: 0.2, noNaN: true }),
      n: fc.integer({ min: 1, max: 10 }),
    }),
    { selector: (p) => `${p.method}/${p.fraction}`, maxLength: 15 },
  )
  .map((points) => points as SummaryPoint[]);

describe('figure2Svg', () => {
  test('one point per summary entry; a higher mean is drawn higher; a smaller fraction further right', () => {
    fc.assert(
      fc.property(summaryArb, (summary) => {
        const svg = figure2Svg(summary);
        expectWellFormed(svg);
        const points = plotted(svg);
        expect(points.length).toBe(summary.length);
        for (const p of summary) {
          expect(points.filter((q) => q.method === p.method && q.fraction === p.fraction && q.mean === p.mean).length).toBe(1);
        }
        for (const a of points) {
          for (const b of points) {
            // Coordinates are rounded to 0.01 px, so only clearly different values order strictly.
            if (a.mean > b.mean + 1e-3) expect(a.y).toBeLessThan(b.y);
            if (a.fraction > b.fraction) expect(a.x).toBeLessThan(b.x);
          }
        }
      }),
    );
  });

  test('standalone: namespace, viewBox, no script or external reference; legend names the methods present', () => {
    const svg = figure2Svg([
      { method: 'semantic', fraction: 1, mean: 0.9, sd: 0.01, n: 3 },
      { method: 'hash', fraction: 0.8, mean: 0.85, sd: 0.02, n: 3 },
    ]);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(svg).toMatch(/viewBox="0 0 640 420"/);
    expect(svg).not.toMatch(/<script|href=|url\(|<style|<foreignObject/i);
    expect(svg).toContain('semantic clustering');
    expect(svg).toContain('perceptual hash (CE-Dedup)');
    expect(svg).not.toContain('>random<');
    expect(svg).toContain('fraction of dataset');
    expect(svg).toMatch(/>\d+(\.\d)?%</);
  });

  test('escapes the title and honours the size', () => {
    const svg = figure2Svg([], { title: 'Cats <&> "dogs"', width: 800, height: 500 });
    expectWellFormed(svg);
    expect(svg).toContain('Cats &lt;&amp;&gt; &quot;dogs&quot;');
    expect(svg).not.toContain('Cats <');
    expect(svg).toMatch(/viewBox="0 0 800 500"/);
    expect(plotted(svg)).toEqual([]);
  });
});
