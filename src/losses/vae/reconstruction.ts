/**
 * Reconstruction terms of the VAE objective: negative log-likelihoods of the data under the
 * decoder's Bernoulli or Gaussian distribution.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { ArgumentError, ShapeError } from '../../errors.js';
import { assertFloatTensor, assertMinRank, assertNumber, assertSameShape, describe, formatShape } from '../../validation.js';
import { assertNonEmptyBatch, readReduction, type Reduced, type Reduction, type ReductionOptions } from '../reduction.js';
import { reduceBatch, sumPerExample } from './common.js';

const BERNOULLI = 'losses.vae.bernoulliReconstruction';
const GAUSSIAN = 'losses.vae.gaussianReconstruction';

/**
 * Negative log-likelihood of `target` under independent Bernoulli distributions with the given
 * logits, summed over every data axis: the binary cross entropy with logits of PyTorch's
 * `F.binary_cross_entropy_with_logits(logits, target, reduction='none').sum(data axes)`.
 * Targets may be soft (grey levels in `[0, 1]`). Stable for logits of any magnitude:
 *
 * ```text
 * BCE(x, t) = -t log σ(x) - (1 - t) log(1 - σ(x)) = t · softplus(-x) + (1 - t) · softplus(x)
 * bernoulliReconstruction = meanᵢ Σⱼ BCE(logitsᵢⱼ, targetᵢⱼ)
 * ```
 *
 * (both terms are non-negative, so nothing cancels; it equals `softplus(x) - x·t`).
 *
 * @param logits - the decoder's logits `[batch, ...data]`, float32, rank ≥ 2.
 * @param target - the data, same shape, float32 in `[0, 1]`.
 * @param options - `reduction` over the batch: `'mean'` (default), `'sum'`, or `'none'` (`[batch]`).
 * @returns the reconstruction loss in nats, a scalar (`[batch]` for `reduction: 'none'`).
 * @see https://arxiv.org/abs/1312.6114 (Kingma & Welling 2014, appendix C.1, Bernoulli MLP decoder)
 * @example
 * ```ts
 * const logits = decoder.apply(z, { training: true }) as tf.Tensor;
 * const recon = losses.vae.bernoulliReconstruction(logits, images); // images in [0, 1]
 * ```
 * @category Losses
 */
export function bernoulliReconstruction<R extends Reduction = 'mean'>(
  logits: tf.Tensor,
  target: tf.Tensor,
  options?: ReductionOptions<R>,
): Reduced<R> {
  assertFloatTensor(logits, 'logits', BERNOULLI);
  assertNonEmptyBatch(logits, 'logits', BERNOULLI);
  assertMinRank(logits, 2, 'logits', BERNOULLI);
  assertFloatTensor(target, 'target', BERNOULLI);
  assertSameShape(logits, target, 'logits', 'target', BERNOULLI);
  const reduction = readReduction(options, BERNOULLI);
  return tf.tidy(BERNOULLI, () => {
    // t · softplus(-x) + (1 - t) · softplus(x)
    const perElement = tf.add(tf.mul(target, tf.softplus(tf.neg(logits))), tf.mul(tf.sub(1, target), tf.softplus(logits)));
    return reduceBatch(sumPerExample(perElement), reduction);
  }) as Reduced<R>;
}

/** Options of {@link gaussianReconstruction}. @category Losses */
export interface GaussianReconstructionOptions<R extends Reduction = Reduction> extends ReductionOptions<R> {
  /**
   * Log-variance of the decoder's Gaussian: a number (fixed), or a float32 tensor that
   * broadcasts to the mean's shape without changing it (a scalar, per-feature `[...data]`, or
   * per-element `[batch, ...data]`; a `tf.Variable` or a decoder output when it is learned).
   * Default 0 (unit variance: the loss is half the sum of squared errors).
   */
  logVar?: number | tf.Tensor;
  /** Add the constant `0.5 · log(2π)` per element, giving the exact negative log-likelihood. Default false. */
  includeConstant?: boolean;
}

