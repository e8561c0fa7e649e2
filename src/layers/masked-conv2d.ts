/**
 * The masked 2-D convolution of PixelCNN (van den Oord et al. 2016), types 'A' and 'B'.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { ArgumentError, ConfigError, ShapeError } from '../errors.js';
import { assertKnownKeys, assertNumber, assertOneOf, assertPositiveInt, describe, formatShape } from '../validation.js';
import { BASE_LAYER_KEYS, defaultLayerName } from './ops.js';

const FN = 'layers.MaskedConv2D';

/** Which pixels a {@link MaskedConv2D} sees: 'A' only earlier pixels, 'B' also the pixel itself. @category Layers */
export type MaskType = 'A' | 'B';

/** Arguments of {@link MaskedConv2D}. @category Layers */
export interface MaskedConv2DArgs {
  /** Output channels. */
  filters: number;
  /** Odd kernel side k (a k×k kernel). */
  kernelSize: number;
  /** `'A'` (first layer: excludes the centre pixel) or `'B'` (later layers: includes it). */
  maskType: MaskType;
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
 * The mask `[k, k, 1, 1]` of a masked convolution: 1 above the centre row, 1 left of the centre
 * in the centre row, the centre itself 1 for type 'B' and 0 for type 'A', 0 elsewhere.
 *
 * @see https://arxiv.org/abs/1601.06759 (van den Oord et al. 2016, §3.4, Figure 2)
 * @param kernelSize Odd kernel side k.
 * @param maskType `'A'` or `'B'`.
 * @returns The mask as a float32 tensor `[k, k, 1, 1]` (broadcasts over channels).
 * @example
 * ```ts
 * layers.convolutionMask(3, 'A'); // [[1,1,1],[1,0,0],[0,0,0]] as [3, 3, 1, 1]
 * ```
 * @category Layers
 */
export function convolutionMask(kernelSize: number, maskType: MaskType): tf.Tensor4D {
  const fn = 'layers.convolutionMask';
  assertPositiveInt(kernelSize, 'kernelSize', fn);
  if (kernelSize % 2 === 0) throw new ArgumentError({ fn, arg: 'kernelSize', expected: 'be odd', received: String(kernelSize) });
  assertOneOf(maskType, ['A', 'B'] as const, 'maskType', fn);
  const centre = (kernelSize - 1) / 2;
  const mask = new Float32Array(kernelSize * kernelSize);
  for (let row = 0; row < kernelSize; row++) {
    for (let col = 0; col < kernelSize; col++) {
      const earlier = row < centre || (row === centre && col < centre);
      const self = row === centre && col === centre && maskType === 'B';
      mask[row * kernelSize + col] = earlier || self ? 1 : 0;
    }
  }
  return tf.tensor4d(mask, [kernelSize, kernelSize, 1, 1]);
}

/**
 * A 2-D convolution ('same' padding, stride 1) whose kernel is multiplied by the PixelCNN mask
 * ({@link convolutionMask}), so that output pixel (i, j) depends only on input pixels before
 * it in raster order (rows above; the same row to the left) and, for type 'B', on (i, j)
 * itself. A stack of one type-'A' layer followed by type-'B' layers is autoregressive over the
 * pixels. The mask is spatial: every input channel is treated as one group (single-channel
 * images, or features computed from them); the per-colour-channel masks of RGB PixelCNN are
 * not implemented.
 *
 * Registered as `genblocks>MaskedConv2D`. Weights: `kernel` `[k, k, Cin, filters]` (stored
 * unmasked; the mask is applied in every call), `bias` `[filters]`.
 *
 * @see https://arxiv.org/abs/1601.06759 (van den Oord et al. 2016, §3.4)
 * @example
 * ```ts
 * const x = tf.input({ shape: [28, 28, 1] });
 * const h = new layers.MaskedConv2D({ filters: 32, kernelSize: 7, maskType: 'A', seed: 1 }).apply(x);
 * ```
 * @category Layers
 */
export class MaskedConv2D extends tfl.layers.Layer {
  /** Registered class name (package prefix `genblocks>`). */
  static className = 'genblocks>MaskedConv2D';

  /** Output channels. */
  readonly filters: number;
  /** Kernel side. */
  readonly kernelSize: number;
  /** Mask type. */
  readonly maskType: MaskType;
  /** Whether a bias is added. */
  readonly useBias: boolean;
  /** Seed, if any. */
  readonly seed: number | undefined;
  private kernel: tfl.LayerVariable | null = null;
  private bias: tfl.LayerVariable | null = null;

  constructor(args: MaskedConv2DArgs) {
    if (args === null || typeof args !== 'object') {
      throw new ArgumentError({
        fn: FN,
        arg: 'args',
        expected: 'be an object with filters, kernelSize and maskType',
        received: describe(args),
      });
    }
    assertKnownKeys(args, ['filters', 'kernelSize', 'maskType', 'useBias', 'seed', ...BASE_LAYER_KEYS], 'config', FN);
    assertPositiveInt(args.filters, 'config.filters', FN);
    assertPositiveInt(args.kernelSize, 'config.kernelSize', FN);
    if (args.kernelSize % 2 === 0)
      throw new ConfigError({
        fn: FN,
        arg: 'config.kernelSize',
        expected: 'be odd (the mask is centred)',
        received: String(args.kernelSize),
      });
    // tfjs-layers' deserialization lower-cases string config values: accept 'a'/'b' back.
    const maskType =
      args.maskType === ('a' as never) || args.maskType === ('b' as never) ? (args.maskType.toUpperCase() as MaskType) : args.maskType;
    assertOneOf(maskType, ['A', 'B'] as const, 'config.maskType', FN);
    if (args.seed !== undefined) assertNumber(args.seed, 'config.seed', FN, { integer: true });
    super({ name: args.name ?? defaultLayerName('masked_conv2d'), trainable: args.trainable });
    this.filters = args.filters;
    this.kernelSize = args.kernelSize;
    this.maskType = maskType;
    this.useBias = args.useBias ?? true;
    this.seed = args.seed;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = inputShape as tfl.Shape;
    const channels = shape[3];
    if (shape.length !== 4 || channels == null) {
      throw new ShapeError({
        fn: FN,
        arg: 'inputs',
        expected: 'have shape [B, H, W, C] with a known C',
        received: `shape ${formatShape(shape.map((d) => d ?? -1))}`,
      });
    }
    const k = this.kernelSize;
    this.kernel = this.addWeight('kernel', [k, k, channels, this.filters], 'float32', tfl.initializers.glorotUniform({ seed: this.seed }));
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = inputShape as tfl.Shape;
    return [shape[0]!, shape[1]!, shape[2]!, this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D;
    return tf.tidy(() => {
      const kernel = tf.mul(this.kernel!.read(), convolutionMask(this.kernelSize, this.maskType)) as tf.Tensor4D;
      const y = tf.conv2d(x, kernel, 1, 'same');
      return this.bias ? tf.add(y, this.bias.read()) : y;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      filters: this.filters,
      kernelSize: this.kernelSize,
      maskType: this.maskType,
      useBias: this.useBias,
    };
    if (this.seed !== undefined) config['seed'] = this.seed;
    return { ...super.getConfig(), ...config };
  }
}

// Import-time side effect (this file is named in package.json `sideEffects`): the layer is saved
// as `genblocks>MaskedConv2D` and found again by tf.loadLayersModel in any program whose code reaches
// this file, also in a bundle that keeps only part of genblocks.
tf.serialization.registerClass(MaskedConv2D, 'genblocks', 'MaskedConv2D');
