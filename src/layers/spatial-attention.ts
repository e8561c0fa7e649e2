/**
 * Multi-head self-attention over the positions of a feature map, for diffusion UNets.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { BASE_LAYER_KEYS } from './common.js';
import { ShapeError } from '../errors.js';
import { assertFloatTensor, assertKnownKeys, assertNumber, assertPositiveInt, assertRank, formatShape } from '../validation.js';

const FN = 'layers.spatialSelfAttention';
const LAYER = 'layers.SpatialAttention';

/** The projections of {@link spatialSelfAttention}. @category Layers */
export interface SpatialAttentionWeights {
  /** Query, key and value projections side by side, `[C, 3C]`. */
  qkvKernel: tf.Tensor;
  /** Their biases, `[3C]`. */
  qkvBias: tf.Tensor;
  /** Output projection `[C, C]`. */
  outKernel: tf.Tensor;
  /** Its bias `[C]`. */
  outBias: tf.Tensor;
}

/**
 * Scaled dot-product self-attention among the H·W positions of a feature map, with `heads`
 * heads of size d = C / heads (Vaswani et al. 2017, eq. 1; the attention block of DDPM's UNet,
 * Ho et al. 2020, appendix B):
 *
 * ```text
 * [Q K V] = X W_qkv + b_qkv                X: [batch, H·W, C]
 * headₕ = softmax(Qₕ Kₕᵀ / √d) Vₕ
 * out = [head₁ … head_heads] W_out + b_out  reshaped to [batch, H, W, C]
 * ```
 *
 * It returns the projected attention only; a UNet adds it to its (normalised) input.
 *
 * @param x - `[batch, H, W, C]`, float32.
 * @param weights - the projections (see {@link SpatialAttentionWeights}).
 * @param heads - number of heads; must divide C. Default 1.
 * @returns `[batch, H, W, C]`.
 * @see https://arxiv.org/abs/1706.03762 (Vaswani et al. 2017, eq. 1)
 * @see https://arxiv.org/abs/2006.11239 (Ho et al. 2020, appendix B)
 * @example
 * ```ts
 * const c = 4;
 * const out = layers.spatialSelfAttention(tf.randomNormal([1, 3, 3, c]), {
 *   qkvKernel: tf.randomNormal([c, 3 * c]), qkvBias: tf.zeros([3 * c]),
 *   outKernel: tf.eye(c), outBias: tf.zeros([c]),
 * });
 * ```
 * @category Layers
 */
export function spatialSelfAttention(x: tf.Tensor, weights: SpatialAttentionWeights, heads = 1): tf.Tensor4D {
  assertFloatTensor(x, 'x', FN);
  assertRank(x, 4, 'x', FN);
  assertPositiveInt(heads, 'heads', FN);
  const [batch, height, width, channels] = x.shape as [number, number, number, number];
  if (channels % heads !== 0) {
    throw new ShapeError({ fn: FN, arg: 'x', expected: `have a channel count divisible by heads (${heads})`, received: `shape ${formatShape(x.shape)}` });
  }
  const expected: Record<keyof SpatialAttentionWeights, number[]> = {
    qkvKernel: [channels, 3 * channels],
    qkvBias: [3 * channels],
    outKernel: [channels, channels],
    outBias: [channels],
  };
  for (const key of Object.keys(expected) as (keyof SpatialAttentionWeights)[]) {
    const w = weights?.[key];
    assertFloatTensor(w, `weights.${key}`, FN);
    if (formatShape(w.shape) !== formatShape(expected[key])) {
      throw new ShapeError({ fn: FN, arg: `weights.${key}`, expected: `have shape ${formatShape(expected[key])}`, received: `shape ${formatShape(w.shape)}` });
    }
  }
  return tf.tidy(FN, () => {
    const positions = height * width;
    const d = channels / heads;
    const flat = tf.reshape(x, [batch * positions, channels]);
    const qkv = tf.add(tf.matMul(flat, weights.qkvKernel), weights.qkvBias);
    // [batch, positions, 3, heads, d] -> [3, batch, heads, positions, d]
    const split = tf.transpose(tf.reshape(qkv, [batch, positions, 3, heads, d]), [2, 0, 3, 1, 4]);
    const [q, k, v] = tf.unstack(split).map((m) => tf.reshape(m, [batch * heads, positions, d])) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
    const attention = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(d)));
    const mixed = tf.transpose(tf.reshape(tf.matMul(attention, v), [batch, heads, positions, d]), [0, 2, 1, 3]);
    const out = tf.add(tf.matMul(tf.reshape(mixed, [batch * positions, channels]), weights.outKernel), weights.outBias);
    return tf.reshape(out, [batch, height, width, channels]) as tf.Tensor4D;
  });
}

