/**
 * Types shared by the GAN losses.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';

import type { Reduced, Reduction, ReductionOptions } from '../reduction.js';

/**
 * Options of every GAN loss function.
 *
 * @category Losses
 */
export type GanLossOptions<R extends Reduction = Reduction> = ReductionOptions<R>;

/**
 * Options of the discriminator losses built on the sigmoid cross entropy
 * (`losses.gan.minimax`, `losses.gan.nonSaturating`, `losses.gan.relativisticAverage`).
 *
 * @category Losses
 */
export interface SigmoidDiscriminatorOptions<R extends Reduction = Reduction> extends ReductionOptions<R> {
  /**
   * One-sided label smoothing (Salimans et al. 2016, https://arxiv.org/abs/1606.03498): the
   * target of real logits becomes `1 - labelSmoothing`, fake targets stay 0. In `[0, 1)`.
   * Default 0 (off).
   */
  labelSmoothing?: number;
}

/**
 * A GAN loss pair on logits, as TF-GAN writes them: a discriminator loss of the real and fake
 * logits and a generator loss of the fake logits. Every member of `losses.gan` except
 * `losses.gan.relativisticAverage` has this type; a trainer tells the two kinds apart by the
 * `relativistic` field.
 *
 * Logits are float32 tensors of rank 1, 2 or 4 whose first axis is the batch: `[batch]`,
 * `[batch, 1]`, or patch-shaped `[batch, h, w, 1]` (PatchGAN). Real and fake logits must agree
 * on every axis but the batch axis. Losses are averaged over every element by default.
 *
 * @typeParam O - extra options of the discriminator loss (label smoothing for the sigmoid losses).
 * @example
 * ```ts
 * const loss: losses.GanLoss = losses.gan.hinge;
 * const dLoss = loss.discriminator(realLogits, fakeLogits); // tf.Scalar
 * const gLoss = loss.generator(fakeLogits);                 // tf.Scalar
 * ```
 * @category Losses
 */
export interface GanLoss<O extends object = object> {
  /** Name of the loss, as in `losses.gan.<name>`. */
  readonly name: string;
  /** `false`: the generator loss needs only the fake logits. */
  readonly relativistic: false;
  /**
   * Discriminator (critic) loss, minimized by the discriminator.
   *
   * @param realLogits - logits of real data, `[batchReal, ...]`.
   * @param fakeLogits - logits of generated data, `[batchFake, ...]` (same non-batch shape).
   * @param options - `reduction` (default `'mean'`) and the loss's own options. With
   *   `reduction: 'none'` the batches must be equal and the result has the logits' shape:
   *   element `i` is the real term of `realLogits[i]` plus the fake term of `fakeLogits[i]`,
   *   so its mean equals the `'mean'` reduction and its sum the `'sum'` reduction.
   * @returns the loss, a scalar (per-element tensor for `reduction: 'none'`).
   */
  discriminator<R extends Reduction = 'mean'>(realLogits: tf.Tensor, fakeLogits: tf.Tensor, options?: GanLossOptions<R> & O): Reduced<R>;
  /**
   * Generator loss, minimized by the generator.
   *
   * @param fakeLogits - the discriminator's logits of generated data, `[batch, ...]`.
   * @param options - `reduction` (default `'mean'`); `'none'` returns a tensor of the logits' shape.
   * @returns the loss, a scalar (per-element tensor for `reduction: 'none'`).
   */
  generator<R extends Reduction = 'mean'>(fakeLogits: tf.Tensor, options?: GanLossOptions<R>): Reduced<R>;
}

/**
 * A relativistic GAN loss pair (Jolicoeur-Martineau 2018): both losses compare real and fake
 * logits, so the generator loss also takes the real logits. Real and fake logits must have the
 * same shape, batch included.
 *
 * @see https://arxiv.org/abs/1807.00734
 * @example
 * ```ts
 * const loss: losses.RelativisticGanLoss = losses.gan.relativisticAverage;
 * const gLoss = loss.generator(realLogits, fakeLogits);
 * ```
 * @category Losses
 */
export interface RelativisticGanLoss<O extends object = object> {
  /** Name of the loss, as in `losses.gan.<name>`. */
  readonly name: string;
  /** `true`: the generator loss takes `(realLogits, fakeLogits)`. */
  readonly relativistic: true;
  /**
   * Discriminator loss.
   *
   * @param realLogits - logits of real data, `[batch, ...]`.
   * @param fakeLogits - logits of generated data, same shape as `realLogits`.
   * @param options - `reduction` (default `'mean'`; `'none'` gives the logits' shape) and the loss's own options.
   * @returns the loss, a scalar (per-element tensor for `reduction: 'none'`).
   */
  discriminator<R extends Reduction = 'mean'>(realLogits: tf.Tensor, fakeLogits: tf.Tensor, options?: GanLossOptions<R> & O): Reduced<R>;
  /**
   * Generator loss.
   *
   * @param realLogits - logits of real data, `[batch, ...]`.
   * @param fakeLogits - logits of generated data, same shape as `realLogits`.
   * @param options - `reduction` (default `'mean'`; `'none'` gives the logits' shape).
   * @returns the loss, a scalar (per-element tensor for `reduction: 'none'`).
   */
  generator<R extends Reduction = 'mean'>(realLogits: tf.Tensor, fakeLogits: tf.Tensor, options?: GanLossOptions<R>): Reduced<R>;
}

/** Any loss of `losses.gan`. @category Losses */
export type AnyGanLoss = GanLoss<object> | RelativisticGanLoss<object>;
