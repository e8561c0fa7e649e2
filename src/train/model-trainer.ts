/**
 * The generic trainer: models, optimizers and a loss function of named terms.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { ArgumentError, ConfigError } from '../errors.js';
import { assertKnownKeys, assertNumber, assertOneOf, assertPositiveInt, describe } from '../validation.js';
import { clipByGlobalNorm, globalNormScale } from './optim/clip-by-global-norm.js';
import { AdamWOptimizer } from './optim/adam-w.js';
import { FusedAdamOptimizer } from './optim/fused-adam.js';
import { ExponentialMovingAverage, type ExponentialMovingAverageOptions } from './optim/ema.js';
import { allVariables, assertNetwork, trainableVariables, type Network } from './network.js';
import { fnv1a, stepSeed } from './seed.js';
import type { OptimizerGroup, VariableGroup } from './state.js';
import { Trainer, type SampleOptions, type SampleRange, type TrainerOptions, type TrainingBatch } from './trainer.js';

/**
 * What the loss function of a {@link ModelTrainer} receives besides the batch.
 *
 * @category Training
 */
export interface ModelStepContext<M extends Record<string, Network> = Record<string, Network>> {
  /** The trainer's models, by the names given in `config.models`. */
  readonly models: M;
  /** Steps attempted before this one (skipped ones included): the step's position in the run's random stream. */
  readonly step: number;
  /**
   * Seed of the random stream `stream` (a number or a name) at this step, derived from the run
   * seed and `step`: pass it to `tf.randomNormal(..., seed)` and friends, so that a run is
   * reproducible and a resumed run draws what an uninterrupted one would.
   */
  seed(stream?: number | string): number;
  /** Logs a scalar that is not minimised (an accuracy, a raw KL). The trainer owns and disposes it. */
  log(name: string, value: tf.Scalar): void;
}

/**
 * The loss function of a {@link ModelTrainer}: named scalar terms, computed inside the
 * gradient tape. Their (weighted) sum is minimised; each is logged under its name and the sum
 * as `loss`.
 *
 * @category Training
 */
export type LossTerms<M extends Record<string, Network> = Record<string, Network>> = (
  batch: TrainingBatch,
  context: ModelStepContext<M>,
) => Record<string, tf.Scalar>;

/** One optimizer and the models whose trainable weights it updates. @category Training */
export interface OptimizerAssignment<Name extends string = string> {
  /** The optimizer, e.g. `tf.train.adam(1e-3)`. */
  optimizer: tf.Optimizer;
  /** Names of the models (keys of `config.models`) it updates. */
  models: readonly Name[];
}

/** The `ema` option of {@link ModelTrainer}: {@link ExponentialMovingAverage}'s options and which models to average. @category Training */
export interface ModelTrainerEmaOptions<Name extends string = string> extends ExponentialMovingAverageOptions {
  /** Names of the models whose trainable weights are averaged. Default: every trained model. */
  models?: readonly Name[];
}

/** Config of {@link ModelTrainer}. @category Training */
export interface ModelTrainerConfig<M extends Record<string, Network> = Record<string, Network>> extends TrainerOptions {
  /** The models, by name (the names are used in checkpoints and in `optimizers`). */
  models: M;
  /** Loss terms of one batch, e.g. `(batch, { models }) => ({ crossEntropy: ... })`. Required, unless a subclass overrides `computeTerms`. */
  loss?: LossTerms<M>;
  /** One optimizer for the trainable weights of every model (or give `optimizers`). */
  optimizer?: tf.Optimizer;
  /** One optimizer per group of models, by name (saved in checkpoints under that name). Models in no group are not trained. */
  optimizers?: Record<string, OptimizerAssignment<keyof M & string>>;
  /** Weight of each term in the minimised sum (a number or a schedule `(step) => weight`), as Keras' `lossWeights`. Default 1 each. */
  lossWeights?: Record<string, number | ((step: number) => number)>;
  /**
   * Clip the gradients of each step to this global norm ({@link clipByGlobalNorm}) and log the
   * norm before clipping as `gradientNorm`. Default: off. When every optimizer is genblocks'
   * {@link FusedAdamOptimizer} (`train.fusedAdam`, `train.adamW`) with its own `applyGradients`
   * (not a subclass's override), the clipping factor ({@link globalNormScale}) is applied inside
   * the optimizer's one pass per variable instead of as a separate pass, with the same results
   * bit for bit.
   */
  clipNorm?: number;
  /** Draws `n` samples for {@link ModelTrainer.sample} (and `train.sampleGrid`). Default: none. */
  sample?: (n: number, options: SampleOptions, trainer: ModelTrainer<M>) => tf.Tensor | Promise<tf.Tensor>;
  /** Value range of the samples, for display. */
  sampleRange?: SampleRange;
  /**
   * Keep an {@link ExponentialMovingAverage} of the trained weights (all of them, or those of
   * `models`), with this decay or these options; `sample` then runs with the average, and
   * checkpoints hold it (group `ema`). Default: off.
   */
  ema?: number | ModelTrainerEmaOptions<keyof M & string>;
  /** Trainer kind written in checkpoints (a checkpoint restores only into a trainer of its kind). Default `'model'`. */
  kind?: string;
}

