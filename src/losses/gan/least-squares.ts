/**
 * The least-squares GAN loss (Mao et al. 2017).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { defineGanLoss } from './common.js';
import type { GanLoss } from './types.js';

/**
 * The least-squares GAN loss pair (LSGAN, Mao et al. 2017, equation 2 with the 0-1 coding
 * `a = 0`, `b = c = 1`): the discriminator regresses real outputs to 1 and fake outputs to 0,
 * and the generator pulls fake outputs to 1. The outputs are the discriminator's raw (linear)
 * outputs, never passed through a sigmoid:
 *
 * ```text
 * discriminator(r, f) = 0.5 mean((r - 1)²) + 0.5 mean(f²)
 * generator(f)        = 0.5 mean((f - 1)²)
 * ```
 *
 * Outputs: float32, `[batch]`, `[batch, 1]` or `[batch, h, w, 1]`; real and fake agree on every
 * axis but the batch. Each term is averaged over its own elements (`reduction: 'sum'` sums
 * them; `'none'` returns the element-wise sum of the two terms, logits-shaped, equal batches).
 *
 * @see https://arxiv.org/abs/1611.04076 (Mao et al. 2017, Least Squares Generative Adversarial Networks)
 * @example
 * ```ts
 * const dLoss = losses.gan.leastSquares.discriminator(realLogits, fakeLogits);
 * const gLoss = losses.gan.leastSquares.generator(fakeLogits);
 * ```
 * @category Losses
 */
export const leastSquares: GanLoss = defineGanLoss({
  name: 'leastSquares',
  labelSmoothing: false,
  // 0.5 (r - b)², b = 1
  realTerm: (r) => tf.mul(0.5, tf.square(tf.sub(r, 1))),
  // 0.5 (f - a)², a = 0
  fakeTerm: (f) => tf.mul(0.5, tf.square(f)),
  // 0.5 (f - c)², c = 1
  generatorTerm: (f) => tf.mul(0.5, tf.square(tf.sub(f, 1))),
});
