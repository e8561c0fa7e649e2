/**
 * The adversarial trainer.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { ArgumentError, ConfigError, ShapeError } from '../errors.js';
import { assertFloatTensor, assertNumber, assertPositiveInt, formatShape } from '../validation.js';
import { adversarialStepUnchecked, checkAdversarialConfig, checkCodes, uniformCodes, type AdversarialStepConfig, type StepVariables } from './adversarial-step.js';
import { ExponentialMovingAverage } from './optim/ema.js';
import { allVariables, applyNetwork, formatSymbolic, matchesSymbolic, symbolicShape, trainableVariables } from './network.js';
import { stepSeed } from './seed.js';
import type { OptimizerGroup, VariableGroup } from './state.js';
import { Trainer, type SampleOptions, type TrainerOptions, type TrainingBatch } from './trainer.js';

/** Config of {@link AdversarialTrainer}. @category Training */
export interface AdversarialTrainerConfig extends AdversarialStepConfig, TrainerOptions {
  /** Discriminator updates per step (n_critic; WGAN-GP uses 5). Each draws fresh noise on the same real batch. Default 1. */
  discriminatorSteps?: number;
  /** Generator updates per step. Default 1. */
  generatorSteps?: number;
  /**
   * Keep an exponential moving average of the generator's trainable weights with this decay
   * (e.g. 0.999); `sample` and `sampleGrid` then use the average. Default: off.
   */
  ema?: number;
  /** Latent size. Default: the generator's input shape `[null, latentDim]`. */
  latentDim?: number;
  /**
   * Conditional GAN: batches carry labels `y`, passed as a second input to both networks
   * (fakes get the real batch's labels). Default: true when the generator has two inputs and
   * there is no `latentCode` (an InfoGAN generator's second input is its code, drawn by the
   * trainer: batches need no labels).
   */
  conditional?: boolean;
}

const FN = 'train.AdversarialTrainer';

/**
 * Trains a GAN: per step, `discriminatorSteps` discriminator updates then `generatorSteps`
 * generator updates (see `train.adversarialStep`), an optional EMA of the generator, one
 * read of the losses, callbacks. Logs `discriminator`, `generator` and `penalty` (when set).
 *
 * Randomness (noise, penalty interpolation) is drawn from seeds derived from `seed` and the
 * step position, so a run is reproducible and a resumed run continues the same stream.
 *
 * @see https://arxiv.org/abs/1406.2661 (Goodfellow et al. 2014)
 * @see https://arxiv.org/abs/1704.00028 (n_critic and the gradient penalty: Gulrajani et al. 2017)
 * @see https://arxiv.org/abs/1806.04498 (generator weight averaging: Yazıcı et al. 2019)
 * @example
 * ```ts
 * const trainer = new train.AdversarialTrainer({
 *   generator, discriminator, loss: losses.gan.nonSaturating,
 *   generatorOptimizer: tf.train.adam(2e-4, 0.5),
 *   discriminatorOptimizer: tf.train.adam(2e-4, 0.5),
 *   seed: 1, ema: 0.999,
 * });
 * await trainer.fit(data.batches(images, { batchSize: 64, shuffle: true, seed: 1 }), {
 *   epochs: 5, callbacks: [train.progressBar(), train.history()],
 * });
 * const samples = await trainer.sample(16);
 * ```
 * @category Training
 */
export class AdversarialTrainer extends Trainer {
  /** The generator. */
  readonly generator: AdversarialStepConfig['generator'];
  /** The discriminator. */
  readonly discriminator: AdversarialStepConfig['discriminator'];
  /** Size of the latent space (the generator's noise input). */
  readonly latentDim: number;
  override readonly sampleRange = '[-1,1]' as const;
  /** Whether batches carry labels for both networks. */
  readonly conditional: boolean;
  /** The InfoGAN categorical code, when configured: the trainer draws codes uniformly each update. */
  readonly latentCode: AdversarialStepConfig['latentCode'];
  /** Discriminator updates per step. */
  readonly discriminatorSteps: number;
  /** Generator updates per step. */
  readonly generatorSteps: number;
  protected readonly kind = 'adversarial';
  protected readonly fnName = FN;
  private readonly stepConfig: AdversarialStepConfig;
  private readonly average: ExponentialMovingAverage | undefined;
  private readonly stepVariables: StepVariables;