/** Arguments of {@link SpatialAttention}. @category Layers */
export interface SpatialAttentionArgs {
  /** Number of heads; must divide the channels. Default 1. */
  heads?: number;
  /** Seed of the Glorot-uniform initialisation of the projections. Default: unseeded. */
  seed?: number;
  /** Layer name. */
  name?: string;
  /** Whether the weights train. Default `true`. */
  trainable?: boolean;
}

let defaultNameCount = 0;

/**
 * {@link spatialSelfAttention} as a layer `[batch, H, W, C] -> [batch, H, W, C]` with learned
 * projections (Glorot-uniform kernels, zero biases), registered as `genblocks>SpatialAttention`.
 *
 * @see https://arxiv.org/abs/2006.11239 (Ho et al. 2020, appendix B)
 * @example
 * ```ts
 * const x = tf.input({ shape: [7, 7, 32] });
 * const attended = new layers.SpatialAttention({ heads: 4 }).apply(x);
 * ```
 * @category Layers
 */
export class SpatialAttention extends tfl.layers.Layer {
  /** Registered class name (package prefix `genblocks>`). */
  static className = 'genblocks>SpatialAttention';

  /** Number of heads. */
  readonly heads: number;
  /** Initialisation seed, if any. */
  readonly seed: number | undefined;
  private projections: Record<keyof SpatialAttentionWeights, tfl.LayerVariable> | null = null;

  constructor(args: SpatialAttentionArgs = {}) {
    assertKnownKeys(args, ['heads', 'seed', ...BASE_LAYER_KEYS], 'config', LAYER);
    const { heads = 1, seed, name, trainable } = args;
    assertPositiveInt(heads, 'config.heads', LAYER);
    if (seed !== undefined) assertNumber(seed, 'config.seed', LAYER, { integer: true });
    super({ name: name ?? `spatial_attention_${++defaultNameCount}`, trainable });
    this.heads = heads;
    this.seed = seed;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const channels = shape[3];
    if (shape.length !== 4 || typeof channels !== 'number' || channels % this.heads !== 0) {
      throw new ShapeError({
        fn: LAYER,
        arg: 'inputs',
        expected: `have shape [batch, H, W, C] with C divisible by heads (${this.heads})`,
        received: `shape ${formatShape(shape.map((d) => d ?? -1))}`,
      });
    }
    const glorot = (offset: number) => tfl.initializers.glorotUniform({ seed: this.seed === undefined ? undefined : this.seed + offset });
    this.projections = {
      qkvKernel: this.addWeight('qkv_kernel', [channels, 3 * channels], 'float32', glorot(0)),
      qkvBias: this.addWeight('qkv_bias', [3 * channels], 'float32', tfl.initializers.zeros()),
      outKernel: this.addWeight('out_kernel', [channels, channels], 'float32', glorot(1)),
      outBias: this.addWeight('out_bias', [channels], 'float32', tfl.initializers.zeros()),
    };
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const p = this.projections!;
    return spatialSelfAttention(x, { qkvKernel: p.qkvKernel.read(), qkvBias: p.qkvBias.read(), outKernel: p.outKernel.read(), outBias: p.outBias.read() }, this.heads);
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = { heads: this.heads };
    if (this.seed !== undefined) config['seed'] = this.seed;
    return { ...super.getConfig(), ...config };
  }
}

// Import-time side effect (this file is named in package.json `sideEffects`): the layer is saved
// as `genblocks>SpatialAttention` and found again by tf.loadLayersModel in any program whose code reaches
// this file, also in a bundle that keeps only part of genblocks.
tf.serialization.registerClass(SpatialAttention, 'genblocks', 'SpatialAttention');
