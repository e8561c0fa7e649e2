/**
 * DCGAN discriminator for images of any size that halves cleanly.
 *
 * @module
 */
import * as tfl from '@tensorflow/tfjs-layers';

import { assertPositiveInt, assertPositiveIntArray } from '../validation.js';
import {
  type Activation,
  activationLayer,
  applyLayer,
  checkConfig,
  checkDropout,
  checkNonEmptyWidths,
  checkHalving,
  checkHidden,
  checkImageShape,
  checkName,
  layerSeeds,
  defaultStages,
  defaultWidths,
  maybeSpectral,
  type Normalization,
  normalizationLayer,
} from './common.js';
import { checkHead, type DiscriminatorConditioning, discriminatorLabelInputs, discriminatorOutputs } from './discriminator-head.js';

/** Config of {@link dcganDiscriminator}. @category Networks */
export interface DcganDiscriminatorConfig extends DiscriminatorConditioning {
  /** Shape of one image `[height, width, channels]`, e.g. `[28, 28, 1]`, `[32, 32, 3]`, `[64, 64, 3]`. Required. */
  inputShape: [number, number, number] | number[];
  /**
   * Filters of the stride-2 convolutions, one per halving; height and width must be divisible
   * by `2^widths.length`. Default `[64, 128, ...]` doubling up to 512, one entry per clean
   * halving that keeps the size at least 4 (28x28: `[64, 128]`, 32x32: `[64, 128, 256]`).
   */
  widths?: number[];
  /** Kernel size of the convolutions. Default 5. */
  kernelSize?: number;
  /** Hidden activation. Default `'leakyRelu'` (slope 0.2). */
  activation?: Activation;
  /** Slope of the leaky ReLU for negative inputs. Default 0.2. */
  leakyReluAlpha?: number;
  /** Normalization after each convolution but the first. Default `'none'` (keeps WGAN-GP valid). */
  normalization?: Normalization;
  /** Dropout rate after each convolution's activation. Default 0.3 (the TF tutorial). */
  dropout?: number;
  /** Wrap every convolution and dense layer in {@link SpectralNormalization}. Default false. */
  spectralNorm?: boolean;
  /** Model name. Default: assigned by tfjs-layers. */
  name?: string;
  /**
   * Seed of the initial weights: each layer's initializer gets its own seed derived from this
   * one, so the same seed builds identical weights. Default: unseeded (tfjs' global random state).
   * Dropout masks (`dropout` > 0) still come from tfjs' global random state during training.
   */
  seed?: number;
}

const FN = 'nets.dcganDiscriminator';
const KEYS = [
  'inputShape',
  'widths',
  'kernelSize',
  'activation',
  'leakyReluAlpha',
  'normalization',
  'dropout',
  'spectralNorm',
  'head',
  'numClasses',
  'name',
  'seed',
] as const;

/**
 * A DCGAN discriminator (Radford et al. 2015) ending in a linear layer (logits). With the
 * defaults for `[28, 28, 1]` it is the discriminator of the TensorFlow DCGAN tutorial:
 *
 * `x → conv2d(64, 5, stride 2) → LeakyReLU → dropout(0.3)
 *    → conv2d(128, 5, stride 2) → LeakyReLU → dropout(0.3) → flatten → dense(1)`,
 *
 * plus the optional AC-GAN or projection head (see {@link DiscriminatorConditioning}).
 *
 * Input: `x` `[batch, H, W, C]` (plus `label` for the projection head).
 * Output: logits `[batch, 1]` (plus class logits for AC-GAN).
 *
 * @see https://arxiv.org/abs/1511.06434 (Radford et al., DCGAN)
 * @see https://arxiv.org/abs/1802.05957 (Miyato et al., spectral normalization)
 * @param config See {@link DcganDiscriminatorConfig}.
 * @returns A `tf.LayersModel`.
 * @example
 * ```ts
 * const discriminator = nets.dcganDiscriminator({ inputShape: [28, 28, 1] });
 * const logits = discriminator.predict(images); // [batch, 1]
 * ```
 * @category Networks
 */
export function dcganDiscriminator(config: DcganDiscriminatorConfig): tfl.LayersModel {
  checkConfig(config, KEYS, FN);
  const { inputShape } = config;
  checkImageShape(inputShape, 'config.inputShape', FN);
  if (config.widths !== undefined) assertPositiveIntArray(config.widths, 'config.widths', FN);
  checkNonEmptyWidths(config.widths, FN);
  const widths = config.widths ?? defaultWidths(defaultStages(inputShape[0]!, inputShape[1]!)).reverse();
  checkHalving(inputShape, widths.length, 'config.inputShape', FN, config.widths ? 'config.widths' : 'the default');
  const {
    kernelSize = 5,
    activation = 'leakyRelu',
    leakyReluAlpha = 0.2,
    normalization = 'none',
    dropout = 0.3,
    spectralNorm = false,
    name,
  } = config;
  assertPositiveInt(kernelSize, 'config.kernelSize', FN);
  checkHidden(config, FN);
  checkDropout(dropout, 'config.dropout', FN);
  const head = checkHead(config, FN);
  checkName(name, FN);
  const seeds = layerSeeds(config.seed, FN);

  const x = tfl.input({ shape: inputShape });
  const labels = discriminatorLabelInputs(head);
  let h = x;
  widths.forEach((filters, i) => {
    const norm = i > 0 ? normalizationLayer(normalization) : null;
    const conv = tfl.layers.conv2d({ filters, kernelSize, strides: 2, padding: 'same', useBias: norm === null, ...seeds.kernel() });
    h = applyLayer(maybeSpectral(conv, spectralNorm, seeds), h);
    if (norm) h = applyLayer(norm, h);
    h = applyLayer(activationLayer(activation, leakyReluAlpha), h);
    if (dropout > 0) h = applyLayer(tfl.layers.dropout({ rate: dropout }), h);
  });
  h = applyLayer(tfl.layers.flatten(), h);
  const outputs = discriminatorOutputs(h, head, config.numClasses, labels, spectralNorm, seeds);
  return tfl.model({ inputs: [x, ...labels], outputs, name });
}
