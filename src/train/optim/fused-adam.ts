/**
 * Adam whose update runs as one pass per variable, in one kernel call, where the backend has the kernel.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { applyFusedAdam, hasFusedAdamKernel } from '../../backends/fused-adam-update.js';
import { ArgumentError } from '../../errors.js';
import { assertKnownKeys, describe } from '../../validation.js';

/** Options of {@link fusedAdam}; the defaults are `tf.train.adam`'s. @category Training */
export interface FusedAdamOptions {
  /** Step size α. Default `0.001`. */
  learningRate?: number;
  /** Decay of the first-moment average β1. Default `0.9`. */
  beta1?: number;
  /** Decay of the second-moment average β2. Default `0.999`. */
  beta2?: number;
  /** ε added to √v̂. Default: the backend's epsilon (1e-7 for float32), as `tf.train.adam`. */
  epsilon?: number;
}

/**
 * `tf.train.adam` with the per-variable update as one pass where the active backend registers
 * genblocks' fused Adam kernels (on wasm: one SIMD pass instead of fourteen element-wise kernels,
 * each a full pass over the parameters, and one kernel call for all the variables). Elsewhere, and for non-float32 variables, it runs
 * `tf.train.adam`'s own operations. Either way the float32 operations and their order are
 * `tf.train.adam`'s, so the updates are the same; the state (moments, `accBeta1/2`,
 * iterations), `getWeights`/`setWeights` and serialization (class name `'Adam'`) are those of
 * `tf.AdamOptimizer`, which this class extends. On wasm the kernel also checks that every value
 * it writes is finite, so the trainers' rollback check of a step's new state does not read
 * these variables and moments again.
 *
 * @category Training
 */
export class FusedAdamOptimizer extends tf.AdamOptimizer {
  /**
   * Applies one Adam step to the named variables (`tf.Optimizer.applyGradients`), on the
   * gradients multiplied by `gradientScale` when given.
   *
   * With the fused kernel the product is part of each variable's one pass, so clipping by
   * global norm costs no pass of its own: give the factor of `train.globalNormScale` and the
   * result is, bit for bit, this step on `train.clipByGlobalNorm`'s clipped gradients (the
   * float32 product `g·s` first, then the same update). Elsewhere the gradients are multiplied
   * by it first (`tf.mul`, as `clipByGlobalNorm` does), then the step runs.
   *
   * @param variableGradients - the gradients, by variable name (or `{ name, tensor }` pairs).
   * @param gradientScale - optional float32 scalar every gradient is multiplied by (e.g. `train.globalNormScale`'s `scale`); the caller disposes it.
   * @throws {@link ArgumentError} when `gradientScale` is given and is not a float32 tensor of rank 0, before anything changes.
   * @example
   * ```ts
   * const { norm, scale } = train.globalNormScale(grads, 1);
   * optimizer.applyGradients(grads, scale); // = optimizer.applyGradients(train.clipByGlobalNorm(grads, 1).grads)
   * ```
   */
  override applyGradients(variableGradients: Parameters<tf.Optimizer['applyGradients']>[0], gradientScale?: tf.Scalar): void {
    assertGradientScale(gradientScale, 'FusedAdamOptimizer.applyGradients');
    if (!hasFusedAdamKernel()) {
      const given = variableGradients as Parameters<tf.AdamOptimizer['applyGradients']>[0];
      if (gradientScale === undefined) {
        super.applyGradients(given);
        return;
      }
      tf.tidy(() => super.applyGradients(scaleGradients(given, gradientScale)));
      return;
    }
    applyFusedAdam(
      this,
      variableGradients as Parameters<tf.AdamOptimizer['applyGradients']>[0],
      (variable) => this.decayFactor(variable),
      gradientScale,
    );
    this.incrementIterations();
  }

  /** The factor `variable` is multiplied by before the Adam step, in the same kernel: 1 (none) here; AdamW's `1 − α·λ`. @internal */
  protected decayFactor(_variable: tf.Variable): number {
    return 1;
  }
}

/** Throws unless `scale` is undefined or a float32 scalar tensor (rank 0). @internal */
export function assertGradientScale(scale: unknown, fn: string): void {
  if (scale === undefined || (scale instanceof tf.Tensor && scale.rank === 0 && scale.dtype === 'float32')) return;
  throw new ArgumentError({ fn, arg: 'gradientScale', expected: 'be a float32 scalar tensor', received: describe(scale) });
}

/** The gradients times `scale` (`tf.mul`, as `clipByGlobalNorm` writes them), in the structure given. */
function scaleGradients(
  variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0],
  scale: tf.Scalar,
): Parameters<tf.AdamOptimizer['applyGradients']>[0] {
  // A variable without a gradient (null) stays without one, in either form.
  if (Array.isArray(variableGradients))
    return variableGradients.map(({ name, tensor }) => ({ name, tensor: tensor == null ? tensor : tf.mul(tensor, scale) }));
  const named = variableGradients as tf.NamedTensorMap;
  return Object.fromEntries(Object.entries(named).map(([name, g]) => [name, g == null ? g : tf.mul(g, scale)]));
}

function assertRate(fn: string, arg: string, value: number, open01: boolean): void {
  const ok = typeof value === 'number' && Number.isFinite(value) && (open01 ? value >= 0 && value < 1 : value > 0);
  if (!ok)
    throw new ArgumentError({
      fn,
      arg,
      expected: open01 ? 'be a number in [0, 1)' : 'be a positive finite number',
      received: describe(value),
    });
}

/**
 * Adam (Kingma & Ba 2015) with `tf.train.adam`'s update, run as one pass per variable (one
 * kernel call for all of them) where the backend registers the kernels (genblocks' wasm kernels
 * do: about 7x fewer passes over the parameters). A drop-in replacement for `tf.train.adam(learningRate, beta1, beta2, epsilon)`:
 *
 *     m ← β1·m + (1−β1)·g,   v ← β2·v + (1−β2)·g²,
 *     w ← w − α · (m / (1−β1ᵗ)) / (√(v / (1−β2ᵗ)) + ε)
 *
 * @see https://arxiv.org/abs/1412.6980 (Kingma & Ba 2015, Adam)
 * @param options See {@link FusedAdamOptions}; the defaults are `tf.train.adam`'s.
 * @returns A {@link FusedAdamOptimizer} (a `tf.AdamOptimizer`): pass it wherever an optimizer is taken.
 * @throws {@link ArgumentError} for a non-positive learning rate, or β outside [0, 1).
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { backends, train } from 'genblocks';
 *
 * await backends.use('wasm');
 * const w = tf.variable(tf.tensor1d([1, -2, 3]));
 * const optimizer = train.fusedAdam({ learningRate: 0.1 });
 * optimizer.minimize(() => tf.sum(tf.square(w)), false, [w]); // w ≈ [0.9, -1.9, 2.9]
 * ```
 * @category Training
 */
export function fusedAdam(options: FusedAdamOptions = {}): FusedAdamOptimizer {
  const fn = 'train.fusedAdam';
  assertKnownKeys(options, ['learningRate', 'beta1', 'beta2', 'epsilon'], 'options', fn);
  const { learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon } = options;
  assertRate(fn, 'options.learningRate', learningRate, false);
  assertRate(fn, 'options.beta1', beta1, true);
  assertRate(fn, 'options.beta2', beta2, true);
  if (epsilon !== undefined) assertRate(fn, 'options.epsilon', epsilon, false);
  return new FusedAdamOptimizer(learningRate, beta1, beta2, epsilon);
}
