/**
 * Learning-rate schedules: the `train.learningRateSchedule()` callback and the `cosineDecay`
 * schedule.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';

import { ArgumentError, ConfigError } from '../../errors.js';
import { assertKnownKeys, assertNumber, assertPositiveInt, describe } from '../../validation.js';
import type { Callback } from './callback.js';

/**
 * A learning rate as a function of the number of steps completed before the update it is used
 * for (0 for the first step of a run).
 *
 * @category Training
 */
export type Schedule = (step: number) => number;

/** An optimizer whose learning rate can be changed between steps: every `tf.train.*` optimizer. @category Training */
type Tunable = tf.Optimizer & { setLearningRate?(rate: number): void; learningRate?: number };

function setter(optimizer: unknown, arg: string, fn: string): (rate: number) => void {
  const o = optimizer as Tunable | null;
  if (o !== null && typeof o === 'object' && typeof o.setLearningRate === 'function') {
    // SGD and momentum cache -learningRate as a tensor: setLearningRate refreshes it.
    return (rate) => o.setLearningRate!(rate);
  }
  if (o !== null && typeof o === 'object' && typeof o.applyGradients === 'function' && typeof o.learningRate === 'number') {
    // Adam, Adamax, RMSProp, Adagrad, Adadelta read this.learningRate on every update.
    return (rate) => (o.learningRate = rate);
  }
  throw new ArgumentError({
    fn,
    arg,
    expected: 'be a tf.train optimizer with a numeric learningRate (sgd, momentum, adam, adamax, rmsprop, adagrad, adadelta)',
    received: describe(optimizer),
  });
}

/**
 * Sets the learning rate of one or more optimizers before every step from `schedule(step)`,
 * where `step` counts the steps completed before that update (0 for a fresh run). The rate is
 * a function of the trainer's step counter alone, so a run resumed from a checkpoint continues
 * on the same schedule.
 *
 * @param optimizers - a `tf.train.*` optimizer, or an array (e.g. both of a GAN's).
 * @param schedule - step → learning rate; must return a finite positive number, e.g.
 *   {@link cosineDecay}.
 * @returns the callback.
 * @example
 * ```ts
 * const optimizer = tf.train.adam(2e-3);
 * const trainer = new train.VaeTrainer({ model, decoder, optimizer });
 * const steps = 10 * Math.ceil(60000 / 128);
 * await trainer.fit(batches, {
 *   epochs: 10,
 *   callbacks: [train.learningRateSchedule(optimizer, train.cosineDecay({ initial: 2e-3, final: 1e-4, steps }))],
 * });
 * ```
 * @category Training
 */
export function learningRateSchedule(optimizers: tf.Optimizer | readonly tf.Optimizer[], schedule: Schedule): Callback {
  const fn = 'train.learningRateSchedule';
  const list = Array.isArray(optimizers) ? optimizers : [optimizers];
  if (list.length === 0) {
    throw new ArgumentError({ fn, arg: 'optimizers', expected: 'hold at least one optimizer', received: 'an empty array' });
  }
  const setters = list.map((o, i) => setter(o, Array.isArray(optimizers) ? `optimizers[${i}]` : 'optimizers', fn));
  if (typeof schedule !== 'function') {
    throw new ArgumentError({ fn, arg: 'schedule', expected: 'be a function (step) => learning rate', received: describe(schedule) });
  }
  const apply = (step: number) => {
    const rate = schedule(step);
    if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0) {
      throw new ArgumentError({
        fn,
        arg: 'schedule',
        expected: `return a finite positive learning rate (at step ${step})`,
        received: describe(rate),
      });
    }
    for (const set of setters) set(rate);
  };
  return {
    onTrainBegin(_logs, context) {
      apply(context.trainer.step);
    },
    onStepEnd(step) {
      apply(step);
    },
  };
}

/** Options of {@link cosineDecay}. @category Training */
export interface CosineDecayOptions {
  /** Learning rate at step 0. Required. */
  initial: number;
  /** Learning rate at `steps` and after. Default 0.01 × `initial`. */
  final?: number;
  /** Steps over which the rate decays. Required. */
  steps: number;
  /** Steps of linear warm-up from `initial / warmupSteps` to `initial` before the decay. Default 0. */
  warmupSteps?: number;
}

/**
 * Cosine decay (Loshchilov & Hutter, SGDR, without restarts), with an optional linear warm-up:
 * `rate(t) = final + ½ (initial − final)(1 + cos(π · min(t, T) / T))` for `T = steps`.
 *
 * @see https://arxiv.org/abs/1608.03983 (Loshchilov & Hutter, SGDR)
 * @param options - `initial`, `final` (0.01 × initial), `steps`, `warmupSteps` (0).
 * @returns a {@link Schedule} for {@link learningRateSchedule}.
 * @example
 * ```ts
 * const schedule = train.cosineDecay({ initial: 1e-3, final: 1e-5, steps: 1000 });
 * schedule(0); // 1e-3
 * schedule(500); // ≈ 5.05e-4
 * ```
 * @category Training
 */
export function cosineDecay(options: CosineDecayOptions): Schedule {
  const fn = 'train.cosineDecay';
  if (options === null || typeof options !== 'object') {
    throw new ConfigError({
      fn,
      arg: 'options',
      expected: 'be an object { initial, steps, final?, warmupSteps? }',
      received: describe(options),
    });
  }
  assertKnownKeys(options, ['initial', 'final', 'steps', 'warmupSteps'], 'options', fn);
  const { initial, steps, warmupSteps = 0 } = options;
  assertNumber(initial, 'options.initial', fn, { min: 0, minExclusive: true });
  assertPositiveInt(steps, 'options.steps', fn);
  const final = options.final ?? 0.01 * initial;
  assertNumber(final, 'options.final', fn, { min: 0, minExclusive: true });
  if (warmupSteps !== 0) assertPositiveInt(warmupSteps, 'options.warmupSteps', fn);
  return (step) => {
    if (step < warmupSteps) return (initial * (step + 1)) / warmupSteps;
    const t = Math.min(step - warmupSteps, steps) / steps;
    return final + 0.5 * (initial - final) * (1 + Math.cos(Math.PI * t));
  };
}
