/**
 * The relativistic average GAN loss (RaSGAN, Jolicoeur-Martineau 2018), on logits.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { type Reduced, type Reduction } from '../reduction.js';
import { checkRelativisticArgs, combineTerms, readLabelSmoothing, sigmoidCrossEntropy } from './common.js';
import type { GanLossOptions, RelativisticGanLoss, SigmoidDiscriminatorOptions } from './types.js';

const DISCRIMINATOR = 'losses.gan.relativisticAverage.discriminator';
const GENERATOR = 'losses.gan.relativisticAverage.generator';

/**
 * The relativistic average standard GAN loss pair (RaSGAN, Jolicoeur-Martineau 2018,
 * section 4.2): the discriminator estimates how much more realistic real data is than the
 * average fake, and the other way round; the generator plays the same game with the roles
 * swapped, so it also gets gradient from the real logits. With `C` the logits and
 * `D̃(x_r) = σ(C(x_r) - mean C(x_f))`, `D̃(x_f) = σ(C(x_f) - mean C(x_r))`:
 *
 * ```text
 * discriminator(r, f) = mean(softplus(-(r - mean(f)))) + mean(softplus(f - mean(r)))
 *                     // = -mean(log D̃(x_r)) - mean(log(1 - D̃(x_f)))
 * generator(r, f)     = mean(softplus(-(f - mean(r)))) + mean(softplus(r - mean(f)))
 *                     // = -mean(log D̃(x_f)) - mean(log(1 - D̃(x_r)))
 * ```
 *
 * using `-log σ(x) = softplus(-x)` and `-log(1 - σ(x)) = softplus(x)`. The averages `mean(r)`
 * and `mean(f)` are taken over every element of the logits (each patch of a patch-shaped
 * discriminator counts as a sample). With `labelSmoothing: s` (one-sided, off by default) the
 * discriminator's first term uses the target `1 - s`.
 *
 * Logits: float32, `[batch]`, `[batch, 1]` or `[batch, h, w, 1]`; real and fake must have the
 * same shape, batch included (a mismatch is an error, never a broadcast). `reduction: 'none'`
 * returns the element-wise sum of the two terms, of the logits' shape.
 *
 * @see https://arxiv.org/abs/1807.00734 (Jolicoeur-Martineau 2018, The relativistic discriminator)
 * @example
 * ```ts
 * const dLoss = losses.gan.relativisticAverage.discriminator(realLogits, fakeLogits);
 * const gLoss = losses.gan.relativisticAverage.generator(realLogits, fakeLogits);
 * ```
 * @category Losses
 */
export const relativisticAverage: RelativisticGanLoss<Pick<SigmoidDiscriminatorOptions, 'labelSmoothing'>> = {
  name: 'relativisticAverage',
  relativistic: true,
  discriminator<R extends Reduction = 'mean'>(
    realLogits: tf.Tensor,
    fakeLogits: tf.Tensor,
    options?: SigmoidDiscriminatorOptions<R>,
  ): Reduced<R> {
    const reduction = checkRelativisticArgs(realLogits, fakeLogits, options, DISCRIMINATOR, ['labelSmoothing']);
    const smoothing = readLabelSmoothing(options, DISCRIMINATOR);
    return tf.tidy(DISCRIMINATOR, () => {
      const realVersusFake = tf.sub(realLogits, tf.mean(fakeLogits)); // C(x_r) - mean C(x_f)
      const fakeVersusReal = tf.sub(fakeLogits, tf.mean(realLogits)); // C(x_f) - mean C(x_r)
      return combineTerms(sigmoidCrossEntropy(realVersusFake, 1 - smoothing), sigmoidCrossEntropy(fakeVersusReal, 0), reduction);
    }) as Reduced<R>;
  },
  generator<R extends Reduction = 'mean'>(realLogits: tf.Tensor, fakeLogits: tf.Tensor, options?: GanLossOptions<R>): Reduced<R> {
    const reduction = checkRelativisticArgs(realLogits, fakeLogits, options, GENERATOR);
    return tf.tidy(GENERATOR, () => {
      const realVersusFake = tf.sub(realLogits, tf.mean(fakeLogits));
      const fakeVersusReal = tf.sub(fakeLogits, tf.mean(realLogits));
      // -log σ(fakeVersusReal) - log(1 - σ(realVersusFake))
      return combineTerms(sigmoidCrossEntropy(fakeVersusReal, 1), sigmoidCrossEntropy(realVersusFake, 0), reduction);
    }) as Reduced<R>;
  },
};
