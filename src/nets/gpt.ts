/**
 * A GPT (decoder-only transformer) builder after nanoGPT / minGPT.
 *
 * @module
 */
import * as tfl from '@tensorflow/tfjs-layers';

import { ConfigError } from '../errors.js';
import { LayerNorm } from '../layers/layer-norm.js';
import { TokenPositionEmbedding } from '../layers/token-position-embedding.js';
import { TransformerBlock } from '../layers/transformer-block.js';
import { assertKnownKeys, assertNumber, assertOneOf, assertPositiveInt, describe } from '../validation.js';

const FN = 'nets.gpt';

/** Named sizes of {@link gpt}: minGPT's `gpt-nano`, `gpt-micro` and `gpt-mini`. @category Networks */
export type GptPreset = 'nano' | 'micro' | 'mini';

/** The size fields a {@link GptPreset} sets. @category Networks */
export interface GptSize {
  /** Number of transformer blocks. */
  layers: number;
  /** Attention heads per block. */
  heads: number;
  /** Embedding width. */
  width: number;
}

/**
 * The numbers of each {@link GptPreset} (minGPT's `model.py`): `nano` 3 layers, 3 heads, width
 * 48; `micro` 4 layers, 4 heads, width 128 (also nanoGPT's CPU configuration for Shakespeare);
 * `mini` 6 layers, 6 heads, width 192.
 *
 * @category Networks
 */
export const GPT_PRESETS: Readonly<Record<GptPreset, GptSize>> = {
  nano: { layers: 3, heads: 3, width: 48 },
  micro: { layers: 4, heads: 4, width: 128 },
  mini: { layers: 6, heads: 6, width: 192 },
};

/** Config of {@link gpt}. @category Networks */
export interface GptConfig {
  /** Number of distinct tokens V. Required. */
  vocabSize: number;
  /** Longest context T_max (the position table's rows). Required. */
  blockSize: number;
  /** Named size setting `layers`, `heads` and `width` (see {@link GPT_PRESETS}); explicit fields win. Default `'micro'`. */
  preset?: GptPreset;
  /** Number of transformer blocks. Default: the preset's. */
  layers?: number;
  /** Attention heads per block (must divide `width`). Default: the preset's. */
  heads?: number;
  /** Embedding width C. Default: the preset's. */
  width?: number;
  /** Dropout on the embeddings, attention weights and residual branches (training only). Default 0. */
  dropout?: number;
  /** Whether linear layers and layer norms have biases (nanoGPT's `bias`). Default true. */
  bias?: boolean;
  /** Whether the output head reuses the token embedding (`Eᵀ`). Default true (GPT-2, nanoGPT). */
  tieWeights?: boolean;
  /** Seed of every initializer (and of dropout). Default: unseeded. */
  seed?: number;
  /** Model name. Default `'gpt'`. */
  name?: string;
}

/**
 * A GPT language model (Radford et al. 2019; Karpathy's nanoGPT and minGPT): token ids `[B, T]`
 * (int32, `T <= blockSize`) to next-token logits `[B, T, V]`:
 *
 *     h₀ = E[ids] + P[0…T−1],   hₗ = Blockₗ(hₗ₋₁) (pre-LN, causal),   logits = LN(h_L) Eᵀ
 *
 * Initialisation as nanoGPT: every linear and embedding weight `N(0, 0.02²)`, biases 0, and
 * the two projections into the residual stream of each block (`attn.c_proj`, `mlp.c_proj`)
 * `N(0, (0.02 / √(2·layers))²)`. Layer norms use ε = 1e-5. Logit `t` depends only on
 * ids `0…t`.
 *
 * The result is a plain `tf.LayersModel` (`summary()`, `save()`, `predict()` work); its
 * layers are {@link layers.TokenPositionEmbedding}, {@link layers.TransformerBlock} × `layers`,
 * a {@link layers.LayerNorm}, and (untied) a bias-free dense head. `autoregressive.generate`
 * recognises this structure and decodes with a key/value cache.
 *
 * @see https://github.com/karpathy/nanoGPT/blob/master/model.py
 * @see https://d4mucfpksywv.cloudfront.net/better-language-models/language_models_are_unsupervised_multitask_learners.pdf (GPT-2)
 * @param config See {@link GptConfig}.
 * @returns A `tf.LayersModel` mapping int32 ids `[B, T]` to float32 logits `[B, T, vocabSize]`.
 * @throws {@link ConfigError} for a missing or invalid field, or `heads` not dividing `width`.
 * @example
 * ```ts
 * const model = nets.gpt({ vocabSize: 65, blockSize: 64, preset: 'nano', seed: 1 });
 * const logits = model.predict(tf.tensor2d([[1, 2, 3]], [1, 3], 'int32')); // [1, 3, 65]
 * ```
 * @category Networks
 */
