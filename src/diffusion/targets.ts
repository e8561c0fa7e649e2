/**
 * Prediction targets (ε, v, x₀) and the exact conversions between them.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { assertFloatTensor, assertKnownKeys, assertMinRank, assertSameShape } from '../validation.js';
import { assertPrediction, assertSchedule, checkTimesteps, perExample, timestepTensor, type Prediction, type Timesteps } from './common.js';
import type { NoiseSchedule } from './schedule.js';

const TARGET = 'diffusion.target';
const CONVERT = 'diffusion.convertPrediction';

/**
 * The regression target of a diffusion model for the chosen parameterisation, given the clean
 * data x₀ and the noise ε that made xₜ = √ᾱₜ x₀ + √(1 - ᾱₜ) ε:
 *
 * ```text
 * 'epsilon': ε                                   (Ho et al. 2020, eq. 14)
 * 'x0':      x₀
 * 'v':       v = √ᾱₜ · ε - √(1 - ᾱₜ) · x₀          (Salimans & Ho 2022, §4)
 * ```
 *
 * @param x0 - clean data `[batch, ...]`, float32.
 * @param noise - ε, same shape as `x0`.
 * @param t - timesteps `[batch]` (int32 tensor or integers in `[0, T)`).
 * @param schedule - a {@link NoiseSchedule}.
 * @param prediction - `'epsilon'`, `'v'` or `'x0'`.
 * @returns the target, same shape as `x0`.
 * @see https://arxiv.org/abs/2202.00512 (Salimans & Ho 2022, v-prediction)
 * @example
 * ```ts
 * const schedule = diffusion.noiseSchedule();
 * const v = diffusion.target(tf.zeros([2, 4]), tf.ones([2, 4]), [0, 999], schedule, 'v');
 * ```
 * @category Diffusion
 */
export function target(x0: tf.Tensor, noise: tf.Tensor, t: Timesteps, schedule: NoiseSchedule, prediction: Prediction): tf.Tensor {
  assertFloatTensor(x0, 'x0', TARGET);
  assertMinRank(x0, 1, 'x0', TARGET);
  assertFloatTensor(noise, 'noise', TARGET);
  assertSameShape(x0, noise, 'x0', 'noise', TARGET);
  assertSchedule(schedule, 'schedule', TARGET);
  checkTimesteps(t, x0.shape[0]!, schedule, 't', TARGET);
  assertPrediction(prediction, 'prediction', TARGET);
  if (prediction === 'epsilon') return tf.clone(noise);
  if (prediction === 'x0') return tf.clone(x0);
  return tf.tidy(TARGET, () => {
    const steps = timestepTensor(t);
    const a = perExample(schedule.sqrtAlphasCumprod, steps, x0.rank);
    const s = perExample(schedule.sqrtOneMinusAlphasCumprod, steps, x0.rank);
    return tf.sub(tf.mul(a, noise), tf.mul(s, x0));
  });
}

/** Options of {@link convertPrediction}. @category Diffusion */
export interface ConvertPredictionOptions {
  /** What `value` is. */
  from: Prediction;
  /** What to return. */
  to: Prediction;
}

/**
 * Converts a model's prediction at xₜ from one parameterisation to another. With a = √ᾱₜ and
 * s = √(1 - ᾱₜ) (so a² + s² = 1), from xₜ = a x₀ + s ε and v = a ε - s x₀ (Salimans & Ho
 * 2022, §4 and appendix D):
 *
 * ```text
 * from ε:  x₀ = (xₜ - s ε) / a          v = a ε - s x₀
 * from x₀: ε  = (xₜ - a x₀) / s         v = a ε - s x₀
 * from v:  x₀ = a xₜ - s v              ε = s xₜ + a v
 * ```
 *
 * Exact in real arithmetic; in float32 up to rounding, except where a or s is 0 (ε at zero
 * terminal SNR, x₀ at s = 0), which no prediction determines.
 *
 * @param value - the prediction `[batch, ...]`, float32.
 * @param xt - the noisy input xₜ it was made from, same shape.
 * @param t - timesteps `[batch]` (int32 tensor or integers in `[0, T)`).
 * @param schedule - a {@link NoiseSchedule}.
 * @param options - `from` and `to`, each `'epsilon'`, `'v'` or `'x0'`.
 * @returns the prediction in the `to` parameterisation, same shape as `value`.
 * @see https://arxiv.org/abs/2202.00512 (Salimans & Ho 2022)
 * @example
 * ```ts
 * const schedule = diffusion.noiseSchedule();
 * const xt = tf.randomNormal([2, 4], 0, 1, 'float32', 1);
 * const v = tf.zeros([2, 4]);
 * const x0 = diffusion.convertPrediction(v, xt, [3, 40], schedule, { from: 'v', to: 'x0' });
 * ```
 * @category Diffusion
 */
export function convertPrediction(value: tf.Tensor, xt: tf.Tensor, t: Timesteps, schedule: NoiseSchedule, options: ConvertPredictionOptions): tf.Tensor {
  assertFloatTensor(value, 'value', CONVERT);
  assertMinRank(value, 1, 'value', CONVERT);
  assertFloatTensor(xt, 'xt', CONVERT);
  assertSameShape(value, xt, 'value', 'xt', CONVERT);
  assertSchedule(schedule, 'schedule', CONVERT);
  checkTimesteps(t, value.shape[0]!, schedule, 't', CONVERT);
  assertKnownKeys(options, ['from', 'to'], 'options', CONVERT);
  assertPrediction(options?.from, 'options.from', CONVERT);
  assertPrediction(options.to, 'options.to', CONVERT);
  return tf.tidy(CONVERT, () => {
    const steps = timestepTensor(t);
    const a = perExample(schedule.sqrtAlphasCumprod, steps, xt.rank);
    const s = perExample(schedule.sqrtOneMinusAlphasCumprod, steps, xt.rank);
    return convert(value, xt, a, s, options.from, options.to);
  });
}

/**
 * The conversion of {@link convertPrediction} with the coefficients as tensors (or numbers) that
 * broadcast against `value`. @internal
 */
export function convert(value: tf.Tensor, xt: tf.Tensor, a: tf.Tensor | number, s: tf.Tensor | number, from: Prediction, to: Prediction): tf.Tensor {
  if (from === to) return tf.clone(value);
  if (from === 'v') {
    // x₀ = a xₜ - s v,  ε = s xₜ + a v
    return to === 'x0' ? tf.sub(tf.mul(a, xt), tf.mul(s, value)) : tf.add(tf.mul(s, xt), tf.mul(a, value));
  }
  // From ε or x₀: recover the other, then v = a ε - s x₀ if asked.
  const x0 = from === 'x0' ? value : tf.div(tf.sub(xt, tf.mul(s, value)), a);
  const epsilon = from === 'epsilon' ? value : tf.div(tf.sub(xt, tf.mul(a, value)), s);
  if (to === 'x0') return x0;
  if (to === 'epsilon') return epsilon;
  return tf.sub(tf.mul(a, epsilon), tf.mul(s, x0));
}
