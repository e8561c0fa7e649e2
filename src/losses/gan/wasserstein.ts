/**
 * The Wasserstein GAN loss (Arjovsky et al. 2017).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { defineGanLoss } from './common.js';
import type { GanLoss } from './types.js';

/**
 * The Wasserstein GAN loss pair (WGAN, Arjovsky et al. 2017, Algorithm 1): the critic
 * maximizes `mean(r) - mean(f)`, an estimate of the Wasserstein-1 distance when the critic is
 * 1-Lipschitz, and the generator maximizes `mean(f)`. Written as quantities to minimize:
 *
 * ```text
 * discriminator(r, f) = mean(f) - mean(r)
 * generator(f)        = -mean(f)
 * ```
 *
 * The loss does not constrain the critic: pair it with {@link gradientPenalty} (WGAN-GP,
 * Gulrajani et al. 2017), weight clipping, or spectral normalization.
 *
 * Critic outputs: float32, `[batch]`, `[batch, 1]` or `[batch, h, w, 1]`; real and fake agree
 * on every axis but the batch. Each term is averaged over its own elements
 * (`reduction: 'sum'` sums them; `'none'` returns `f - r` element-wise, equal batches).
 *
 * @see https://arxiv.org/abs/1701.07875 (Arjovsky et al. 2017, Wasserstein GAN)
 * @see https://arxiv.org/abs/1704.00028 (Gulrajani et al. 2017, Improved Training of Wasserstein GANs)
 * @example
 * ```ts
 * const dLoss = tf.add(
 *   losses.gan.wasserstein.discriminator(realLogits, fakeLogits),
 *   losses.gan.gradientPenalty(critic, realImages, fakeImages),
 * );
 * const gLoss = losses.gan.wasserstein.generator(fakeLogits);
 * ```
 * @category Losses
 */
export const wasserstein: GanLoss = defineGanLoss({
  name: 'wasserstein',
  labelSmoothing: false,
  realTerm: (r) => tf.neg(r),
  fakeTerm: (f) => f,
  generatorTerm: (f) => tf.neg(f),
});
