/**
 * Loss curves as CSV text and as a self-contained SVG line plot (no plotting dependency).
 *
 * @module
 */
import { ArgumentError } from '../errors.js';
import { assertKnownKeys, assertNumber, describe } from '../validation.js';

/** Options of {@link lossPlotSvg}. @category Data */
export interface LossPlotOptions {
  /** Width of the image in pixels. Default: `720`. */
  width?: number;
  /** Height of the image in pixels. Default: `400`. */
  height?: number;
  /** Title above the plot. Default: none. */
  title?: string;
  /** Label of the x axis. Default: `'step'`. */
  xLabel?: string;
  /** Label of the y axis. Default: `'loss'`. */
  yLabel?: string;
  /**
   * Exponential moving average drawn over each curve, as TensorBoard's smoothing slider:
   * `s_t = w · s_{t-1} + (1 − w) · v_t`, debiased by `1 − w^t`. The raw curve stays visible
   * in a lighter stroke. `0` draws only the raw values. Default: `0`.
   */
  smoothing?: number;
}

/** Tableau 10, a palette designed to keep categories distinguishable. */
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

/** Escapes text for SVG character data and attribute values. */
function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[ch]!);
}

/** A "nice" number near `x` (1, 2 or 5 times a power of ten), Heckbert, Graphics Gems (1990). */
function niceNumber(x: number, round: boolean): number {
  const exponent = Math.floor(Math.log10(x));
  const fraction = x / 10 ** exponent;
  const nice = round
    ? fraction < 1.5
      ? 1
      : fraction < 3
        ? 2
        : fraction < 7
          ? 5
          : 10
    : fraction <= 1
      ? 1
      : fraction <= 2
        ? 2
        : fraction <= 5
          ? 5
          : 10;
  return nice * 10 ** exponent;
}

/** Tick positions covering [lo, hi] with about `count` nice steps; returns the widened domain too. */
function niceTicks(lo: number, hi: number, count: number): { ticks: number[]; lo: number; hi: number } {
  const step = niceNumber(niceNumber(hi - lo, false) / Math.max(count - 1, 1), true);
  const first = Math.floor(lo / step) * step;
  const last = Math.ceil(hi / step) * step;
  const ticks: number[] = [];
  for (let v = first; v <= last + step / 2; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return { ticks, lo: first, hi: last };
}

function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(1).replace('.0e', 'e');
  return String(Number(v.toPrecision(6)));
}

/** TensorBoard-style debiased exponential moving average; non-finite values stay gaps. */
function smooth(values: readonly number[], weight: number): number[] {
  let last = 0;
  let count = 0;
  return values.map((v) => {
    if (!Number.isFinite(v)) return v;
    last = weight * last + (1 - weight) * v;
    count++;
    return weight === 0 ? v : last / (1 - weight ** count);
  });
}

function validateSeries(series: unknown, fn: string): asserts series is Record<string, readonly number[]> {
  if (series === null || typeof series !== 'object' || Array.isArray(series) || Object.keys(series).length === 0) {
    throw new ArgumentError({
      fn,
      arg: 'series',
      expected: 'be an object of named number arrays, e.g. { generator: [...], discriminator: [...] }',
      received: describe(series),
    });
  }
  for (const [name, values] of Object.entries(series)) {
    if (!Array.isArray(values) && !(ArrayBuffer.isView(values) && !(values instanceof DataView))) {
      throw new ArgumentError({ fn, arg: `series.${name}`, expected: 'be an array of numbers', received: describe(values) });
    }
    const bad = Array.prototype.findIndex.call(values, (v: unknown) => typeof v !== 'number');
    if (bad >= 0) {
      throw new ArgumentError({
        fn,
        arg: `series.${name}`,
        expected: 'hold only numbers',
        received: `${describe((values as unknown[])[bad])} at index ${bad}`,
      });
    }
  }
}

