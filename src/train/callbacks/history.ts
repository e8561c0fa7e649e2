/**
 * The `train.history()` callback.
 *
 * @module
 */
import { lossCsv } from '../../data/loss-curves.js';
import { assertOptionsObject, assertPositiveInt } from '../../validation.js';
import type { Callback, Logs } from './callback.js';

/** Options of {@link history}. @category Training */
export interface HistoryOptions {
  /** Record every `every`-th step. Default 1. */
  every?: number;
}

/** The callback returned by {@link history}: loss curves kept in memory. @category Training */
export interface History extends Callback {
  /** Recorded step numbers (1 = after the first step). */
  readonly steps: readonly number[];
  /** Mean losses of each completed epoch, in order. */
  readonly epochs: readonly Logs[];
  /** Each loss's values, aligned with `steps` (`NaN` where a step did not report it). */
  series(): Record<string, number[]>;
  /** `{ step: [...], <loss>: [...] }`, for `JSON.stringify`. */
  toJSON(): Record<string, number[]>;
  /** CSV with a header `step,<loss>,...` and one row per recorded step. */
  toCSV(): string;
}

/**
 * Records the losses of every step (or every `every`-th) in memory, as curves to plot or
 * save. In Node: `await writeFile('losses.csv', h.toCSV())`.
 *
 * @param options - `every` (1).
 * @returns the callback, with `series()`, `toJSON()` and `toCSV()`.
 * @example
 * ```ts
 * const h = train.history();
 * await trainer.fit(batches, { epochs: 1, callbacks: [h] });
 * console.log(h.series().generator.slice(-5));
 * ```
 * @category Training
 */
export function history(options: HistoryOptions = {}): History {
  const fn = 'train.history';
  assertOptionsObject(options, 'options', fn);
  const { every = 1 } = options;
  assertPositiveInt(every, 'options.every', fn);
  const steps: number[] = [];
  const epochs: Logs[] = [];
  const columns = new Map<string, number[]>();
  const series = (): Record<string, number[]> => Object.fromEntries([...columns].map(([k, v]) => [k, [...v]]));
  return {
    steps,
    epochs,
    series,
    onStepEnd(step, logs) {
      if (step % every !== 0) return;
      for (const name of Object.keys(logs)) {
        if (!columns.has(name)) columns.set(name, new Array<number>(steps.length).fill(Number.NaN));
      }
      steps.push(step);
      for (const [name, values] of columns) values.push(logs[name] ?? Number.NaN);
    },
    onEpochEnd(_epoch, logs) {
      epochs.push({ ...logs });
    },
    toJSON() {
      return { step: [...steps], ...series() };
    },
    toCSV() {
      // Same CSV as data.lossCsv, with the trainer's step numbers; no step yet: a header only.
      return columns.size === 0 ? 'step\n' : lossCsv(series(), { steps });
    },
  };
}
