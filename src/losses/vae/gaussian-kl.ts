/**
 * The KL divergence of a diagonal Gaussian from the standard normal (Kingma & Welling 2014).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { assertFloatTensor, assertMinRank, assertSameShape } from '../../validation.js';
import { assertNonEmptyBatch, readReduction, type Reduced, type Reduction, type ReductionOptions } from '../reduction.js';
import { reduceBatch, sumPerExample } from './common.js';

const FN = 'losses.vae.gaussianKl';

/**
 * `KL(N(mean, diag(exp(logVar))) ‖ N(0, I))`, the VAE's regularization term, in closed form
 * (Kingma & Welling 2014, appendix B):
 *
 * ```text
 * KLᵢ = 0.5 · Σⱼ (exp(logVarᵢⱼ) + meanᵢⱼ² - 1 - logVarᵢⱼ)      (sum over every latent axis j)
 * gaussianKl = meanᵢ KLᵢ
 * ```
 *
 * @param mean - the encoder's means `[batch, ...latent]`, float32, rank ≥ 2.
 * @param logVar - the encoder's log-variances, same shape as `mean`.
 * @param options - `reduction` over the batch: `'mean'` (default), `'sum'`, or `'none'` for
 *   the per-example KL `[batch]`.
 * @returns the KL divergence in nats, a scalar (`[batch]` for `reduction: 'none'`).
 * @see https://arxiv.org/abs/1312.6114 (Kingma & Welling 2014, Auto-Encoding Variational Bayes)
 * @example
 * ```ts
 * const [mean, logVar] = encoder.apply(x, { training: true }) as tf.Tensor[];
 * const kl = losses.vae.gaussianKl(mean, logVar); // tf.Scalar
 * ```
 * @category Losses
 */
export function gaussianKl<R extends Reduction = 'mean'>(mean: tf.Tensor, logVar: tf.Tensor, options?: ReductionOptions<R>): Reduced<R> {
  assertFloatTensor(mean, 'mean', FN);
  assertNonEmptyBatch(mean, 'mean', FN);
  assertMinRank(mean, 2, 'mean', FN);
  assertFloatTensor(logVar, 'logVar', FN);
  assertSameShape(mean, logVar, 'mean', 'logVar', FN);
  const reduction = readReduction(options, FN);
  return tf.tidy(FN, () => {
    // 0.5 (σ² + μ² - 1 - log σ²)
    const perElement = tf.mul(0.5, tf.sub(tf.add(tf.exp(logVar), tf.square(mean)), tf.add(1, logVar)));
    return reduceBatch(sumPerExample(perElement), reduction);
  }) as Reduced<R>;
}
