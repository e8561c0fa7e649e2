/**
 * The causal 1-D convolution of WaveNet (van den Oord et al. 2016).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { ArgumentError, ShapeError } from '../errors.js';
import { assertKnownKeys, assertNumber, assertPositiveInt, describe, formatShape } from '../validation.js';
import { BASE_LAYER_KEYS, defaultLayerName } from './ops.js';

const FN = 'layers.CausalConv1D';

/** Arguments of {@link CausalConv1D}. @category Layers */
export interface CausalConv1DArgs {
  /** Output channels. */
  filters: number;
  /** Kernel length k. */
  kernelSize: number;
  /** Dilation d. Default 1. */
  dilationRate?: number;
  /** Whether to add a bias. Default true. */
  useBias?: boolean;
  /** Seed of the Glorot-uniform kernel initializer. Default: unseeded. */
  seed?: number;
  /** Layer name. */
  name?: string;
  /** Accepted from tfjs-layers' deserialization. */
  trainable?: boolean;
}

/**
 * A 1-D convolution over time that sees only the present and the past: the input `[B, T, C]`
 * is padded with `(k − 1)·d` zeros on the left and convolved without padding, so
 *
 *     y[t] = b + Σᵢ W[i] · x[t − (k − 1 − i)·d]       (x[s] = 0 for s < 0)
 *
 * and output `t` never depends on input `t' > t`. Output `[B, T, filters]`.
 *
 * Registered as `genblocks>CausalConv1D`. Weights: `kernel` `[k, Cin, filters]`, `bias`.
 *
 * @see https://arxiv.org/abs/1609.03499 (van den Oord et al. 2016, WaveNet, §2.1)
 * @example
 * ```ts
 * const x = tf.input({ shape: [100, 8] });
 * const y = new layers.CausalConv1D({ filters: 16, kernelSize: 2, dilationRate: 4 }).apply(x); // [null, 100, 16]
 * ```
 * @category Layers
 */
export class CausalConv1D extends tfl.layers.Layer {
  /** Registered class name (package prefix `genblocks>`). */
  static className = 'genblocks>CausalConv1D';

  /** Output channels. */
  readonly filters: number;
  /** Kernel length. */
  readonly kernelSize: number;
  /** Dilation. */
  readonly dilationRate: number;
  /** Whether a bias is added. */
  readonly useBias: boolean;
  /** Seed, if any. */
  readonly seed: number | undefined;
  private kernel: tfl.LayerVariable | null = null;
  private bias: tfl.LayerVariable | null = null;

  constructor(args: CausalConv1DArgs) {
    if (args === null || typeof args !== 'object') {
      throw new ArgumentError({ fn: FN, arg: 'args', expected: 'be an object with filters and kernelSize', received: describe(args) });
    }
    assertKnownKeys(args, ['filters', 'kernelSize', 'dilationRate', 'useBias', 'seed', ...BASE_LAYER_KEYS], 'config', FN);
    assertPositiveInt(args.filters, 'config.filters', FN);
    assertPositiveInt(args.kernelSize, 'config.kernelSize', FN);
    if (args.dilationRate !== undefined) assertPositiveInt(args.dilationRate, 'config.dilationRate', FN);
    if (args.seed !== undefined) assertNumber(args.seed, 'config.seed', FN, { integer: true });
    super({ name: args.name ?? defaultLayerName('causal_conv1d'), trainable: args.trainable });
    this.filters = args.filters;
    this.kernelSize = args.kernelSize;
    this.dilationRate = args.dilationRate ?? 1;
    this.useBias = args.useBias ?? true;
    this.seed = args.seed;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = inputShape as tfl.Shape;
    const channels = shape[2];
    if (shape.length !== 3 || channels == null) {
      throw new ShapeError({
        fn: FN,
        arg: 'inputs',
        expected: 'have shape [B, T, C] with a known C',
        received: `shape ${formatShape(shape.map((d) => d ?? -1))}`,
      });
    }
    this.kernel = this.addWeight(
      'kernel',
      [this.kernelSize, channels, this.filters],
      'float32',
      tfl.initializers.glorotUniform({ seed: this.seed }),
    );
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = inputShape as tfl.Shape;
    return [shape[0]!, shape[1]!, this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor3D;
    return tf.tidy(() => {
      const padded = tf.pad(x, [
        [0, 0],
        [(this.kernelSize - 1) * this.dilationRate, 0],
        [0, 0],
      ]);
      const y = tf.conv1d(padded, this.kernel!.read() as tf.Tensor3D, 1, 'valid', 'NWC', this.dilationRate);
      return this.bias ? tf.add(y, this.bias.read()) : y;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      filters: this.filters,
      kernelSize: this.kernelSize,
      dilationRate: this.dilationRate,
      useBias: this.useBias,
    };
    if (this.seed !== undefined) config['seed'] = this.seed;
    return { ...super.getConfig(), ...config };
  }
}

// Import-time side effect (this file is named in package.json `sideEffects`): the layer is saved
// as `genblocks>CausalConv1D` and found again by tf.loadLayersModel in any program whose code reaches
// this file, also in a bundle that keeps only part of genblocks.
tf.serialization.registerClass(CausalConv1D, 'genblocks', 'CausalConv1D');
