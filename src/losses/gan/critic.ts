/**
 * The critic argument of the gradient penalties, and the input gradient they share.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { registerSecondOrderGradients } from '../../backends/gradients.js';
import { ArgumentError } from '../../errors.js';
import { describe } from '../../validation.js';

/**
 * Anything with the `apply` method of a `tf.LayersModel` (a model or a layer); it is called as
 * `critic.apply(x, { training: true })` and must return one logits tensor.
 *
 * @category Losses
 */
export interface CriticModel {
  /** Runs the model on `x`; genblocks passes `{ training: true }`. */
  apply(inputs: tf.Tensor, kwargs?: { training?: boolean }): unknown;
}

/**
 * The critic (discriminator) whose input gradient a penalty constrains: a `tf.LayersModel`
 * (called with `{ training: true }`) or a function `(x) => logits`. Its logits may have any
 * shape; the penalties differentiate their sum.
 *
 * @category Losses
 */
export type Critic = CriticModel | ((x: tf.Tensor) => tf.Tensor);

/** Checks the `critic` argument. */
export function checkCritic(critic: unknown, fn: string): asserts critic is Critic {
  const ok =
    typeof critic === 'function' ||
    (critic !== null && typeof critic === 'object' && typeof (critic as { apply?: unknown }).apply === 'function');
  if (!ok) {
    throw new ArgumentError({
      fn,
      arg: 'critic',
      expected: 'be a tf.LayersModel or a function (x) => logits',
      received: describe(critic),
    });
  }
}

/** Calls the critic on `x` and checks that it returned one tensor. */
function callCritic(critic: Critic, x: tf.Tensor, fn: string): tf.Tensor {
  const logits = typeof critic === 'function' ? critic(x) : critic.apply(x, { training: true });
  if (!(logits instanceof tf.Tensor)) {
    throw new ArgumentError({
      fn,
      arg: 'critic',
      expected: 'return one logits tensor',
      received: Array.isArray(logits) ? `an array of ${logits.length} outputs` : describe(logits),
      hint: 'Pass a model with a single output, or a function that selects the logits',
    });
  }
  return logits;
}

/**
 * `∇ₓ Σ critic(x)`: the gradient of the critic's summed logits with respect to its input, of
 * `x`'s shape. Each example's logits depend only on that example (for a critic without
 * batch-coupling layers), so row `i` is the gradient of example `i`'s logits. The gradient is
 * computed with `tf.grad`, whose operations are recorded on any enclosing gradient tape, so the
 * result can be differentiated again with respect to the critic's weights.
 *
 * Registers the zero gradients of comparison ops that this second differentiation needs first
 * (idempotent), so the penalties work in a bundle that imports `losses` alone, without
 * `register.ts`.
 */
export function criticInputGradient(critic: Critic, x: tf.Tensor, fn: string): tf.Tensor {
  registerSecondOrderGradients();
  return tf.grad((input: tf.Tensor) => tf.sum(callCritic(critic, input, fn)))(x);
}

/** `Σ over every non-batch axis of x²`: per-example squared L2 norms, shape `[batch]`. */
export function perExampleSquaredNorm(x: tf.Tensor): tf.Tensor1D {
  const squares = tf.square(x);
  if (x.rank === 1) return squares as tf.Tensor1D;
  const axes = Array.from({ length: x.rank - 1 }, (_, i) => i + 1);
  return tf.sum(squares, axes) as tf.Tensor1D;
}
