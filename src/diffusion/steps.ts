/**
 * One reverse step of the DDPM and DDIM samplers, as pure functions.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { ArgumentError } from '../errors.js';
import { assertFloatTensor, assertKnownKeys, assertMinRank, assertNumber, assertOneOf, assertSameShape, describe } from '../validation.js';
import { assertPrediction, assertSchedule, type Prediction } from './common.js';
import type { NoiseSchedule } from './schedule.js';
import { convert } from './targets.js';

const DDPM = 'diffusion.ddpmStep';
const DDIM = 'diffusion.ddimStep';

/** Options shared by {@link ddpmStep} and {@link ddimStep}. @category Diffusion */
export interface StepOptions {
  /** What the model output is. Default `'epsilon'`. */
  prediction?: Prediction;
  /**
   * The timestep to step to: `t - 1` by default (every training step), an earlier one when
   * sampling with fewer steps (see {@link samplingTimesteps}), -1 for the final step to x₀.
   */
  prevT?: number;
  /** Clip the predicted x₀ to `[-clipSample, clipSample]` (1 for images in [-1, 1]). Default: no clipping. */
  clipSample?: number;
  /** The standard normal noise z, same shape as `xt` (tests). Default: drawn with `seed`. */
  noise?: tf.Tensor;
  /** Seed of z. Default: unseeded. */
  seed?: number;
}

/** Options of {@link ddpmStep}. @category Diffusion */
export interface DdpmStepOptions extends StepOptions {
  /**
   * The reverse-process variance σₜ²: `'small'` = β̃ₜ, the posterior variance (Ho et al.'s
   * σ² = β̃, best for few steps and the usual choice) or `'large'` = βₜ. Default `'small'`.
   */
  variance?: 'small' | 'large';
}

/** Options of {@link ddimStep}. @category Diffusion */
export interface DdimStepOptions extends StepOptions {
  /** η ≥ 0: 0 is the deterministic DDIM, 1 matches DDPM's posterior variance. Default 0. */
  eta?: number;
}

interface Validated {
  prediction: Prediction;
  prevT: number;
  clipSample: number | undefined;
  noise: tf.Tensor | undefined;
  seed: number | undefined;
}

function validateStep(
  modelOutput: tf.Tensor,
  xt: tf.Tensor,
  t: number,
  schedule: NoiseSchedule,
  options: StepOptions | undefined,
  known: readonly string[],
  fn: string,
): Validated {
  assertFloatTensor(modelOutput, 'modelOutput', fn);
  assertMinRank(modelOutput, 1, 'modelOutput', fn);
  assertFloatTensor(xt, 'xt', fn);
  assertSameShape(modelOutput, xt, 'modelOutput', 'xt', fn);
  assertSchedule(schedule, 'schedule', fn);
  assertNumber(t, 't', fn, { integer: true, min: 0, max: schedule.timesteps - 1 });
  assertKnownKeys(options, known, 'options', fn);
  const { prediction = 'epsilon', prevT = t - 1, clipSample, noise, seed } = options ?? {};
  assertPrediction(prediction, 'options.prediction', fn);
  assertNumber(prevT, 'options.prevT', fn, { integer: true, min: -1 });
  if (prevT >= t) throw new ArgumentError({ fn, arg: 'options.prevT', expected: `be less than t (${t})`, received: describe(prevT) });
  if (clipSample !== undefined) assertNumber(clipSample, 'options.clipSample', fn, { min: 0, minExclusive: true });
  if (noise !== undefined) {
    assertFloatTensor(noise, 'options.noise', fn);
    assertSameShape(xt, noise, 'xt', 'options.noise', fn);
  }
  if (seed !== undefined) assertNumber(seed, 'options.seed', fn);
  return { prediction, prevT, clipSample, noise, seed };
}

/** The predicted x₀, clipped if asked. */
function predictX0(modelOutput: tf.Tensor, xt: tf.Tensor, alphaBar: number, prediction: Prediction, clipSample: number | undefined): tf.Tensor {
  const x0 = convert(modelOutput, xt, Math.sqrt(alphaBar), Math.sqrt(1 - alphaBar), prediction, 'x0');
  return clipSample === undefined ? x0 : tf.clipByValue(x0, -clipSample, clipSample);
}

