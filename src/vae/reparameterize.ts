/**
 * The reparameterization trick of the variational autoencoder.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { assertFloatTensor, assertKnownKeys, assertNonNegativeInt, assertSameShape } from '../validation.js';

/** Options of {@link reparameterize}. @category VAE */
export interface ReparameterizeOptions {
  /** Seed of the standard normal noise (same seed, same noise). Default: unseeded. */
  seed?: number;
  /**
   * The noise itself, same shape as `mean` (pins the sample in tests; pass zeros to get the
   * mean). Default: drawn from N(0, I).
   */
  epsilon?: tf.Tensor;
}

const FN = 'vae.reparameterize';

/**
 * Draws `z ~ N(mean, exp(logVar))` differentiably:
 *
 *   z = mean + exp(0.5 · logVar) ⊙ ε,   ε ~ N(0, I)
 *
 * so `∂z/∂mean = 1` and `∂z/∂logVar = 0.5 · exp(0.5 · logVar) ⊙ ε`. Pure: the noise comes from
 * `options.epsilon` or a fresh (optionally seeded) normal draw.
 *
 * @see https://arxiv.org/abs/1312.6114 (Kingma & Welling, Auto-Encoding Variational Bayes, §2.4)
 * @param mean Posterior means, float32 `[batch, latentDim]` (any shape).
 * @param logVar Posterior log-variances, same shape as `mean`.
 * @param options `seed` for the noise, or the noise `epsilon` itself.
 * @returns The sample `z`, same shape as `mean`.
 * @example
 * ```ts
 * const z = vae.reparameterize(tf.zeros([8, 2]), tf.zeros([8, 2]), { seed: 1 });
 * ```
 * @category VAE
 */
export function reparameterize(mean: tf.Tensor, logVar: tf.Tensor, options: ReparameterizeOptions = {}): tf.Tensor {
  assertFloatTensor(mean, 'mean', FN);
  assertFloatTensor(logVar, 'logVar', FN);
  assertSameShape(mean, logVar, 'mean', 'logVar', FN);
  assertKnownKeys(options, ['seed', 'epsilon'], 'options', FN);
  const { seed, epsilon } = options;
  if (seed !== undefined) assertNonNegativeInt(seed, 'options.seed', FN);
  if (epsilon !== undefined) {
    assertFloatTensor(epsilon, 'options.epsilon', FN);
    assertSameShape(mean, epsilon, 'mean', 'options.epsilon', FN);
  }
  return tf.tidy(() => {
    const eps = epsilon ?? tf.randomNormal(mean.shape, 0, 1, 'float32', seed);
    const std = tf.exp(tf.mul(logVar, 0.5));
    return tf.add(mean, tf.mul(std, eps));
  });
}
