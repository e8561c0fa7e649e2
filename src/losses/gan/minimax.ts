/**
 * The original minimax GAN loss (Goodfellow et al. 2014), on logits.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { defineGanLoss, sigmoidCrossEntropy } from './common.js';
import type { GanLoss, SigmoidDiscriminatorOptions } from './types.js';

/**
 * The minimax GAN loss pair (Goodfellow et al. 2014, equation 1): the discriminator minimizes
 * the sigmoid cross entropy, and the generator minimizes `log(1 - D(G(z)))`, the game's value
 * function itself. The generator's gradient vanishes when the discriminator confidently rejects
 * its samples (it "saturates"); {@link nonSaturating} is the usual remedy. On logits:
 *
 * ```text
 * discriminator(r, f) = mean(softplus(-r)) + mean(softplus(f))   // = -mean(log σ(r)) - mean(log(1 - σ(f)))
 * generator(f)        = -mean(softplus(f))                       // = mean(log(1 - σ(f)))
 * ```
 *
 * using `log(1 - σ(f)) = log σ(-f) = -softplus(f)`, finite for logits of any magnitude.
 *
 * With `labelSmoothing: s` (one-sided, off by default) the real term becomes the cross entropy
 * with target `1 - s`: `(1 - s) softplus(-r) + s softplus(r)`.
 *
 * Logits: float32, `[batch]`, `[batch, 1]` or `[batch, h, w, 1]`; real and fake agree on every
 * axis but the batch. Each term is averaged over its own elements (`reduction: 'sum'` sums
 * them; `'none'` returns the element-wise sum of the two terms, logits-shaped, equal batches).
 *
 * @see https://arxiv.org/abs/1406.2661 (Goodfellow et al. 2014, Generative Adversarial Nets)
 * @example
 * ```ts
 * const dLoss = losses.gan.minimax.discriminator(realLogits, fakeLogits);
 * const gLoss = losses.gan.minimax.generator(fakeLogits); // ≤ 0, decreasing as D is fooled
 * ```
 * @category Losses
 */
export const minimax: GanLoss<Pick<SigmoidDiscriminatorOptions, 'labelSmoothing'>> = defineGanLoss({
  name: 'minimax',
  labelSmoothing: true,
  // -[t log σ(r) + (1 - t) log(1 - σ(r))], t = 1 - labelSmoothing
  realTerm: (r, target) => sigmoidCrossEntropy(r, target),
  // -log(1 - σ(f)) = softplus(f)
  fakeTerm: (f) => sigmoidCrossEntropy(f, 0),
  // log(1 - σ(f)) = log σ(-f) = -softplus(f)
  generatorTerm: (f) => tf.neg(tf.softplus(f)),
});
