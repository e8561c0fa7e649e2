/**
 * AdamW: Adam with decoupled weight decay, on genblocks' fused Adam.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { ArgumentError } from '../../errors.js';
import { assertKnownKeys, assertNumber, describe } from '../../validation.js';
import { hasFusedAdamKernel } from '../../backends/fused-adam-update.js';
import { assertGradientScale, FusedAdamOptimizer, type FusedAdamOptions } from './fused-adam.js';

/** Options of {@link adamW}. @category Training */
export interface AdamWOptions extends FusedAdamOptions {
  /** Decoupled weight-decay coefficient λ. Default 0.1 (nanoGPT's). */
  weightDecay?: number;
  /**
   * Which variables decay. Default: those of rank ≥ 2 whose name does not contain
   * `embedding` (weight matrices and kernels; not biases, norm scales or embedding tables),
   * minGPT's grouping.
   */
  shouldDecay?: (variable: tf.Variable) => boolean;
}

/** The default decay group: matrices and kernels, not biases, norms or embeddings. @internal */
export function decaysByDefault(variable: tf.Variable): boolean {
  return variable.rank >= 2 && !/embedding/i.test(variable.name);
}

/**
 * A {@link FusedAdamOptimizer} that first shrinks each decayed variable by `1 − α·λ` (PyTorch's
 * `torch.optim.AdamW` order), then applies the Adam step. `learningRate` may be changed between
 * steps (schedules): the decay uses the current one.
 *
 * @category Training
 */
export class AdamWOptimizer extends FusedAdamOptimizer {
  /** Decoupled weight-decay coefficient λ. */
  readonly weightDecay: number;
  /** Which variables decay. */
  readonly shouldDecay: (variable: tf.Variable) => boolean;

  constructor(
    learningRate: number,
    beta1: number,
    beta2: number,
    epsilon: number | undefined,
    weightDecay: number,
    shouldDecay: (variable: tf.Variable) => boolean,
  ) {
    super(learningRate, beta1, beta2, epsilon);
    this.weightDecay = weightDecay;
    this.shouldDecay = shouldDecay;
  }

  /**
   * Decays the chosen variables, then applies one Adam step (`tf.Optimizer.applyGradients`) on
   * the gradients times `gradientScale` when given (see {@link FusedAdamOptimizer.applyGradients}).
   *
   * @param variableGradients - the gradients, by variable name (or `{ name, tensor }` pairs).
   * @param gradientScale - optional float32 scalar every gradient is multiplied by (clipping); the caller disposes it.
   * @throws {@link ArgumentError} when `gradientScale` is given and is not a float32 tensor of rank 0, before anything changes.
   * @example
   * ```ts
   * const optimizer = train.adamW({ learningRate: 1e-3, weightDecay: 0.1 });
   * const { grads } = tf.variableGrads(() => loss());
   * const { norm, scale } = train.globalNormScale(grads, 1); // clip to global norm 1
   * optimizer.applyGradients(grads, scale); // decay, clipping and Adam in one pass per variable
   * tf.dispose([norm, scale, ...Object.values(grads)]);
   * ```
   */
  override applyGradients(variableGradients: Parameters<tf.Optimizer['applyGradients']>[0], gradientScale?: tf.Scalar): void {
    assertGradientScale(gradientScale, 'AdamWOptimizer.applyGradients');
    const named = Array.isArray(variableGradients)
      ? variableGradients.map((v) => [v.name, v.tensor] as const)
      : Object.entries(variableGradients);
    const factor = 1 - this.learningRate * this.weightDecay;
    // With the fused kernel the decay is part of each variable's update (decayFactor below).
    if (this.weightDecay !== 0 && !hasFusedAdamKernel()) {
      tf.tidy(() => {
        for (const [name, gradient] of named) {
          const variable = tf.engine().registeredVariables[name];
          // Like PyTorch, a variable without a gradient is neither decayed nor stepped.
          if (variable === undefined || gradient == null || !this.shouldDecay(variable)) continue;
          variable.assign(tf.mul(variable, factor));
        }
      });
    }
    super.applyGradients(variableGradients, gradientScale);
  }

  /** `1 − α·λ` for the variables that decay, 1 for the others. @internal */
  protected override decayFactor(variable: tf.Variable): number {
    return this.weightDecay !== 0 && this.shouldDecay(variable) ? 1 - this.learningRate * this.weightDecay : 1;
  }

  /** `tf.AdamOptimizer`'s config plus `weightDecay` (the `shouldDecay` function is not serialized). */
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), weightDecay: this.weightDecay };
  }
}

/**
 * AdamW (Loshchilov & Hutter 2019): Adam whose weight decay is applied to the weights directly
 * instead of through the gradient, so it is not rescaled by Adam's per-coordinate step size:
 *
 *     w ← w · (1 − α·λ)                              (decayed variables only)
 *     m ← β1·m + (1−β1)·g,   v ← β2·v + (1−β2)·g²
 *     w ← w − α · (m / (1−β1ᵗ)) / (√(v / (1−β2ᵗ)) + ε)
 *
 * Biases, normalization scales and embeddings are left undecayed by default (nanoGPT/minGPT's
 * two parameter groups); `shouldDecay` chooses otherwise. The Adam step is
 * {@link FusedAdamOptimizer}'s (one pass per variable on wasm, one kernel call in all). ε defaults to 1e-8 (PyTorch's).
 *
 * @see https://arxiv.org/abs/1711.05101 (Loshchilov & Hutter 2019, Decoupled Weight Decay Regularization, Algorithm 2)
 * @param options See {@link AdamWOptions}.
 * @returns An {@link AdamWOptimizer}: pass it wherever an optimizer is taken.
 * @throws {@link ArgumentError} for a negative weight decay or an invalid Adam setting.
 * @example
 * ```ts
 * const optimizer = train.adamW({ learningRate: 1e-3, weightDecay: 0.1 });
 * optimizer.minimize(() => loss(), false, model.trainableWeights.map((w) => w.read() as tf.Variable));
 * ```
 * @category Training
 */
export function adamW(options: AdamWOptions = {}): AdamWOptimizer {
  const fn = 'train.adamW';
  assertKnownKeys(options, ['learningRate', 'beta1', 'beta2', 'epsilon', 'weightDecay', 'shouldDecay'], 'options', fn);
  const { weightDecay = 0.1, shouldDecay = decaysByDefault, epsilon = 1e-8, ...adam } = options;
  assertNumber(weightDecay, 'options.weightDecay', fn, { min: 0 });
  if (typeof shouldDecay !== 'function')
    throw new ArgumentError({
      fn,
      arg: 'options.shouldDecay',
      expected: 'be a function of a tf.Variable',
      received: describe(shouldDecay),
    });
  const { learningRate = 0.001, beta1 = 0.9, beta2 = 0.999 } = adam;
  assertNumber(learningRate, 'options.learningRate', fn, { min: 0, minExclusive: true });
  assertNumber(beta1, 'options.beta1', fn, { min: 0, max: 1, maxExclusive: true });
  assertNumber(beta2, 'options.beta2', fn, { min: 0, max: 1, maxExclusive: true });
  assertNumber(epsilon, 'options.epsilon', fn, { min: 0, minExclusive: true });
  return new AdamWOptimizer(learningRate, beta1, beta2, epsilon, weightDecay, shouldDecay);
}
