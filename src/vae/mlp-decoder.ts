/**
 * Fully connected VAE decoder.
 *
 * @module
 */
import * as tfl from '@tensorflow/tfjs-layers';

import {
  type Activation,
  applyLayer,
  checkConfig,
  checkDataShape,
  checkHidden,
  checkName,
  layerSeeds,
  type Normalization,
  normAndActivate,
} from '../nets/common.js';
import { assertPositiveInt, assertPositiveIntArray } from '../validation.js';
import { type VaeConditioning, vaeLabelInputs, withLabel } from './conditioning.js';

/** Config of {@link mlpDecoder}. @category VAE */
export interface MlpDecoderConfig extends VaeConditioning {
  /** Size of the latent space. Required. */
  latentDim: number;
  /** Shape of one output sample, e.g. `[28, 28, 1]` or `[784]`. Required. */
  outputShape: number[];
  /** Units of the hidden dense layers. Default `[256, 512]`. */
  widths?: number[];
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

const FN = 'vae.mlpDecoder';
const KEYS = [
  'latentDim',
  'outputShape',
  'widths',
  'activation',
  'leakyReluAlpha',
  'normalization',
  'numClasses',
  'labelEmbeddingDim',
  'name',
  'seed',
] as const;

/**
 * A fully connected decoder p(x | z) returning logits (no output activation: a Bernoulli
 * likelihood takes them as they are, `sigmoid(logits)` gives the mean image):
 * `z [⊕ embed(label)] → [dense → norm → act] × widths.length → dense(prod(outputShape)) → reshape`.
 *
 * Input: `z` `[batch, latentDim]` (plus `label` when `numClasses` is set).
 * Output: logits `[batch, ...outputShape]`.
 *
 * @see https://arxiv.org/abs/1312.6114 (Kingma & Welling, Auto-Encoding Variational Bayes)
 * @param config See {@link MlpDecoderConfig}.
 * @returns A `tf.LayersModel`.
 * @example
 * ```ts
 * const decoder = vae.mlpDecoder({ latentDim: 2, outputShape: [28, 28, 1] });
 * const logits = decoder.predict(tf.randomNormal([8, 2])); // [8, 28, 28, 1]
 * ```
 * @category VAE
 */
export function mlpDecoder(config: MlpDecoderConfig): tfl.LayersModel {
  checkConfig(config, KEYS, FN);
  const { latentDim, outputShape, widths = [256, 512], activation = 'relu', leakyReluAlpha = 0.2, normalization = 'none', name } = config;
  assertPositiveInt(latentDim, 'config.latentDim', FN);
  checkDataShape(outputShape, 'config.outputShape', FN);
  assertPositiveIntArray(widths, 'config.widths', FN);
  checkHidden(config, FN);
  checkName(name, FN);
  const labels = vaeLabelInputs(config, FN);
  const seeds = layerSeeds(config.seed, FN);

  const z = tfl.input({ shape: [latentDim] });
  let h = withLabel(z, labels, config, seeds);
  for (const units of widths) {
    h = applyLayer(tfl.layers.dense({ units, useBias: normalization === 'none', ...seeds.kernel() }), h);
    h = normAndActivate(h, normalization, activation, leakyReluAlpha);
  }
  h = applyLayer(tfl.layers.dense({ units: outputShape.reduce((a, b) => a * b, 1), ...seeds.kernel() }), h);
  h = applyLayer(tfl.layers.reshape({ targetShape: outputShape }), h);
  return tfl.model({ inputs: [z, ...labels], outputs: h, name });
}
