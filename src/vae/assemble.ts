/**
 * Wires an encoder and a decoder into a full VAE model.
 *
 * @module
 */
import * as tfl from '@tensorflow/tfjs-layers';

import { checkConfig, checkName, type Sym } from '../nets/common.js';
import { ConfigError } from '../errors.js';
import { assertNonNegativeInt, assertOneOf, describe, formatShape } from '../validation.js';
import { Reparameterize } from '../layers/reparameterize.js';

/** Config of {@link assemble}. @category VAE */
export interface AssembleConfig {
  /** Encoder: `x` (or `[x, label]`) to `[mean, logVar]`, each `[batch, latentDim]`. Required. */
  encoder: tfl.LayersModel;
  /** Decoder: `z` (or `[z, label]`) to reconstruction logits shaped like `x`. Required. */
  decoder: tfl.LayersModel;
  /**
   * Conditional VAE: the model takes `[x, label]` and passes `label` to both encoder and
   * decoder, which must then both take two inputs (build them with the same `numClasses`).
   * Default: inferred from the encoder's inputs.
   */
  conditional?: boolean;
  /** What the {@link Reparameterize} layer returns outside training. Default `'sample'`. */
  inference?: 'mean' | 'sample';
  /** Seed of the reparameterization noise. Default: unseeded. */
  seed?: number;
  /** Model name. Default: assigned by tfjs-layers. */
  name?: string;
}

const FN = 'vae.assemble';

/** Number of classes of a model's label input, when its first consumer is an embedding. */
function labelCount(model: tfl.LayersModel): number | undefined {
  const layer = model.inputLayers[1]?.outboundNodes[0]?.outboundLayer;
  if (layer?.getClassName() !== 'Embedding') return undefined;
  return layer.getConfig()['inputDim'] as number;
}

function shapeOf(t: Sym): string {
  return formatShape(t.shape.map((d) => d ?? -1)).replace(/-1/g, 'null');
}

/**
 * The full VAE (Kingma & Welling 2014): `x → encoder → [mean, logVar] → Reparameterize → z →
 * decoder → logits`, as one `tf.LayersModel` whose encoder and decoder stay usable on their
 * own (they are nested, and share weights with the assembled model).
 *
 * Output order (a contract the VAE trainer and losses rely on):
 * **`[reconstructionLogits, mean, logVar]`** — logits `[batch, ...dataShape]`, mean and
 * logVar `[batch, latentDim]`. Inputs: `x`, or `[x, label]` for a conditional VAE (label int32
 * `[batch, 1]`).
 *
 * The {@link Reparameterize} layer samples in training calls and, at inference, samples or
 * returns the mean (`inference`).
 *
 * @see https://arxiv.org/abs/1312.6114 (Kingma & Welling, Auto-Encoding Variational Bayes)
 * @see https://papers.nips.cc/paper/5775 (Sohn et al. 2015, conditional VAE)
 * @param config See {@link AssembleConfig}.
 * @returns A `tf.LayersModel` with outputs `[logits, mean, logVar]`.
 * @example
 * ```ts
 * const encoder = vae.convEncoder({ inputShape: [28, 28, 1], latentDim: 2 });
 * const decoder = vae.convDecoder({ latentDim: 2, outputShape: [28, 28, 1] });
 * const model = vae.assemble({ encoder, decoder });
 * const [logits, mean, logVar] = model.apply(images, { training: true }) as tf.Tensor[];
 * ```
 * @category VAE
 */
export function assemble(config: AssembleConfig): tfl.LayersModel {
  checkConfig(config, ['encoder', 'decoder', 'conditional', 'inference', 'seed', 'name'], FN);
  const { encoder, decoder, inference = 'sample', seed, name } = config;
  for (const [arg, model] of [
    ['config.encoder', encoder],
    ['config.decoder', decoder],
  ] as const) {
    if (!(model instanceof tfl.LayersModel)) {
      throw new ConfigError({ fn: FN, arg, expected: 'be a tf.LayersModel', received: describe(model) });
    }
  }
  assertOneOf(inference, ['mean', 'sample'] as const, 'config.inference', FN);
  if (seed !== undefined) assertNonNegativeInt(seed, 'config.seed', FN);
  checkName(name, FN);

  const conditional = config.conditional ?? encoder.inputs.length === 2;
  const inputCount = conditional ? 2 : 1;
  const role = conditional ? '[x, label]' : 'x';
  if (encoder.inputs.length !== inputCount) {
    throw new ConfigError({
      fn: FN,
      arg: 'config.encoder',
      expected: `take ${inputCount} input(s) (${role})`,
      received: `a model with ${encoder.inputs.length} inputs`,
      hint: conditional ? 'Build the encoder with numClasses' : undefined,
    });
  }
  if (decoder.inputs.length !== inputCount) {
    throw new ConfigError({
      fn: FN,
      arg: 'config.decoder',
      expected: `take ${inputCount} input(s) (${conditional ? '[z, label]' : 'z'}) like the encoder`,
      received: `a model with ${decoder.inputs.length} inputs`,
      hint: 'Build encoder and decoder with the same numClasses',
    });
  }
  if (encoder.outputs.length !== 2 || shapeOf(encoder.outputs[0]!) !== shapeOf(encoder.outputs[1]!) || encoder.outputs[0]!.rank !== 2) {
    throw new ConfigError({
      fn: FN,
      arg: 'config.encoder',
      expected: 'have two outputs [mean, logVar] of the same shape [batch, latentDim]',
      received: `outputs ${encoder.outputs.map(shapeOf).join(', ')}`,
    });
  }
  const latentDim = encoder.outputs[0]!.shape[1]!;
  const decoderLatent = decoder.inputs[0]!;
  if (decoderLatent.rank !== 2 || decoderLatent.shape[1] !== latentDim) {
    throw new ConfigError({
      fn: FN,
      arg: 'config.decoder',
      expected: `take a latent input of shape [null,${latentDim}] (the encoder's latentDim)`,
      received: `input shape ${shapeOf(decoderLatent)}`,
    });
  }
  if (conditional) {
    const encoderClasses = labelCount(encoder);
    const decoderClasses = labelCount(decoder);
    if (encoderClasses !== undefined && decoderClasses !== undefined && encoderClasses !== decoderClasses) {
      throw new ConfigError({
        fn: FN,
        arg: 'config.decoder',
        expected: `take labels of the encoder's ${encoderClasses} classes`,
        received: `a decoder built with numClasses ${decoderClasses}`,
      });
    }
  }

  const x = tfl.input({ shape: encoder.inputs[0]!.shape.slice(1) as number[] });
  const labels = conditional ? [tfl.input({ shape: encoder.inputs[1]!.shape.slice(1) as number[], dtype: 'int32' })] : [];
  const [mean, logVar] = encoder.apply(conditional ? [x, ...labels] : x) as Sym[];
  const z = new Reparameterize({ inference, seed }).apply([mean!, logVar!]) as Sym;
  const logits = decoder.apply(conditional ? [z, ...labels] : z) as Sym;
  return tfl.model({ inputs: [x, ...labels], outputs: [logits, mean!, logVar!], name });
}