/**
 * Draws named loss curves (one value per step) as an SVG line plot with axes, ticks, grid
 * lines and a legend: step on the x axis, value on the y axis. NaN and ±Infinity leave a gap
 * in their curve. The string is a complete SVG document; write it with `writeLossPlot` from
 * `genblocks/node`, or show it in a page.
 *
 * @param series Curves by name, e.g. `{ generator: [...], discriminator: [...] }`; value `i` is at step `i`.
 * @param options Size, `title`, axis labels, `smoothing`.
 * @returns The SVG document as a string.
 * @example
 * ```ts
 * const svg = data.lossPlotSvg({ generator: gLosses, discriminator: dLosses }, { title: 'DCGAN', smoothing: 0.9 });
 * ```
 * @category Data
 */
export function lossPlotSvg(series: Record<string, readonly number[]>, options: LossPlotOptions = {}): string {
  const fn = 'data.lossPlotSvg';
  validateSeries(series, fn);
  assertKnownKeys(options, ['width', 'height', 'title', 'xLabel', 'yLabel', 'smoothing'], 'options', fn);
  const { width = 720, height = 400, title, xLabel = 'step', yLabel = 'loss', smoothing = 0 } = options;
  assertNumber(width, 'options.width', fn, { min: 160, integer: true });
  assertNumber(height, 'options.height', fn, { min: 120, integer: true });
  assertNumber(smoothing, 'options.smoothing', fn, { min: 0, max: 1, maxExclusive: true });
  for (const [arg, v] of [
    ['options.title', title],
    ['options.xLabel', xLabel],
    ['options.yLabel', yLabel],
  ] as const) {
    if (v !== undefined && typeof v !== 'string') throw new ArgumentError({ fn, arg, expected: 'be a string', received: describe(v) });
  }

  const names = Object.keys(series);
  const curves = names.map((name) => Array.from(series[name]!));
  const steps = Math.max(...curves.map((c) => c.length));
  const finite = curves.flat().filter(Number.isFinite);
  let yMin = finite.length ? finite[0]! : 0;
  let yMax = yMin;
  for (const v of finite) {
    if (v < yMin) yMin = v;
    if (v > yMax) yMax = v;
  }
  if (!finite.length) yMax = 1;
  if (yMax === yMin) {
    const pad = Math.abs(yMin) * 0.1 || 1;
    yMin -= pad;
    yMax += pad;
  }
  const y = niceTicks(yMin, yMax, 6);
  const x = niceTicks(0, Math.max(steps - 1, 1), 8);

  const legendRows = names.length;
  const margin = { left: 64, right: 16, top: title ? 36 : 16, bottom: 44 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const px = (step: number): number => margin.left + ((step - x.lo) / (x.hi - x.lo)) * plotW;
  const py = (v: number): number => margin.top + (1 - (v - y.lo) / (y.hi - y.lo)) * plotH;
  const r = (v: number): string => String(Math.round(v * 10) / 10);

  /** One `<path>` `d` for a curve, starting a new sub-path after each gap. */
  const pathData = (values: readonly number[]): string => {
    let d = '';
    let pen = false;
    values.forEach((v, i) => {
      if (!Number.isFinite(v)) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${r(px(i))},${r(py(v))}`;
      pen = true;
    });
    return d;
  };

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  if (title) out.push(`<text x="${r(width / 2)}" y="22" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`);
  out.push('<g class="grid" stroke="#e0e0e0" stroke-width="1">');
  for (const t of y.ticks) out.push(`<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${r(py(t))}" y2="${r(py(t))}"/>`);
  for (const t of x.ticks) out.push(`<line x1="${r(px(t))}" x2="${r(px(t))}" y1="${margin.top}" y2="${margin.top + plotH}"/>`);
  out.push('</g>');
  out.push(
    `<g class="axes" stroke="#333333" stroke-width="1"><line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + plotH}"/><line x1="${margin.left}" x2="${margin.left + plotW}" y1="${margin.top + plotH}" y2="${margin.top + plotH}"/></g>`,
  );
  out.push('<g class="y-ticks" text-anchor="end" fill="#333333">');
  for (const t of y.ticks) out.push(`<text x="${margin.left - 6}" y="${r(py(t) + 4)}">${formatTick(t)}</text>`);
  out.push('</g>');
  out.push('<g class="x-ticks" text-anchor="middle" fill="#333333">');
  for (const t of x.ticks) out.push(`<text x="${r(px(t))}" y="${margin.top + plotH + 16}">${formatTick(t)}</text>`);
  out.push('</g>');
  out.push(`<text class="x-label" x="${r(margin.left + plotW / 2)}" y="${height - 8}" text-anchor="middle">${escapeXml(xLabel)}</text>`);
  out.push(
    `<text class="y-label" transform="translate(14 ${r(margin.top + plotH / 2)}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>`,
  );
  out.push('<g class="curves" fill="none" stroke-linejoin="round">');
  curves.forEach((values, k) => {
    const color = PALETTE[k % PALETTE.length]!;
    if (smoothing > 0) {
      out.push(`<path d="${pathData(values)}" stroke="${color}" stroke-opacity="0.3" stroke-width="1"/>`);
      out.push(`<path d="${pathData(smooth(values, smoothing))}" stroke="${color}" stroke-width="1.5"/>`);
    } else {
      out.push(`<path d="${pathData(values)}" stroke="${color}" stroke-width="1.5"/>`);
    }
  });
  out.push('</g>');
  const legendX = margin.left + plotW - 8;
  // About 7 px per character at font-size 12, plus the colour swatch.
  const legendW = 36 + 7 * Math.max(...names.map((n) => n.length));
  out.push(
    `<g class="legend" text-anchor="end"><rect x="${legendX - legendW + 4}" y="${margin.top + 4}" width="${legendW}" height="${legendRows * 16 + 6}" fill="#ffffff" fill-opacity="0.8"/>`,
  );
  names.forEach((name, k) => {
    const ly = margin.top + 18 + k * 16;
    out.push(
      `<line x1="${legendX - 18}" x2="${legendX}" y1="${ly - 4}" y2="${ly - 4}" stroke="${PALETTE[k % PALETTE.length]}" stroke-width="2"/><text x="${legendX - 24}" y="${ly}">${escapeXml(name)}</text>`,
    );
  });
  out.push('</g>');
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/**
 * Formats named per-step series as CSV (RFC 4180): a header `step,<name>,…`, then one row per
 * step; a series shorter than the longest leaves its cells empty. Numbers are written in full
 * precision (`NaN`, `Infinity` as such).
 *
 * @param series Curves by name; value `i` is at step `i` (or at `options.steps[i]`).
 * @param options `steps`: the step number of each row (default `0, 1, 2, …`), as long as the
 *   longest series.
 * @returns The CSV text, ending in a newline.
 * @example
 * ```ts
 * data.lossCsv({ generator: [0.7, 0.6], discriminator: [1.4, 1.3] });
 * // 'step,generator,discriminator\n0,0.7,1.4\n1,0.6,1.3\n'
 * ```
 * @category Data
 */
export function lossCsv(series: Record<string, readonly number[]>, options: { steps?: readonly number[] } = {}): string {
  const fn = 'data.lossCsv';
  validateSeries(series, fn);
  assertKnownKeys(options, ['steps'], 'options', fn);
  const names = Object.keys(series);
  const quote = (s: string): string => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = [['step', ...names].map(quote).join(',')];
  const rows = Math.max(0, ...names.map((n) => series[n]!.length));
  const { steps } = options;
  if (steps !== undefined && (!Array.isArray(steps) || steps.length !== rows || steps.some((s) => typeof s !== 'number'))) {
    throw new ArgumentError({
      fn,
      arg: 'options.steps',
      expected: `be an array of ${rows} numbers (one per row)`,
      received: describe(steps),
    });
  }
  for (let i = 0; i < rows; i++) {
    lines.push([String(steps ? steps[i] : i), ...names.map((n) => (i < series[n]!.length ? String(series[n]![i]) : ''))].join(','));
  }
  return lines.join('\n') + '\n';
}
