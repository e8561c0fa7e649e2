/**
 * The `train.earlyStop()` callback.
 *
 * @module
 */
import { ConfigError } from '../../errors.js';
import {
  assertKnownKeys,
  assertNonNegativeInt,
  assertNumber,
  assertOneOf,
  assertPositiveInt,
  closestKey,
  describe,
} from '../../validation.js';
import type { Callback, Logs, TrainingContext } from './callback.js';

/** Options of {@link earlyStop}. @category Training */
export interface EarlyStopOptions {
  /** Loss to watch, e.g. `'negativeElbo'` (VAE) or `'generator'`. Required; a key the trainer never logs throws at the first check. */
  monitor: string;
  /** Checks without improvement tolerated before stopping. Default 5. */
  patience?: number;
  /** Smallest change that counts as an improvement. Default 0. */
  minDelta?: number;
  /** `'min'` (default: lower is better) or `'max'`. */
  mode?: 'min' | 'max';
  /** Check the epoch mean (`'epoch'`, default) or every step's value (`'step'`). */
  on?: 'epoch' | 'step';
  /** Checks to ignore at the start (warm-up). Default 0. */
  startAfter?: number;
}

/** The callback returned by {@link earlyStop}. @category Training */
export interface EarlyStop extends Callback {
  /** Best value seen so far. */
  readonly best: number;
  /** Whether this callback stopped training. */
  readonly stopped: boolean;
}

/**
 * Stops training when `monitor` has not improved by more than `minDelta` for `patience`
 * consecutive checks (Keras' `EarlyStopping`). A GAN's losses need not fall as it improves:
 * use this on a VAE's `negativeElbo`, or on a metric your own callback logs.
 *
 * @param options - `monitor` (required), `patience` (5), `minDelta` (0), `mode` ('min'), `on` ('epoch'), `startAfter` (0).
 * @returns the callback.
 * @example
 * ```ts
 * await trainer.fit(batches, { epochs: 100, callbacks: [train.earlyStop({ monitor: 'negativeElbo', patience: 3 })] });
 * ```
 * @category Training
 */
export function earlyStop(options: EarlyStopOptions): EarlyStop {
  const fn = 'train.earlyStop';
  if (options === null || typeof options !== 'object' || typeof options.monitor !== 'string') {
    throw new ConfigError({
      fn,
      arg: 'options.monitor',
      expected: "be the name of a logged loss, e.g. 'negativeElbo'",
      received: describe(options?.monitor),
    });
  }
  assertKnownKeys(options, ['monitor', 'patience', 'minDelta', 'mode', 'on', 'startAfter'], 'options', fn);
  const { monitor, patience = 5, minDelta = 0, mode = 'min', on = 'epoch', startAfter = 0 } = options;
  assertPositiveInt(patience, 'options.patience', fn);
  assertNumber(minDelta, 'options.minDelta', fn, { min: 0 });
  assertOneOf(mode, ['min', 'max'] as const, 'options.mode', fn);
  assertOneOf(on, ['epoch', 'step'] as const, 'options.on', fn);
  assertNonNegativeInt(startAfter, 'options.startAfter', fn);
  const sign = mode === 'min' ? 1 : -1;
  let best = Number.POSITIVE_INFINITY * sign;
  let wait = 0;
  let checks = 0;
  let stopped = false;
  let seen = false;
  const check = (logs: Logs, context: TrainingContext) => {
    const value = logs[monitor];
    if (value === undefined) {
      // A key that is never logged would never stop anything: say so at the first check.
      if (seen) return;
      const guess = closestKey(monitor, Object.keys(logs));
      throw new ConfigError({
        fn,
        arg: 'options.monitor',
        expected: `name a value the trainer logs (${Object.keys(logs).join(', ') || 'none logged'})`,
        received: describe(monitor),
        ...(guess === undefined ? {} : { hint: `Did you mean '${guess}'?` }),
      });
    }
    seen = true;
    checks++;
    if (checks <= startAfter) return;
    if (sign * (best - value) > minDelta) {
      best = value;
      wait = 0;
    } else if (++wait >= patience) {
      stopped = true;
      context.stop();
    }
  };
  return {
    get best() {
      return best;
    },
    get stopped() {
      return stopped;
    },
    onTrainBegin() {
      best = Number.POSITIVE_INFINITY * sign;
      wait = 0;
      checks = 0;
      stopped = false;
      seen = false;
    },
    onStepEnd(_step, logs, context) {
      if (on === 'step') check(logs, context);
    },
    onEpochEnd(_epoch, logs, context) {
      if (on === 'epoch') check(logs, context);
    },
  };
}