function standardNormal(xt: tf.Tensor, noise: tf.Tensor | undefined, seed: number | undefined): tf.Tensor {
  return noise ?? tf.randomNormal(xt.shape, 0, 1, 'float32', seed);
}

/**
 * One ancestral DDPM step xₜ → xₜ₋₁ ~ p(xₜ₋₁ | xₜ) = N(μ̃ₜ(xₜ, x̂₀), σₜ² I), with x̂₀ the
 * model's prediction of x₀ (optionally clipped), from the posterior q(xₜ₋₁ | xₜ, x₀)
 * (Ho et al. 2020, eqs. 6-7; Algorithm 2):
 *
 * ```text
 * μ̃ₜ = √ᾱₜ₋₁ βₜ / (1 - ᾱₜ) · x̂₀ + √αₜ (1 - ᾱₜ₋₁) / (1 - ᾱₜ) · xₜ
 * xₜ₋₁ = μ̃ₜ + σₜ z,   σₜ² = β̃ₜ = βₜ (1 - ᾱₜ₋₁)/(1 - ᾱₜ) ('small') or βₜ ('large'),   no noise at the last step
 * ```
 *
 * When stepping from t to an earlier `prevT`, αₜ and βₜ are those of the jump:
 * αₜ = ᾱₜ / ᾱ_prevT, βₜ = 1 - αₜ (as diffusers' DDPMScheduler does).
 *
 * @param modelOutput - the model's prediction at (xₜ, t), `[batch, ...]`.
 * @param xt - the current sample xₜ, same shape.
 * @param t - the current timestep, an integer in `[0, T)` shared by the batch.
 * @param schedule - a {@link NoiseSchedule}.
 * @param options - `prediction`, `variance`, `clipSample`, `prevT`, `noise`, `seed`.
 * @returns xₜ₋₁ (x_prevT), same shape as `xt`.
 * @see https://arxiv.org/abs/2006.11239 (Ho et al. 2020, eq. 7 and Algorithm 2)
 * @example
 * ```ts
 * const schedule = diffusion.noiseSchedule({ timesteps: 100 });
 * const xt = tf.randomNormal([1, 4], 0, 1, 'float32', 0);
 * const x = diffusion.ddpmStep(tf.zeros([1, 4]), xt, 99, schedule, { seed: 1 });
 * ```
 * @category Diffusion
 */
export function ddpmStep(modelOutput: tf.Tensor, xt: tf.Tensor, t: number, schedule: NoiseSchedule, options: DdpmStepOptions = {}): tf.Tensor {
  const { prediction, prevT, clipSample, noise, seed } = validateStep(
    modelOutput,
    xt,
    t,
    schedule,
    options,
    ['prediction', 'prevT', 'clipSample', 'noise', 'seed', 'variance'],
    DDPM,
  );
  const { variance = 'small' } = options;
  assertOneOf(variance, ['small', 'large'] as const, 'options.variance', DDPM);
  const alphaBar = schedule.alphasCumprod[t]!;
  const alphaBarPrev = prevT < 0 ? 1 : schedule.alphasCumprod[prevT]!;
  const alpha = alphaBar / alphaBarPrev;
  const beta = 1 - alpha;
  const coefX0 = (Math.sqrt(alphaBarPrev) * beta) / (1 - alphaBar);
  const coefXt = (Math.sqrt(alpha) * (1 - alphaBarPrev)) / (1 - alphaBar);
  const sigma = prevT < 0 ? 0 : Math.sqrt(variance === 'small' ? (beta * (1 - alphaBarPrev)) / (1 - alphaBar) : beta);
  return tf.tidy(DDPM, () => {
    const x0 = predictX0(modelOutput, xt, alphaBar, prediction, clipSample);
    const mean = tf.add(tf.mul(coefX0, x0), tf.mul(coefXt, xt));
    return sigma === 0 ? mean : tf.add(mean, tf.mul(sigma, standardNormal(xt, noise, seed)));
  });
}

