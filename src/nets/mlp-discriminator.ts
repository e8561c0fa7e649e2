/**
 * Fully connected discriminator.
 *
 * @module
 */
import * as tfl from '@tensorflow/tfjs-layers';

import { assertPositiveIntArray } from '../validation.js';
import {
  type Activation,
  activationLayer,
  applyLayer,
  checkConfig,
  checkDataShape,
  checkHidden,
  checkName,
  layerSeeds,
  maybeSpectral,
  type Normalization,
  normalizationLayer,
} from './common.js';
import { checkHead, type DiscriminatorConditioning, discriminatorLabelInputs, discriminatorOutputs } from './discriminator-head.js';

/** Config of {@link mlpDiscriminator}. @category Networks */
export interface MlpDiscriminatorConfig extends DiscriminatorConditioning {
  /** Shape of one input sample, e.g. `[28, 28, 1]` or `[784]`. Required. */
  inputShape: number[];
  /** Units of the hidden dense layers. Default `[512, 256]`. */
  widths?: number[];
  /** Hidden activation. Default `'leakyRelu'` (slope 0.2). */
  activation?: Activation;
  /** Slope of the leaky ReLU for negative inputs. Default 0.2. */
  leakyReluAlpha?: number;
  /** Normalization after each hidden layer but the first. Default `'none'` (keeps WGAN-GP valid). */
  normalization?: Normalization;
  /** Dropout rate after each hidden activation. Default 0 (none). */
  dropout?: number;
  /** Wrap every dense layer in {@link SpectralNormalization}. Default false. */
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

const FN = 'nets.mlpDiscriminator';
const KEYS = [
  'inputShape',
  'widths',
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
 * A fully connected discriminator ending in a linear layer (logits):
 * `x → flatten → [dense → norm → act → dropout] × widths.length → dense(1)`, plus the
 * optional AC-GAN or projection head (see {@link DiscriminatorConditioning}).
 *
 * Input: `x` `[batch, ...inputShape]` (plus `label` for the projection head).
 * Output: logits `[batch, 1]` (plus class logits for AC-GAN).
 *
 * @see https://arxiv.org/abs/1406.2661 (Goodfellow et al., Generative Adversarial Networks)
 * @param config See {@link MlpDiscriminatorConfig}.
 * @returns A `tf.LayersModel`.
 * @example
 * ```ts
 * const discriminator = nets.mlpDiscriminator({ inputShape: [28, 28, 1], spectralNorm: true });
 * const logits = discriminator.predict(images); // [batch, 1]
 * ```
 * @category Networks
 */
export function mlpDiscriminator(config: MlpDiscriminatorConfig): tfl.LayersModel {
  checkConfig(config, KEYS, FN);
  const {
    inputShape,
    widths = [512, 256],
    activation = 'leakyRelu',
    leakyReluAlpha = 0.2,
    normalization = 'none',
    dropout = 0,
    spectralNorm = false,
    name,
  } = config;
  checkDataShape(inputShape, 'config.inputShape', FN);
  assertPositiveIntArray(widths, 'config.widths', FN);
  checkHidden(config, FN);
  const head = checkHead(config, FN);
  checkName(name, FN);
  const seeds = layerSeeds(config.seed, FN);

  const x = tfl.input({ shape: inputShape });
  const labels = discriminatorLabelInputs(head);
  let h = inputShape.length > 1 ? applyLayer(tfl.layers.flatten(), x) : x;
  widths.forEach((units, i) => {
    const norm = i > 0 ? normalizationLayer(normalization) : null;
    h = applyLayer(maybeSpectral(tfl.layers.dense({ units, useBias: norm === null, ...seeds.kernel() }), spectralNorm, seeds), h);
    if (norm) h = applyLayer(norm, h);
    h = applyLayer(activationLayer(activation, leakyReluAlpha), h);
    if (dropout > 0) h = applyLayer(tfl.layers.dropout({ rate: dropout }), h);
  });
  const outputs = discriminatorOutputs(h, head, config.numClasses, labels, spectralNorm, seeds);
  return tfl.model({ inputs: [x, ...labels], outputs, name });
}
