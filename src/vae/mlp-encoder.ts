/**
 * Fully connected VAE encoder.
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

/** Config of {@link mlpEncoder}. @category VAE */
export interface MlpEncoderConfig extends VaeConditioning {
  /** Shape of one input sample, e.g. `[28, 28, 1]` or `[784]`. Required. */
  inputShape: number[];
  /** Size of the latent space. Required. */
  latentDim: number;
  /** Units of the hidden dense layers. Default `[512, 256]`. */
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

const FN = 'vae.mlpEncoder';
const KEYS = [
  'inputShape',
  'latentDim',
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
 * A fully connected Gaussian encoder q(z | x) (Kingma & Welling 2014):
 * `x → flatten [⊕ embed(label)] → [dense → norm → act] × widths.length`, then two linear
 * heads for the posterior mean and log-variance.
 *
 * Input: `x` `[batch, ...inputShape]` (plus `label` when `numClasses` is set).
 * Outputs: `[mean, logVar]`, each `[batch, latentDim]`.
 *
 * @see https://arxiv.org/abs/1312.6114 (Kingma & Welling, Auto-Encoding Variational Bayes)
 * @param config See {@link MlpEncoderConfig}.
 * @returns A `tf.LayersModel` with outputs `[mean, logVar]`.
 * @example
 * ```ts
 * const encoder = vae.mlpEncoder({ inputShape: [28, 28, 1], latentDim: 2 });
 * const [mean, logVar] = encoder.predict(images) as tf.Tensor[];
 * ```
 * @category VAE
 */
export function mlpEncoder(config: MlpEncoderConfig): tfl.LayersModel {
  checkConfig(config, KEYS, FN);
  const { inputShape, latentDim, widths = [512, 256], activation = 'relu', leakyReluAlpha = 0.2, normalization = 'none', name } = config;
  checkDataShape(inputShape, 'config.inputShape', FN);
  assertPositiveInt(latentDim, 'config.latentDim', FN);
  assertPositiveIntArray(widths, 'config.widths', FN);
  checkHidden(config, FN);
  checkName(name, FN);
  const labels = vaeLabelInputs(config, FN);
  const seeds = layerSeeds(config.seed, FN);

  const x = tfl.input({ shape: inputShape });
  let h = withLabel(inputShape.length > 1 ? applyLayer(tfl.layers.flatten(), x) : x, labels, config, seeds);
  for (const units of widths) {
    h = applyLayer(tfl.layers.dense({ units, useBias: normalization === 'none', ...seeds.kernel() }), h);
    h = normAndActivate(h, normalization, activation, leakyReluAlpha);
  }
  const mean = applyLayer(tfl.layers.dense({ units: latentDim, ...seeds.kernel() }), h);
  const logVar = applyLayer(tfl.layers.dense({ units: latentDim, ...seeds.kernel() }), h);
  return tfl.model({ inputs: [x, ...labels], outputs: [mean, logVar], name });
}
