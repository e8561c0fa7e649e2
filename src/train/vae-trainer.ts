/**
 * The VAE trainer.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { ArgumentError, ConfigError, ShapeError } from '../errors.js';
import { elbo, type ElboFunction, type ElboOptions } from '../losses/vae/elbo.js';
import {
  assertFloatTensor,
  assertKnownKeys,
  assertNonNegativeInt,
  assertNumber,
  assertPositiveInt,
  describe,
  formatShape,
} from '../validation.js';
import { reparameterize } from '../vae/reparameterize.js';
import type { Logs } from './callbacks/callback.js';
import { ModelTrainer, type ModelStepContext } from './model-trainer.js';
import { assertNetwork, formatSymbolic, matchesSymbolic, symbolicShape, type Network } from './network.js';
import type { SampleOptions, TrainerOptions, TrainingBatch } from './trainer.js';

/** Config of {@link VaeTrainer}. Give `model` (from `vae.assemble`) or `encoder` and `decoder`. @category Training */
export interface VaeTrainerConfig extends TrainerOptions {
  /** A VAE with outputs `[logits, mean, logVar]`, e.g. `vae.assemble({ encoder, decoder })`. */
  model?: Network;
  /** Encoder `x → [mean, logVar]` (with `decoder`, instead of `model`; z is drawn by the trainer from its seed). */
  encoder?: Network;
  /** Decoder `z → logits`. With `model`, used by `sample` (default: the last nested model of `model`). */
  decoder?: Network;
  /** Optimizer of all trainable weights. */
  optimizer: tf.Optimizer;
  /** Likelihood and its options for `losses.vae.elbo` (its `beta` is ignored: see `beta`). Default `{ likelihood: 'bernoulli' }`. */
  elbo?: Omit<ElboOptions, 'beta'>;
  /** Weight of the KL term (β-VAE), or a schedule `(step) => β`. Default 1. */
  beta?: number | ((step: number) => number);
  /** KL warm-up: β rises linearly from 0 to `beta` over this many steps (Bowman et al. 2016). Default 0 (off). */
  warmupSteps?: number;
}

const FN = 'train.VaeTrainer';
const KNOWN_KEYS = ['seed', 'onNonFinite', 'model', 'encoder', 'decoder', 'optimizer', 'elbo', 'beta', 'warmupSteps'] as const;

/**
 * Trains a VAE (Kingma & Welling 2014) by minimizing `reconstruction + β·KL` with one
 * optimizer: a {@link ModelTrainer} whose terms are the ELBO's and whose KL weight is β. Logs `loss` (the minimized value), `reconstruction`, `kl`, `negativeElbo`
 * (`reconstruction + kl`, the β = 1 bound, in nats per example) and `beta`.
 *
 * ```text
 * β_t = beta(t) · min(1, t / warmupSteps)
 * loss = E_q[−log p(x|z)] + β_t · KL(q(z|x) ‖ N(0, I))
 * ```
 *
 * @see https://arxiv.org/abs/1312.6114 (Kingma & Welling 2014)
 * @see https://arxiv.org/abs/1511.06349 (KL warm-up: Bowman et al. 2016)
 * @example
 * ```ts
 * const encoder = vae.mlpEncoder({ inputShape: [784], latentDim: 8 });
 * const decoder = vae.mlpDecoder({ latentDim: 8, outputShape: [784] });
 * const trainer = new train.VaeTrainer({
 *   model: vae.assemble({ encoder, decoder }), decoder,
 *   optimizer: tf.train.adam(1e-3), warmupSteps: 1000, seed: 1,
 * });
 * await trainer.fit(data.batches(images, { batchSize: 128, shuffle: true, seed: 1 }), { epochs: 10 });
 * ```
 * @category Training
 */
export class VaeTrainer extends ModelTrainer {
  /** Size of the latent space (the decoder's input). */
  readonly latentDim: number;
  override readonly sampleRange = '[0,1]' as const;
  /** The model (when given). */
  readonly model: Network | undefined;
  /** The encoder (when given). */
  readonly encoder: Network | undefined;
  /** The decoder used by `sample`. */
  readonly decoder: Network | undefined;
  protected override readonly kind = 'vae';
  protected override readonly fnName = FN;
  private readonly terms: ElboFunction;
  private readonly likelihood: 'bernoulli' | 'gaussian';
  private readonly beta: (step: number) => number;
  private readonly conditional: boolean;

