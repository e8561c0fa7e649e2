/**
 * Convolutional VAE encoder.
 *
 * @module
 */
import * as tfl from '@tensorflow/tfjs-layers';

import {
  type Activation,
  applyLayer,
  checkConfig,
  checkHalving,
  checkHidden,
  checkImageShape,
  checkName,
  layerSeeds,
  checkNonEmptyWidths,
  type Normalization,
  normAndActivate,
} from '../nets/common.js';
import { assertPositiveInt, assertPositiveIntArray } from '../validation.js';
import { type VaeConditioning, vaeLabelInputs, withLabel } from './conditioning.js';

/** Config of {@link convEncoder}. @category VAE */
export interface ConvEncoderConfig extends VaeConditioning {
  /** Shape of one image `[height, width, channels]`. Required. */
  inputShape: [number, number, number] | number[];
  /** Size of the latent space. Required. */
  latentDim: number;
  /**
   * Filters of the stride-2 convolutions, one per halving; height and width must be divisible
   * by `2^widths.length`. Default `[32, 64]` (the TF CVAE tutorial).
   */
  widths?: number[];
  /** Kernel size of the convolutions. Default 3. */
  kernelSize?: number;
  /** Hidden activation. Default `'relu'`. */
  activation?: Activation;
  /** Slope of the leaky ReLU, when `activation` is `'leakyRelu'`. Default 0.2. */
  leakyReluAlpha?: number;
  /** Normalization after each convolution. Default `'none'`. */
  normalization?: Normalization;
  /** Model name. Default: assigned by tfjs-layers. */
  name?: string;
  /**
   * Seed of the initial weights: each layer's initializer gets its own seed derived from this
   * one, so the same seed builds identical weights. Default: unseeded (tfjs' global random state).
   */
  seed?: number;
}

const FN = 'vae.convEncoder';
const KEYS = [
  'inputShape',
  'latentDim',
  'widths',
  'kernelSize',
  'activation',
  'leakyReluAlpha',
  'normalization',
  'numClasses',
  'labelEmbeddingDim',
  'name',
  'seed',
] as const;

/**
 * A convolutional Gaussian encoder q(z | x), after the TensorFlow CVAE tutorial:
 * `x → [conv2d(w, k, stride 2) → norm → act] per width → flatten [⊕ embed(label)]`, then two
 * linear heads for the posterior mean and log-variance.
 *
 * Input: `x` `[batch, H, W, C]` (plus `label` when `numClasses` is set).
 * Outputs: `[mean, logVar]`, each `[batch, latentDim]`.
 *
 * @see https://arxiv.org/abs/1312.6114 (Kingma & Welling, Auto-Encoding Variational Bayes)
 * @see https://www.tensorflow.org/tutorials/generative/cvae
 * @param config See {@link ConvEncoderConfig}.
 * @returns A `tf.LayersModel` with outputs `[mean, logVar]`.
 * @example
 * ```ts
 * const encoder = vae.convEncoder({ inputShape: [28, 28, 1], latentDim: 2 });
 * const [mean, logVar] = encoder.predict(images) as tf.Tensor[];
 * ```
 * @category VAE
 */
export function convEncoder(config: ConvEncoderConfig): tfl.LayersModel {
  checkConfig(config, KEYS, FN);
  const {
    inputShape,
    latentDim,
    widths = [32, 64],
    kernelSize = 3,
    activation = 'relu',
    leakyReluAlpha = 0.2,
    normalization = 'none',
    name,
  } = config;
  checkImageShape(inputShape, 'config.inputShape', FN);
  assertPositiveInt(latentDim, 'config.latentDim', FN);
  assertPositiveIntArray(widths, 'config.widths', FN);
  checkNonEmptyWidths(widths, FN);
  checkHalving(inputShape, widths.length, 'config.inputShape', FN, 'config.widths');
  assertPositiveInt(kernelSize, 'config.kernelSize', FN);
  checkHidden(config, FN);
  checkName(name, FN);
  const labels = vaeLabelInputs(config, FN);
  const seeds = layerSeeds(config.seed, FN);

  const x = tfl.input({ shape: inputShape });
  let h = x;
  for (const filters of widths) {
    h = applyLayer(
      tfl.layers.conv2d({ filters, kernelSize, strides: 2, padding: 'same', useBias: normalization === 'none', ...seeds.kernel() }),
      h,
    );
    h = normAndActivate(h, normalization, activation, leakyReluAlpha);
  }
  h = withLabel(applyLayer(tfl.layers.flatten(), h), labels, config, seeds);
  const mean = applyLayer(tfl.layers.dense({ units: latentDim, ...seeds.kernel() }), h);
  const logVar = applyLayer(tfl.layers.dense({ units: latentDim, ...seeds.kernel() }), h);
  return tfl.model({ inputs: [x, ...labels], outputs: [mean, logVar], name });
}
