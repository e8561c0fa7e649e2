/**
 * Fully connected generator.
 *
 * @module
 */
import * as tfl from '@tensorflow/tfjs-layers';

import { assertOneOf, assertPositiveInt, assertPositiveIntArray } from '../validation.js';
import {
  type Activation,
  activationLayer,
  applyLayer,
  checkConfig,
  checkDataShape,
  checkHidden,
  checkName,
  layerSeeds,
  type Normalization,
  normAndActivate,
  OUTPUT_ACTIVATIONS,
  type OutputActivation,
} from './common.js';
import { type GeneratorConditioning, generatorInputs } from './generator-input.js';

/** Config of {@link mlpGenerator}. @category Networks */
export interface MlpGeneratorConfig extends GeneratorConditioning {
  /** Size of the latent vector `z`. Required. */
  latentDim: number;
  /** Shape of one generated sample, e.g. `[28, 28, 1]` or `[784]`. Required. */
  outputShape: number[];
  /** Units of the hidden dense layers. Default `[256, 512]`. */
  widths?: number[];
  /** Hidden activation. Default `'leakyRelu'`. */
  activation?: Activation;
  /** Slope of the leaky ReLU for negative inputs. Default 0.2. */
  leakyReluAlpha?: number;
  /** Normalization after each hidden dense layer (before the activation). Default `'batch'`. */
  normalization?: Normalization;
  /** Output activation. Default `'tanh'` (data scaled to [-1, 1]). */
  outputActivation?: OutputActivation;
  /** Model name. Default: assigned by tfjs-layers. */
  name?: string;
  /**
   * Seed of the initial weights: each layer's initializer gets its own seed derived from this
   * one, so the same seed builds identical weights. Default: unseeded (tfjs' global random state).
   */
  seed?: number;
}

const FN = 'nets.mlpGenerator';
const KEYS = [
  'latentDim',
  'outputShape',
  'widths',
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
 * A fully connected generator (Goodfellow et al. 2014):
 * `z → [dense → norm → act] × widths.length → dense(prod(outputShape)) → outputActivation → reshape`.
 *
 * Inputs: `z` `[batch, latentDim]` (plus `label` int32 `[batch, 1]` when `numClasses` is set).
 * Output: samples `[batch, ...outputShape]`.
 *
 * @see https://arxiv.org/abs/1406.2661 (Goodfellow et al., Generative Adversarial Networks)
 * @see https://arxiv.org/abs/1411.1784 (Mirza & Osindero, Conditional GANs: the label embedding)
 * @param config See {@link MlpGeneratorConfig}.
 * @returns A `tf.LayersModel`.
 * @example
 * ```ts
 * const generator = nets.mlpGenerator({ latentDim: 64, outputShape: [28, 28, 1] });
 * const images = generator.predict(tf.randomNormal([16, 64])); // [16, 28, 28, 1] in [-1, 1]
 * ```
 * @category Networks
 */
export function mlpGenerator(config: MlpGeneratorConfig): tfl.LayersModel {
  checkConfig(config, KEYS, FN);
  const {
    latentDim,
    outputShape,
    widths = [256, 512],
    activation = 'leakyRelu',
    leakyReluAlpha = 0.2,
    normalization = 'batch',
    outputActivation = 'tanh',
    name,
  } = config;
  assertPositiveInt(latentDim, 'config.latentDim', FN);
  checkDataShape(outputShape, 'config.outputShape', FN);
  assertPositiveIntArray(widths, 'config.widths', FN);
  checkHidden(config, FN);
  assertOneOf(outputActivation, OUTPUT_ACTIVATIONS, 'config.outputActivation', FN);
  checkName(name, FN);
  const seeds = layerSeeds(config.seed, FN);

  const { inputs, features } = generatorInputs(latentDim, config, FN, seeds);
  let x = features;
  for (const units of widths) {
    x = applyLayer(tfl.layers.dense({ units, useBias: normalization === 'none', ...seeds.kernel() }), x);
    x = normAndActivate(x, normalization, activation, leakyReluAlpha);
  }
  const size = outputShape.reduce((a, b) => a * b, 1);
  x = applyLayer(tfl.layers.dense({ units: size, ...seeds.kernel() }), x);
  x = applyLayer(activationLayer(outputActivation, leakyReluAlpha), x);
  x = applyLayer(tfl.layers.reshape({ targetShape: outputShape }), x);
  return tfl.model({ inputs, outputs: x, name });
}