const FN = 'train.ModelTrainer';

/**
 * Whether `optimizer.applyGradients` is genblocks' fused Adam's own (`FusedAdamOptimizer`'s or
 * `AdamWOptimizer`'s), which multiplies the gradients by its second argument. Decided on the
 * method, not the prototype chain: a subclass that overrides `applyGradients(grads)` may drop
 * that argument, and would then train unclipped; its gradients are clipped first instead.
 */
function takesGradientScale(optimizer: tf.Optimizer): boolean {
  const apply = optimizer.applyGradients;
  return apply === FusedAdamOptimizer.prototype.applyGradients || apply === AdamWOptimizer.prototype.applyGradients;
}
const KNOWN_KEYS = [
  'seed',
  'onNonFinite',
  'models',
  'loss',
  'optimizer',
  'optimizers',
  'lossWeights',
  'clipNorm',
  'ema',
  'sample',
  'sampleRange',
  'kind',
] as const;

interface ResolvedGroup {
  name: string;
  optimizer: tf.Optimizer;
  variables: tf.Variable[];
}

/**
 * Trains one or more models by minimising the sum of named loss terms that a function of
 * yours computes from each batch, with one optimizer per group of models:
 *
 * ```text
 * loss = Σ_k w_k(step) · term_k(batch)        (w_k = lossWeights[k], default 1)
 * g    = ∇ loss (clipped to global norm clipNorm when set)
 * each optimizer applies g to its models' trainable weights
 * ```
 *
 * It logs `loss` and every term (and what the function passes to `context.log`), keeps the
 * whole {@link Trainer} loop (epochs/steps, callbacks, checkpoints and exact resume, non-finite
 * handling) and derives every random draw from the run seed (`context.seed(stream)`).
 * `VaeTrainer` is built on it; so is your classifier, regression or custom objective.
 *
 * @see https://arxiv.org/abs/1412.6980 (Adam, a typical optimizer)
 * @example
 * ```ts
 * const classifier = tfl.sequential({ layers: [tfl.layers.dense({ units: 3, inputShape: [4] })] });
 * const trainer = new train.ModelTrainer({
 *   models: { classifier },
 *   optimizer: tf.train.adam(1e-2),
 *   loss: ({ x, y }, { models }) => ({
 *     crossEntropy: tf.losses.softmaxCrossEntropy(tf.oneHot(y!, 3), models.classifier.apply(x, { training: true }) as tf.Tensor),
 *   }),
 *   seed: 1,
 * });
 * await trainer.fit(data.batches(x, { labels, batchSize: 32, shuffle: true, seed: 1 }), { epochs: 5 });
 * ```
 * @category Training
 */
