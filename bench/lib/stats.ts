// Shared by the benches and the `npm run bench` runner: distributions (median/p95/p99/max), the progress line,
// the results directory, and a tiny SVG line chart written by hand (no chart dependency).
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** A distribution's summary, in the unit of its samples. */
export interface Dist {
  n: number;
  median: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of sorted values (p in 0..100). */
function percentile(sorted: readonly number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? NaN;
}

/** median/p95/p99/max of `values` rounded to `digits` decimals, or null without samples. */
export function dist(values: readonly number[], digits = 1): Dist | null {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const r = (x: number): number => Number(x.toFixed(digits));
  return {
    n: v.length,
    median: r(percentile(v, 50)),
    p95: r(percentile(v, 95)),
    p99: r(percentile(v, 99)),
    max: r(v.at(-1) ?? NaN),
  };
}

/** `median / p95 / p99 / max` of a distribution, or `-`. */
export function fmtDist(d: Dist | null | undefined): string {
  return d ? `${d.median} / ${d.p95} / ${d.p99} / ${d.max}` : '-';
}

/** bench/results/ (created), where every bench writes its JSON. */
export function resultsDir(): string {
  const dir = fileURLToPath(new URL('../results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A file-name-safe UTC timestamp. */
export function stamp(date = new Date()): string {
  return date.toISOString().replace(/[:.]/g, '-');
}

/**
 * One progress line (stderr): rewritten in place on a terminal, one line per change otherwise (CI logs).
 */
let lastProgress = '';
export function progress(line: string): void {
  if (line === lastProgress) return;
  lastProgress = line;
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${line}`);
  else process.stderr.write(`${line}\n`);
}

/** Ends a progress line on a terminal. */
export function progressDone(): void {
  if (process.stderr.isTTY) process.stderr.write('\n');
}

/** A series of a line chart: (x, y) points. */
export interface Series {
  name: string;
  points: Array<[number, number]>;
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A "nice" upper axis bound (1, 2, 2.5, 5 x 10^k) at or above `v`. */
function niceCeil(v: number): number {
  if (!(v > 0)) return 1;
  const e = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * e >= v) return m * e;
  return 10 * e;
}

/**
 * An SVG line chart (680x360) of `series` on linear axes starting at 0, x ticks at the data's x values,
 * with a legend. Plain SVG 1.1: renders in browsers and on GitHub.
 */
export function lineChartSvg(o: { title: string; xLabel: string; yLabel: string; series: Series[] }): string {
  const W = 680;
  const H = 360;
  const L = 64;
  const R = 200;
  const T = 36;
  const B = 48;
  const xs = [...new Set(o.series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const xMax = niceCeil(Math.max(1, ...xs));
  const yMax = niceCeil(Math.max(0, ...o.series.flatMap((s) => s.points.map((p) => p[1]))));
  const px = (x: number): number => L + (x / xMax) * (W - L - R);
  const py = (y: number): number => H - B - (y / yMax) * (H - T - B);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(o.title)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const y = (yMax * i) / 5;
    out.push(
      `<line x1="${L}" x2="${W - R}" y1="${py(y)}" y2="${py(y)}" stroke="#ddd"/>`,
      `<text x="${L - 6}" y="${py(y) + 4}" text-anchor="end">${Number(y.toPrecision(3))}</text>`,
    );
  }
  for (const x of xs) {
    out.push(`<text x="${px(x)}" y="${H - B + 16}" text-anchor="middle">${x}</text>`);
  }
  out.push(
    `<line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="#000"/>`,
    `<line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" stroke="#000"/>`,
    `<text x="${(L + W - R) / 2}" y="${H - 10}" text-anchor="middle">${esc(o.xLabel)}</text>`,
    `<text x="16" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(T + H - B) / 2})">${esc(o.yLabel)}</text>`,
  );
  o.series.forEach((s, i) => {
    const c = COLOURS[i % COLOURS.length];
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    if (pts.length > 1) {
      out.push(
        `<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.map((p) => `${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(' ')}"/>`,
      );
    }
    for (const p of pts)
      out.push(`<circle cx="${px(p[0]).toFixed(1)}" cy="${py(p[1]).toFixed(1)}" r="3" fill="${c}"/>`);
    const ly = T + 16 + i * 18;
    out.push(
      `<line x1="${W - R + 12}" x2="${W - R + 32}" y1="${ly - 4}" y2="${ly - 4}" stroke="${c}" stroke-width="2"/>`,
      `<text x="${W - R + 38}" y="${ly}">${esc(s.name)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
