/**
 * The denoising regression loss, with optional min-SNR-γ weighting.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { readReduction, type Reduced, type Reduction } from '../losses/reduction.js';
import { assertFloatTensor, assertKnownKeys, assertMinRank, assertNumber, assertSameShape } from '../validation.js';
import { assertPrediction, assertSchedule, checkTimesteps, perExample, timestepTensor, type Prediction, type Timesteps } from './common.js';
import type { NoiseSchedule } from './schedule.js';

const LOSS = 'diffusion.loss';
const WEIGHTS = 'diffusion.minSnrWeights';

/**
 * The min-SNR-γ loss weight of each timestep for a prediction target (Hang et al. 2023, §3.4):
 * the x₀-space weight min(SNR, γ), carried over to the target actually regressed,
 *
 * ```text
 * 'x0':      wₜ = min(SNRₜ, γ)
 * 'epsilon': wₜ = min(SNRₜ, γ) / SNRₜ  = min(1, γ / SNRₜ)   (1 where SNR = 0)
 * 'v':       wₜ = min(SNRₜ, γ) / (SNRₜ + 1)
 * ```
 *
 * @param schedule - a {@link NoiseSchedule} (its `snr`).
 * @param prediction - `'epsilon'`, `'v'` or `'x0'`.
 * @param gamma - γ > 0; the paper uses 5.
 * @returns the weights, a `Float64Array` of length T.
 * @see https://arxiv.org/abs/2303.09556 (Hang et al. 2023, Efficient Diffusion Training via Min-SNR Weighting Strategy)
 * @example
 * ```ts
 * const weights = diffusion.minSnrWeights(diffusion.noiseSchedule(), 'epsilon', 5);
 * ```
 * @category Diffusion
 */
export function minSnrWeights(schedule: NoiseSchedule, prediction: Prediction, gamma: number): Float64Array {
  assertSchedule(schedule, 'schedule', WEIGHTS);
  assertPrediction(prediction, 'prediction', WEIGHTS);
  assertNumber(gamma, 'gamma', WEIGHTS, { min: 0, minExclusive: true });
  return schedule.snr.map((snr) => {
    if (prediction === 'x0') return Math.min(snr, gamma);
    if (prediction === 'v') return Math.min(snr, gamma) / (snr + 1);
    return Math.min(1, gamma / snr);
  });
}

/** Options of {@link loss}. @category Diffusion */
export interface DiffusionLossOptions<R extends Reduction = 'mean'> {
  /** What the model predicts (selects the min-SNR weight form). Default `'epsilon'`. */
  prediction?: Prediction;
  /** γ of min-SNR-γ weighting (Hang et al. 2023 use 5). Default: unweighted. */
  minSnrGamma?: number;
  /** `'mean'` (default) or `'sum'` over the batch, or `'none'` for the per-example loss `[batch]`. */
  reduction?: R;
}

/**
 * The denoising loss: the mean squared error between the model's output and its target, per
 * example, optionally weighted by min-SNR-γ (Ho et al. 2020, eq. 14; Hang et al. 2023):
 *
 * ```text
 * Lᵢ = w(tᵢ) · mean_j (outputᵢⱼ - targetᵢⱼ)²,   w = 1 or minSnrWeights(schedule, prediction, γ)
 * loss = meanᵢ Lᵢ
 * ```
 *
 * @param output - the model's prediction `[batch, ...]`, float32.
 * @param target - the regression target (from `diffusion.target`), same shape.
 * @param t - timesteps `[batch]` (int32 tensor or integers in `[0, T)`).
 * @param schedule - a {@link NoiseSchedule}.
 * @param options - `prediction`, `minSnrGamma`, `reduction`.
 * @returns a scalar (`[batch]` for `reduction: 'none'`).
 * @see https://arxiv.org/abs/2006.11239 (Ho et al. 2020, eq. 14)
 * @see https://arxiv.org/abs/2303.09556 (Hang et al. 2023)
 * @example
 * ```ts
 * const schedule = diffusion.noiseSchedule();
 * const l = diffusion.loss(tf.zeros([2, 4]), tf.ones([2, 4]), [5, 900], schedule, { minSnrGamma: 5 });
 * ```
 * @category Diffusion
 */
export function loss<R extends Reduction = 'mean'>(
  output: tf.Tensor,
  target: tf.Tensor,
  t: Timesteps,
  schedule: NoiseSchedule,
  options: DiffusionLossOptions<R> = {},
): Reduced<R> {
  assertFloatTensor(output, 'output', LOSS);
  assertMinRank(output, 1, 'output', LOSS);
  assertFloatTensor(target, 'target', LOSS);
  assertSameShape(output, target, 'output', 'target', LOSS);
  assertSchedule(schedule, 'schedule', LOSS);
  checkTimesteps(t, output.shape[0]!, schedule, 't', LOSS);
  assertKnownKeys(options, ['prediction', 'minSnrGamma', 'reduction'], 'options', LOSS);
  const { prediction = 'epsilon', minSnrGamma } = options;
  assertPrediction(prediction, 'options.prediction', LOSS);
  if (minSnrGamma !== undefined) assertNumber(minSnrGamma, 'options.minSnrGamma', LOSS, { min: 0, minExclusive: true });
  const reduction = readReduction(options, LOSS, ['prediction', 'minSnrGamma']);
  return tf.tidy(LOSS, () => {
    const squared = tf.squaredDifference(output, target);
    let perExampleLoss: tf.Tensor = output.rank === 1 ? squared : tf.mean(squared, Array.from({ length: output.rank - 1 }, (_, i) => i + 1));
    if (minSnrGamma !== undefined) {
      perExampleLoss = tf.mul(perExampleLoss, perExample(minSnrWeights(schedule, prediction, minSnrGamma), timestepTensor(t), 1));
    }
    if (reduction === 'mean') return tf.mean(perExampleLoss);
    if (reduction === 'sum') return tf.sum(perExampleLoss);
    return perExampleLoss;
  }) as Reduced<R>;
}