export class ModelTrainer<M extends Record<string, Network> = Record<string, Network>> extends Trainer {
  /** The models, by name. */
  readonly models: M;
  /** The global norm gradients are clipped to, when set. */
  readonly clipNorm: number | undefined;
  /** The moving average of the trained weights, when `config.ema` is set. */
  readonly ema: ExponentialMovingAverage | undefined;
  override readonly sampleRange: SampleRange | undefined;
  protected readonly kind: string;
  protected readonly fnName: string = FN;
  private readonly lossFunction: LossTerms<M> | undefined;
  private readonly weights: Record<string, number | ((step: number) => number)>;
  private readonly groups: ResolvedGroup[];
  private readonly variables: tf.Variable[];
  private readonly sampler: ModelTrainerConfig<M>['sample'];

  /**
   * @param config - `models`, `loss`, `optimizer` or `optimizers` (required); `lossWeights`,
   *   `clipNorm`, `sample`, `sampleRange`, `kind`, `seed`, `onNonFinite`.
   * @param fn - name used in error messages; a subclass passes its own (`'train.VaeTrainer'`).
   */
  constructor(config: ModelTrainerConfig<M>, fn: string = FN) {
    if (config === null || typeof config !== 'object') {
      throw new ConfigError({ fn, arg: 'config', expected: 'be a config object { models, loss, optimizer }', received: describe(config) });
    }
    if (fn === FN) assertKnownKeys(config, KNOWN_KEYS, 'config', fn);
    super(config, fn);
    const { models, loss, optimizer, optimizers, lossWeights = {}, clipNorm, sample, sampleRange, kind = 'model' } = config;
    if (models === null || typeof models !== 'object' || Array.isArray(models) || Object.keys(models).length === 0) {
      throw new ConfigError({
        fn,
        arg: 'config.models',
        expected: 'be an object of models by name, e.g. { classifier }',
        received: describe(models),
      });
    }
    for (const [name, model] of Object.entries(models)) assertNetwork(model, `config.models.${name}`, fn);
    if (typeof loss !== 'function' && (loss !== undefined || this.computeTerms === ModelTrainer.prototype.computeTerms)) {
      throw new ConfigError({
        fn,
        arg: 'config.loss',
        expected: 'be a function (batch, context) => { [term]: Scalar }',
        received: describe(loss),
      });
    }
    if ((optimizer === undefined) === (optimizers === undefined)) {
      throw new ConfigError({
        fn,
        arg: 'config.optimizer',
        expected: 'be given, or config.optimizers instead (exactly one of the two)',
        received: optimizer === undefined ? 'neither' : 'both',
      });
    }
    const groups: ResolvedGroup[] = [];
    if (optimizer !== undefined) {
      assertOptimizer(optimizer, 'config.optimizer', fn);
      groups.push({ name: 'optimizer', optimizer, variables: unique(Object.values(models).flatMap(trainableVariables)) });
    } else {
      if (optimizers === null || typeof optimizers !== 'object' || Object.keys(optimizers).length === 0) {
        throw new ConfigError({
          fn,
          arg: 'config.optimizers',
          expected: 'be an object { [name]: { optimizer, models: [...] } } with at least one entry',
          received: describe(optimizers),
        });
      }
      const owner = new Map<string, string>();
      for (const [name, group] of Object.entries(optimizers)) {
        const arg = `config.optimizers.${name}`;
        assertKnownKeys(group, ['optimizer', 'models'], arg, fn);
        assertOptimizer(group?.optimizer, `${arg}.optimizer`, fn);
        if (!Array.isArray(group.models) || group.models.length === 0) {
          throw new ConfigError({
            fn,
            arg: `${arg}.models`,
            expected: 'be a non-empty array of model names',
            received: describe(group.models),
          });
        }
        for (const m of group.models) {
          if (!(m in models)) {
            throw new ConfigError({
              fn,
              arg: `${arg}.models`,
              expected: `name models of config.models (${Object.keys(models).join(', ')})`,
              received: `'${String(m)}'`,
            });
          }
          if (owner.has(m)) {
            throw new ConfigError({
              fn,
              arg: `${arg}.models`,
              expected: 'name each model in one optimizer group only',
              received: `'${m}', already updated by '${owner.get(m)}'`,
            });
          }
          owner.set(m, name);
        }
        groups.push({ name, optimizer: group.optimizer, variables: unique(group.models.flatMap((m) => trainableVariables(models[m]!))) });
      }
    }
    const variables = groups.flatMap((g) => g.variables);
    if (variables.length === 0) {
      throw new ConfigError({
        fn,
        arg: 'config.models',
        expected: 'have trainable weights for the optimizers to update',
        received: 'models with none',
      });
    }
    if (new Set(variables).size !== variables.length) {
      throw new ConfigError({
        fn,
        arg: 'config.optimizers',
        expected: 'update disjoint sets of weights',
        received: 'groups whose models share weights',
      });
    }
    if (lossWeights === null || typeof lossWeights !== 'object') {
      throw new ConfigError({
        fn,
        arg: 'config.lossWeights',
        expected: 'be an object { [term]: number | (step) => number }',
        received: describe(lossWeights),
      });
    }
    for (const [term, w] of Object.entries(lossWeights)) {
      if (typeof w !== 'function') assertNumber(w, `config.lossWeights.${term}`, fn, { min: 0 });
    }
    if (clipNorm !== undefined) assertNumber(clipNorm, 'config.clipNorm', fn, { min: 0, minExclusive: true });
    if (sample !== undefined && typeof sample !== 'function') {
      throw new ConfigError({
        fn,
        arg: 'config.sample',
        expected: 'be a function (n, options, trainer) => samples',
        received: describe(sample),
      });
    }
    if (sampleRange !== undefined) assertOneOf(sampleRange, ['[-1,1]', '[0,1]'] as const, 'config.sampleRange', fn);
    if (typeof kind !== 'string' || kind.length === 0) {
      throw new ConfigError({ fn, arg: 'config.kind', expected: 'be a non-empty string', received: describe(kind) });
    }
    this.ema = config.ema === undefined ? undefined : makeAverage(config.ema, models, variables, fn);
    this.models = models;
    this.lossFunction = loss;
    this.weights = lossWeights;
    this.clipNorm = clipNorm;
    this.groups = groups;
    this.variables = variables;
    this.sampler = sample;
    this.sampleRange = sampleRange;
    this.kind = kind;
    this.fnName = fn;
  }

