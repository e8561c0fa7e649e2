/**
 * Validation and reduction helpers shared by the GAN losses.
 *
 * @module
 * @internal
 */
import * as tf from '@tensorflow/tfjs-core';

import { ShapeError } from '../../errors.js';
import { assertFloatTensor, assertNumber, assertSameShape, assertSameShapeExceptBatch, formatShape } from '../../validation.js';
import { assertNonEmptyBatch, readReduction, reduce, type Reduced, type Reduction } from '../reduction.js';
import type { GanLoss, GanLossOptions } from './types.js';

/** Ranks a logits tensor may have: `[batch]`, `[batch, k]`, `[batch, h, w, k]`. */
export const LOGIT_RANKS = [1, 2, 4] as const;

/** Checks a logits argument: a live float32 tensor of rank 1, 2 or 4. */
export function checkLogits(logits: unknown, arg: string, fn: string): asserts logits is tf.Tensor {
  assertFloatTensor(logits, arg, fn, LOGIT_RANKS);
  assertNonEmptyBatch(logits, arg, fn);
}

/**
 * Checks the arguments of a discriminator loss and returns the reduction. Real and fake logits
 * must agree on every axis but the batch; with `reduction: 'none'` (an element-wise sum of the
 * two terms) the batches must be equal as well.
 */
export function checkDiscriminatorArgs(
  realLogits: unknown,
  fakeLogits: unknown,
  options: unknown,
  fn: string,
  otherKeys: readonly string[] = [],
): Reduction {
  checkLogits(realLogits, 'realLogits', fn);
  checkLogits(fakeLogits, 'fakeLogits', fn);
  assertSameShapeExceptBatch(realLogits, fakeLogits, 'realLogits', 'fakeLogits', fn);
  const reduction = readReduction(options, fn, otherKeys);
  if (reduction === 'none' && realLogits.shape[0] !== fakeLogits.shape[0]) {
    throw new ShapeError({
      fn,
      arg: 'fakeLogits',
      expected: `have the same batch size as 'realLogits' ${formatShape(realLogits.shape)} when reduction is 'none'`,
      received: `shape ${formatShape(fakeLogits.shape)}`,
      hint: "Use reduction 'mean' or 'sum' for batches of different sizes",
    });
  }
  return reduction;
}

/** Checks the arguments of a relativistic loss (same shape, batch included) and returns the reduction. */
export function checkRelativisticArgs(
  realLogits: unknown,
  fakeLogits: unknown,
  options: unknown,
  fn: string,
  otherKeys: readonly string[] = [],
): Reduction {
  checkLogits(realLogits, 'realLogits', fn);
  checkLogits(fakeLogits, 'fakeLogits', fn);
  assertSameShape(realLogits, fakeLogits, 'realLogits', 'fakeLogits', fn);
  return readReduction(options, fn, otherKeys);
}

/** Checks the arguments of a generator loss and returns the reduction. */
export function checkGeneratorArgs(fakeLogits: unknown, options: unknown, fn: string): Reduction {
  checkLogits(fakeLogits, 'fakeLogits', fn);
  return readReduction(options, fn);
}

/** Reads `options.labelSmoothing` (default 0, in `[0, 1)`). Call after the options were validated. */
export function readLabelSmoothing(options: { labelSmoothing?: unknown } | undefined, fn: string): number {
  const smoothing = options?.labelSmoothing ?? 0;
  assertNumber(smoothing, 'options.labelSmoothing', fn, { min: 0, max: 1, maxExclusive: true });
  return smoothing;
}

/**
 * Combines the per-element real and fake terms of a discriminator loss:
 * `reduce(realTerms) + reduce(fakeTerms)`, or their element-wise sum for `'none'`.
 */
export function combineTerms(realTerms: tf.Tensor, fakeTerms: tf.Tensor, reduction: Reduction): tf.Tensor {
  return reduction === 'none' ? tf.add(realTerms, fakeTerms) : tf.add(reduce(realTerms, reduction), reduce(fakeTerms, reduction));
}

/**
 * Sigmoid cross entropy of logits `x` with the constant target `t`, element-wise, in the stable
 * form (PyTorch `F.binary_cross_entropy_with_logits`):
 *
 *   -t log σ(x) - (1 - t) log(1 - σ(x)) = t softplus(-x) + (1 - t) softplus(x)
 *
 * since `-log σ(x) = softplus(-x)` and `-log(1 - σ(x)) = -log σ(-x) = softplus(x)`.
 */
export function sigmoidCrossEntropy(x: tf.Tensor, target: number): tf.Tensor {
  if (target === 1) return tf.softplus(tf.neg(x));
  if (target === 0) return tf.softplus(x);
  return tf.add(tf.mul(target, tf.softplus(tf.neg(x))), tf.mul(1 - target, tf.softplus(x)));
}

/** The element-wise terms that define a (non-relativistic) GAN loss pair. */
export interface GanLossTerms {
  /** Name, as in `losses.gan.<name>`. */
  name: string;
  /** Whether the discriminator accepts `labelSmoothing` (the sigmoid losses). */
  labelSmoothing: boolean;
  /** Per-element discriminator term of the real logits; `target` is `1 - labelSmoothing`. */
  realTerm(realLogits: tf.Tensor, target: number): tf.Tensor;
  /** Per-element discriminator term of the fake logits. */
  fakeTerm(fakeLogits: tf.Tensor): tf.Tensor;
  /** Per-element generator term of the fake logits. */
  generatorTerm(fakeLogits: tf.Tensor): tf.Tensor;
}

/**
 * Builds a {@link GanLoss} from its element-wise terms:
 * `discriminator = reduce(realTerm(r)) + reduce(fakeTerm(f))`, `generator = reduce(generatorTerm(f))`,
 * with validation, the reduction and `tf.tidy` shared by every loss.
 */
export function defineGanLoss<O extends object>(terms: GanLossTerms): GanLoss<O> {
  const discriminatorFn = `losses.gan.${terms.name}.discriminator`;
  const generatorFn = `losses.gan.${terms.name}.generator`;
  return {
    name: terms.name,
    relativistic: false,
    discriminator<R extends Reduction = 'mean'>(realLogits: tf.Tensor, fakeLogits: tf.Tensor, options?: GanLossOptions<R> & O): Reduced<R> {
      const reduction = checkDiscriminatorArgs(
        realLogits,
        fakeLogits,
        options,
        discriminatorFn,
        terms.labelSmoothing ? ['labelSmoothing'] : [],
      );
      const smoothing = terms.labelSmoothing ? readLabelSmoothing(options as { labelSmoothing?: unknown }, discriminatorFn) : 0;
      return tf.tidy(discriminatorFn, () =>
        combineTerms(terms.realTerm(realLogits, 1 - smoothing), terms.fakeTerm(fakeLogits), reduction),
      ) as Reduced<R>;
    },
    generator<R extends Reduction = 'mean'>(fakeLogits: tf.Tensor, options?: GanLossOptions<R>): Reduced<R> {
      const reduction = checkGeneratorArgs(fakeLogits, options, generatorFn);
      return tf.tidy(generatorFn, () => reduce(terms.generatorTerm(fakeLogits), reduction)) as Reduced<R>;
    },
  };
}