  constructor(config: AdversarialTrainerConfig) {
    checkAdversarialConfig(config, FN);
    super(config, FN);
    const { generator, discriminator, discriminatorSteps = 1, generatorSteps = 1, ema } = config;
    assertPositiveInt(discriminatorSteps, 'config.discriminatorSteps', FN);
    assertPositiveInt(generatorSteps, 'config.generatorSteps', FN);
    if (ema !== undefined) assertNumber(ema, 'config.ema', FN, { min: 0, max: 1, maxExclusive: true });
    this.generator = generator;
    this.discriminator = discriminator;
    this.discriminatorSteps = discriminatorSteps;
    this.generatorSteps = generatorSteps;
    if (config.latentCode !== undefined && config.conditional === true) {
      throw new ConfigError({
        fn: FN,
        arg: 'config.conditional',
        expected: 'be false or undefined with config.latentCode',
        received: 'true',
        hint: "The generator's second input carries the InfoGAN code; label-conditional InfoGAN is not supported",
      });
    }
    this.latentCode = config.latentCode;
    this.conditional = config.conditional ?? (config.latentCode === undefined && (generator.inputs?.length ?? 1) > 1);
    this.latentDim = resolveLatentDim(config);
    checkShapesAgree(config);
    this.stepConfig = {
      generator,
      discriminator,
      loss: config.loss,
      penalty: config.penalty,
      generatorOptimizer: config.generatorOptimizer,
      discriminatorOptimizer: config.discriminatorOptimizer,
      latentCode: config.latentCode,
    };
    this.stepVariables = { generator: trainableVariables(generator), discriminator: trainableVariables(discriminator) };
    this.average = ema === undefined ? undefined : new ExponentialMovingAverage(this.stepVariables.generator, { decay: ema });
  }

  /** The averaged generator weights (non-trainable variables, in `trainableWeights` order), when `ema` is set. */
  get emaWeights(): readonly tf.Variable[] | undefined {
    return this.average?.variables;
  }

  /** @internal */
  protected stateVariables(): VariableGroup[] {
    const groups: VariableGroup[] = [
      { name: 'generator', variables: allVariables(this.generator) },
      { name: 'discriminator', variables: allVariables(this.discriminator) },
    ];
    if (this.average) groups.push({ name: 'ema', variables: this.average.variables });
    return groups;
  }

  /** @internal */
  protected stateOptimizers(): OptimizerGroup[] {
    return [
      { name: 'generatorOptimizer', optimizer: this.stepConfig.generatorOptimizer },
      { name: 'discriminatorOptimizer', optimizer: this.stepConfig.discriminatorOptimizer },
    ];
  }

  protected checkBatch(batch: TrainingBatch, fn: string): void {
    const { x, y } = batch;
    assertFloatTensor(x, 'batch.x', fn);
    const expected = symbolicShape(this.discriminator.inputs);
    if (expected && !matchesSymbolic(x.shape, expected)) {
      throw new ShapeError({
        fn,
        arg: 'batch.x',
        expected: `have the discriminator's input shape ${formatSymbolic(expected)}`,
        received: `shape ${formatShape(x.shape)}`,
        hint: x.rank !== expected.length ? `Reshape the examples to rank ${expected.length} (e.g. add the channel axis of images)` : undefined,
      });
    }
    if (x.rank < 2) {
      throw new ShapeError({ fn, arg: 'batch.x', expected: 'have rank 2 or more ([batch, ...])', received: `shape ${formatShape(x.shape)}` });
    }
    if (this.conditional && y === undefined) {
      throw new ArgumentError({ fn, arg: 'batch.y', expected: 'hold labels (the networks are conditional)', received: 'undefined', hint: 'Build batches with data.batches(images, { labels, batchSize })' });
    }
    if (y !== undefined && this.conditional && y.shape[0] !== x.shape[0]) {
      throw new ShapeError({ fn, arg: 'batch.y', expected: `have ${x.shape[0]} labels like batch.x`, received: `shape ${formatShape(y.shape)}` });
    }
  }

  protected trainStep(batch: TrainingBatch, position: number): Record<string, tf.Scalar> {
    const labels = this.conditional ? batch.y : undefined;
    const n = batch.x.shape[0]!;
    const noiseOf = (stream: number) => tf.randomNormal([n, this.latentDim], 0, 1, 'float32', stepSeed(this.seed, position, stream));
    const codesOf = (stream: number) => (this.latentCode ? uniformCodes(n, this.latentCode.categories, stepSeed(this.seed, position, stream)) : undefined);
    let d: tf.Scalar | undefined;
    let p: tf.Scalar | undefined;
    let g: tf.Scalar | undefined;
    let c: tf.Scalar | undefined;
    for (let k = 0; k < this.discriminatorSteps; k++) {
      const noise = noiseOf(2 * k);
      const codes = codesOf(2_000_000 + k);
      const out = adversarialStepUnchecked(this.stepConfig, batch.x, noise, noise, labels, stepSeed(this.seed, position, 2 * k + 1), 'discriminator', this.stepVariables, codes);
      tf.dispose([d, p, noise, codes]);
      d = out.discriminator;
      p = out.penalty;
    }
    for (let k = 0; k < this.generatorSteps; k++) {
      const noise = noiseOf(1_000_000 + k);
      const codes = codesOf(3_000_000 + k);
      const out = adversarialStepUnchecked(this.stepConfig, batch.x, noise, noise, labels, undefined, 'generator', this.stepVariables, codes);
      tf.dispose([g, c, noise, codes]);
      g = out.generator;
      c = out.code;
    }
    this.average?.update(this.step);
    const logs: Record<string, tf.Scalar> = { discriminator: d!, generator: g! };
    if (p) logs['penalty'] = p;
    if (c) logs['code'] = c;
    return logs;
  }

