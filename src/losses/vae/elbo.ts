/**
 * The negative evidence lower bound of a VAE (Kingma & Welling 2014; β-VAE, Higgins et al. 2017).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { ArgumentError, ShapeError } from '../../errors.js';
import { assertKnownKeys, assertNumber, assertOneOf, assertTensor, describe, formatShape } from '../../validation.js';
import type { ScalarReduction } from '../reduction.js';
import { gaussianKl } from './gaussian-kl.js';
import { bernoulliReconstruction, gaussianReconstruction } from './reconstruction.js';

const FN = 'losses.vae.elbo';

/** Options of {@link elbo}. @category Losses */
export interface ElboOptions {
  /**
   * The decoder's distribution: `'bernoulli'` (decoder outputs logits; targets in `[0, 1]`,
   * binarized or grey) or `'gaussian'` (decoder outputs means). Default `'bernoulli'`.
   */
  likelihood?: 'bernoulli' | 'gaussian';
  /** Weight β of the KL term (β-VAE). Default 1, the true ELBO. */
  beta?: number;
  /**
   * `'gaussian'` only: the decoder's log-variance, a number or a float32 tensor that broadcasts
   * to the decoder's output (a `tf.Variable` when learned). Default 0.
   */
  outputLogVar?: number | tf.Tensor;
  /** `'gaussian'` only: include `0.5 · log(2π)` per element. Default false. */
  includeConstant?: boolean;
  /** Reduction over the batch of per-example values: `'mean'` (default) or `'sum'`. */
  reduction?: ScalarReduction;
}

/** The negative ELBO and its parts, all scalars (nats), returned for logging. @category Losses */
export interface ElboTerms {
  /** `reconstruction + beta · kl`, the quantity to minimize. */
  loss: tf.Scalar;
  /** The expected negative log-likelihood of the target under the decoder (one sample of z). */
  reconstruction: tf.Scalar;
  /** `KL(q(z|x) ‖ N(0, I))`, unweighted by β. */
  kl: tf.Scalar;
}

/**
 * The loss function of a VAE, built from the options once and called every step.
 *
 * @param reconstruction - the decoder's output `[batch, ...data]`: logits (`'bernoulli'`) or means (`'gaussian'`).
 * @param target - the data, same shape as `reconstruction`.
 * @param mean - the encoder's means `[batch, ...latent]`.
 * @param logVar - the encoder's log-variances, same shape as `mean`.
 * @returns the negative ELBO and its parts, scalars.
 * @category Losses
 */
export type ElboFunction = (reconstruction: tf.Tensor, target: tf.Tensor, mean: tf.Tensor, logVar: tf.Tensor) => ElboTerms;

/**
 * Builds the VAE loss: the negative evidence lower bound (Kingma & Welling 2014, equation 10),
 * with the KL term weighted by β (β-VAE, Higgins et al. 2017):
 *
 * ```text
 * reconstruction = meanᵢ -log p(xᵢ | zᵢ)          (bernoulliReconstruction or gaussianReconstruction)
 * kl             = meanᵢ KL(q(z | xᵢ) ‖ N(0, I))   (gaussianKl)
 * loss           = reconstruction + beta · kl      (= -ELBO when beta = 1)
 * ```
 *
 * Both terms are summed over their data or latent axes and averaged over the batch (or summed,
 * with `reduction: 'sum'`), so they are in nats per example and comparable with published
 * numbers. The returned function runs inside `tf.tidy` and returns three scalars; differentiate
 * `loss`, log all three.
 *
 * @param options - `likelihood` (`'bernoulli'`), `beta` (1), `outputLogVar`, `includeConstant`, `reduction`.
 * @returns a function `(reconstruction, target, mean, logVar) => { loss, reconstruction, kl }`.
 * @see https://arxiv.org/abs/1312.6114 (Kingma & Welling 2014, Auto-Encoding Variational Bayes)
 * @see https://openreview.net/forum?id=Sy2fzU9gl (Higgins et al. 2017, β-VAE)
 * @example
 * ```ts
 * const vaeLoss = losses.vae.elbo({ likelihood: 'bernoulli', beta: 1 });
 * const { value, grads } = tf.variableGrads(() => {
 *   const [mean, logVar] = encoder.apply(x, { training: true }) as tf.Tensor[];
 *   const logits = decoder.apply(vae.reparameterize(mean, logVar), { training: true }) as tf.Tensor;
 *   return vaeLoss(logits, x, mean, logVar).loss;
 * });
 * ```
 * @category Losses
 */
export function elbo(options: ElboOptions = {}): ElboFunction {
  assertKnownKeys(options, ['likelihood', 'beta', 'outputLogVar', 'includeConstant', 'reduction'], 'options', FN);
  const { likelihood = 'bernoulli', beta = 1, outputLogVar, includeConstant, reduction = 'mean' } = options;
  assertOneOf(likelihood, ['bernoulli', 'gaussian'] as const, 'options.likelihood', FN);
  assertNumber(beta, 'options.beta', FN, { min: 0 });
  assertOneOf(reduction, ['mean', 'sum'] as const, 'options.reduction', FN);
  if (likelihood === 'bernoulli' && (outputLogVar !== undefined || includeConstant !== undefined)) {
    throw new ArgumentError({
      fn: FN,
      arg: outputLogVar !== undefined ? 'options.outputLogVar' : 'options.includeConstant',
      expected: "be left out with likelihood 'bernoulli'",
      received: describe(outputLogVar ?? includeConstant),
      hint: "It applies to likelihood 'gaussian' only",
    });
  }
  return (reconstruction, target, mean, logVar) => {
    assertTensor(reconstruction, 'reconstruction', FN);
    assertTensor(mean, 'mean', FN);
    if (mean.rank >= 1 && reconstruction.rank >= 1 && mean.shape[0] !== reconstruction.shape[0]) {
      throw new ShapeError({
        fn: FN,
        arg: 'mean',
        expected: `have the batch size of 'reconstruction' ${formatShape(reconstruction.shape)}`,
        received: `shape ${formatShape(mean.shape)}`,
      });
    }
    return tf.tidy(FN, () => {
      const reconstructionLoss =
        likelihood === 'bernoulli'
          ? bernoulliReconstruction(reconstruction, target, { reduction })
          : gaussianReconstruction(reconstruction, target, { reduction, logVar: outputLogVar, includeConstant });
      const kl = gaussianKl(mean, logVar, { reduction });
      const loss = tf.add(reconstructionLoss, tf.mul(beta, kl)) as tf.Scalar;
      return { loss, reconstruction: reconstructionLoss, kl };
    });
  };
}
