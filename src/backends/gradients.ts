/**
 * Gradients tfjs lacks for second-order differentiation.
 *
 * tfjs computes a gradient penalty (WGAN-GP, R1) by differentiating a gradient: the backward
 * pass of `leakyRelu`, `prelu`, `where`, `maximum`, `minimum`, `relu6`, `selu`, `clipByValue`,
 * `max` and `min` builds masks with comparison and logical ops (`greater`, `less`, `equal`,
 * `logicalAnd`, `logicalNot`, ...), and tfjs 4.22 registers no gradient for them, so the second
 * backward pass stops with "gradient function not found for Greater".
 *
 * Those ops return booleans: they are piecewise constant in their inputs, so their gradient is
 * zero almost everywhere. This module registers exactly that zero gradient, once, for each of
 * them that has none yet.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

/** Comparison and logical kernels with two inputs `a`, `b` and a boolean output. */
const BINARY_BOOLEAN_KERNELS = [
  'Greater',
  'GreaterEqual',
  'Less',
  'LessEqual',
  'Equal',
  'NotEqual',
  'LogicalAnd',
  'LogicalOr',
  'LogicalXor',
] as const;

/** Predicate and logical kernels with one input `x` and a boolean output. */
const UNARY_BOOLEAN_KERNELS = ['LogicalNot', 'IsNan', 'IsInf', 'IsFinite'] as const;

/**
 * The kernels whose zero gradient {@link registerSecondOrderGradients} registers when tfjs has
 * none.
 *
 * @category Backends
 */
export const ZERO_GRADIENT_KERNELS: readonly string[] = [...BINARY_BOOLEAN_KERNELS, ...UNARY_BOOLEAN_KERNELS];

/** A float32 zero tensor of `x`'s shape (backprop requires float gradients, even for bool inputs). */
function zerosOf(x: tf.Tensor): tf.Tensor {
  return tf.zeros(x.shape, 'float32');
}

function zeroGradient(kernelName: string, inputs: readonly string[]): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: [...inputs],
    gradFunc: (_dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
      Object.fromEntries(inputs.map((name, i) => [name, () => zerosOf(saved[i]!)])),
  };
}

/**
 * Registers a zero gradient for the comparison and logical ops that tfjs leaves without one
 * (`Greater`, `Less`, `LessEqual`, `Equal`, `NotEqual`, `LogicalAnd`, `LogicalOr`,
 * `LogicalXor`, `LogicalNot`, `IsNan`, `IsInf`, `IsFinite`, and `GreaterEqual` should a tfjs
 * version lack it). Their outputs are booleans, piecewise constant in the inputs, so zero is
 * their gradient almost everywhere; with it, gradients of gradients work through `leakyRelu`,
 * `prelu`, `where`, `maximum`, `minimum`, `relu6`, `selu`, `clipByValue`, `max` and `min`,
 * which gradient penalties (WGAN-GP, R1) need.
 *
 * Idempotent: a kernel that already has a gradient (registered by tfjs, by another library or
 * by an earlier call) is left alone. genblocks' gradient penalties call it before they
 * differentiate, and `import 'genblocks/register'` (or `genblocks/node`) calls it once; call it
 * yourself before differentiating through these ops twice in code of your own.
 *
 * Note: `tf.logSigmoid` cannot be differentiated twice in tfjs 4.22 for a reason unrelated to
 * these ops (its `customGrad` fails inside a nested gradient); genblocks' losses use `softplus`.
 *
 * @returns the kernel names this call registered (empty when all were present).
 * @see https://arxiv.org/abs/1704.00028 (Gulrajani et al. 2017, WGAN-GP: the penalty that needs second-order gradients)
 * @example
 * ```ts
 * registerSecondOrderGradients(); // ['Greater', 'Less', ...] the first time, [] afterwards
 * const x = tf.tensor1d([-1, 2]);
 * const d2 = tf.grad((x) => tf.sum(tf.grad((y) => tf.sum(tf.leakyRelu(tf.square(y), 0.2)))(x)))(x);
 * ```
 * @category Backends
 */
export function registerSecondOrderGradients(): string[] {
  const added: string[] = [];
  const register = (kernelName: string, inputs: readonly string[]) => {
    if (tf.getGradient(kernelName) != null) return;
    tf.registerGradient(zeroGradient(kernelName, inputs));
    added.push(kernelName);
  };
  for (const kernelName of BINARY_BOOLEAN_KERNELS) register(kernelName, ['a', 'b']);
  for (const kernelName of UNARY_BOOLEAN_KERNELS) register(kernelName, ['x']);
  return added;
}