  /**
   * Generates samples with `{ training: false }`, from the EMA weights when `ema` is set.
   *
   * With a `latentCode`, `labels` are the codes (int32 `[n]` in `[0, K)`, e.g. one row of a
   * grid per category); without them the codes are drawn uniformly, as in training.
   *
   * @param nOrNoise - number of samples, or noise `[n, latentDim]`.
   * @param options - `labels` `[n]` for a conditional generator (or the codes of an InfoGAN
   *   generator); `seed` of the noise (and of the drawn codes).
   * @returns samples `[n, ...]` shaped like the generator's output (the caller disposes them).
   */
  override async sample(nOrNoise: number | tf.Tensor, options: SampleOptions = {}): Promise<tf.Tensor> {
    const fn = `${FN}.sample`;
    if (typeof nOrNoise === 'number') assertPositiveInt(nOrNoise, 'nOrNoise', fn);
    else {
      assertFloatTensor(nOrNoise, 'nOrNoise', fn, 2);
      if (nOrNoise.shape[1] !== this.latentDim) {
        throw new ShapeError({ fn, arg: 'nOrNoise', expected: `have shape [n,${this.latentDim}]`, received: `shape ${formatShape(nOrNoise.shape)}` });
      }
    }
    const { labels, seed } = options;
    if (this.conditional && labels === undefined) {
      throw new ArgumentError({ fn, arg: 'options.labels', expected: 'hold one label per sample (the generator is conditional)', received: 'undefined' });
    }
    const n = typeof nOrNoise === 'number' ? nOrNoise : nOrNoise.shape[0]!;
    if (this.latentCode && labels !== undefined) checkCodes(labels, 'options.labels', n, this.latentCode.categories, fn);
    return tf.tidy(() => {
      const noise = typeof nOrNoise === 'number' ? tf.randomNormal([nOrNoise, this.latentDim], 0, 1, 'float32', seed) : nOrNoise;
      const codes = this.latentCode ? (labels ?? uniformCodes(n, this.latentCode.categories, seed === undefined ? undefined : stepSeed(seed, 0, 0))) : undefined;
      const run = () => applyNetwork(this.generator, noise, this.conditional ? labels : codes, false, 'generator', fn);
      return this.average ? this.average.withAverage(run) : run();
    });
  }

  /**
   * Runs `f` with the generator holding the weights `sample` uses (the EMA when enabled),
   * then puts the training weights back: e.g. to save the averaged generator.
   *
   * @param f - sync or async work on `trainer.generator`; do not train while it runs.
   * @returns what `f` returns.
   * @example
   * ```ts
   * await trainer.withSamplingWeights(() => saveModel(trainer.generator as tf.LayersModel, 'out/generator'));
   * ```
   */
  async withSamplingWeights<T>(f: () => T | Promise<T>): Promise<T> {
    return this.average ? this.average.withAverage(async () => f()) : f();
  }

  /** Frees the EMA weights (the networks and optimizers stay the caller's). */
  override dispose(): void {
    this.average?.dispose();
  }
}

function resolveLatentDim(config: AdversarialTrainerConfig): number {
  if (config.latentDim !== undefined) {
    assertPositiveInt(config.latentDim, 'config.latentDim', FN);
    return config.latentDim;
  }
  const shape = symbolicShape(config.generator.inputs);
  const dim = shape?.length === 2 ? shape[1] : undefined;
  if (typeof dim !== 'number') {
    throw new ConfigError({
      fn: FN,
      arg: 'config.latentDim',
      expected: 'be given when the generator has no input shape [null, latentDim]',
      received: shape ? `a generator with input shape ${formatSymbolic(shape)}` : 'a generator without symbolic inputs',
    });
  }
  return dim;
}

function checkShapesAgree(config: AdversarialTrainerConfig): void {
  const out = symbolicShape(config.generator.outputs);
  const input = symbolicShape(config.discriminator.inputs);
  if (!out || !input) return;
  const agree = out.length === input.length && out.every((d, i) => i === 0 || d === null || input[i] === null || d === input[i]);
  if (!agree) {
    throw new ConfigError({
      fn: FN,
      arg: 'config.discriminator',
      expected: `take the generator's output shape ${formatSymbolic(out)} as input`,
      received: `a discriminator with input shape ${formatSymbolic(input)}`,
      hint: 'Build both networks for the same data shape (e.g. outputShape and inputShape [28,28,1])',
    });
  }
}

