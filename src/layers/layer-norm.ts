/**
 * Layer normalization over the last axis, with a cheap gradient.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { ShapeError } from '../errors.js';
import { assertKnownKeys, assertNumber, formatShape } from '../validation.js';
import { BASE_LAYER_KEYS, defaultLayerName, layerNorm } from './ops.js';

const FN = 'layers.LayerNorm';

/** Arguments of {@link LayerNorm}. @category Layers */
export interface LayerNormArgs {
  /** ε added to the variance. Default 1e-5 (PyTorch's). */
  epsilon?: number;
  /** Whether to learn the shift β. Default true. */
  center?: boolean;
  /** Layer name. */
  name?: string;
  /** Accepted from tfjs-layers' deserialization. */
  trainable?: boolean;
}

/**
 * Layer normalization over the last axis (Ba et al. 2016), each position on its own:
 *
 *     y = γ ⊙ (x − mean(x)) / √(var(x) + ε) + β
 *
 * The same maths as `tf.layers.layerNormalization({ axis: -1 })`, written with element-wise
 * ops: tfjs-layers' version differentiates through `batchNorm`, whose gradient slices and adds
 * once per position (about 3,000 kernels for a `[12, 64, 128]` input on wasm, against about 30
 * here). Weights `gamma` `[C]` (ones) and `beta` `[C]` (zeros).
 *
 * Registered as `genblocks>LayerNorm`.
 *
 * @see https://arxiv.org/abs/1607.06450 (Ba et al. 2016, Layer Normalization)
 * @example
 * ```ts
 * const h = new layers.LayerNorm().apply(tf.input({ shape: [64, 128] })); // [null, 64, 128]
 * ```
 * @category Layers
 */
export class LayerNorm extends tfl.layers.Layer {
  /** Registered class name (package prefix `genblocks>`). */
  static className = 'genblocks>LayerNorm';

  /** ε. */
  readonly epsilon: number;
  /** Whether β is learned. */
  readonly center: boolean;
  private gamma: tfl.LayerVariable | null = null;
  private beta: tfl.LayerVariable | null = null;

  constructor(args: LayerNormArgs = {}) {
    assertKnownKeys(args, ['epsilon', 'center', ...BASE_LAYER_KEYS], 'config', FN);
    if (args.epsilon !== undefined) assertNumber(args.epsilon, 'config.epsilon', FN, { min: 0, minExclusive: true });
    super({ name: args.name ?? defaultLayerName('layer_norm'), trainable: args.trainable });
    this.epsilon = args.epsilon ?? 1e-5;
    this.center = args.center ?? true;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = inputShape as tfl.Shape;
    const c = shape[shape.length - 1];
    if (c == null)
      throw new ShapeError({
        fn: FN,
        arg: 'inputs',
        expected: 'have a known last axis',
        received: `shape ${formatShape(shape.map((d) => d ?? -1))}`,
      });
    this.gamma = this.addWeight('gamma', [c], 'float32', tfl.initializers.ones());
    if (this.center) this.beta = this.addWeight('beta', [c], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return inputShape as tfl.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return layerNorm(x, this.gamma!.read() as tf.Tensor1D, this.beta?.read() as tf.Tensor1D | undefined, this.epsilon);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon, center: this.center };
  }
}

// Import-time side effect (this file is named in package.json `sideEffects`): the layer is saved
// as `genblocks>LayerNorm` and found again by tf.loadLayersModel in any program whose code reaches
// this file, also in a bundle that keeps only part of genblocks.
tf.serialization.registerClass(LayerNorm, 'genblocks', 'LayerNorm');