/** Checks that `logVar` broadcasts to `shape` without changing it (right-aligned, each axis 1 or equal). */
function assertBroadcastsTo(logVar: tf.Tensor, shape: readonly number[], fn: string): void {
  const offset = shape.length - logVar.rank;
  const ok = offset >= 0 && logVar.shape.every((d, i) => d === 1 || d === shape[offset + i]);
  if (!ok) {
    throw new ShapeError({
      fn,
      arg: 'options.logVar',
      expected: `broadcast to the shape of 'mean' ${formatShape(shape)}`,
      received: `shape ${formatShape(logVar.shape)}`,
    });
  }
}

/**
 * Negative log-likelihood of `target` under independent Gaussians `N(mean, exp(logVar))`,
 * summed over every data axis (PyTorch `GaussianNLLLoss` per element, with `var = exp(logVar)`):
 *
 * ```text
 * NLL(t; μ, log σ²) = 0.5 · (log σ² + (t - μ)² · exp(-log σ²)) [+ 0.5 · log(2π) with includeConstant]
 * gaussianReconstruction = meanᵢ Σⱼ NLL(targetᵢⱼ; meanᵢⱼ, logVarᵢⱼ)
 * ```
 *
 * With the default `logVar: 0` this is half the summed squared error.
 *
 * @param mean - the decoder's means `[batch, ...data]`, float32, rank ≥ 2.
 * @param target - the data, same shape.
 * @param options - `logVar` (number or tensor, default 0), `includeConstant` (default false),
 *   `reduction` over the batch (`'mean'` default, `'sum'`, `'none'` for `[batch]`).
 * @returns the reconstruction loss in nats, a scalar (`[batch]` for `reduction: 'none'`).
 * @see https://arxiv.org/abs/1312.6114 (Kingma & Welling 2014, appendix C.2, Gaussian MLP decoder)
 * @example
 * ```ts
 * const logVar = tf.variable(tf.zeros([784])); // learned per-pixel variance
 * const recon = losses.vae.gaussianReconstruction(decoded, images, { logVar });
 * ```
 * @category Losses
 */
export function gaussianReconstruction<R extends Reduction = 'mean'>(
  mean: tf.Tensor,
  target: tf.Tensor,
  options?: GaussianReconstructionOptions<R>,
): Reduced<R> {
  assertFloatTensor(mean, 'mean', GAUSSIAN);
  assertNonEmptyBatch(mean, 'mean', GAUSSIAN);
  assertMinRank(mean, 2, 'mean', GAUSSIAN);
  assertFloatTensor(target, 'target', GAUSSIAN);
  assertSameShape(mean, target, 'mean', 'target', GAUSSIAN);
  const reduction = readReduction(options, GAUSSIAN, ['logVar', 'includeConstant']);
  const logVar = options?.logVar ?? 0;
  const includeConstant = options?.includeConstant ?? false;
  if (typeof logVar === 'number') {
    assertNumber(logVar, 'options.logVar', GAUSSIAN);
  } else if (logVar instanceof tf.Tensor) {
    assertFloatTensor(logVar, 'options.logVar', GAUSSIAN);
    assertBroadcastsTo(logVar, mean.shape, GAUSSIAN);
  } else {
    throw new ArgumentError({
      fn: GAUSSIAN,
      arg: 'options.logVar',
      expected: 'be a number or a float32 tensor',
      received: describe(logVar),
    });
  }
  if (typeof includeConstant !== 'boolean') {
    throw new ArgumentError({
      fn: GAUSSIAN,
      arg: 'options.includeConstant',
      expected: 'be a boolean',
      received: describe(includeConstant),
    });
  }
  return tf.tidy(GAUSSIAN, () => {
    // 0.5 · (log σ² + (t - μ)² / σ²), computed as 0.5 · (log σ² + (t - μ)² · exp(-log σ²))
    const squaredError = tf.squaredDifference(target, mean);
    let perElement =
      typeof logVar === 'number'
        ? tf.mul(0.5, tf.add(tf.mul(squaredError, Math.exp(-logVar)), logVar))
        : tf.mul(0.5, tf.add(tf.mul(squaredError, tf.exp(tf.neg(logVar))), logVar));
    if (includeConstant) perElement = tf.add(perElement, 0.5 * Math.log(2 * Math.PI));
    return reduceBatch(sumPerExample(perElement), reduction);
  }) as Reduced<R>;
}
