/**
 * Writing loss curves (CSV and SVG plot) in Node.
 *
 * @module
 */
import { lossCsv, lossPlotSvg, type LossPlotOptions } from '../data/loss-curves.js';
import { ArgumentError } from '../errors.js';
import { describe } from '../validation.js';
import { writeFileAtomic } from './atomic.js';

function assertPath(path: unknown, fn: string): asserts path is string {
  if (typeof path !== 'string' || path === '') {
    throw new ArgumentError({ fn, arg: 'path', expected: 'be a non-empty string', received: describe(path) });
  }
}

/**
 * Writes named loss curves as an SVG line plot (`data.lossPlotSvg`), atomically.
 *
 * @param path Destination file, e.g. `'out/losses.svg'`.
 * @param series Curves by name; value `i` is at step `i`.
 * @param options Size, title, axis labels, smoothing (see `data.lossPlotSvg`).
 * @example
 * ```ts
 * await writeLossPlot('out/losses.svg', { generator: g, discriminator: d }, { smoothing: 0.9 });
 * ```
 * @category Node
 */
export async function writeLossPlot(path: string, series: Record<string, readonly number[]>, options: LossPlotOptions = {}): Promise<void> {
  assertPath(path, 'writeLossPlot');
  await writeFileAtomic(path, lossPlotSvg(series, options), 'writeLossPlot');
}

/**
 * Writes named per-step series as CSV (`data.lossCsv`: `step,<name>,…`), atomically.
 *
 * @param path Destination file, e.g. `'out/losses.csv'`.
 * @param series Curves by name; value `i` is at step `i`.
 * @example
 * ```ts
 * await writeLossCsv('out/losses.csv', { generator: g, discriminator: d });
 * ```
 * @category Node
 */
export async function writeLossCsv(path: string, series: Record<string, readonly number[]>): Promise<void> {
  assertPath(path, 'writeLossCsv');
  await writeFileAtomic(path, lossCsv(series), 'writeLossCsv');
}
