/**
 * The callback interface of the trainers: Keras/tfjs-style hooks plus genblocks' `onStepEnd`.
 *
 * @module
 */
import { ArgumentError } from '../../errors.js';
import { closestKey, describe } from '../../validation.js';
import type { Trainer } from '../trainer.js';

/** Scalars of one step (or epoch), by name: `{ discriminator: 0.69, generator: 0.71 }`. @category Training */
export type Logs = Record<string, number>;

/** What every hook receives last: the trainer, a way to stop it, and what is known of the run's length. @category Training */
export interface TrainingContext {
  /** The trainer running `fit`. */
  readonly trainer: Trainer;
  /** Asks the trainer to stop after the current step (same as `trainer.stop()`). */
  stop(): void;
  /** Total steps the `fit` call will reach, when known (from `steps`, or an array's length and `epochs`). */
  readonly totalSteps: number | undefined;
  /** Total epochs the `fit` call will reach, when given. */
  readonly epochs: number | undefined;
}

/**
 * Hooks called by `fit`, with the arguments of Keras and tfjs-layers (`onBatchEnd(batch,
 * logs)`, `onEpochEnd(epoch, logs)`, ...) and the {@link TrainingContext} as an extra last
 * argument. Every hook is optional and may be async (the loop awaits it); `logs` hold plain
 * numbers. So `tfvis.show.fitCallbacks(container, ['loss'])` and `tf.CustomCallback` instances
 * work as they are. An object with none of these hooks is rejected by `fit`.
 *
 * | hook | when | `logs` |
 * |---|---|---|
 * | `onTrainBegin(logs, context)` | before the first step | `{}` |
 * | `onEpochBegin(epoch, logs, context)` | before an epoch's first batch (`epoch` from 0) | `{}` |
 * | `onBatchBegin(batch, logs, context)` | before each step (`batch`: index in the epoch) | `{ batch, size }` |
 * | `onBatchEnd(batch, logs, context)` | after each step | `{ batch, size, ...values }` (no values when the step was skipped) |
 * | `onStepEnd(step, logs, context)` | after each applied step (`step`: completed steps, 1 after the first) | the step's values |
 * | `onEpochEnd(epoch, logs, context)` | after an epoch's last batch | the epoch's mean values |
 * | `onYield(epoch, batch, logs, context)` | when the loop has yielded to the event loop | the step's values |
 * | `onTrainEnd(logs, context)` | after the last step, after `stop()`, and after an error (before it is rethrown) | the last step's values |
 *
 * @example
 * ```ts
 * const printer: train.Callback = {
 *   onStepEnd(step, logs) { if (step % 100 === 0) console.log(step, logs); },
 *   onEpochEnd(epoch, logs) { console.log(`epoch ${epoch}`, logs); },
 * };
 * ```
 * @category Training
 */
export interface Callback {
  /** Before the first step of `fit`; `logs` is `{}`. */
  onTrainBegin?(logs: Logs, context: TrainingContext): void | Promise<void>;
  /** After the last step of `fit` (also after `stop()` and after an error), with the last step's values. */
  onTrainEnd?(logs: Logs, context: TrainingContext): void | Promise<void>;
  /** Before the first batch of an epoch (`epoch` counts from 0); `logs` is `{}`. */
  onEpochBegin?(epoch: number, logs: Logs, context: TrainingContext): void | Promise<void>;
  /** After the last batch of an epoch, with the epoch's mean values. */
  onEpochEnd?(epoch: number, logs: Logs, context: TrainingContext): void | Promise<void>;
  /** Before each step; `batch` is the index in the epoch, `logs` is `{ batch, size }`. */
  onBatchBegin?(batch: number, logs: Logs, context: TrainingContext): void | Promise<void>;
  /** After each step, with `{ batch, size }` and the step's values (none when the step was skipped). */
  onBatchEnd?(batch: number, logs: Logs, context: TrainingContext): void | Promise<void>;
  /** After each applied step; `step` counts completed steps (1 after the first). */
  onStepEnd?(step: number, logs: Logs, context: TrainingContext): void | Promise<void>;
  /** After the loop has yielded to the event loop (see `FitOptions.yieldIntervalMs`), as tfjs' `onYield`. */
  onYield?(epoch: number, batch: number, logs: Logs, context: TrainingContext): void | Promise<void>;
}

/** Names of the hooks `fit` calls. @internal */
export const CALLBACK_HOOKS = [
  'onTrainBegin',
  'onTrainEnd',
  'onEpochBegin',
  'onEpochEnd',
  'onBatchBegin',
  'onBatchEnd',
  'onStepEnd',
  'onYield',
] as const;

/**
 * Checks `fit`'s callbacks: one callback or an array of them, each an object with at least one
 * known hook and no unknown `on...` function (a misspelt hook would never be called).
 *
 * @internal
 */
export function normalizeCallbacks(value: unknown, arg: string, fn: string): Callback[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  const known: readonly string[] = CALLBACK_HOOKS;
  list.forEach((c: unknown, i) => {
    const at = Array.isArray(value) ? `${arg}[${i}]` : arg;
    if (c === null || typeof c !== 'object') {
      throw new ArgumentError({ fn, arg: at, expected: 'be a callback object (or an array of them)', received: describe(c) });
    }
    const record = c as Record<string, unknown>;
    const unknown = Object.keys(record).find((k) => /^on[A-Z]/.test(k) && typeof record[k] === 'function' && !known.includes(k));
    if (unknown !== undefined) {
      const guess = closestKey(unknown, known);
      throw new ArgumentError({
        fn,
        arg: `${at}.${unknown}`,
        expected: `be one of the hooks ${known.join(', ')}`,
        received: 'an unknown hook, which would never be called',
        ...(guess === undefined ? {} : { hint: `Did you mean '${guess}'?` }),
      });
    }
    if (!known.some((h) => typeof record[h] === 'function')) {
      throw new ArgumentError({
        fn,
        arg: at,
        expected: `have at least one hook (${known.join(', ')})`,
        received: Object.keys(record).length > 0 ? `an object with keys ${Object.keys(record).join(', ')}` : 'an object without hooks',
        hint: 'Keras-style objects ({ onBatchEnd(batch, logs) }), tf.CustomCallback and tfvis.show.fitCallbacks(...) work as they are',
      });
    }
  });
  return list as Callback[];
}
