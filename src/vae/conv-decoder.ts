/**
 * Convolutional VAE decoder.
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

/** Config of {@link convDecoder}. @category VAE */
export interface ConvDecoderConfig extends VaeConditioning {
  /** Size of the latent space. Required. */
  latentDim: number;
  /** Shape of one image `[height, width, channels]`. Required. */
  outputShape: [number, number, number] | number[];
  /**
   * Filters of the stride-2 transposed convolutions, one per doubling; height and width must
   * be divisible by `2^widths.length`. Default `[64, 32]` (the TF CVAE tutorial).
   */
  widths?: number[];
  /** Kernel size of the transposed convolutions. Default 3. */
  kernelSize?: number;
  /** Hidden activation. Default `'relu'`. */
  activation?: Activation;
  /** Slope of the leaky ReLU, when `activation` is `'leakyRelu'`. Default 0.2. */
  leakyReluAlpha?: number;
  /** Normalization after each hidden layer. Default `'none'`. */
  normalization?: Normalization;
  /** Model name. Default: assigned by tfjs-layers. */
  name?: string;
  /**
   * Seed of the initial weights: each layer's initializer gets its own seed derived from this
   * one, so the same seed builds identical weights. Default: unseeded (tfjs' global random state).
   */
  seed?: number;
}

const FN = 'vae.convDecoder';
const KEYS = [
  'latentDim',
  'outputShape',
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
 * A convolutional decoder p(x | z) returning logits, after the TensorFlow CVAE tutorial:
 * `z [⊕ embed(label)] → dense(H/2^n · W/2^n · widths[0]) → act → reshape
 *  → [conv2dTranspose(w, k, stride 2) → norm → act] per width → conv2dTranspose(C, k, stride 1)`.
 *
 * Input: `z` `[batch, latentDim]` (plus `label` when `numClasses` is set).
 * Output: logits `[batch, H, W, C]`.
 *
 * @see https://arxiv.org/abs/1312.6114 (Kingma & Welling, Auto-Encoding Variational Bayes)
 * @see https://www.tensorflow.org/tutorials/generative/cvae
 * @param config See {@link ConvDecoderConfig}.
 * @returns A `tf.LayersModel`.
 * @example
 * ```ts
 * const decoder = vae.convDecoder({ latentDim: 2, outputShape: [28, 28, 1] });
 * const logits = decoder.predict(tf.randomNormal([8, 2])); // [8, 28, 28, 1]
 * ```
 * @category VAE
 */
export function convDecoder(config: ConvDecoderConfig): tfl.LayersModel {
  checkConfig(config, KEYS, FN);
  const {
    latentDim,
    outputShape,
    widths = [64, 32],
    kernelSize = 3,
    activation = 'relu',
    leakyReluAlpha = 0.2,
    normalization = 'none',
    name,
  } = config;
  assertPositiveInt(latentDim, 'config.latentDim', FN);
  checkImageShape(outputShape, 'config.outputShape', FN);
  assertPositiveIntArray(widths, 'config.widths', FN);
  checkNonEmptyWidths(widths, FN);
  const [startHeight, startWidth] = checkHalving(outputShape, widths.length, 'config.outputShape', FN, 'config.widths');
  assertPositiveInt(kernelSize, 'config.kernelSize', FN);
  checkHidden(config, FN);
  checkName(name, FN);
  const labels = vaeLabelInputs(config, FN);
  const seeds = layerSeeds(config.seed, FN);

  const z = tfl.input({ shape: [latentDim] });
  let h = withLabel(z, labels, config, seeds);
  h = applyLayer(
    tfl.layers.dense({ units: startHeight * startWidth * widths[0]!, useBias: normalization === 'none', ...seeds.kernel() }),
    h,
  );
  h = normAndActivate(h, normalization, activation, leakyReluAlpha);
  h = applyLayer(tfl.layers.reshape({ targetShape: [startHeight, startWidth, widths[0]!] }), h);
  for (const filters of widths) {
    h = applyLayer(
      tfl.layers.conv2dTranspose({
        filters,
        kernelSize,
        strides: 2,
        padding: 'same',
        useBias: normalization === 'none',
        ...seeds.kernel(),
      }),
      h,
    );
    h = normAndActivate(h, normalization, activation, leakyReluAlpha);
  }
  h = applyLayer(tfl.layers.conv2dTranspose({ filters: outputShape[2]!, kernelSize, strides: 1, padding: 'same', ...seeds.kernel() }), h);
  return tfl.model({ inputs: [z, ...labels], outputs: h, name });
}
