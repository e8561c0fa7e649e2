/**
 * The R1 gradient penalty (Mescheder et al. 2018).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { assertFloatTensor, assertKnownKeys, assertMinRank, assertNumber } from '../../validation.js';
import { assertNonEmptyBatch } from '../reduction.js';
import { checkCritic, criticInputGradient, perExampleSquaredNorm, type Critic } from './critic.js';

const FN = 'losses.gan.r1Penalty';

/** Options of {@link r1Penalty}. @category Losses */
export interface R1PenaltyOptions {
  /** The coefficient γ; the penalty is `γ/2 · E‖∇D‖²`. Default 10 (the paper's value for most datasets). */
  weight?: number;
}

/**
 * The R1 regularizer (Mescheder et al. 2018, equation 9): the squared gradient norm of the
 * discriminator's logits on real data, which penalizes the discriminator for leaving the
 * data manifold and makes the non-saturating GAN converge locally:
 *
 * ```text
 * gᵢ = ∇ₓ D(real)ᵢ                          (gradient of the summed logits, row i)
 * penalty = (weight / 2) · meanᵢ Σ gᵢ²       (sum over every non-batch axis)
 * ```
 *
 * The gradient is computed with `tf.grad`, so the penalty can be differentiated again with
 * respect to the discriminator's weights (add it to the discriminator loss inside
 * `tf.variableGrads`). Critics with `leakyRelu`, `prelu` or `where` need the zero gradients
 * that `import 'genblocks'` registers.
 *
 * @param critic - a `tf.LayersModel` (called with `{ training: true }`) or a function `(x) => logits`.
 * @param real - real examples `[batch, ...]`, float32, any rank ≥ 1.
 * @param options - `weight` γ (default 10).
 * @returns the penalty, a scalar.
 * @see https://arxiv.org/abs/1801.04406 (Mescheder et al. 2018, Which Training Methods for GANs do actually Converge?)
 * @example
 * ```ts
 * const { grads } = tf.variableGrads(() =>
 *   tf.add(
 *     losses.gan.nonSaturating.discriminator(discriminator.apply(real) as tf.Tensor, discriminator.apply(fake) as tf.Tensor),
 *     losses.gan.r1Penalty(discriminator, real, { weight: 10 }),
 *   ) as tf.Scalar,
 * );
 * ```
 * @category Losses
 */
export function r1Penalty(critic: Critic, real: tf.Tensor, options: R1PenaltyOptions = {}): tf.Scalar {
  checkCritic(critic, FN);
  assertFloatTensor(real, 'real', FN);
  assertNonEmptyBatch(real, 'real', FN);
  assertMinRank(real, 1, 'real', FN);
  assertKnownKeys(options, ['weight'], 'options', FN);
  const { weight = 10 } = options;
  assertNumber(weight, 'options.weight', FN, { min: 0 });
  return tf.tidy(FN, () => {
    const gradient = criticInputGradient(critic, real, FN);
    return tf.mul(weight / 2, tf.mean(perExampleSquaredNorm(gradient))) as tf.Scalar;
  });
}
