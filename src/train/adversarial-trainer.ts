/**
 * The adversarial trainer.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { ArgumentError, ConfigError, ShapeError } from '../errors.js';
import { assertFloatTensor, assertKnownKeys, assertNumber, assertPositiveInt, formatShape } from '../validation.js';
import {
  assertLabelValues,
  assertNonEmptyBatch,
  checkAdversarialConfig,
  checkCodes,
  checkLabels,
  floatLabelInputs,
  resolveStep,
  rememberValuesInRange,
  runUpdate,
  STEP_CONFIG_KEYS,
  uniformCodes,
  type AdversarialStepConfig,
  type ResolvedStep,
  type UpdateData,
} from './adversarial-step.js';
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

/** The fields of {@link AdversarialTrainerConfig}: the step's, the trainer's, and `TrainerOptions`' (`seed`, `onNonFinite`). */
const CONFIG_KEYS = [
  ...STEP_CONFIG_KEYS,
  'discriminatorSteps',
  'generatorSteps',
  'ema',
  'latentDim',
  'conditional',
  'seed',
  'onNonFinite',
] as const;

/**
 * Trains a GAN: per step, `discriminatorSteps` discriminator updates then `generatorSteps`
 * generator updates (see `train.adversarialStep`), an optional EMA of the generator, one
 * read of the losses, callbacks. Logs every term of both objectives by name (see
 * `train.adversarialObjectives`): `discriminator`, `generator`, and `penalty`, `code`,
 * `classReal`, `classFake` or your own terms' names when configured; a name in both objectives
 * is logged from the last generator update.
 *
 * Batch labels of conditional networks are checked without a synchronous read (no GPU stall
 * per step on WebGL/WebGPU): their dtype and shape before the step; their range `[0, numClasses)`
 * from an asynchronous read awaited with the losses, the step running meanwhile on labels
 * clamped into range. A batch with an out-of-range label throws an `ArgumentError` naming
 * `batch.y` and is rolled back like a non-finite step: it updates no weight, optimizer slot or
 * counter.
 *
 * Randomness (noise, penalty interpolation, codes, your terms' `context.seed(name)`) is drawn
 * from named streams whose seeds derive from `seed`, the step position and the stream's name,
 * so a run is reproducible and a resumed run continues the same streams.
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
  private readonly resolved: ResolvedStep;
  private readonly labelRules: LabelRules;
  /** The discriminator's symbolic input shape (`null` when it declares none), read on the first batch: it does not change. */
  private inputShape: (number | null)[] | null | undefined;
  /** The current batch's label values, read asynchronously, when their range is still to check. */
  private pendingLabels: { labels: tf.Tensor; values: Promise<ArrayLike<number>>; fn: string } | undefined;

  constructor(config: AdversarialTrainerConfig) {
    checkAdversarialConfig(config, FN);
    assertKnownKeys(config, CONFIG_KEYS, 'config', FN);
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
    this.labelRules = checkConditioning(config, this.conditional);
    this.stepConfig = {
      generator,
      discriminator,
      loss: config.loss,
      penalty: config.penalty,
      generatorOptimizer: config.generatorOptimizer,
      discriminatorOptimizer: config.discriminatorOptimizer,
      latentCode: config.latentCode,
      auxiliaryClassifier: config.auxiliaryClassifier,
      discriminatorTerms: config.discriminatorTerms,
      generatorTerms: config.generatorTerms,
    };
    this.resolved = resolveStep(this.stepConfig, {
      generator: trainableVariables(generator),
      discriminator: trainableVariables(discriminator),
    });
    this.average = ema === undefined ? undefined : new ExponentialMovingAverage(this.resolved.variables.generator, { decay: ema });
  }

  /** The averaged generator weights (non-trainable variables, in `trainableWeights` order), when `ema` is set. */
  get emaWeights(): readonly tf.Variable[] | undefined {
    return this.average?.variables;
  }

  /** @internal */
  protected stateVariables(): VariableGroup[] {
    const groups: VariableGroup[] = [
      { name: 'generator', variables: allVariables(this.generator), network: this.generator },
      { name: 'discriminator', variables: allVariables(this.discriminator), network: this.discriminator },
    ];
    if (this.average) groups.push({ name: 'ema', variables: this.average.variables });
    return groups;
  }

  /** @internal */
  protected stateOptimizers(): OptimizerGroup[] {
    return [
      { name: 'generatorOptimizer', optimizer: this.stepConfig.generatorOptimizer, variables: this.resolved.variables.generator },
      {
        name: 'discriminatorOptimizer',
        optimizer: this.stepConfig.discriminatorOptimizer,
        variables: this.resolved.variables.discriminator,
      },
    ];
  }

  protected checkBatch(batch: TrainingBatch, fn: string): void {
    this.pendingLabels = undefined; // a step that threw before settleStep leaves nothing behind
    const { x, y } = batch;
    assertFloatTensor(x, 'batch.x', fn);
    const expected = (this.inputShape ??= symbolicShape(this.discriminator.inputs) ?? null);
    if (expected && !matchesSymbolic(x.shape, expected)) {
      throw new ShapeError({
        fn,
        arg: 'batch.x',
        expected: `have the discriminator's input shape ${formatSymbolic(expected)}`,
        received: `shape ${formatShape(x.shape)}`,
        hint:
          x.rank !== expected.length ? `Reshape the examples to rank ${expected.length} (e.g. add the channel axis of images)` : undefined,
      });
    }
    if (x.rank < 2) {
      throw new ShapeError({
        fn,
        arg: 'batch.x',
        expected: 'have rank 2 or more ([batch, ...])',
        received: `shape ${formatShape(x.shape)}`,
      });
    }
    assertNonEmptyBatch(x, 'batch.x', fn);
    if (this.conditional && y === undefined) {
      throw new ArgumentError({
        fn,
        arg: 'batch.y',
        expected: 'hold labels (the networks are conditional)',
        received: 'undefined',
        hint: 'Build batches with data.batches(images, { labels, batchSize })',
      });
    }
    if (y !== undefined && this.conditional && y.shape[0] !== x.shape[0]) {
      throw new ShapeError({
        fn,
        arg: 'batch.y',
        expected: `have ${x.shape[0]} labels like batch.x`,
        received: `shape ${formatShape(y.shape)}`,
      });
    }
    if (y !== undefined && this.conditional && checkLabels(y, 'batch.y', x.shape[0]!, fn, { ...this.labelRules, range: 'later' })) {
      // No synchronous read (a GPU stall every step on WebGL/WebGPU): the values are read now,
      // asynchronously, and checked in settleStep, before the step is kept.
      const values = y.data() as Promise<ArrayLike<number>>;
      values.catch(() => undefined); // awaited in settleStep; never an unhandled rejection if the step throws first
      this.pendingLabels = { labels: y, values, fn };
    }
  }

  /**
   * Checks that the batch's labels were in `[0, numClasses)`: read asynchronously, with the
   * step's own read, so a conditional step makes no synchronous read. A bad batch throws the
   * same `ArgumentError` as before, and the trainer rolls the step back (weights, optimizer
   * state, EMA and counters as after the last good step). The step itself ran on labels
   * clamped into range ({@link AdversarialTrainer.trainStep}), so an out-of-range label never
   * indexes past an embedding (wasm does not check). @internal
   */
  protected override settleStep(): Promise<void> | undefined {
    const pending = this.pendingLabels;
    if (pending === undefined) return undefined;
    this.pendingLabels = undefined;
    const numClasses = this.labelRules.numClasses!;
    return pending.values.then((values) => {
      assertLabelValues(values, 'batch.y', pending.fn, numClasses);
      rememberValuesInRange(pending.labels, numClasses);
    });
  }

  protected trainStep(batch: TrainingBatch, position: number): Record<string, tf.Scalar> {
    // Labels whose range settleStep has yet to check are clamped into range for the step.
    const pending = this.pendingLabels !== undefined;
    const labels = pending ? clampLabels(batch.y!, this.labelRules.numClasses!) : this.conditional ? batch.y : undefined;
    const d = this.runUpdates(batch.x, labels, position, 'discriminator', this.discriminatorSteps);
    const g = this.runUpdates(batch.x, labels, position, 'generator', this.generatorSteps);
    this.average?.update(this.step);
    // The last update of each network, `discriminator` and `generator` first; a term in both
    // objectives is logged from the generator's.
    const losses: Record<string, tf.Scalar> = { discriminator: d['discriminator']!, generator: g['generator']! };
    for (const name in d) losses[name] = d[name]!;
    for (const name in g) losses[name] = g[name]!;
    return losses;
  }

  /** Runs `count` updates of one network and returns the last one's terms. */
  private runUpdates(
    real: tf.Tensor,
    labels: tf.Tensor | undefined,
    position: number,
    update: 'discriminator' | 'generator',
    count: number,
  ): Record<string, tf.Scalar> {
    let out: Record<string, tf.Scalar> | undefined;
    for (let k = 0; k < count; k++) {
      const data = this.updateData(real, labels, position, update, k);
      const next = runUpdate(this.resolved, update, data);
      // An earlier update's terms, and the noise and codes each update drew, are not needed past it.
      if (out !== undefined) for (const name in out) out[name]!.dispose();
      data.noise.dispose();
      data.codes?.dispose();
      out = next;
    }
    return out!;
  }

  /**
   * The data of update `k` of one network in the step at `position`: its noise (and InfoGAN
   * codes) drawn from named streams, e.g. `'discriminator/1/noise'`, which (run seed, position,
   * name) fix.
   */
  private updateData(
    real: tf.Tensor,
    labels: tf.Tensor | undefined,
    position: number,
    update: 'discriminator' | 'generator',
    k: number,
  ): UpdateData {
    const runSeed = this.seed;
    // A method, not an arrow function assigned to a name: no per-step renaming under
    // keepNames transforms (tsx, esbuild), and it needs no `this` when passed around.
    const streams = {
      seed(stream: string): number {
        return stepSeed(runSeed, position, legacyStream(update, k, stream) ?? `${update}/${k}/${stream}`);
      },
    };
    const n = real.shape[0]!;
    const noise = tf.randomNormal([n, this.latentDim], 0, 1, 'float32', streams.seed('noise'));
    const codes = this.latentCode ? uniformCodes(n, this.latentCode.categories, streams.seed('codes')) : undefined;
    return { real, noise, labels, codes, seed: streams.seed };
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
        throw new ShapeError({
          fn,
          arg: 'nOrNoise',
          expected: `have shape [n,${this.latentDim}]`,
          received: `shape ${formatShape(nOrNoise.shape)}`,
        });
      }
    }
    const { labels, seed } = options;
    if (this.conditional && labels === undefined) {
      throw new ArgumentError({
        fn,
        arg: 'options.labels',
        expected: 'hold one label per sample (the generator is conditional)',
        received: 'undefined',
      });
    }
    const n = typeof nOrNoise === 'number' ? nOrNoise : nOrNoise.shape[0]!;
    if (this.latentCode && labels !== undefined) checkCodes(labels, 'options.labels', n, this.latentCode.categories, fn);
    return tf.tidy(() => {
      const noise = typeof nOrNoise === 'number' ? tf.randomNormal([nOrNoise, this.latentDim], 0, 1, 'float32', seed) : nOrNoise;
      const codes = this.latentCode
        ? (labels ?? uniformCodes(n, this.latentCode.categories, seed === undefined ? undefined : stepSeed(seed, 0, 0)))
        : undefined;
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

/**
 * The numbered streams of the draws that existed before streams had names (noise, penalty and
 * InfoGAN codes of update `k`): they keep their numbers, so that a seeded run draws what it drew
 * before and recorded results reproduce. Every other stream is hashed from its name.
 */
function legacyStream(update: 'discriminator' | 'generator', k: number, stream: string): number | undefined {
  if (update === 'discriminator') {
    if (stream === 'noise') return 2 * k;
    if (stream === 'penalty') return 2 * k + 1;
    if (stream === 'codes') return 2_000_000 + k;
    return undefined;
  }
  if (stream === 'noise') return 1_000_000 + k;
  if (stream === 'codes') return 3_000_000 + k;
  return undefined;
}

/**
 * `labels` clamped into `[0, numClasses)`, on device (no read): what a step runs on while the
 * values are checked asynchronously, so an out-of-range label never indexes past an embedding.
 * `minimum`/`maximum`, not `clipByValue`: the wasm backend's ClipByValue does not clamp int32.
 */
function clampLabels(labels: tf.Tensor, numClasses: number): tf.Tensor {
  return tf.tidy(() => tf.minimum(tf.maximum(labels, tf.scalar(0, 'int32')), tf.scalar(numClasses - 1, 'int32')));
}

/** How batch labels are checked: their class count (when the networks tell it) and whether float labels are allowed. */
interface LabelRules {
  numClasses?: number;
  float?: boolean;
}

/** A layer of a `tf.LayersModel`, as far as {@link labelClasses} reads it. */
interface LayerLike {
  getClassName(): string;
  getConfig(): { inputDim?: unknown };
  inboundNodes?: { inputTensors?: unknown[] }[];
  layer?: LayerLike;
}

/**
 * The class count of a network's label input: the `inputDim` of the embedding that reads it
 * (possibly wrapped, e.g. in spectral normalization), when the network is a `tf.LayersModel`.
 */
function labelClasses(net: AdversarialStepConfig['generator']): number | undefined {
  const label = net.inputs?.[1];
  const layers = (net as { layers?: LayerLike[] }).layers;
  if (label === undefined || !Array.isArray(layers)) return undefined;
  for (const layer of layers) {
    if (!layer.inboundNodes?.some((node) => node.inputTensors?.includes(label))) continue;
    const inner = layer.getClassName() === 'Embedding' ? layer : layer.layer?.getClassName() === 'Embedding' ? layer.layer : undefined;
    const dim = inner?.getConfig().inputDim;
    if (typeof dim === 'number') return dim;
  }
  return undefined;
}

/**
 * Checks at construction that the generator, the discriminator, the labels and the latent size
 * fit together, and returns how batch labels are to be checked.
 */
function checkConditioning(config: AdversarialTrainerConfig, conditional: boolean): LabelRules {
  const { generator, discriminator, latentCode, auxiliaryClassifier } = config;
  const z = symbolicShape(generator.inputs, 0);
  if (config.latentDim !== undefined && z?.length === 2 && typeof z[1] === 'number' && z[1] !== config.latentDim) {
    throw new ConfigError({
      fn: FN,
      arg: 'config.latentDim',
      expected: `match the generator's noise input ${formatSymbolic(z)}`,
      received: String(config.latentDim),
      hint: 'Leave latentDim out: the trainer reads it from the generator',
    });
  }
  const gInputs = generator.inputs?.length;
  const dInputs = discriminator.inputs?.length;
  const dOutputs = discriminator.outputs?.length;
  if (latentCode !== undefined && dInputs !== undefined && dInputs > 1) {
    throw new ConfigError({
      fn: FN,
      arg: 'config.discriminator',
      expected: 'take the sample alone with config.latentCode',
      received: `a discriminator with ${dInputs} inputs`,
      hint: "InfoGAN uses no labels: build the discriminator with head: 'acgan' (its Q), not 'projection'",
    });
  }
  if (latentCode !== undefined) return {};
  if (!conditional) {
    if (gInputs !== undefined && gInputs > 1) {
      throw new ConfigError({
        fn: FN,
        arg: 'config.conditional',
        expected: 'be true (or left out) with a generator taking [noise, label]',
        received: 'false',
        hint: 'A conditional generator needs the batch labels; build an unconditional one (no numClasses) to train without labels',
      });
    }
    if (dInputs !== undefined && dInputs > 1) {
      throw new ConfigError({
        fn: FN,
        arg: 'config.discriminator',
        expected: 'take the sample alone, like the generator (which takes no labels)',
        received: `a discriminator with ${dInputs} inputs [x, label]`,
        hint: 'Give the generator the labels too (numClasses in its builder), or build the discriminator without a label input',
      });
    }
    return {};
  }
  if (gInputs !== undefined && gInputs < 2) {
    throw new ConfigError({
      fn: FN,
      arg: 'config.generator',
      expected: 'take two inputs [noise, label] with config.conditional',
      received: 'a generator with 1 input',
      hint: 'Build a conditional generator (numClasses in its builder), or leave conditional out',
    });
  }
  if (auxiliaryClassifier === undefined && dInputs !== undefined && dInputs < 2) {
    // A conditional generator against a discriminator that never sees the labels trains as if unconditional.
    throw new ConfigError({
      fn: FN,
      arg: 'config.discriminator',
      expected: 'see the labels when the generator is conditional: a label input (the projection head) or an auxiliary classifier',
      received: `a discriminator with 1 input and ${dOutputs ?? 1} output${dOutputs === 1 ? '' : 's'}`,
      hint:
        dOutputs === 2
          ? 'Its two outputs look like an AC-GAN head: set config.auxiliaryClassifier: { numClasses }'
          : "Build it with head: 'projection' and numClasses, or with head: 'acgan' and config.auxiliaryClassifier",
    });
  }
  const counts = [
    ['config.generator', labelClasses(generator)],
    ['config.discriminator', labelClasses(discriminator)],
    ['config.auxiliaryClassifier.numClasses', auxiliaryClassifier?.numClasses],
  ].filter((entry): entry is [string, number] => entry[1] !== undefined);
  const [first, ...others] = counts;
  for (const [arg, count] of others) {
    if (count !== first![1]) {
      throw new ConfigError({
        fn: FN,
        arg,
        expected: `agree on the number of classes with ${first![0]} (${first![1]})`,
        received: `${count} classes`,
        hint: 'Build both networks with the same numClasses',
      });
    }
  }
  // Labels feed an embedding (int32) unless the networks declare float label inputs (a continuous condition).
  return { numClasses: first?.[1], float: floatLabelInputs(config) };
}
