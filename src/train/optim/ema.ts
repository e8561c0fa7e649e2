/**
 * Exponential moving average of weights, a building block for any trainer.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { ArgumentError, ConfigError } from '../../errors.js';
import { assertKnownKeys, assertNonNegativeInt, assertNumber, describe } from '../../validation.js';
import { trainableVariables, type Network } from '../network.js';
import { share } from '../state.js';

/** Options of {@link ExponentialMovingAverage}. @category Training */
export interface ExponentialMovingAverageOptions {
  /** Decay of the average, in [0, 1): 0.999 averages over about the last 1,000 updates. Required. */
  decay: number;
  /**
   * Warm-up as in diffusers' `EMAModel`: the decay of the update after `t` earlier ones is
   * `0` for `t = 0` (the average starts as a copy) and `min(decay, (1 + t) / (10 + t))` after,
   * so that the random initial weights are forgotten quickly. Default false (`decay` from the
   * first update on, the average starting at the initial weights).
   */
  warmup?: boolean;
}

const FN = 'train.ExponentialMovingAverage';

/**
 * An exponential moving average (Polyak average) of a list of variables, held as
 * non-trainable variables of the same shapes:
 *
 * ```text
 * ema ← d_t · ema + (1 − d_t) · w
 * d_t = decay                                        (warmup: false)
 * d_t = 0 if t = 0, else min(decay, (1 + t)/(10 + t)) (warmup: true; t = updates before this one)
 * ```
 *
 * Sampling from the average usually gives better samples than the last weights (GAN
 * generators, diffusion models). `withAverage(fn)` runs `fn` with the averaged values swapped
 * into the source variables and puts the training values back. A trainer saves the average in
 * its checkpoints by listing {@link ExponentialMovingAverage.variables} among its state
 * variables; since the warm-up depends on `t` alone, passing the trainer's step counter makes a
 * resumed run continue exactly.
 *
 * @see https://arxiv.org/abs/1806.04498 (Yazıcı et al. 2019, weight averaging for GANs)
 * @see https://github.com/huggingface/diffusers/blob/main/src/diffusers/training_utils.py (EMAModel's warm-up)
 * @example
 * ```ts
 * const model = tfl.sequential({ layers: [tfl.layers.dense({ units: 1, inputShape: [1] })] });
 * const ema = new train.ExponentialMovingAverage(model, { decay: 0.999, warmup: true });
 * // after each optimizer update, with t = updates so far:
 * tf.tidy(() => ema.update(t));
 * const y = ema.withAverage(() => model.predict(x) as tf.Tensor); // predicts with the averaged weights
 * ```
 * @category Training
 */
export class ExponentialMovingAverage {
  /** The averaged values, one non-trainable variable per source variable, in the same order. */
  readonly variables: tf.Variable[];
  /** The variables being averaged. */
  readonly source: readonly tf.Variable[];
  /** The decay (the ceiling of the warm-up's). */
  readonly decay: number;
  /** Whether the decay warms up (diffusers' `EMAModel`). */
  readonly warmup: boolean;
  private readonly rate: tf.Scalar;

  /**
   * @param source - the variables to average, or a network whose trainable weights are averaged.
   * @param options - `decay` (required), `warmup` (false).
   */
  constructor(source: readonly tf.Variable[] | Network, options: ExponentialMovingAverageOptions) {
    assertKnownKeys(options, ['decay', 'warmup'], 'options', FN);
    if (options === undefined)
      throw new ConfigError({ fn: FN, arg: 'options', expected: 'be an options object { decay }', received: 'undefined' });
    const { decay, warmup = false } = options;
    assertNumber(decay, 'options.decay', FN, { min: 0, max: 1, maxExclusive: true });
    if (typeof warmup !== 'boolean')
      throw new ConfigError({ fn: FN, arg: 'options.warmup', expected: 'be a boolean', received: describe(warmup) });
    const variables = Array.isArray(source)
      ? (source as readonly tf.Variable[])
      : source !== null && typeof source === 'object' && 'trainableWeights' in source
        ? trainableVariables(source as Network)
        : undefined;
    if (!variables || variables.length === 0 || !variables.every((v) => v instanceof tf.Variable)) {
      throw new ArgumentError({
        fn: FN,
        arg: 'source',
        expected: 'be a non-empty array of tf.Variable or a network with trainable weights',
        received: describe(source),
      });
    }
    this.source = [...variables];
    this.decay = decay;
    this.warmup = warmup;
    this.variables = variables.map((v) => tf.variable(v, false));
    this.rate = tf.keep(tf.scalar(1 - decay));
  }

  /**
   * The decay of the update that follows `t` earlier ones.
   *
   * @param t - updates before this one (e.g. the trainer's completed steps).
   * @returns `decay`, or with warm-up `0` for `t = 0` and `min(decay, (1 + t)/(10 + t))` after.
   */
  decayAt(t: number): number {
    if (!this.warmup) return this.decay;
    return t <= 0 ? 0 : Math.min(this.decay, (1 + t) / (10 + t));
  }

  /**
   * One averaging step, `ema ← d_t·ema + (1 − d_t)·w`. Run it after the optimizer's update,
   * inside a `tf.tidy` (the trainers do).
   *
   * @param t - updates before this one; only the warm-up uses it. Default 0.
   */
  update(t = 0): void {
    assertNonNegativeInt(t, 't', `${FN}.update`);
    const d = this.decayAt(t);
    tf.tidy(() => {
      const rate = d === this.decay ? this.rate : tf.scalar(1 - d);
      this.source.forEach((w, i) => {
        const avg = this.variables[i]!;
        // ema + (1 − d)(w − ema) = d·ema + (1 − d)·w, with one fewer multiply; d = 0 copies w exactly.
        avg.assign(d === 0 ? w : tf.add(avg, tf.mul(rate, tf.sub(w, avg))));
      });
    });
  }

  /**
   * Runs `fn` with the averaged values in the source variables, then puts the training values
   * back (after the promise settles when `fn` is async). Do not train while it runs.
   *
   * @param fn - sync or async work with the source variables (sampling, saving a model).
   * @returns what `fn` returns.
   */
  withAverage<T>(fn: () => T): T {
    const originals = this.source.map(share);
    const restore = () => {
      this.source.forEach((v, i) => v.assign(originals[i]!));
      tf.dispose(originals);
    };
    let result: T;
    try {
      this.source.forEach((v, i) => v.assign(this.variables[i]!));
      result = fn();
    } catch (e) {
      restore();
      throw e;
    }
    if (result instanceof Promise) return result.finally(restore) as T;
    restore();
    return result;
  }

  /** Frees the averaged variables (the source variables stay the caller's). */
  dispose(): void {
    tf.dispose(this.variables);
    this.rate.dispose();
  }
}
