/**
 * The forward (noising) process q(xₜ | x₀).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { assertFloatTensor, assertMinRank, assertSameShape } from '../validation.js';
import { assertSchedule, checkTimesteps, perExample, timestepTensor, type Timesteps } from './common.js';
import type { NoiseSchedule } from './schedule.js';

const FN = 'diffusion.addNoise';

/**
 * Samples xₜ ~ q(xₜ | x₀) in closed form, for a timestep per example (Ho et al. 2020, eq. 4):
 *
 * ```text
 * xₜ = √ᾱₜ · x₀ + √(1 - ᾱₜ) · ε
 * ```
 *
 * @param x0 - clean data `[batch, ...]`, float32.
 * @param noise - ε, same shape as `x0` (usually standard normal).
 * @param t - timesteps `[batch]`: an int32 tensor or integers in `[0, T)`.
 * @param schedule - a {@link NoiseSchedule}.
 * @returns xₜ, same shape as `x0`.
 * @see https://arxiv.org/abs/2006.11239 (Ho et al. 2020, eq. 4)
 * @example
 * ```ts
 * const schedule = diffusion.noiseSchedule();
 * const x0 = tf.zeros([2, 28, 28, 1]);
 * const xt = diffusion.addNoise(x0, tf.randomNormal(x0.shape), [10, 500], schedule);
 * ```
 * @category Diffusion
 */
export function addNoise(x0: tf.Tensor, noise: tf.Tensor, t: Timesteps, schedule: NoiseSchedule): tf.Tensor {
  assertFloatTensor(x0, 'x0', FN);
  assertMinRank(x0, 1, 'x0', FN);
  assertFloatTensor(noise, 'noise', FN);
  assertSameShape(x0, noise, 'x0', 'noise', FN);
  assertSchedule(schedule, 'schedule', FN);
  checkTimesteps(t, x0.shape[0]!, schedule, 't', FN);
  return tf.tidy(FN, () => {
    const steps = timestepTensor(t);
    const signal = perExample(schedule.sqrtAlphasCumprod, steps, x0.rank);
    const noiseScale = perExample(schedule.sqrtOneMinusAlphasCumprod, steps, x0.rank);
    return tf.add(tf.mul(signal, x0), tf.mul(noiseScale, noise));
  });
}
