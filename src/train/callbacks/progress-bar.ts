/**
 * The `train.progressBar()` callback.
 *
 * @module
 */
import type * as CliProgress from 'cli-progress';

import { GenblocksError } from '../../errors.js';
import { assertKnownKeys, assertPositiveInt } from '../../validation.js';
import type { Callback, Logs } from './callback.js';

/** A writable text stream, such as `process.stderr`. @category Training */
export interface ProgressStream {
  /** Writes text. */
  write(chunk: string): unknown;
  /** Whether the stream is a terminal (redrawn in place) or not (a line every few seconds). */
  isTTY?: boolean;
}

/** Options of {@link progressBar}. @category Training */
export interface ProgressBarOptions {
  /** Redraw at most every `every` steps. Default 1 (cli-progress throttles drawing itself). */
  every?: number;
  /** Digits of the losses shown. Default 4. */
  digits?: number;
  /** Stream to draw on (Node). Default `process.stderr`. */
  stream?: ProgressStream;
}

function formatLogs(logs: Logs | undefined, digits: number): string {
  if (!logs) return '';
  return Object.entries(logs)
    .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toPrecision(digits)}`)
    .join(' · ');
}

/**
 * Loads cli-progress in Node; `undefined` in browsers. It is an optional peer dependency (so that
 * it never reaches a browser install): in Node without it, throws an error naming the package.
 */
async function loadCliProgress(fn: string): Promise<typeof CliProgress | undefined> {
  const g = globalThis as { process?: { versions?: { node?: string } } };
  if (!g.process?.versions?.node) return undefined;
  // A variable specifier keeps browser bundlers from resolving the Node-only package.
  const specifier = 'cli-progress';
  let mod: typeof CliProgress & { default?: typeof CliProgress };
  try {
    mod = (await import(/* @vite-ignore */ /* webpackIgnore: true */ specifier)) as typeof mod;
  } catch (e) {
    const reason = (e as Error).message.split('\n')[0];
    throw new GenblocksError(
      fn,
      `${fn}: the progress bar draws with the package 'cli-progress' (an optional peer dependency of genblocks), which could not be loaded (${reason}). Install it (npm install cli-progress), or leave train.progressBar() out of the callbacks.`,
    );
  }
  return mod.default ?? mod;
}

/**
 * A progress bar: steps done of the total, rate, ETA and the current losses. In Node it draws
 * with the `cli-progress` library, an optional peer dependency (`npm install cli-progress`;
 * loaded on first use, and training stops with an error naming it when it is missing); in a
 * browser it does nothing (read losses with {@link history} or your own `onStepEnd`).
 *
 * @param options - `every` (1), `digits` (4), `stream` (stderr).
 * @returns the callback.
 * @example
 * ```ts
 * await trainer.fit(batches, { epochs: 5, callbacks: [train.progressBar()] });
 * // ████████░░░░░░░░ 48% | step 450/938 | 21.3 steps/s | ETA 23s | discriminator 1.231 · generator 0.8123
 * ```
 * @category Training
 */
export function progressBar(options: ProgressBarOptions = {}): Callback {
  const fn = 'train.progressBar';
  assertKnownKeys(options, ['every', 'digits', 'stream'], 'options', fn);
  const { every = 1, digits = 4, stream } = options;
  assertPositiveInt(every, 'options.every', fn);
  assertPositiveInt(digits, 'options.digits', fn);
  let bar: CliProgress.SingleBar | undefined;
  let started = 0;
  let firstStep = 0;
  return {
    async onTrainBegin(_logs, context) {
      const lib = await loadCliProgress(fn);
      if (!lib) return;
      const total = context.totalSteps ?? 0;
      bar = new lib.SingleBar(
        {
          format:
            total > 0
              ? '{bar} {percentage}% | step {value}/{total} | {rate} steps/s | ETA {eta_formatted} | {losses}'
              : 'step {value} | {rate} steps/s | {losses}',
          stream: (stream ?? (globalThis as unknown as { process: { stderr: ProgressStream } }).process.stderr) as NodeJS.WritableStream,
          hideCursor: true,
          etaBuffer: 50,
          // Without a terminal (CI logs), print a line every 5 s instead of redrawing.
          noTTYOutput: true,
          notTTYSchedule: 5000,
        },
        lib.Presets.shades_classic,
      );
      started = Date.now();
      firstStep = context.trainer.step;
      bar.start(total, context.trainer.step, { rate: '0', losses: '' });
    },
    onStepEnd(step, logs) {
      if (!bar || step % every !== 0) return;
      const seconds = (Date.now() - started) / 1000;
      const rate = seconds > 0 ? ((step - firstStep) / seconds).toFixed(1) : '0';
      bar.update(step, { rate, losses: formatLogs(logs, digits) });
    },
    onTrainEnd(logs, context) {
      if (!bar) return;
      bar.update(context.trainer.step, { losses: formatLogs(logs, digits) });
      bar.stop();
      bar = undefined;
    },
  };
}