  /**
   * Every model's weights (all of them, non-trainable ones included) under its name.
   *
   * @returns the groups saved in checkpoints and restored after a discarded step.
   */
  protected stateVariables(): VariableGroup[] {
    const groups: VariableGroup[] = Object.entries(this.models).map(([name, model]) => ({
      name,
      variables: allVariables(model),
      network: model,
    }));
    if (this.ema) groups.push({ name: 'ema', variables: this.ema.variables });
    return groups;
  }

  /**
   * The optimizers: `'optimizer'` for `config.optimizer`, else the names of `config.optimizers`.
   *
   * @returns the optimizers saved in checkpoints.
   */
  protected stateOptimizers(): OptimizerGroup[] {
    return this.groups.map(({ name, optimizer, variables }) => ({ name, optimizer, variables }));
  }

  /**
   * Checks a batch before its step. The default accepts any batch (the loss function sees it
   * first); subclasses check shapes here.
   *
   * @param _batch - the batch.
   * @param _fn - name for error messages.
   */
  protected checkBatch(_batch: TrainingBatch, _fn: string): void {}

  /**
   * The loss terms of one batch; by default `config.loss`. A subclass may override it (and
   * then needs no `config.loss`), as `VaeTrainer` does.
   *
   * @param batch - the batch.
   * @param context - models, step, seeds and `log`.
   * @returns the named scalar terms.
   */
  protected computeTerms(batch: TrainingBatch, context: ModelStepContext<M>): Record<string, tf.Scalar> {
    return this.lossFunction!(batch, context);
  }

