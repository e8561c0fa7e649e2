/**
 * The sinusoidal timestep embedding of diffusion models.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { BASE_LAYER_KEYS } from './common.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { assertFloatTensor, assertKnownKeys, assertNumber, assertPositiveInt, describe, formatShape } from '../validation.js';

const FN = 'layers.sinusoidalEmbedding';
const LAYER = 'layers.TimeEmbedding';

/**
 * Embeds scalar positions (diffusion timesteps) with sines and cosines of geometrically spaced
 * frequencies, the Transformer's position encoding as DDPM uses it for t (Vaswani et al. 2017,
 * §3.5; Ho et al. 2020, appendix B), with the sines first and the cosines after:
 *
 * ```text
 * ωᵢ = maxPeriod^(-i / (dim/2)),   i = 0 … dim/2 - 1
 * emb(t) = [sin(t ω₀), …, sin(t ω_{dim/2-1}), cos(t ω₀), …, cos(t ω_{dim/2-1})]
 * ```
 *
 * @param t - positions `[batch]` or `[batch, 1]`, float32.
 * @param dim - embedding size, even.
 * @param maxPeriod - the longest period. Default 10000.
 * @returns `[batch, dim]`.
 * @see https://arxiv.org/abs/1706.03762 (Vaswani et al. 2017, §3.5)
 * @see https://arxiv.org/abs/2006.11239 (Ho et al. 2020, appendix B)
 * @example
 * ```ts
 * const emb = layers.sinusoidalEmbedding(tf.tensor1d([0, 10, 999]), 32); // [3, 32]
 * ```
 * @category Layers
 */
export function sinusoidalEmbedding(t: tf.Tensor, dim: number, maxPeriod = 10000): tf.Tensor2D {
  assertFloatTensor(t, 't', FN);
  if (!(t.rank === 1 || (t.rank === 2 && t.shape[1] === 1))) {
    throw new ShapeError({ fn: FN, arg: 't', expected: 'have shape [batch] or [batch, 1]', received: `shape ${formatShape(t.shape)}` });
  }
  checkDim(dim, 'dim', FN);
  assertNumber(maxPeriod, 'maxPeriod', FN, { min: 1, minExclusive: true });
  return tf.tidy(FN, () => {
    const half = dim / 2;
    const frequencies = tf.tensor2d(
      Float32Array.from({ length: half }, (_, i) => Math.exp((-Math.log(maxPeriod) * i) / half)),
      [1, half],
    );
    const angles = tf.mul(tf.reshape(t, [-1, 1]), frequencies);
    return tf.concat([tf.sin(angles), tf.cos(angles)], 1) as tf.Tensor2D;
  });
}

function checkDim(dim: unknown, arg: string, fn: string): asserts dim is number {
  assertPositiveInt(dim, arg, fn);
  if (dim % 2 !== 0) throw new ArgumentError({ fn, arg, expected: 'be even', received: describe(dim) });
}

/** Arguments of {@link TimeEmbedding}. @category Layers */
export interface TimeEmbeddingArgs {
  /** Embedding size, even (required). */
  dim: number;
  /** The longest period. Default 10000. */
  maxPeriod?: number;
  /** Layer name. */
  name?: string;
  /** Accepted from tfjs-layers' deserialization; the layer has no weights. */
  trainable?: boolean;
}

let defaultNameCount = 0;

/**
 * {@link sinusoidalEmbedding} as a weightless layer `[batch, 1] -> [batch, dim]`, registered as
 * `genblocks>TimeEmbedding`. A diffusion network usually follows it with a small MLP.
 *
 * @see https://arxiv.org/abs/2006.11239 (Ho et al. 2020, appendix B)
 * @example
 * ```ts
 * const t = tf.input({ shape: [1] });
 * const emb = new layers.TimeEmbedding({ dim: 64 }).apply(t);
 * ```
 * @category Layers
 */
export class TimeEmbedding extends tfl.layers.Layer {
  /** Registered class name (package prefix `genblocks>`). */
  static className = 'genblocks>TimeEmbedding';

  /** Embedding size. */
  readonly dim: number;
  /** Longest period. */
  readonly maxPeriod: number;

  constructor(args: TimeEmbeddingArgs) {
    assertKnownKeys(args, ['dim', 'maxPeriod', ...BASE_LAYER_KEYS], 'config', LAYER);
    const { dim, maxPeriod = 10000, name } = args ?? ({} as TimeEmbeddingArgs);
    checkDim(dim, 'config.dim', LAYER);
    assertNumber(maxPeriod, 'config.maxPeriod', LAYER, { min: 1, minExclusive: true });
    super({ name: name ?? `time_embedding_${++defaultNameCount}`, trainable: false });
    this.dim = dim;
    this.maxPeriod = maxPeriod;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    return [shape[0] ?? null, this.dim];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const t = Array.isArray(inputs) ? inputs[0]! : inputs;
    return sinusoidalEmbedding(t.dtype === 'float32' ? t : tf.cast(t, 'float32'), this.dim, this.maxPeriod);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), dim: this.dim, maxPeriod: this.maxPeriod };
  }
}

// Import-time side effect (this file is named in package.json `sideEffects`): the layer is saved
// as `genblocks>TimeEmbedding` and found again by tf.loadLayersModel in any program whose code reaches
// this file, also in a bundle that keeps only part of genblocks.
tf.serialization.registerClass(TimeEmbedding, 'genblocks', 'TimeEmbedding');
