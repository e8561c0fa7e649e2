/**
 * The WGAN-GP gradient penalty (Gulrajani et al. 2017).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { ArgumentError, ShapeError } from '../../errors.js';
import {
  assertFloatTensor,
  assertKnownKeys,
  assertMinRank,
  assertNonNegativeInt,
  assertNumber,
  assertSameShape,
  describe,
  formatShape,
} from '../../validation.js';
import { assertNonEmptyBatch } from '../reduction.js';
import { checkCritic, criticInputGradient, perExampleSquaredNorm, type Critic } from './critic.js';

const FN = 'losses.gan.gradientPenalty';

/** Options of {@link gradientPenalty}. @category Losses */
export interface GradientPenaltyOptions {
  /** Penalty coefficient λ. Default 10 (the paper's value). */
  weight?: number;
  /** Target gradient norm. Default 1 (a 1-Lipschitz critic). */
  target?: number;
  /** Added to the squared norm inside the square root, which keeps its gradient finite at 0. Default 1e-12. */
  epsilon?: number;
  /** Seed of the interpolation weights when `alpha` is not given. Default: unseeded. */
  seed?: number;
  /**
   * The interpolation weights themselves, a float32 tensor `[batch]` in `[0, 1]` (weight of the
   * real example). Default: drawn from U[0, 1].
   */
  alpha?: tf.Tensor;
}

/**
 * The WGAN-GP gradient penalty (Gulrajani et al. 2017, Algorithm 1): the critic's gradient
 * norm at random points between real and fake examples, pulled towards `target`:
 *
 * ```text
 * x̂ᵢ = αᵢ realᵢ + (1 - αᵢ) fakeᵢ,             αᵢ ~ U[0, 1], one per example
 * gᵢ = ∇ₓ D(x̂)ᵢ                               (gradient of the summed logits, row i)
 * penalty = weight · meanᵢ (sqrt(Σ gᵢ² + epsilon) - target)²
 * ```
 *
 * The norm is taken per example over every non-batch axis, so inputs of any rank work
 * (`[batch, features]`, images `[batch, h, w, c]`, ...). The gradient is computed with
 * `tf.grad`, so the penalty can be differentiated again with respect to the critic's weights:
 * add it to the critic loss inside `tf.variableGrads` or `optimizer.minimize`. Critics with
 * `leakyRelu`, `prelu` or `where` need the zero gradients that `import 'genblocks'` registers
 * (see `backends.registerSecondOrderGradients`). The paper advises against batch normalization
 * in the critic (it couples the examples' gradients); layer normalization is the usual
 * replacement.
 *
 * @param critic - a `tf.LayersModel` (called with `{ training: true }`) or a function `(x) => logits`.
 * @param real - real examples `[batch, ...]`, float32, any rank ≥ 1.
 * @param fake - generated examples, same shape as `real`.
 * @param options - `weight` (10), `target` (1), `epsilon` (1e-12), `seed`, `alpha`.
 * @returns the penalty, a scalar.
 * @see https://arxiv.org/abs/1704.00028 (Gulrajani et al. 2017, Improved Training of Wasserstein GANs)
 * @example
 * ```ts
 * const { value, grads } = tf.variableGrads(() =>
 *   tf.add(
 *     losses.gan.wasserstein.discriminator(critic.apply(real) as tf.Tensor, critic.apply(fake) as tf.Tensor),
 *     losses.gan.gradientPenalty(critic, real, fake, { weight: 10 }),
 *   ) as tf.Scalar,
 * );
 * ```
 * @category Losses
 */
export function gradientPenalty(critic: Critic, real: tf.Tensor, fake: tf.Tensor, options: GradientPenaltyOptions = {}): tf.Scalar {
  checkCritic(critic, FN);
  assertFloatTensor(real, 'real', FN);
  assertNonEmptyBatch(real, 'real', FN);
  assertMinRank(real, 1, 'real', FN);
  assertFloatTensor(fake, 'fake', FN);
  assertSameShape(real, fake, 'real', 'fake', FN);
  assertKnownKeys(options, ['weight', 'target', 'epsilon', 'seed', 'alpha'], 'options', FN);
  const { weight = 10, target = 1, epsilon = 1e-12, seed, alpha } = options;
  assertNumber(weight, 'options.weight', FN, { min: 0 });
  assertNumber(target, 'options.target', FN, { min: 0 });
  assertNumber(epsilon, 'options.epsilon', FN, { min: 0 });
  if (seed !== undefined) assertNonNegativeInt(seed, 'options.seed', FN);
  const batch = real.shape[0]!;
  if (alpha !== undefined) {
    if (!(alpha instanceof tf.Tensor)) {
      throw new ArgumentError({
        fn: FN,
        arg: 'options.alpha',
        expected: `be a float32 tensor of shape [${batch}]`,
        received: describe(alpha),
      });
    }
    assertFloatTensor(alpha, 'options.alpha', FN);
    if (alpha.rank !== 1 || alpha.shape[0] !== batch) {
      throw new ShapeError({
        fn: FN,
        arg: 'options.alpha',
        expected: `have shape [${batch}] (one weight per example of 'real' ${formatShape(real.shape)})`,
        received: `shape ${formatShape(alpha.shape)}`,
      });
    }
  }
  return tf.tidy(FN, () => {
    const weights = alpha ?? tf.randomUniform([batch], 0, 1, 'float32', seed);
    // α broadcast over every non-batch axis: [batch, 1, ..., 1].
    const a = tf.reshape(weights, [batch, ...real.shape.slice(1).map(() => 1)]);
    // x̂ = α real + (1 - α) fake = fake + α (real - fake)
    const interpolated = tf.add(fake, tf.mul(a, tf.sub(real, fake)));
    const gradient = criticInputGradient(critic, interpolated, FN);
    const norms = tf.sqrt(tf.add(perExampleSquaredNorm(gradient), epsilon));
    return tf.mul(weight, tf.mean(tf.square(tf.sub(norms, target)))) as tf.Scalar;
  });
}
