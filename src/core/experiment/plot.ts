/**
 * The experiment's answer drawn like the paper's Figure 2 (Birodkar et al. 2019): test accuracy
 * against the fraction of the training set kept, one line per method. A standalone SVG string, so
 * the same text is shown in the page and saved as a file that opens anywhere.
 */
import type { Method } from './plan.ts';
import type { SummaryPoint } from './results.ts';

/** Colour-blind-safe (Okabe–Ito) and told apart by marker shape as well. */
const STYLE: Record<Method, { label: string; colour: string; marker: 'circle' | 'square' | 'triangle' }> = {
  semantic: { label: 'semantic clustering', colour: '#0072b2', marker: 'circle' },
  random: { label: 'random', colour: '#d55e00', marker: 'square' },
  hash: { label: 'perceptual hash (CE-Dedup)', colour: '#009e73', marker: 'triangle' },
};
const ORDER: readonly Method[] = ['semantic', 'random', 'hash'];
const FONT = 'font-family="system-ui, sans-serif"';

export interface Figure2Options {
  width?: number;
  height?: number;
  title?: string;
}

/**
 * Each point is a `<g class="point">` translated to its position and carrying data-method,
 * data-fraction, data-mean, data-sd and data-n, so tests can read the figure back.
 */
export function figure2Svg(summary: SummaryPoint[], o: Figure2Options = {}): string {
  const width = o.width ?? 640;
  const height = o.height ?? 420;
  const title = o.title ?? 'Test accuracy against the fraction of the training set kept';
  const points = summary.filter((p) => Number.isFinite(p.fraction) && Number.isFinite(p.mean));
  const methods = ORDER.filter((m) => points.some((p) => p.method === m));

  const margin = { left: 64, right: 24, top: 40, bottom: 86 };
  const plot = { x0: margin.left, x1: width - margin.right, y0: margin.top, y1: height - margin.bottom };

  const fractions = [...new Set(points.map((p) => p.fraction))].sort((a, b) => b - a);
  const [fHigh, fLow] = fractions.length > 1 ? [fractions[0], fractions[fractions.length - 1]] : [(fractions[0] ?? 1) + 0.05, (fractions[0] ?? 1) - 0.05];
  const xPad = 0.04 * (plot.x1 - plot.x0);
  // Kept fraction falls to the right, as in the paper.
  const x = (f: number) => plot.x0 + xPad + ((fHigh - f) / (fHigh - fLow)) * (plot.x1 - plot.x0 - 2 * xPad);

  const { low, high, step } = accuracyRange(points);
  const y = (a: number) => plot.y1 - ((a - low) / (high - low)) * (plot.y1 - plot.y0);

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(title)}">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="600" ${FONT} fill="#222">${escapeXml(title)}</text>`,
  );

  // Grid and y ticks.
  const decimals = step * 100 < 1 ? 1 : 0;
  const ticks = Math.round((high - low) / step);
  for (let i = 0; i <= ticks; i++) {
    const v = low + i * step;
    const yy = num(y(v));
    parts.push(
      `<line x1="${plot.x0}" y1="${yy}" x2="${plot.x1}" y2="${yy}" stroke="#e4e4e4" stroke-width="1"/>`,
      `<text x="${plot.x0 - 8}" y="${yy}" dy="0.32em" text-anchor="end" font-size="12" ${FONT} fill="#444">${(v * 100).toFixed(decimals)}%</text>`,
    );
  }
  // x ticks at the fractions measured.
  for (const f of fractions) {
    const xx = num(x(f));
    parts.push(
      `<line x1="${xx}" y1="${plot.y1}" x2="${xx}" y2="${plot.y1 + 5}" stroke="#444" stroke-width="1"/>`,
      `<text x="${xx}" y="${plot.y1 + 19}" text-anchor="middle" font-size="12" ${FONT} fill="#444">${escapeXml(formatFraction(f))}</text>`,
    );
  }
  parts.push(
    `<rect x="${plot.x0}" y="${plot.y0}" width="${plot.x1 - plot.x0}" height="${plot.y1 - plot.y0}" fill="none" stroke="#444" stroke-width="1"/>`,
    `<text x="${(plot.x0 + plot.x1) / 2}" y="${plot.y1 + 40}" text-anchor="middle" font-size="13" ${FONT} fill="#222">fraction of dataset</text>`,
    `<text transform="translate(16 ${(plot.y0 + plot.y1) / 2}) rotate(-90)" text-anchor="middle" font-size="13" ${FONT} fill="#222">test accuracy</text>`,
  );
  if (points.length === 0) {
    parts.push(`<text x="${(plot.x0 + plot.x1) / 2}" y="${(plot.y0 + plot.y1) / 2}" text-anchor="middle" font-size="13" ${FONT} fill="#888">no results yet</text>`);
  }

  // Methods share the full-set point and often sit close elsewhere: a small sideways shift keeps
  // their error bars apart without suggesting a different fraction.
  const dodge = (method: Method) => (methods.indexOf(method) - (methods.length - 1) / 2) * 4;
  for (const method of methods) {
    const { colour, marker } = STYLE[method];
    const mine = points.filter((p) => p.method === method).sort((a, b) => b.fraction - a.fraction);
    const px = (p: SummaryPoint) => num(x(p.fraction) + dodge(method));
    if (mine.length > 1) {
      const path = mine.map((p, i) => `${i === 0 ? 'M' : 'L'}${px(p)} ${num(y(p.mean))}`).join(' ');
      parts.push(`<path d="${path}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    }
    for (const p of mine) {
      const sd = Number.isFinite(p.sd) ? p.sd : 0;
      const py = num(y(p.mean));
      const up = num(y(p.mean + sd) - y(p.mean));
      const down = num(y(p.mean - sd) - y(p.mean));
      parts.push(
        `<g class="point" data-method="${method}" data-fraction="${p.fraction}" data-mean="${p.mean}" data-sd="${sd}" data-n="${p.n}" transform="translate(${px(p)} ${py})">`,
        `<title>${escapeXml(`${STYLE[method].label}: ${formatFraction(p.fraction)} kept, ${(p.mean * 100).toFixed(2)}% ± ${(sd * 100).toFixed(2)} (n = ${p.n})`)}</title>`,
        sd > 0
          ? `<path d="M0 ${up} V${down} M-4 ${up} H4 M-4 ${down} H4" stroke="${colour}" stroke-width="1.5" fill="none"/>`
          : '',
        markerSvg(marker, colour),
        `</g>`,
      );
    }
  }

  // Legend in one row below the axis title; widths estimated from the label length.
  let lx = plot.x0;
  const ly = height - 18;
  for (const method of methods) {
    const { label, colour, marker } = STYLE[method];
    parts.push(
      `<g class="legend-entry" data-method="${method}" transform="translate(${lx} ${ly})">`,
      `<line x1="0" y1="0" x2="24" y2="0" stroke="${colour}" stroke-width="2"/>`,
      `<g transform="translate(12 0)">${markerSvg(marker, colour)}</g>`,
      `<text x="30" y="0" dy="0.32em" font-size="12" ${FONT} fill="#222">${escapeXml(label)}</text>`,
      `</g>`,
    );
    lx += 30 + label.length * 7 + 20;
  }
  parts.push('</svg>');
  return parts.filter((s) => s !== '').join('\n') + '\n';
}

function markerSvg(marker: 'circle' | 'square' | 'triangle', colour: string): string {
  if (marker === 'circle') return `<circle cx="0" cy="0" r="4.5" fill="${colour}" stroke="#ffffff" stroke-width="1"/>`;
  if (marker === 'square') return `<rect x="-4" y="-4" width="8" height="8" fill="${colour}" stroke="#ffffff" stroke-width="1"/>`;
  return `<path d="M0 -5.5 L5 3.5 L-5 3.5 Z" fill="${colour}" stroke="#ffffff" stroke-width="1"/>`;
}

/**
 * The y range: the error bars with 10% padding, widened to at least 2 points of accuracy, clamped to
 * [0, 1] and snapped outwards to a tick step that gives about five ticks.
 */
function accuracyRange(points: SummaryPoint[]): { low: number; high: number; step: number } {
  if (points.length === 0) return { low: 0, high: 1, step: 0.2 };
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of points) {
    const sd = Number.isFinite(p.sd) ? p.sd : 0;
    lo = Math.min(lo, p.mean - sd);
    hi = Math.max(hi, p.mean + sd);
  }
  const pad = Math.max(0.1 * (hi - lo), 0.01);
  lo -= pad;
  hi += pad;
  const steps = [0.001, 0.002, 0.005, 0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25];
  const step = steps.find((s) => (hi - lo) / s <= 6) ?? 0.25;
  const low = Math.max(0, Math.floor(lo / step) * step);
  const high = Math.min(1, Math.ceil(hi / step) * step);
  // Rounding of the multiples above leaves 0.30000000000000004-style residues in the tick labels.
  return { low: round(low), high: round(high), step };
}

function round(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

/** Coordinates with two decimals: enough for any screen, and far shorter text. */
function num(v: number): number {
  return Math.round(v * 100) / 100;
}

function formatFraction(f: number): string {
  return f === 1 ? '1.0' : String(round(f));
}

/** The five characters XML gives meaning to, in text and attribute values alike. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}
