/**
 * The reduction modes shared by every loss, and the helpers that validate and apply them.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { ShapeError } from '../errors.js';
import { assertKnownKeys, assertOneOf, formatShape } from '../validation.js';

/**
 * How a loss reduces its per-element values:
 *
 * - `'mean'` (default): the mean over every element (for a GAN loss, over every logit; for a
 *   VAE loss, over the batch of per-example sums);
 * - `'sum'`: the sum over the same elements;
 * - `'none'`: no reduction; the per-element tensor (each loss documents its shape).
 *
 * @category Losses
 */
export type Reduction = 'mean' | 'sum' | 'none';

/** The reductions that give a scalar. @category Losses */
export type ScalarReduction = Exclude<Reduction, 'none'>;

/**
 * The tensor type a loss returns under the reduction `R`: a scalar for `'mean'` and `'sum'`
 * (and when no reduction is given), the per-element tensor for `'none'`.
 *
 * @category Losses
 */
export type Reduced<R extends Reduction> = R extends 'none' ? tf.Tensor : tf.Scalar;

/** Options every loss accepts. @category Losses */
export interface ReductionOptions<R extends Reduction = Reduction> {
  /** How per-element values are reduced. Default `'mean'`. */
  reduction?: R;
}

/** The allowed values of {@link Reduction}, for validation. */
export const REDUCTIONS: readonly Reduction[] = ['mean', 'sum', 'none'];

/**
 * Validates an options bag (no keys but `reduction` and `otherKeys`) and its `reduction` field
 * and returns the reduction (default `'mean'`).
 *
 * @internal
 */
export function readReduction(options: unknown, fn: string, otherKeys: readonly string[] = []): Reduction {
  assertKnownKeys(options, ['reduction', ...otherKeys], 'options', fn);
  const reduction = (options as ReductionOptions | undefined)?.reduction ?? 'mean';
  assertOneOf(reduction, REDUCTIONS, 'options.reduction', fn);
  return reduction;
}

/**
 * Asserts that a loss input holds at least one example: the mean over an empty batch is NaN
 * and its sum a meaningless 0, so an empty batch is refused instead.
 *
 * @internal
 */
export function assertNonEmptyBatch(t: tf.Tensor, arg: string, fn: string): void {
  if (t.size === 0) {
    throw new ShapeError({
      fn,
      arg,
      expected: 'hold at least one example (a loss of an empty batch is undefined)',
      received: `shape ${formatShape(t.shape)}`,
    });
  }
}

/**
 * Reduces `values` over every element: `mean(values)`, `sum(values)`, or `values` itself.
 *
 * @internal
 */
export function reduce(values: tf.Tensor, reduction: Reduction): tf.Tensor {
  switch (reduction) {
    case 'mean':
      return tf.mean(values);
    case 'sum':
      return tf.sum(values);
    case 'none':
      return values;
  }
}
