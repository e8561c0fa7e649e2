/**
 * Classifier-free guidance.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { assertFloatTensor, assertNumber, assertSameShape } from '../validation.js';

const FN = 'diffusion.guide';

/**
 * Classifier-free guidance: extrapolates the conditional prediction away from the
 * unconditional one, in the form of Ho & Salimans 2022, eq. 6:
 *
 * ```text
 * guided = (1 + w) · cond - w · uncond  =  cond + w · (cond - uncond)
 * ```
 *
 * w = 0 is the plain conditional prediction, w = -1 the unconditional one. (diffusers'
 * `guidance_scale` s is w + 1.) The combination's weights sum to 1, so it applies equally to
 * ε, v or x₀ predictions.
 *
 * @param cond - the prediction with the label, `[batch, ...]`.
 * @param uncond - the prediction with the null label, same shape.
 * @param scale - w; Ho & Salimans find w around 0.3 to 4 useful. Any finite number.
 * @returns the guided prediction, same shape as `cond`.
 * @see https://arxiv.org/abs/2207.12598 (Ho & Salimans 2022, eq. 6)
 * @example
 * ```ts
 * const guided = diffusion.guide(tf.ones([1, 2]), tf.zeros([1, 2]), 2); // [[3, 3]]
 * ```
 * @category Diffusion
 */
export function guide(cond: tf.Tensor, uncond: tf.Tensor, scale: number): tf.Tensor {
  assertFloatTensor(cond, 'cond', FN);
  assertFloatTensor(uncond, 'uncond', FN);
  assertSameShape(cond, uncond, 'cond', 'uncond', FN);
  assertNumber(scale, 'scale', FN);
  return tf.tidy(FN, () => tf.add(cond, tf.mul(scale, tf.sub(cond, uncond))));
}
