/**
 * A PixelCNN builder (van den Oord et al. 2016) for single-channel images.
 *
 * @module
 */
import * as tfl from '@tensorflow/tfjs-layers';

import { ConfigError } from '../errors.js';
import { GatedActivation } from '../layers/gated-activation.js';
import { MaskedConv2D } from '../layers/masked-conv2d.js';
import { assertKnownKeys, assertNumber, assertPositiveInt, assertPositiveIntArray, describe } from '../validation.js';

const FN = 'nets.pixelCnn';

/** Config of {@link pixelCnn}. @category Networks */
export interface PixelCnnConfig {
  /** Image shape `[H, W, 1]` (one channel). Required. */
  imageShape: number[];
  /** Feature channels of the hidden layers. Default 64. */
  filters?: number;
  /** Number of residual masked-convolution blocks (type 'B', 3×3) after the first 7×7 type-'A' layer. Default 7. */
  layers?: number;
  /** Use gated activation units `tanh ⊙ σ` (gated PixelCNN) instead of ReLU in the blocks. Default false. */
  gated?: boolean;
  /** Number of intensity levels: 2 for binary images, 256 for 8-bit. The output has this many logits per pixel. Default 2. */
  levels?: number;
  /** Kernel side of the first (type 'A') layer. Default 7 (the paper's). */
  firstKernelSize?: number;
  /** Seed of every initializer. Default: unseeded. */
  seed?: number;
  /** Model name. Default `'pixel_cnn'`. */
  name?: string;
}

/**
 * A PixelCNN: the image's distribution as a product of per-pixel categoricals in raster order,
 * `p(x) = Πᵢ p(xᵢ | x₁ … xᵢ₋₁)`, each computed by masked convolutions so that pixel `i`'s logits
 * see only earlier pixels:
 *
 *     h = MaskedConv_A 7×7(x)
 *     h ← h + Conv_B 1×1(ReLU(Conv_B 3×3(ReLU(h))))              × layers   (gated: tanh ⊙ σ)
 *     logits = Conv_B 1×1(ReLU(Conv_B 1×1(ReLU(h))))             [H, W, levels]
 *
 * Input: images `[B, H, W, 1]` float32 with values `level / (levels − 1)` in `[0, 1]`
 * (binary images: 0 or 1). Output: logits `[B, H, W, levels]`; train with
 * `losses.autoregressive.crossEntropy(logits, autoregressive.pixelTargets(images, levels))`
 * (mean nats per pixel; × H·W for nats per image), and sample with
 * `autoregressive.samplePixels`. The masks are spatial only: one channel (greyscale or
 * binary); RGB's per-channel masks are not implemented, and the gated variant uses gated
 * units without the two-stack (vertical/horizontal) blind-spot fix.
 *
 * @see https://arxiv.org/abs/1601.06759 (van den Oord et al. 2016, Pixel Recurrent Neural Networks, §3.4, Table 4)
 * @see https://arxiv.org/abs/1606.05328 (van den Oord et al. 2016, gated PixelCNN, §2.2)
 * @param config See {@link PixelCnnConfig}.
 * @returns A `tf.LayersModel` mapping images `[B, H, W, 1]` to logits `[B, H, W, levels]`.
 * @throws {@link ConfigError} for an invalid field, or an image with more than one channel.
 * @example
 * ```ts
 * const model = nets.pixelCnn({ imageShape: [28, 28, 1], filters: 32, layers: 4, levels: 2, seed: 1 });
 * const logits = model.predict(tf.zeros([1, 28, 28, 1])); // [1, 28, 28, 2]
 * ```
 * @category Networks
 */
export function pixelCnn(config: PixelCnnConfig): tfl.LayersModel {
  assertKnownKeys(config, ['imageShape', 'filters', 'layers', 'gated', 'levels', 'firstKernelSize', 'seed', 'name'], 'config', FN);
  if (config === undefined)
    throw new ConfigError({ fn: FN, arg: 'config', expected: 'be an object with imageShape', received: 'undefined' });
  const { imageShape, filters = 64, layers = 7, gated = false, levels = 2, firstKernelSize = 7, seed, name = 'pixel_cnn' } = config;
  assertPositiveIntArray(imageShape, 'config.imageShape', FN, 3);
  if (imageShape[2] !== 1) {
    throw new ConfigError({
      fn: FN,
      arg: 'config.imageShape',
      expected: 'have one channel [H, W, 1] (the masks are spatial only)',
      received: `[${imageShape.join(',')}]`,
    });
  }
  assertPositiveInt(filters, 'config.filters', FN);
  assertPositiveInt(layers, 'config.layers', FN);
  assertNumber(levels, 'config.levels', FN, { integer: true, min: 2, max: 256 });
  assertPositiveInt(firstKernelSize, 'config.firstKernelSize', FN);
  if (typeof gated !== 'boolean')
    throw new ConfigError({ fn: FN, arg: 'config.gated', expected: 'be a boolean', received: describe(gated) });
  if (seed !== undefined) assertNumber(seed, 'config.seed', FN, { integer: true });
  let k = 0;
  const conv = (outputs: number, size: number, maskType: 'A' | 'B', label: string) =>
    new MaskedConv2D({
      filters: outputs,
      kernelSize: size,
      maskType,
      seed: seed === undefined ? undefined : seed + k++,
      name: `${name}_${label}`,
    });
  const relu = (x: tfl.SymbolicTensor, label: string) => tfl.layers.reLU({ name: `${name}_${label}` }).apply(x) as tfl.SymbolicTensor;

  const input = tfl.input({ shape: imageShape, name: `${name}_images` });
  let h = conv(filters, firstKernelSize, 'A', 'conv_a').apply(input) as tfl.SymbolicTensor;
  for (let l = 0; l < layers; l++) {
    let branch: tfl.SymbolicTensor;
    if (gated) {
      branch = conv(2 * filters, 3, 'B', `block_${l}_conv`).apply(h) as tfl.SymbolicTensor;
      branch = new GatedActivation({ name: `${name}_block_${l}_gate` }).apply(branch) as tfl.SymbolicTensor;
    } else {
      branch = conv(filters, 3, 'B', `block_${l}_conv`).apply(relu(h, `block_${l}_relu_in`)) as tfl.SymbolicTensor;
      branch = relu(branch, `block_${l}_relu`);
    }
    branch = conv(filters, 1, 'B', `block_${l}_mix`).apply(branch) as tfl.SymbolicTensor;
    h = tfl.layers.add({ name: `${name}_block_${l}_residual` }).apply([h, branch]) as tfl.SymbolicTensor;
  }
  h = conv(filters, 1, 'B', 'head').apply(relu(h, 'head_relu_in')) as tfl.SymbolicTensor;
  const logits = conv(levels, 1, 'B', 'logits').apply(relu(h, 'head_relu')) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: logits, name });
}
