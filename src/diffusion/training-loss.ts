/**
 * One call that draws timesteps and noise, noises the batch, runs the model and returns its loss.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { ArgumentError } from '../errors.js';
import { assertFloatTensor, assertKnownKeys, assertMinRank, assertNumber, assertSameShape, assertTensor, describe, formatShape } from '../validation.js';
import { assertPrediction, assertSchedule, checkTimesteps, timestepTensor, type Prediction, type Timesteps } from './common.js';
import { addNoise } from './forward.js';
import { loss } from './loss.js';
import type { NoiseSchedule } from './schedule.js';
import { target } from './targets.js';

const FN = 'diffusion.trainingLoss';

/**
 * A denoising network as the diffusion functions call it: `model.apply([xt, t])`, or
 * `model.apply([xt, t, labels])` for a class-conditional one, returning a tensor shaped like
 * `xt`. `t` is float32 `[batch, 1]` (timestep indices 0 … T-1), `labels` int32 `[batch, 1]`
 * (class ids, as the label input of genblocks' conditional nets). A `tf.LayersModel` from {@link nets.unet} fits; so does any object with this
 * `apply`.
 *
 * @category Diffusion
 */
export interface DenoisingModel {
  /** Runs the network; `kwargs.training` is true in training calls. */
  apply(inputs: tf.Tensor[], kwargs?: { training?: boolean }): unknown;
}

/** Options of {@link trainingLoss}. @category Diffusion */
export interface TrainingLossOptions {
  /** The noise schedule (required). */
  schedule: NoiseSchedule;
  /** What the model predicts. Default `'epsilon'`. */
  prediction?: Prediction;
  /** γ of min-SNR-γ loss weighting (5 in Hang et al. 2023). Default: unweighted. */
  minSnrGamma?: number;
  /**
   * Seed of the draws: timesteps use `seed`, noise `seed + 1`, label dropout `seed + 2`. A
   * trainer passes a different seed each step. Default: unseeded.
   */
  seed?: number;
  /** Class labels `[batch]` or `[batch, 1]` for a conditional model. */
  labels?: tf.Tensor;
  /**
   * Probability of replacing each label by `nullLabel`, so that one model learns the conditional
   * and the unconditional prediction for classifier-free guidance (Ho & Salimans 2022 use 0.1
   * to 0.2). Default 0.
   */
  labelDropout?: number;
  /** The "no label" class id (for {@link nets.unet}: `numClasses`). Required with `labelDropout`. */
  nullLabel?: number;
  /** Pins the timesteps `[batch]` (tests). Default: uniform on `[0, T)`. */
  t?: Timesteps;
  /** Pins the noise, same shape as `x0` (tests). Default: standard normal. */
  noise?: tf.Tensor;
  /** Passed to the model as `kwargs.training`. Default `true`. */
  training?: boolean;
}

const KNOWN = ['schedule', 'prediction', 'minSnrGamma', 'seed', 'labels', 'labelDropout', 'nullLabel', 't', 'noise', 'training'] as const;

/**
 * The simple diffusion training objective for one batch (Ho et al. 2020, Algorithm 1), so that
 * a training step is one call:
 *
 * ```text
 * t ~ U{0, …, T-1},  ε ~ N(0, I),  xₜ = √ᾱₜ x₀ + √(1 - ᾱₜ) ε
 * c ← ∅ with probability labelDropout                        (Ho & Salimans 2022, Algorithm 1)
 * L = mean wₜ ‖model(xₜ, t, c) - target(x₀, ε, t)‖²            (see {@link loss})
 * ```
 *
 * Call it inside `optimizer.minimize` or `tf.variableGrads`.
 *
 * @param model - a {@link DenoisingModel}, e.g. from {@link nets.unet}.
 * @param x0 - a batch of clean data `[batch, ...]`, float32 (images scaled to [-1, 1]).
 * @param options - `schedule` (required), `prediction`, `minSnrGamma`, `seed`, `labels`,
 *   `labelDropout`, `nullLabel`.
 * @returns the loss, a scalar.
 * @see https://arxiv.org/abs/2006.11239 (Ho et al. 2020, Algorithm 1)
 * @see https://arxiv.org/abs/2207.12598 (Ho & Salimans 2022, classifier-free guidance)
 * @example
 * ```ts
 * const schedule = diffusion.noiseSchedule({ timesteps: 100 });
 * const model = nets.unet({ imageShape: [8, 8, 1], baseChannels: 8, channelMultipliers: [1, 2], attentionAt: [], groups: 4 });
 * const optimizer = tf.train.adam(1e-3);
 * const x0 = tf.zeros([4, 8, 8, 1]);
 * optimizer.minimize(() => diffusion.trainingLoss(model, x0, { schedule, seed: 1 }));
 * ```
 * @category Diffusion
 */