  /**
   * One step: terms under the gradient tape, their weighted sum differentiated, clipped, applied.
   *
   * @param batch - the batch.
   * @param position - the step's RNG position.
   * @returns `loss`, each term, the logged metrics (and `gradientNorm` with `clipNorm`).
   */
  protected trainStep(batch: TrainingBatch, position: number): Record<string, tf.Scalar> {
    const fn = `${this.fnName}.fit`;
    const metrics = new Map<string, tf.Scalar>();
    const terms = new Map<string, tf.Scalar>();
    const context: ModelStepContext<M> = {
      models: this.models,
      step: position,
      seed: (stream = 0) => stepSeed(this.seed, position, typeof stream === 'string' ? fnv1a(stream) : stream),
      log: (name, value) => {
        if (!(value instanceof tf.Tensor) || value.rank !== 0) {
          throw new ArgumentError({ fn, arg: `context.log('${name}')`, expected: 'receive a scalar tensor', received: describe(value) });
        }
        if (metrics.has(name)) tf.dispose(metrics.get(name));
        metrics.set(name, tf.keep(value));
      },
    };
    let value: tf.Scalar;
    let grads: tf.NamedTensorMap;
    try {
      ({ value, grads } = tf.variableGrads(() => {
        const out = this.computeTerms(batch, context);
        const entries = checkTerms(out, fn);
        for (const name of Object.keys(this.weights)) {
          if (!(out as Record<string, unknown>)[name]) {
            throw new ConfigError({
              fn,
              arg: `config.lossWeights.${name}`,
              expected: `name a term of config.loss (${entries.map(([n]) => n).join(', ')})`,
              received: 'an unknown term',
            });
          }
        }
        for (const [name, t] of entries) terms.set(name, tf.keep(t));
        let sum: tf.Scalar | undefined;
        for (const [name, t] of entries) {
          const w = this.weights[name];
          const weighted = w === undefined || w === 1 ? t : tf.mul(typeof w === 'function' ? w(position) : w, t);
          sum = (sum === undefined ? weighted : tf.add(sum, weighted)) as tf.Scalar;
        }
        // A fresh tensor, never one of the terms (they are kept and disposed separately).
        return sum === entries[0]![1] ? tf.clone(sum!) : sum!;
      }, this.variables));
    } catch (e) {
      tf.dispose([...terms.values(), ...metrics.values()]);
      throw e;
    }
    const logs: Record<string, tf.Scalar> = { loss: value };
    // Kept tensors move into the caller's tidy as clones; a tensor kept under two names is disposed once.
    const single = terms.size === 1 && terms.has('loss');
    for (const [name, t] of [...terms, ...metrics]) {
      if (single && t === terms.get('loss')) continue; // one term named 'loss': logged once, as the sum
      if (name in logs) {
        tf.dispose([...terms.values(), ...metrics.values(), ...Object.values(grads)]);
        throw new ArgumentError({
          fn,
          arg: 'config.loss',
          expected: `return terms and log metrics of distinct names other than 'loss'${this.clipNorm ? " and 'gradientNorm'" : ''}`,
          received: `'${name}' twice`,
        });
      }
      logs[name] = tf.clone(t);
    }
    tf.dispose([...new Set([...terms.values(), ...metrics.values()])]);
    let applied = grads;
    let gradientScale: tf.Scalar | undefined;
    if (this.clipNorm !== undefined) {
      if (this.groups.every((group) => takesGradientScale(group.optimizer))) {
        // Genblocks' Adam scales each gradient in its own pass (the same float32 product as
        // clipByGlobalNorm's, then the same update): no clipped copy written and read back.
        const { norm, scale } = globalNormScale(grads, this.clipNorm);
        gradientScale = scale;
        logs['gradientNorm'] = norm;
      } else {
        const clipped = clipByGlobalNorm(grads, this.clipNorm);
        applied = clipped.grads;
        logs['gradientNorm'] = clipped.norm;
      }
    }
    for (const group of this.groups) {
      const part: tf.NamedTensorMap = {};
      for (const v of group.variables) if (applied[v.name]) part[v.name] = applied[v.name]!;
      if (Object.keys(part).length === 0) continue;
      if (gradientScale !== undefined) (group.optimizer as FusedAdamOptimizer).applyGradients(part, gradientScale);
      else group.optimizer.applyGradients(part);
    }
    this.afterUpdate();
    return logs;
  }

  /** Runs after the optimizers' updates, inside the step's `tf.tidy`: updates the EMA. */
  protected afterUpdate(): void {
    this.ema?.update(this.step);
  }