export function gpt(config: GptConfig): tfl.LayersModel {
  assertKnownKeys(
    config,
    ['vocabSize', 'blockSize', 'preset', 'layers', 'heads', 'width', 'dropout', 'bias', 'tieWeights', 'seed', 'name'],
    'config',
    FN,
  );
  if (config === undefined)
    throw new ConfigError({ fn: FN, arg: 'config', expected: 'be an object with vocabSize and blockSize', received: 'undefined' });
  const { vocabSize, blockSize, preset = 'micro', dropout = 0, bias = true, tieWeights = true, seed, name = 'gpt' } = config;
  assertPositiveInt(vocabSize, 'config.vocabSize', FN);
  assertPositiveInt(blockSize, 'config.blockSize', FN);
  assertOneOf(preset, ['nano', 'micro', 'mini'] as const, 'config.preset', FN);
  const { layers = GPT_PRESETS[preset].layers, heads = GPT_PRESETS[preset].heads, width = GPT_PRESETS[preset].width } = config;
  assertPositiveInt(layers, 'config.layers', FN);
  assertPositiveInt(heads, 'config.heads', FN);
  assertPositiveInt(width, 'config.width', FN);
  if (width % heads !== 0)
    throw new ConfigError({ fn: FN, arg: 'config.heads', expected: `divide config.width (${width})`, received: String(heads) });
  assertNumber(dropout, 'config.dropout', FN, { min: 0, max: 1, maxExclusive: true });
  for (const [key, value] of [
    ['bias', bias],
    ['tieWeights', tieWeights],
  ] as const) {
    if (typeof value !== 'boolean')
      throw new ConfigError({ fn: FN, arg: `config.${key}`, expected: 'be a boolean', received: describe(value) });
  }
  if (seed !== undefined) assertNumber(seed, 'config.seed', FN, { integer: true });
  // Layer k's initializers get seeds seed + 10·k + i (each layer offsets its own weights by i < 10).
  const layerSeed = (k: number) => (seed === undefined ? undefined : seed + 10 * k);

  const ids = tfl.input({ shape: [null], dtype: 'int32', name: `${name}_ids` });
  const embedding = new TokenPositionEmbedding({ vocabSize, blockSize, width, dropout, seed: layerSeed(0), name: `${name}_embedding` });
  let h = embedding.apply(ids) as tfl.SymbolicTensor;
  const projectionStddev = 0.02 / Math.sqrt(2 * layers);
  for (let l = 0; l < layers; l++) {
    const block = new TransformerBlock({
      heads,
      dropout,
      useBias: bias,
      stddev: 0.02,
      projectionStddev,
      seed: layerSeed(l + 1),
      name: `${name}_block_${l}`,
    });
    h = block.apply(h) as tfl.SymbolicTensor;
  }
  h = new LayerNorm({ epsilon: 1e-5, center: bias, name: `${name}_final_norm` }).apply(h) as tfl.SymbolicTensor;
  const head = tieWeights
    ? embedding
    : tfl.layers.dense({
        units: vocabSize,
        useBias: false,
        kernelInitializer: tfl.initializers.randomNormal({ mean: 0, stddev: 0.02, seed: layerSeed(layers + 1) }),
        name: `${name}_head`,
      });
  const logits = head.apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: ids, outputs: logits, name });
}
