/**
 * The gated activation unit of gated PixelCNN and WaveNet.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { ShapeError } from '../errors.js';
import { assertKnownKeys, formatShape } from '../validation.js';
import { BASE_LAYER_KEYS, defaultLayerName } from './ops.js';

/** Arguments of {@link GatedActivation}. @category Layers */
export interface GatedActivationArgs {
  /** Layer name. */
  name?: string;
  /** Accepted from tfjs-layers' deserialization. */
  trainable?: boolean;
}

/**
 * Splits the last axis of its input `[..., 2F]` into halves `a` and `b` and returns
 * `tanh(a) ⊙ σ(b)` `[..., F]`: the gated activation unit of gated PixelCNN (its eq. 2) and
 * WaveNet. Acts on each position alone.
 *
 * Registered as `genblocks>GatedActivation`.
 *
 * @see https://arxiv.org/abs/1606.05328 (van den Oord et al. 2016, Conditional Image Generation with PixelCNN Decoders, §2.2)
 * @example
 * ```ts
 * const h = new layers.GatedActivation().apply(tf.input({ shape: [28, 28, 64] })); // [null, 28, 28, 32]
 * ```
 * @category Layers
 */
export class GatedActivation extends tfl.layers.Layer {
  /** Registered class name (package prefix `genblocks>`). */
  static className = 'genblocks>GatedActivation';

  constructor(args: GatedActivationArgs = {}) {
    assertKnownKeys(args, [...BASE_LAYER_KEYS], 'config', 'layers.GatedActivation');
    super({ name: args.name ?? defaultLayerName('gated_activation'), trainable: args.trainable });
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = inputShape as tfl.Shape;
    const channels = shape[shape.length - 1];
    if (channels == null || channels % 2 !== 0) {
      throw new ShapeError({
        fn: 'layers.GatedActivation',
        arg: 'inputs',
        expected: 'have an even number of channels',
        received: `shape ${formatShape(shape.map((d) => d ?? -1))}`,
      });
    }
    return [...shape.slice(0, -1), channels / 2];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return tf.tidy(() => {
      const [a, b] = tf.split(x, 2, -1) as [tf.Tensor, tf.Tensor];
      return tf.mul(tf.tanh(a), tf.sigmoid(b));
    });
  }
}

// Import-time side effect (this file is named in package.json `sideEffects`): the layer is saved
// as `genblocks>GatedActivation` and found again by tf.loadLayersModel in any program whose code reaches
// this file, also in a bundle that keeps only part of genblocks.
tf.serialization.registerClass(GatedActivation, 'genblocks', 'GatedActivation');
