/**
 * SiLU (swish with β = 1), `x · σ(x)`: the activation of diffusion UNets, with a one-pass
 * gradient where the backend registers genblocks' SiLU gradient kernel (wasm).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { SILU_GRAD_KERNEL } from '../backends/silu-kernel.js';
import { assertFloatTensor, assertKnownKeys } from '../validation.js';
import { BASE_LAYER_KEYS, defaultLayerName } from './ops.js';

/**
 * `x · σ(x)` with the gradient `dy · s · (1 + x · (1 − s))`, `s = σ(x)` kept from the forward
 * pass, computed by the SiLU gradient kernel in one pass.
 */
const siluByKernel = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const s = tf.sigmoid(x);
  save([x, s]);
  return {
    value: tf.mul(x, s),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
      tf.engine().runKernel(SILU_GRAD_KERNEL, { dy, x: saved[0]!, s: saved[1]! }) as tf.Tensor,
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor) => tf.Tensor;

/**
 * SiLU, the sigmoid-weighted linear unit (swish with β = 1), element-wise:
 *
 *     silu(x) = x · σ(x),   silu'(x) = σ(x) · (1 + x · (1 − σ(x)))
 *
 * Where the active backend registers genblocks' SiLU gradient kernel (wasm, after
 * `backends.use('wasm')`) the gradient is one pass given the forward pass's `σ(x)`, where
 * tfjs-layers' `'swish'` activation (`x · σ(1 · x)`) costs three kernels forward and about seven
 * back; elsewhere tfjs differentiates `x · σ(x)`. That kernel has no gradient of its own, so on
 * wasm a second derivative through SiLU (a gradient penalty on a network that uses it) fails
 * there with tfjs' "gradient not registered" error; use the `'swish'` activation for such nets.
 *
 * @see https://arxiv.org/abs/1702.03118 (Elfwing et al. 2017, Sigmoid-Weighted Linear Units, eq. 3)
 * @param x - Float tensor of any shape.
 * @returns `x · σ(x)`, same shape as `x`.
 * @example
 * ```ts
 * layers.silu(tf.tensor1d([-1, 0, 2])).print(); // [-0.2689, 0, 1.7616]
 * ```
 * @category Layers
 */
export function silu(x: tf.Tensor): tf.Tensor {
  assertFloatTensor(x, 'x', 'layers.silu');
  return tf.tidy(() => {
    const backend = tf.getBackend();
    if (x.dtype === 'float32' && tf.getKernel(SILU_GRAD_KERNEL, backend) != null) return siluByKernel(x);
    return tf.mul(x, tf.sigmoid(x));
  });
}

/** Arguments of {@link SiLU}. @category Layers */
export interface SiLUArgs {
  /** Layer name. */
  name?: string;
  /** Accepted from tfjs-layers' deserialization. */
  trainable?: boolean;
}

/**
 * The SiLU activation ({@link silu}, `x · σ(x)`) as a layer: the same values as
 * `tf.layers.activation({ activation: 'swish' })`, with a one-pass gradient on wasm. `nets.unet`
 * uses it after every group normalization.
 *
 * Registered as `genblocks>SiLU`.
 *
 * @see https://arxiv.org/abs/1702.03118 (Elfwing et al. 2017, Sigmoid-Weighted Linear Units)
 * @example
 * ```ts
 * const h = new layers.SiLU().apply(tf.input({ shape: [28, 28, 32] })); // [null, 28, 28, 32]
 * ```
 * @category Layers
 */
export class SiLU extends tfl.layers.Layer {
  /** Registered class name (package prefix `genblocks>`). */
  static className = 'genblocks>SiLU';

  constructor(args: SiLUArgs = {}) {
    assertKnownKeys(args, [...BASE_LAYER_KEYS], 'config', 'layers.SiLU');
    super({ name: args.name ?? defaultLayerName('silu'), trainable: args.trainable });
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return inputShape as tfl.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return silu(Array.isArray(inputs) ? inputs[0]! : inputs);
  }
}

// Import-time side effect (this file is named in package.json `sideEffects`): the layer is saved
// as `genblocks>SiLU` and found again by tf.loadLayersModel in any program whose code reaches
// this file, also in a bundle that keeps only part of genblocks.
tf.serialization.registerClass(SiLU, 'genblocks', 'SiLU');
