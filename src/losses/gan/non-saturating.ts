/**
 * The non-saturating GAN loss (Goodfellow et al. 2014), on logits.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { defineGanLoss, sigmoidCrossEntropy } from './common.js';
import type { GanLoss, SigmoidDiscriminatorOptions } from './types.js';

/**
 * The non-saturating GAN loss pair (Goodfellow et al. 2014, section 3), the usual choice for
 * DCGAN-style training. Both losses are sigmoid cross entropies on logits, written with
 * `softplus` so that logits of any magnitude give finite values and gradients:
 *
 * ```text
 * discriminator(r, f) = mean(softplus(-r)) + mean(softplus(f))   // = -mean(log σ(r)) - mean(log(1 - σ(f)))
 * generator(f)        = mean(softplus(-f))                       // = -mean(log σ(f))
 * ```
 *
 * using `-log σ(x) = log(1 + e^(-x)) = softplus(-x)` and `-log(1 - σ(x)) = -log σ(-x) = softplus(x)`.
 * The generator maximizes `log D(G(z))` instead of minimizing `log(1 - D(G(z)))` (see
 * {@link minimax}), which keeps its gradient large while the discriminator rejects its samples.
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
 * const realLogits = discriminator.apply(realImages, { training: true }) as tf.Tensor;
 * const fakeLogits = discriminator.apply(fakeImages, { training: true }) as tf.Tensor;
 * const dLoss = losses.gan.nonSaturating.discriminator(realLogits, fakeLogits);
 * const gLoss = losses.gan.nonSaturating.generator(fakeLogits);
 * ```
 * @category Losses
 */
export const nonSaturating: GanLoss<Pick<SigmoidDiscriminatorOptions, 'labelSmoothing'>> = defineGanLoss({
  name: 'nonSaturating',
  labelSmoothing: true,
  // -[t log σ(r) + (1 - t) log(1 - σ(r))], t = 1 - labelSmoothing
  realTerm: (r, target) => sigmoidCrossEntropy(r, target),
  // -log(1 - σ(f)) = softplus(f)
  fakeTerm: (f) => sigmoidCrossEntropy(f, 0),
  // -log σ(f) = softplus(-f)
  generatorTerm: (f) => tf.softplus(tf.neg(f)),
});
