/**
 * Helpers shared by the VAE losses.
 *
 * @module
 * @internal
 */
import * as tf from '@tensorflow/tfjs-core';

import type { Reduction } from '../reduction.js';

/** `Σ over every non-batch axis`: per-example sums, shape `[batch]`. */
export function sumPerExample(x: tf.Tensor): tf.Tensor1D {
  if (x.rank === 1) return x as tf.Tensor1D;
  const axes = Array.from({ length: x.rank - 1 }, (_, i) => i + 1);
  return tf.sum(x, axes) as tf.Tensor1D;
}

/** Reduces per-example values `[batch]` over the batch: mean, sum, or the values themselves. */
export function reduceBatch(perExample: tf.Tensor1D, reduction: Reduction): tf.Tensor {
  if (reduction === 'mean') return tf.mean(perExample);
  if (reduction === 'sum') return tf.sum(perExample);
  return perExample;
}
