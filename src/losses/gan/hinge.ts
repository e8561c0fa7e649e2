/**
 * The hinge GAN loss (Lim & Ye 2017; Miyato et al. 2018).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { defineGanLoss } from './common.js';
import type { GanLoss } from './types.js';

/**
 * The hinge GAN loss pair (Geometric GAN, Lim & Ye 2017; used with spectral normalization by
 * Miyato et al. 2018, equations 16-17, and by SAGAN and BigGAN): a margin loss for the
 * discriminator and the Wasserstein generator loss:
 *
 * ```text
 * discriminator(r, f) = mean(relu(1 - r)) + mean(relu(1 + f))
 * generator(f)        = -mean(f)
 * ```
 *
 * Logits: float32, `[batch]`, `[batch, 1]` or `[batch, h, w, 1]`; real and fake agree on every
 * axis but the batch. Each term is averaged over its own elements (`reduction: 'sum'` sums
 * them; `'none'` returns the element-wise sum of the two terms, logits-shaped, equal batches).
 *
 * @see https://arxiv.org/abs/1705.02894 (Lim & Ye 2017, Geometric GAN)
 * @see https://arxiv.org/abs/1802.05957 (Miyato et al. 2018, Spectral Normalization for GANs)
 * @example
 * ```ts
 * const dLoss = losses.gan.hinge.discriminator(realLogits, fakeLogits);
 * const gLoss = losses.gan.hinge.generator(fakeLogits);
 * ```
 * @category Losses
 */
export const hinge: GanLoss = defineGanLoss({
  name: 'hinge',
  labelSmoothing: false,
  // max(0, 1 - r)
  realTerm: (r) => tf.relu(tf.sub(1, r)),
  // max(0, 1 + f)
  fakeTerm: (f) => tf.relu(tf.add(1, f)),
  generatorTerm: (f) => tf.neg(f),
});