export function trainingLoss(model: DenoisingModel, x0: tf.Tensor, options: TrainingLossOptions): tf.Scalar {
  if (typeof (model as Partial<DenoisingModel> | undefined)?.apply !== 'function') {
    throw new ArgumentError({ fn: FN, arg: 'model', expected: 'be a model with an apply method (a tf.LayersModel)', received: describe(model) });
  }
  assertFloatTensor(x0, 'x0', FN);
  assertMinRank(x0, 2, 'x0', FN);
  assertKnownKeys(options, KNOWN, 'options', FN);
  if (options === undefined) throw new ArgumentError({ fn: FN, arg: 'options', expected: 'be an options object with a schedule', received: 'undefined' });
  const { schedule, prediction = 'epsilon', minSnrGamma, seed, labels, labelDropout = 0, nullLabel, t, noise, training = true } = options;
  assertSchedule(schedule, 'options.schedule', FN);
  assertPrediction(prediction, 'options.prediction', FN);
  if (seed !== undefined) assertNumber(seed, 'options.seed', FN);
  assertNumber(labelDropout, 'options.labelDropout', FN, { min: 0, max: 1 });
  const batch = x0.shape[0]!;
  if (labels !== undefined) {
    assertTensor(labels, 'options.labels', FN);
    if (labels.size !== batch || labels.shape[0] !== batch) {
      throw new ArgumentError({ fn: FN, arg: 'options.labels', expected: `have shape [${batch}] or [${batch}, 1]`, received: `shape ${formatShape(labels.shape)}` });
    }
  }
  if (labelDropout > 0) {
    if (labels === undefined) throw new ArgumentError({ fn: FN, arg: 'options.labelDropout', expected: 'be 0 without labels', received: describe(labelDropout) });
    assertNumber(nullLabel, 'options.nullLabel', FN, { integer: true, min: 0 });
  }
  if (t !== undefined) checkTimesteps(t, batch, schedule, 'options.t', FN);
  if (noise !== undefined) {
    assertFloatTensor(noise, 'options.noise', FN);
    assertSameShape(x0, noise, 'x0', 'options.noise', FN);
  }
  return tf.tidy(FN, () => {
    const steps =
      t === undefined ? (tf.cast(tf.floor(tf.randomUniform([batch], 0, schedule.timesteps, 'float32', seed)), 'int32') as tf.Tensor1D) : timestepTensor(t);
    const epsilon = noise ?? tf.randomNormal(x0.shape, 0, 1, 'float32', seed === undefined ? undefined : seed + 1);
    const xt = addNoise(x0, epsilon, steps, schedule);
    const inputs = [xt, tf.reshape(tf.cast(steps, 'float32'), [batch, 1])];
    if (labels !== undefined) {
      let c = tf.reshape(tf.cast(labels, 'int32'), [batch, 1]);
      if (labelDropout > 0) {
        const drop = tf.less(tf.randomUniform([batch, 1], 0, 1, 'float32', seed === undefined ? undefined : seed + 2), labelDropout);
        c = tf.where(drop, tf.fill([batch, 1], nullLabel!, 'int32'), c);
      }
      inputs.push(c);
    }
    const output = firstTensor(model.apply(inputs, { training }), FN);
    return loss(output, target(x0, epsilon, steps, schedule, prediction), steps, schedule, { prediction, minSnrGamma }) as tf.Scalar;
  });
}

/** The model's output tensor (the first, if it returns several). @internal */
export function firstTensor(output: unknown, fn: string): tf.Tensor {
  const out = Array.isArray(output) ? output[0] : output;
  if (!(out instanceof tf.Tensor)) throw new ArgumentError({ fn, arg: 'model', expected: 'return a tensor from apply', received: describe(output) });
  return out;
}