  constructor(config: VaeTrainerConfig) {
    if (config === null || typeof config !== 'object') {
      throw new ConfigError({ fn: FN, arg: 'config', expected: 'be a config object', received: describe(config) });
    }
    assertKnownKeys(config, KNOWN_KEYS, 'config', FN);
    const { model, encoder, decoder, optimizer, beta = 1, warmupSteps = 0, seed, onNonFinite } = config;
    if (model !== undefined) {
      assertNetwork(model, 'config.model', FN);
      if (encoder !== undefined) {
        throw new ConfigError({
          fn: FN,
          arg: 'config.encoder',
          expected: 'be left out when config.model is given',
          received: describe(encoder),
          hint: 'Pass either model (and optionally decoder for sampling) or encoder and decoder',
        });
      }
    } else {
      assertNetwork(encoder, 'config.encoder', FN);
      assertNetwork(decoder, 'config.decoder', FN);
    }
    if (decoder !== undefined) assertNetwork(decoder, 'config.decoder', FN);
    if (optimizer == null || !(optimizer instanceof tf.Optimizer)) {
      throw new ConfigError({
        fn: FN,
        arg: 'config.optimizer',
        expected: 'be a tf.Optimizer such as tf.train.adam(1e-3)',
        received: describe(optimizer),
      });
    }
    if (typeof beta !== 'function') assertNumber(beta, 'config.beta', FN, { min: 0 });
    assertNonNegativeInt(warmupSteps, 'config.warmupSteps', FN);
    const models: Record<string, Network> = model ? { model } : { encoder: encoder!, decoder: decoder! };
    if (Object.values(models).every((n) => n.trainableWeights.length === 0)) {
      throw new ConfigError({
        fn: FN,
        arg: model ? 'config.model' : 'config.encoder',
        expected: 'have trainable weights',
        received: 'networks with none',
      });
    }
    const base = typeof beta === 'function' ? beta : () => beta;
    const betaAt = (t: number) => {
      const value = base(t);
      // A schedule returning a negative or non-finite β would turn the ELBO upside down.
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        throw new ConfigError({
          fn: FN,
          arg: 'config.beta',
          expected: 'return a finite number >= 0 at every step',
          received: `${describe(value)} at step ${t}`,
        });
      }
      return value * (warmupSteps > 0 ? Math.min(1, t / warmupSteps) : 1);
    };
    // loss = reconstruction + β_t·kl: the ELBO's terms, with β as the KL term's weight.
    super({ models, optimizer, lossWeights: { kl: betaAt }, seed, onNonFinite }, FN);
    const elboOptions = config.elbo ?? {};
    this.likelihood = elboOptions.likelihood ?? 'bernoulli';
    this.terms = elbo({ ...elboOptions, beta: 1 });
    this.beta = betaAt;
    this.model = model;
    this.encoder = encoder;
    this.decoder = decoder ?? (model instanceof tfl.LayersModel ? nestedDecoder(model) : undefined);
    this.conditional = ((model ?? encoder)!.inputs?.length ?? 1) > 1;
    this.latentDim = resolveLatentDim(model, encoder, this.decoder);
  }

  /** @internal */
  protected override checkBatch(batch: TrainingBatch, fn: string): void {
    assertFloatTensor(batch.x, 'batch.x', fn);
    const expected = symbolicShape((this.model ?? this.encoder)!.inputs);
    if (expected && !matchesSymbolic(batch.x.shape, expected)) {
      throw new ShapeError({
        fn,
        arg: 'batch.x',
        expected: `have the model's input shape ${formatSymbolic(expected)}`,
        received: `shape ${formatShape(batch.x.shape)}`,
      });
    }
    if (this.conditional && batch.y === undefined) {
      throw new ArgumentError({ fn, arg: 'batch.y', expected: 'hold labels (the VAE is conditional)', received: 'undefined' });
    }
  }

  /** The ELBO's terms `reconstruction` and `kl` (β is their weight); logs `negativeElbo` = reconstruction + kl. */
  protected override computeTerms(batch: TrainingBatch, context: ModelStepContext): Record<string, tf.Scalar> {
    const { x, y } = batch;
    const inputs = this.conditional ? [x, y!] : x;
    let logits: tf.Tensor;
    let mean: tf.Tensor;
    let logVar: tf.Tensor;
    if (this.model) {
      [logits, mean, logVar] = outputs(this.model.apply(inputs, { training: true }), 3, 'config.model');
    } else {
      [mean, logVar] = outputs(this.encoder!.apply(inputs, { training: true }), 2, 'config.encoder');
      const z = reparameterize(mean, logVar, { seed: context.seed(0) });
      logits = outputs(this.decoder!.apply(this.conditional ? [z, y!] : z, { training: true }), 1, 'config.decoder')[0]!;
    }
    const { reconstruction, kl } = this.terms(logits, x, mean, logVar);
    context.log('negativeElbo', tf.add(reconstruction, kl));
    return { reconstruction, kl };
  }

  protected override extraLogs(position: number): Logs {
    return { beta: this.beta(position) };
  }

  /**
   * Decodes `n` latent draws z ~ N(0, I) (or the given `z` `[n, latentDim]`) with
   * `{ training: false }`: the decoder's mean, `sigmoid(logits)` for the Bernoulli likelihood.
   *
   * @param nOrNoise - number of samples, or `z`.
   * @param options - `labels` for a conditional decoder; `seed` of z.
   * @returns samples `[n, ...dataShape]`.
   */
  override async sample(nOrNoise: number | tf.Tensor, options: SampleOptions = {}): Promise<tf.Tensor> {
    const fn = `${FN}.sample`;
    assertKnownKeys(options, ['seed', 'labels'], 'options', fn);
    const decoder = this.decoder;
    if (!decoder) {
      throw new ConfigError({
        fn,
        arg: 'config.decoder',
        expected: 'be given to sample',
        received: 'undefined',
        hint: 'Pass decoder alongside model',
      });
    }
    if (typeof nOrNoise === 'number') assertPositiveInt(nOrNoise, 'nOrNoise', fn);
    else assertFloatTensor(nOrNoise, 'nOrNoise', fn, 2);
    return tf.tidy(() => {
      const z = typeof nOrNoise === 'number' ? tf.randomNormal([nOrNoise, this.latentDim], 0, 1, 'float32', options.seed) : nOrNoise;
      const logits = outputs(decoder.apply(options.labels ? [z, options.labels] : z, { training: false }), 1, 'config.decoder')[0]!;
      return this.likelihood === 'bernoulli' ? tf.sigmoid(logits) : logits;
    });
  }
}