/**
 * The DDIM noise scale σ of a step t → prevT (Song et al. 2020, eq. 16):
 * σ = η √((1 - ᾱ_prev)/(1 - ᾱₜ)) √(1 - ᾱₜ/ᾱ_prev), with ᾱ_prev = 1 for prevT = -1.
 *
 * @internal
 */
export function ddimSigma(schedule: NoiseSchedule, t: number, prevT: number, eta: number): number {
  const alphaBar = schedule.alphasCumprod[t]!;
  const alphaBarPrev = prevT < 0 ? 1 : schedule.alphasCumprod[prevT]!;
  return eta * Math.sqrt((1 - alphaBarPrev) / (1 - alphaBar)) * Math.sqrt(1 - alphaBar / alphaBarPrev);
}

/**
 * One DDIM step xₜ → x_prev (Song et al. 2020, eq. 12), with x̂₀ and ε̂ the model's
 * predictions (ε̂ recomputed from the clipped x̂₀ when clipping):
 *
 * ```text
 * x_prev = √ᾱ_prev · x̂₀ + √(1 - ᾱ_prev - σ²) · ε̂ + σ z
 * σ = η √((1 - ᾱ_prev)/(1 - ᾱₜ)) √(1 - ᾱₜ/ᾱ_prev)                 (eq. 16)
 * ```
 *
 * η = 0 is deterministic (the ODE-like sampler of the paper); η = 1 gives σ² = β̃, DDPM's
 * posterior variance. The final step (prevT = -1) uses ᾱ_prev = 1 and returns x̂₀.
 *
 * @param modelOutput - the model's prediction at (xₜ, t), `[batch, ...]`.
 * @param xt - the current sample xₜ, same shape.
 * @param t - the current timestep, an integer in `[0, T)` shared by the batch.
 * @param schedule - a {@link NoiseSchedule}.
 * @param options - `eta`, `prevT` (see {@link samplingTimesteps}), `prediction`, `clipSample`,
 *   `noise`, `seed`.
 * @returns x_prevT, same shape as `xt`.
 * @see https://arxiv.org/abs/2010.02502 (Song et al. 2020, eqs. 12 and 16)
 * @example
 * ```ts
 * const schedule = diffusion.noiseSchedule();
 * const xt = tf.randomNormal([1, 4], 0, 1, 'float32', 0);
 * const x = diffusion.ddimStep(tf.zeros([1, 4]), xt, 999, schedule, { prevT: 979 });
 * ```
 * @category Diffusion
 */
export function ddimStep(modelOutput: tf.Tensor, xt: tf.Tensor, t: number, schedule: NoiseSchedule, options: DdimStepOptions = {}): tf.Tensor {
  const { prediction, prevT, clipSample, noise, seed } = validateStep(
    modelOutput,
    xt,
    t,
    schedule,
    options,
    ['prediction', 'prevT', 'clipSample', 'noise', 'seed', 'eta'],
    DDIM,
  );
  const { eta = 0 } = options;
  assertNumber(eta, 'options.eta', DDIM, { min: 0 });
  const alphaBar = schedule.alphasCumprod[t]!;
  const alphaBarPrev = prevT < 0 ? 1 : schedule.alphasCumprod[prevT]!;
  const sigma = ddimSigma(schedule, t, prevT, eta);
  const direction = Math.sqrt(Math.max(1 - alphaBarPrev - sigma * sigma, 0));
  return tf.tidy(DDIM, () => {
    const a = Math.sqrt(alphaBar);
    const s = Math.sqrt(1 - alphaBar);
    const x0 = predictX0(modelOutput, xt, alphaBar, prediction, clipSample);
    const epsilon = clipSample === undefined ? convert(modelOutput, xt, a, s, prediction, 'epsilon') : convert(x0, xt, a, s, 'x0', 'epsilon');
    const mean = tf.add(tf.mul(Math.sqrt(alphaBarPrev), x0), tf.mul(direction, epsilon));
    return sigma === 0 ? mean : tf.add(mean, tf.mul(sigma, standardNormal(xt, noise, seed)));
  });
}
