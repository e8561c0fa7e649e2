/**
 * DCGAN generator for images of any size that halves cleanly.
 *
 * @module
 */
import * as tfl from '@tensorflow/tfjs-layers';

import { ConfigError } from '../errors.js';
import { assertOneOf, assertPositiveInt, assertPositiveIntArray } from '../validation.js';
import {
  type Activation,
  activationLayer,
  applyLayer,
  checkConfig,
  checkHalving,
  checkHidden,
  checkNonEmptyWidths,
  checkImageShape,
  checkName,
  layerSeeds,
  defaultStages,
  defaultWidths,
  type Normalization,
  normAndActivate,
  OUTPUT_ACTIVATIONS,
  type OutputActivation,
} from './common.js';
import { type GeneratorConditioning, generatorInputs } from './generator-input.js';

/** Config of {@link dcganGenerator}. @category Networks */
export interface DcganGeneratorConfig extends GeneratorConditioning {
  /** Size of the latent vector `z`. Required. */
  latentDim: number;
  /** Shape of one image `[height, width, channels]`, e.g. `[28, 28, 1]`, `[32, 32, 3]`, `[64, 64, 3]`. Required. */
  outputShape: [number, number, number] | number[];
  /**
   * Number of stride-2 transposed convolutions (each doubles height and width). Default: the
   * number of times height and width halve cleanly while staying at least 4 (28: 2, 32: 3,
   * 64: 4), capped at `widths.length`. Height and width must be divisible by `2^stages`.
   */
  stages?: number;
  /**
   * Channels of the feature maps: `widths[0]` for the dense projection (reshaped to
   * `[height/2^stages, width/2^stages, widths[0]]`), then one transposed convolution per
   * further entry. Default `[64·2^stages, ..., 128, 64]` capped at 512 (28x28: `[256, 128, 64]`).
   * Needs at least `stages` entries.
   */
  widths?: number[];
  /** Kernel size of the transposed convolutions. Default 5. */
  kernelSize?: number;
  /** Hidden activation. Default `'leakyRelu'`. */
  activation?: Activation;
  /** Slope of the leaky ReLU for negative inputs. Default 0.2 (the TF tutorial uses Keras' 0.3). */
  leakyReluAlpha?: number;
  /** Normalization after each hidden layer (before the activation). Default `'batch'`. */
  normalization?: Normalization;
  /** Output activation. Default `'tanh'` (images scaled to [-1, 1]). */
  outputActivation?: OutputActivation;
  /** Model name. Default: assigned by tfjs-layers. */
  name?: string;
  /**
   * Seed of the initial weights: each layer's initializer gets its own seed derived from this
   * one, so the same seed builds identical weights. Default: unseeded (tfjs' global random state).
   */
  seed?: number;
}

const FN = 'nets.dcganGenerator';
const KEYS = [
  'latentDim',
  'outputShape',
  'stages',
  'widths',
  'kernelSize',
  'activation',
  'leakyReluAlpha',
  'normalization',
  'outputActivation',
  'numClasses',
  'labelEmbeddingDim',
  'name',
  'seed',
] as const;

/**
 * A DCGAN generator (Radford et al. 2015). With the defaults for `[28, 28, 1]` it is the
 * generator of the TensorFlow DCGAN tutorial:
 *
 * `z → dense(7·7·256, no bias) → BN → LeakyReLU → reshape [7,7,256]
 *    → conv2dTranspose(128, 5, stride 1) → BN → LeakyReLU
 *    → conv2dTranspose(64, 5, stride 2) → BN → LeakyReLU
 *    → conv2dTranspose(1, 5, stride 2) → tanh`.
 *
 * In general the dense layer projects to `[H/2^s, W/2^s, widths[0]]` and a transposed
 * convolution follows for each further width and for the output channels; the last `s`
 * (`stages`) of them have stride 2. Layers followed by normalization have no bias.
 *
 * Inputs: `z` `[batch, latentDim]` (plus `label` int32 `[batch, 1]` when `numClasses` is set).
 * Output: images `[batch, H, W, C]`.
 *
 * @see https://arxiv.org/abs/1511.06434 (Radford et al., DCGAN)
 * @see https://www.tensorflow.org/tutorials/generative/dcgan
 * @param config See {@link DcganGeneratorConfig}.
 * @returns A `tf.LayersModel`.
 * @example
 * ```ts
 * const generator = nets.dcganGenerator({ latentDim: 100, outputShape: [32, 32, 3] });
 * const images = generator.predict(tf.randomNormal([4, 100])); // [4, 32, 32, 3]
 * ```
 * @category Networks
 */
export function dcganGenerator(config: DcganGeneratorConfig): tfl.LayersModel {
  checkConfig(config, KEYS, FN);
  const { latentDim, outputShape } = config;
  assertPositiveInt(latentDim, 'config.latentDim', FN);
  checkImageShape(outputShape, 'config.outputShape', FN);
  const [height, width, channels] = outputShape;
  if (config.widths !== undefined) assertPositiveIntArray(config.widths, 'config.widths', FN);
  checkNonEmptyWidths(config.widths, FN);
  if (config.stages !== undefined) assertPositiveInt(config.stages, 'config.stages', FN);
  const naturalStages = defaultStages(height, width);
  const stages = config.stages ?? (config.widths ? Math.min(naturalStages, config.widths.length) : naturalStages);
  const [startHeight, startWidth] = checkHalving(
    outputShape,
    stages,
    'config.outputShape',
    FN,
    config.stages ? 'config.stages' : 'the default',
  );
  const widths = config.widths ?? defaultWidths(stages + 1);
  if (widths.length < stages) {
    throw new ConfigError({
      fn: FN,
      arg: 'config.widths',
      expected: `have at least ${stages} entries (one per stride-2 stage, config.stages = ${stages})`,
      received: `[${widths.join(',')}]`,
    });
  }
  const {
    kernelSize = 5,
    activation = 'leakyRelu',
    leakyReluAlpha = 0.2,
    normalization = 'batch',
    outputActivation = 'tanh',
    name,
  } = config;
  assertPositiveInt(kernelSize, 'config.kernelSize', FN);
  checkHidden(config, FN);
  assertOneOf(outputActivation, OUTPUT_ACTIVATIONS, 'config.outputActivation', FN);
  checkName(name, FN);
  const seeds = layerSeeds(config.seed, FN);

  const useBias = normalization === 'none';
  const { inputs, features } = generatorInputs(latentDim, config, FN, seeds);
  let x = applyLayer(tfl.layers.dense({ units: startHeight * startWidth * widths[0]!, useBias, ...seeds.kernel() }), features);
  x = normAndActivate(x, normalization, activation, leakyReluAlpha);
  x = applyLayer(tfl.layers.reshape({ targetShape: [startHeight, startWidth, widths[0]!] }), x);
  // widths.length transposed convolutions: widths[1..] then the output channels; the last
  // `stages` of them double the spatial size.
  const filters = [...widths.slice(1), channels];
  filters.forEach((f, i) => {
    const strides = i >= filters.length - stages ? 2 : 1;
    const last = i === filters.length - 1;
    x = applyLayer(
      tfl.layers.conv2dTranspose({ filters: f, kernelSize, strides, padding: 'same', useBias: last || useBias, ...seeds.kernel() }),
      x,
    );
    x = last
      ? applyLayer(activationLayer(outputActivation, leakyReluAlpha), x)
      : normAndActivate(x, normalization, activation, leakyReluAlpha);
  });
  return tfl.model({ inputs, outputs: x, name });
}