  /**
   * Runs `f` with the models holding the weights `sample` uses (the EMA when enabled), then
   * puts the training weights back: e.g. to save the averaged model.
   *
   * @param f - sync or async work on the models; do not train while it runs.
   * @returns what `f` returns.
   */
  async withSamplingWeights<T>(f: () => T | Promise<T>): Promise<T> {
    return this.ema ? this.ema.withAverage(async () => f()) : f();
  }

  /** Frees the EMA weights (the models and optimizers stay the caller's). */
  override dispose(): void {
    this.ema?.dispose();
  }

  /**
   * Draws `n` samples with `config.sample`.
   *
   * @param n - how many samples.
   * @param options - `seed`, `labels`.
   * @returns the samples (the caller disposes them).
   */
  override async sample(n: number, options: SampleOptions = {}): Promise<tf.Tensor> {
    const fn = `${this.fnName}.sample`;
    if (!this.sampler) {
      throw new ConfigError({
        fn,
        arg: 'config.sample',
        expected: 'be given to sample',
        received: 'undefined',
        hint: 'Pass sample: (n, { seed }, trainer) => ... in the config',
      });
    }
    assertPositiveInt(n, 'n', fn);
    assertKnownKeys(options, ['seed', 'labels'], 'options', fn);
    const sampler = this.sampler;
    const out = await this.withSamplingWeights(() => sampler(n, options, this));
    if (!(out instanceof tf.Tensor)) {
      throw new ArgumentError({ fn, arg: 'config.sample', expected: 'return a tensor', received: describe(out) });
    }
    return out;
  }
}

function assertOptimizer(value: unknown, arg: string, fn: string): asserts value is tf.Optimizer {
  if (!(value instanceof tf.Optimizer)) {
    throw new ConfigError({ fn, arg, expected: 'be a tf.Optimizer such as tf.train.adam(1e-3)', received: describe(value) });
  }
}

function makeAverage(
  option: number | ModelTrainerEmaOptions,
  models: Record<string, Network>,
  trained: tf.Variable[],
  fn: string,
): ExponentialMovingAverage {
  if (typeof option === 'number') {
    assertNumber(option, 'config.ema', fn, { min: 0, max: 1, maxExclusive: true });
    return new ExponentialMovingAverage(trained, { decay: option });
  }
  assertKnownKeys(option, ['decay', 'warmup', 'models'], 'config.ema', fn);
  const { models: names, ...options } = option;
  if (names === undefined) return new ExponentialMovingAverage(trained, options);
  if (!Array.isArray(names) || names.length === 0 || names.some((m) => !(m in models))) {
    throw new ConfigError({
      fn,
      arg: 'config.ema.models',
      expected: `be a non-empty array of names of config.models (${Object.keys(models).join(', ')})`,
      received: describe(names),
    });
  }
  return new ExponentialMovingAverage(unique(names.flatMap((m) => trainableVariables(models[m]!))), options);
}

function unique<T>(list: T[]): T[] {
  return [...new Set(list)];
}

function checkTerms(out: unknown, fn: string): [string, tf.Scalar][] {
  if (out === null || typeof out !== 'object' || out instanceof tf.Tensor || Array.isArray(out)) {
    throw new ArgumentError({
      fn,
      arg: 'config.loss',
      expected: 'return an object of named scalar terms, e.g. { crossEntropy }',
      received: describe(out),
    });
  }
  const entries = Object.entries(out as Record<string, unknown>);
  if (entries.length === 0) {
    throw new ArgumentError({ fn, arg: 'config.loss', expected: 'return at least one term', received: 'an empty object' });
  }
  for (const [name, t] of entries) {
    if (!(t instanceof tf.Tensor) || t.rank !== 0 || t.dtype !== 'float32') {
      throw new ArgumentError({ fn, arg: 'config.loss', expected: `return a float32 scalar for term '${name}'`, received: describe(t) });
    }
  }
  if (entries.length > 1 && entries.some(([name]) => name === 'loss')) {
    throw new ArgumentError({
      fn,
      arg: 'config.loss',
      expected: "name no term 'loss' when there are several (the sum is logged as 'loss')",
      received: entries.map(([n]) => n).join(', '),
    });
  }
  return entries as [string, tf.Scalar][];
}