function outputs(out: unknown, count: number, arg: string): tf.Tensor[] {
  const list = out instanceof tf.Tensor ? [out] : Array.isArray(out) ? (out as tf.Tensor[]) : [];
  if (list.length !== count || !list.every((t) => t instanceof tf.Tensor)) {
    const expected =
      count === 3
        ? 'return [logits, mean, logVar] (build it with vae.assemble)'
        : count === 2
          ? 'return [mean, logVar]'
          : 'return one logits tensor';
    throw new ArgumentError({ fn: FN, arg, expected, received: Array.isArray(out) ? `${out.length} outputs` : describe(out) });
  }
  return list;
}

function nestedDecoder(model: tfl.LayersModel): Network | undefined {
  const nested = model.layers.filter((l): l is tfl.LayersModel => l instanceof tfl.LayersModel);
  return nested.length >= 2 ? nested[nested.length - 1] : undefined;
}

function resolveLatentDim(model: Network | undefined, encoder: Network | undefined, decoder: Network | undefined): number {
  const fromDecoder = symbolicShape(decoder?.inputs)?.[1];
  const fromOutputs = symbolicShape((model ?? encoder)?.outputs, model ? 1 : 0)?.[1];
  const dim = fromDecoder ?? fromOutputs;
  return typeof dim === 'number' ? dim : 0;
}
