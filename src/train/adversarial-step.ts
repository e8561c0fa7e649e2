/**
 * One adversarial training step: a discriminator update and a generator update.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { ArgumentError, ConfigError, DTypeError, ShapeError } from '../errors.js';
import type { AnyGanLoss } from '../losses/gan/types.js';
import {
  assertFloatTensor,
  assertKnownKeys,
  assertMinRank,
  assertNonNegativeInt,
  assertNumber,
  assertOneOf,
  assertPositiveInt,
  assertTensor,
  describe,
  formatShape,
} from '../validation.js';
import {
  applyNetwork,
  applyNetworkPair,
  assertNetwork,
  formatSymbolic,
  symbolicShape,
  trainableVariables,
  type Network,
} from './network.js';
import { stepSeed } from './seed.js';

/**
 * A penalty on the discriminator, added to its loss: `(critic, real, fake, { seed }) => Scalar`.
 * `losses.gan.gradientPenalty` has this signature; wrap others:
 * `(critic, real) => losses.gan.r1Penalty(critic, real, { weight: 10 })`.
 *
 * @category Training
 */
export type Penalty = (critic: (x: tf.Tensor) => tf.Tensor, real: tf.Tensor, fake: tf.Tensor, options: { seed?: number }) => tf.Scalar;

/**
 * An InfoGAN categorical latent code (Chen et al. 2016): a code `c ~ Uniform{0, …, K−1}` fed to
 * the generator next to the noise, and an auxiliary head `Q` on the discriminator that
 * predicts `c` from the sample. Both networks also minimize `λ·CE(Q(G(z, c)), c)`, a lower
 * bound on the mutual information `I(c; G(z, c))` (up to the constant `H(c)`), so the
 * generator learns to make its categories tell apart. No labels are used: on MNIST the
 * categories tend to become digit classes, which keeps samples off the gaps between them.
 *
 * The generator takes `[noise, code]` (a conditional generator with `numClasses: K`, e.g.
 * `nets.dcganGenerator({ ..., numClasses: 10 })`); the discriminator returns
 * `[logit [batch, 1], codeLogits [batch, K]]` (`nets.dcganDiscriminator({ ..., head: 'acgan', numClasses: 10 })`).
 *
 * @see https://arxiv.org/abs/1606.03657 (Chen et al. 2016, InfoGAN: Interpretable Representation Learning by Information Maximizing Generative Adversarial Nets)
 * @category Training
 */
export interface LatentCode {
  /** K, the number of categories of the code. At least 2. */
  categories: number;
  /** λ, the weight of the information term in both losses. Default 1 (the paper's value for discrete codes). */
  weight?: number;
}

/**
 * An AC-GAN auxiliary classifier (Odena et al. 2017): the discriminator also predicts the class
 * of every image it sees, real or generated. With `L_C = CE(C(x), y) + CE(C(G(z, y)), y)` (the
 * log-likelihood of the correct class, eq. 3, as a cross-entropy), the discriminator minimizes
 * its GAN loss `+ λ·L_C` and the generator its GAN loss `+ λ·CE(C(G(z, y)), y)` (the real half
 * of `L_C` does not depend on the generator), so the generator learns to draw images its class
 * can be read from.
 *
 * The generator takes `[noise, label]` (`numClasses` in a generator builder); the
 * discriminator takes the image alone and returns `[logit [batch, 1], classLogits [batch, K]]`
 * (`head: 'acgan'` in a discriminator builder). Fakes get the real batch's labels.
 *
 * @see https://arxiv.org/abs/1610.09585 (Odena et al. 2017, Conditional Image Synthesis with Auxiliary Classifier GANs, eq. 2-3)
 * @category Training
 */
export interface AuxiliaryClassifier {
  /** K, the number of classes (the width of the discriminator's class logits). At least 2. */
  numClasses: number;
  /** λ, the weight of the classification terms in both objectives. Default 1 (the paper's). */
  weight?: number;
}

/**
 * The discriminator's outputs on a batch: the real/fake logit, and the auxiliary logits of an
 * `'acgan'` head (InfoGAN's `Q`, AC-GAN's classifier) when it has one.
 *
 * @category Training
 */
export interface DiscriminatorOutputs {
  /** Real/fake logits `[batch, 1]` (or the shape the discriminator gives). */
  logit: tf.Tensor;
  /** Auxiliary logits `[batch, K]`, with `latentCode` or `auxiliaryClassifier`. */
  auxiliary?: tf.Tensor;
}

/**
 * What a term of an adversarial objective sees: one record per update, built inside the
 * gradient tape, so that everything a term computes from it is differentiated.
 *
 * In the discriminator update `fake` is a constant (the generator is run outside the tape); in
 * the generator update it is `G(z')`, differentiable with respect to the generator's weights.
 * The discriminator's outputs on `real` and `fake` are computed once, when a term first reads
 * them, and shared by every term of the update. They are getters of the context's class, so
 * spreading a context (`{ ...c }`) copies the other fields but not these; `critic` and `seed`
 * may be called detached (`const { critic } = c`).
 *
 * @category Training
 */
export interface AdversarialContext {
  /** Which network this update trains. */
  readonly update: 'discriminator' | 'generator';
  /** Real examples `[batch, ...]`. */
  readonly real: tf.Tensor;
  /** Generated examples `[batch, ...]`. */
  readonly fake: tf.Tensor;
  /** Class labels of the batch (conditional GANs, AC-GAN); the fakes were generated with the same labels. */
  readonly labels: tf.Tensor | undefined;
  /** InfoGAN codes `fake` was generated with (with `latentCode`). */
  readonly codes: tf.Tensor | undefined;
  /** The configured GAN loss pair. */
  readonly loss: AnyGanLoss;
  /** The discriminator's outputs on `real` (computed on first use). */
  readonly realOutputs: DiscriminatorOutputs;
  /** The discriminator's outputs on `fake` (computed on first use). */
  readonly fakeOutputs: DiscriminatorOutputs;
  /** The real/fake logit of any input (labels passed to a conditional discriminator): the critic a penalty differentiates. */
  critic(x: tf.Tensor): tf.Tensor;
  /**
   * The seed of a named random stream of this update (e.g. `'penalty'`), or `undefined` when the
   * step is unseeded. Each name gives its own stream, so a term that draws noise neither
   * shifts nor repeats another term's draws.
   */
  seed(stream: string): number | undefined;
}

/**
 * A named term of an adversarial objective: the update minimizes `Σ weight · value(context)`
 * over its terms, and reports each `value` (unweighted) under `name`.
 *
 * @example
 * ```ts
 * // R1 on real data (Mescheder et al. 2018) as an extra discriminator term, logged as 'r1'.
 * const r1: train.AdversarialTerm = { name: 'r1', value: (c) => losses.gan.r1Penalty(c.critic, c.real, { weight: 10 }) };
 * ```
 * @category Training
 */
export interface AdversarialTerm {
  /** The name it is reported (and logged) under. Unique within its objective. */
  name: string;
  /** Factor of the term in the sum. Default 1. */
  weight?: number;
  /** The term's value, a scalar. */
  value(context: AdversarialContext): tf.Scalar;
}

/**
 * The two objectives of an adversarial step, as lists of named terms.
 *
 * @category Training
 */
export interface AdversarialObjectives {
  /** Terms minimized by the discriminator update. */
  discriminator: AdversarialTerm[];
  /** Terms minimized by the generator update. */
  generator: AdversarialTerm[];
}

/** The fixed parts of an adversarial step. @category Training */
export interface AdversarialStepConfig {
  /** Generator: noise `[batch, latentDim]` (and labels) to samples. */
  generator: Network;
  /** Discriminator (critic): samples (and labels) to logits. Ends in a linear layer. */
  discriminator: Network;
  /** A `losses.gan.*` pair. */
  loss: AnyGanLoss;
  /** Optional penalty added to the discriminator loss, e.g. `losses.gan.gradientPenalty`. */
  penalty?: Penalty;
  /** Optimizer of the generator's trainable weights. */
  generatorOptimizer: tf.Optimizer;
  /** Optimizer of the discriminator's trainable weights (a different object). */
  discriminatorOptimizer: tf.Optimizer;
  /** An InfoGAN categorical code (see {@link LatentCode}); the step then needs `codes`. Default: none. */
  latentCode?: LatentCode;
  /** An AC-GAN auxiliary classifier (see {@link AuxiliaryClassifier}); the step then needs `labels`. Default: none. */
  auxiliaryClassifier?: AuxiliaryClassifier;
  /** Extra terms of the discriminator objective, after the built-in ones (see {@link adversarialObjectives}). Default: none. */
  discriminatorTerms?: AdversarialTerm[];
  /** Extra terms of the generator objective, after the built-in ones. Default: none. */
  generatorTerms?: AdversarialTerm[];
}

/** The inputs of one adversarial step. @category Training */
export interface AdversarialStepInputs {
  /** Real examples `[batch, ...]`. */
  real: tf.Tensor;
  /** Latent noise `[batch, latentDim]` for the discriminator update. */
  noise: tf.Tensor;
  /** Noise for the generator update. Default: `noise`. */
  generatorNoise?: tf.Tensor;
  /**
   * Class labels (int32 `[batch]` or `[batch, 1]`) for conditional networks: passed to the
   * generator and to a discriminator with a label input; fakes use the same labels. With
   * `auxiliaryClassifier`, the classes the discriminator must predict. When the class count is
   * known, the values are checked to lie in `[0, numClasses)`: read synchronously once per
   * labels tensor (a tensor found in range is not read again; pass the same tensor every step
   * to avoid a GPU read per step on WebGL/WebGPU). `train.AdversarialTrainer` makes no
   * synchronous read: it checks them with the step's own asynchronous read.
   */
  labels?: tf.Tensor;
  /** InfoGAN codes `[batch]` or `[batch, 1]` (int32 in `[0, K)`) for the discriminator update, with `config.latentCode`. */
  codes?: tf.Tensor;
  /** Codes for the generator update. Default: `codes`. */
  generatorCodes?: tf.Tensor;
  /** Seed of the terms' random streams (`context.seed(name)`). Default: unseeded. */
  seed?: number;
  /** Seed passed to the penalty (its stream `'penalty'`). Default: derived from `seed`. */
  penaltySeed?: number;
  /** Which updates to run. Default `'both'` (discriminator first, then generator). */
  update?: 'both' | 'discriminator' | 'generator';
}

/**
 * The losses of a step, as scalars the caller owns (read them with one `await data()` of
 * `tf.stack([...])`, then dispose them): every term of the objectives that ran, by name,
 * unweighted. A name in both objectives (InfoGAN's `code`, AC-GAN's `classFake`) holds the
 * generator update's value when both updates ran.
 *
 * @category Training
 */
export interface AdversarialStepLosses {
  /** Discriminator loss (without the penalty), when the discriminator was updated. */
  discriminator?: tf.Scalar;
  /** The penalty, when one was given and the discriminator was updated. */
  penalty?: tf.Scalar;
  /** Generator loss (without the information term), when the generator was updated. */
  generator?: tf.Scalar;
  /**
   * With `config.latentCode`: the code's cross-entropy `−mean log Q(c | G(z, c))`
   * (unweighted), which falls towards 0 as the categories become recognizable;
   * `log K − code` is InfoGAN's lower bound on the mutual information.
   */
  code?: tf.Scalar;
  /** With `config.auxiliaryClassifier`, when the discriminator was updated: `−mean log C(y | x)` on the real batch. */
  classReal?: tf.Scalar;
  /** With `config.auxiliaryClassifier`: `−mean log C(y | G(z, y))` on the fakes. */
  classFake?: tf.Scalar;
  /** Any other term, by its name. */
  [term: string]: tf.Scalar | undefined;
}

const FN = 'train.adversarialStep';

/** The fields of {@link AdversarialStepConfig}. @internal */
export const STEP_CONFIG_KEYS = [
  'generator',
  'discriminator',
  'loss',
  'penalty',
  'generatorOptimizer',
  'discriminatorOptimizer',
  'latentCode',
  'auxiliaryClassifier',
  'discriminatorTerms',
  'generatorTerms',
] as const;

const STEP_INPUT_KEYS = ['real', 'noise', 'generatorNoise', 'labels', 'codes', 'generatorCodes', 'seed', 'penaltySeed', 'update'] as const;

/** Validates the config of a step (also used by the trainer). @internal */
export function checkAdversarialConfig(config: AdversarialStepConfig, fn: string, prefix = 'config.'): void {
  if (config === null || typeof config !== 'object') {
    throw new ConfigError({ fn, arg: 'config', expected: 'be a config object', received: describe(config) });
  }
  const { generator, discriminator, loss, penalty, generatorOptimizer, discriminatorOptimizer } = config;
  assertNetwork(generator, `${prefix}generator`, fn);
  assertNetwork(discriminator, `${prefix}discriminator`, fn);
  if (!loss || typeof loss !== 'object' || typeof loss.discriminator !== 'function' || typeof loss.generator !== 'function') {
    throw new ConfigError({
      fn,
      arg: `${prefix}loss`,
      expected: 'be a GAN loss pair { discriminator, generator } such as losses.gan.nonSaturating',
      received: describe(loss),
    });
  }
  if (penalty !== undefined && typeof penalty !== 'function') {
    throw new ConfigError({
      fn,
      arg: `${prefix}penalty`,
      expected: 'be a function (critic, real, fake, { seed }) => Scalar',
      received: describe(penalty),
    });
  }
  for (const [arg, opt] of [
    [`${prefix}generatorOptimizer`, generatorOptimizer],
    [`${prefix}discriminatorOptimizer`, discriminatorOptimizer],
  ] as const) {
    if (opt == null || !(opt instanceof tf.Optimizer)) {
      throw new ConfigError({ fn, arg, expected: 'be a tf.Optimizer such as tf.train.adam(2e-4, 0.5)', received: describe(opt) });
    }
  }
  if (generatorOptimizer === discriminatorOptimizer) {
    throw new ConfigError({
      fn,
      arg: `${prefix}discriminatorOptimizer`,
      expected: 'be a different optimizer object from generatorOptimizer',
      received: 'the same object',
      hint: 'An optimizer keeps per-variable state and one learning rate: create two, e.g. tf.train.adam(2e-4, 0.5) for each network',
    });
  }
  if (generator.trainableWeights.length === 0) {
    throw new ConfigError({
      fn,
      arg: `${prefix}generator`,
      expected: 'have trainable weights',
      received: 'a network with none',
      hint: 'Build the generator before training (call it once, or use a tf.LayersModel) and make sure its layers are trainable',
    });
  }
  if (discriminator.trainableWeights.length === 0) {
    throw new ConfigError({
      fn,
      arg: `${prefix}discriminator`,
      expected: 'have trainable weights',
      received: 'a network with none',
      hint: 'Make sure the discriminator is built and its layers are trainable (discriminator.trainable = true)',
    });
  }
  if (config.latentCode !== undefined && config.auxiliaryClassifier !== undefined) {
    throw new ConfigError({
      fn,
      arg: `${prefix}auxiliaryClassifier`,
      expected: 'be undefined with config.latentCode',
      received: describe(config.auxiliaryClassifier),
      hint: "Both use the generator's second input and the discriminator's auxiliary head: choose InfoGAN codes or AC-GAN classes",
    });
  }
  if (config.latentCode !== undefined) checkLatentCode(config, fn, prefix);
  if (config.auxiliaryClassifier !== undefined) checkAuxiliaryClassifier(config, fn, prefix);
  checkTerms(config.discriminatorTerms, `${prefix}discriminatorTerms`, fn);
  checkTerms(config.generatorTerms, `${prefix}generatorTerms`, fn);
  const g = new Set(trainableVariables(generator));
  if (trainableVariables(discriminator).some((v) => g.has(v))) {
    throw new ConfigError({
      fn,
      arg: `${prefix}discriminator`,
      expected: 'share no trainable weights with the generator',
      received: 'a network sharing weights with it',
      hint: 'Pass the two networks separately, not a combined model that contains the discriminator',
    });
  }
}

/** Validates a list of user terms: objects `{ name, weight?, value }` with distinct names. */
function checkTerms(terms: unknown, arg: string, fn: string): void {
  if (terms === undefined) return;
  if (!Array.isArray(terms)) {
    throw new ConfigError({ fn, arg, expected: 'be an array of terms { name, weight?, value(context) }', received: describe(terms) });
  }
  const seen = new Set<string>();
  terms.forEach((term: unknown, i) => {
    const t = term as Partial<AdversarialTerm> | null;
    if (t === null || typeof t !== 'object' || typeof t.name !== 'string' || t.name.length === 0 || typeof t.value !== 'function') {
      throw new ConfigError({
        fn,
        arg: `${arg}[${i}]`,
        expected: 'be a term { name, weight?, value(context) } with a non-empty name',
        received: describe(term),
      });
    }
    assertKnownKeys(t, ['name', 'weight', 'value'], `${arg}[${i}]`, fn);
    if (t.weight !== undefined) assertNumber(t.weight, `${arg}[${i}].weight`, fn);
    if (seen.has(t.name)) {
      throw new ConfigError({
        fn,
        arg: `${arg}[${i}].name`,
        expected: 'be unique in its objective',
        received: `'${t.name}' a second time`,
      });
    }
    seen.add(t.name);
  });
}

/** The shape of the discriminator's auxiliary head a config needs, checked when the outputs are known. */
function checkAuxiliaryHead(config: AdversarialStepConfig, width: number, field: string, prefix: string, fn: string): void {
  const outputs = config.discriminator.outputs;
  if (outputs === undefined) return;
  const q = symbolicShape(outputs, 1);
  if (outputs.length !== 2 || q?.length !== 2 || q[1] !== width) {
    const what = field === 'latentCode' ? 'codeLogits' : 'classLogits';
    throw new ConfigError({
      fn,
      arg: `${prefix}discriminator`,
      expected: `return [logit, ${what} [null,${width}]] with ${field}`,
      received: `a discriminator with outputs ${outputs.map((o) => formatSymbolic([...o.shape])).join(', ')}`,
      hint: `Build it with an auxiliary head, e.g. nets.dcganDiscriminator({ ..., head: 'acgan', numClasses: ${width} })`,
    });
  }
}

/** Validates `config.latentCode` and the networks' shapes it needs, when those are known. */
function checkLatentCode(config: AdversarialStepConfig, fn: string, prefix: string): void {
  const code = config.latentCode;
  const arg = `${prefix}latentCode`;
  if (code === null || typeof code !== 'object') {
    throw new ConfigError({ fn, arg, expected: 'be an object { categories, weight? }', received: describe(code) });
  }
  assertKnownKeys(code, ['categories', 'weight'], arg, fn);
  assertPositiveInt(code.categories, `${arg}.categories`, fn);
  if (code.categories < 2) {
    throw new ConfigError({ fn, arg: `${arg}.categories`, expected: 'be at least 2', received: String(code.categories) });
  }
  if (code.weight !== undefined) assertNumber(code.weight, `${arg}.weight`, fn, { min: 0 });
  const inputs = config.generator.inputs;
  if (inputs !== undefined && inputs.length !== 2) {
    throw new ConfigError({
      fn,
      arg: `${prefix}generator`,
      expected: 'take two inputs [noise, code] with latentCode',
      received: `a generator with ${inputs.length} input${inputs.length === 1 ? '' : 's'}`,
      hint: `Build it with the code as its label input, e.g. nets.dcganGenerator({ ..., numClasses: ${code.categories} })`,
    });
  }
  checkAuxiliaryHead(config, code.categories, 'latentCode', prefix, fn);
}

/** Validates `config.auxiliaryClassifier` and the networks' shapes it needs, when those are known. */
function checkAuxiliaryClassifier(config: AdversarialStepConfig, fn: string, prefix: string): void {
  const classifier = config.auxiliaryClassifier;
  const arg = `${prefix}auxiliaryClassifier`;
  if (classifier === null || typeof classifier !== 'object') {
    throw new ConfigError({ fn, arg, expected: 'be an object { numClasses, weight? }', received: describe(classifier) });
  }
  assertKnownKeys(classifier, ['numClasses', 'weight'], arg, fn);
  assertPositiveInt(classifier.numClasses, `${arg}.numClasses`, fn);
  if (classifier.numClasses < 2) {
    throw new ConfigError({ fn, arg: `${arg}.numClasses`, expected: 'be at least 2', received: String(classifier.numClasses) });
  }
  if (classifier.weight !== undefined) assertNumber(classifier.weight, `${arg}.weight`, fn, { min: 0 });
  const inputs = config.generator.inputs;
  if (inputs !== undefined && inputs.length !== 2) {
    throw new ConfigError({
      fn,
      arg: `${prefix}generator`,
      expected: 'take two inputs [noise, label] with auxiliaryClassifier',
      received: `a generator with ${inputs.length} input${inputs.length === 1 ? '' : 's'}`,
      hint: `Build a conditional generator, e.g. nets.dcganGenerator({ ..., numClasses: ${classifier.numClasses} })`,
    });
  }
  const dInputs = config.discriminator.inputs;
  if (dInputs !== undefined && dInputs.length !== 1) {
    throw new ConfigError({
      fn,
      arg: `${prefix}discriminator`,
      expected: 'take the image alone with auxiliaryClassifier (it predicts the label)',
      received: `a discriminator with ${dInputs.length} inputs`,
      hint: `Use the 'acgan' head instead of 'projection', e.g. nets.dcganDiscriminator({ ..., head: 'acgan', numClasses: ${classifier.numClasses} })`,
    });
  }
  checkAuxiliaryHead(config, classifier.numClasses, 'auxiliaryClassifier', prefix, fn);
}

/**
 * `−mean_i log softmax(logits)_{i, classes_i}`: the cross-entropy of integer classes under
 * logits `[batch, K]`, stable for any logits (`logSoftmax`, never `log(softmax)`).
 */
function classCrossEntropy(logits: tf.Tensor, classes: tf.Tensor): tf.Scalar {
  const K = logits.shape[logits.rank - 1]!;
  const target = tf.oneHot(tf.cast(tf.reshape(classes, [-1]), 'int32') as tf.Tensor1D, K);
  return tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(logits)), -1))) as tf.Scalar;
}

function auxiliaryOf(outputs: DiscriminatorOutputs, term: string): tf.Tensor {
  if (outputs.auxiliary === undefined) {
    throw new ArgumentError({
      fn: FN,
      arg: 'config.discriminator',
      expected: `return [logit, auxiliaryLogits] for the term '${term}'`,
      received: 'a single output',
    });
  }
  return outputs.auxiliary;
}

/**
 * The objectives a config describes, as lists of named terms, in the order they are summed:
 *
 * | objective | term | value | weight |
 * |---|---|---|---|
 * | discriminator | `discriminator` | `loss.discriminator(D(x), D(x̃))` | 1 |
 * | discriminator | `penalty` | `penalty(D, x, x̃)` | 1 (the penalty's own weight) |
 * | discriminator | `code` (InfoGAN) | `CE(Q(x̃), c)` | λ |
 * | discriminator | `classReal`, `classFake` (AC-GAN) | `CE(C(x), y)`, `CE(C(x̃), y)` | λ |
 * | generator | `generator` | `loss.generator(D(G(z)))` (relativistic: `(D(x), D(G(z)))`) | 1 |
 * | generator | `code` (InfoGAN) | `CE(Q(G(z, c)), c)` | λ |
 * | generator | `classFake` (AC-GAN) | `CE(C(G(z, y)), y)` | λ |
 *
 * followed by `config.discriminatorTerms` and `config.generatorTerms`. A term of your own is
 * added through those two lists, without touching the step.
 *
 * @see https://arxiv.org/abs/1610.09585 (AC-GAN, Odena et al. 2017, eq. 2-3)
 * @see https://arxiv.org/abs/1606.03657 (InfoGAN, Chen et al. 2016, eq. 5)
 * @param config - the step's config (its loss, penalty, latentCode, auxiliaryClassifier and extra terms are read).
 * @returns the two lists of terms.
 * @example
 * ```ts
 * const { discriminator, generator } = train.adversarialObjectives({ ...config, penalty: losses.gan.gradientPenalty });
 * console.log(discriminator.map((t) => t.name), generator.map((t) => t.name)); // ['discriminator', 'penalty'] ['generator']
 * ```
 * @category Training
 */
export function adversarialObjectives(config: AdversarialStepConfig): AdversarialObjectives {
  const { loss, penalty, latentCode, auxiliaryClassifier } = config;
  const discriminator: AdversarialTerm[] = [
    { name: 'discriminator', value: (c) => loss.discriminator(c.realOutputs.logit, c.fakeOutputs.logit) as tf.Scalar },
  ];
  const generator: AdversarialTerm[] = [
    {
      name: 'generator',
      value: (c) =>
        (loss.relativistic ? loss.generator(c.realOutputs.logit, c.fakeOutputs.logit) : loss.generator(c.fakeOutputs.logit)) as tf.Scalar,
    },
  ];
  if (penalty)
    discriminator.push({ name: 'penalty', value: (c) => penalty((x) => c.critic(x), c.real, c.fake, { seed: c.seed('penalty') }) });
  if (latentCode) {
    const code: AdversarialTerm = {
      name: 'code',
      weight: latentCode.weight ?? 1,
      value: (c) => classCrossEntropy(auxiliaryOf(c.fakeOutputs, 'code'), c.codes!),
    };
    // InfoGAN (Chen et al. 2016, eq. 5): λ·L_I in both objectives; the penalty sees the logit only.
    discriminator.splice(1, 0, code);
    generator.push(code);
  }
  if (auxiliaryClassifier) {
    const weight = auxiliaryClassifier.weight ?? 1;
    // AC-GAN (Odena et al. 2017, eq. 3): L_C = log P(C=c | X_real) + log P(C=c | X_fake); D maximizes L_S + L_C, G maximizes L_C − L_S.
    const classFake: AdversarialTerm = {
      name: 'classFake',
      weight,
      value: (c) => classCrossEntropy(auxiliaryOf(c.fakeOutputs, 'classFake'), c.labels!),
    };
    discriminator.push(
      { name: 'classReal', weight, value: (c) => classCrossEntropy(auxiliaryOf(c.realOutputs, 'classReal'), c.labels!) },
      classFake,
    );
    generator.push(classFake);
  }
  discriminator.push(...(config.discriminatorTerms ?? []));
  generator.push(...(config.generatorTerms ?? []));
  return { discriminator, generator };
}

/** A term's value on a context, checked to be a scalar tensor. */
function evaluateTerm(term: AdversarialTerm, c: AdversarialContext, objective: string): tf.Scalar {
  const value = term.value(c);
  if (!(value instanceof tf.Tensor) || value.rank !== 0) {
    throw new ArgumentError({
      fn: FN,
      arg: `terms.${objective}.${term.name}`,
      expected: 'return a scalar tensor',
      received: describe(value),
    });
  }
  return value;
}

/**
 * Minimizes `Σ weight · value` over `terms` with one gradient step of `optimizer` on `variables`,
 * and returns every term's (unweighted) value by name. Runs under the caller's tidy.
 */
function minimizeTerms(
  terms: readonly AdversarialTerm[],
  context: () => AdversarialContext,
  variables: tf.Variable[],
  optimizer: tf.Optimizer,
  objective: string,
): Record<string, tf.Scalar> {
  const only = terms[0]!;
  if (terms.length === 1 && (only.weight ?? 1) === 1) {
    // One unweighted term: the differentiated value is the term itself, no copy to keep.
    const { value, grads } = tf.variableGrads(() => evaluateTerm(only, context(), objective), variables);
    optimizer.applyGradients(grads);
    return { [only.name]: value };
  }
  const kept: tf.Scalar[] = [];
  const { grads } = tf.variableGrads(() => {
    const c = context();
    let total: tf.Tensor | undefined;
    for (const term of terms) {
      const value = evaluateTerm(term, c, objective);
      // A clone (it shares the data) made in here and kept: the term may return a tensor it does not own.
      kept.push(tf.keep(tf.clone(value)));
      const weighted = (term.weight ?? 1) === 1 ? value : tf.mul(term.weight!, value);
      total = total === undefined ? weighted : tf.add(total, weighted);
    }
    return total as tf.Scalar;
  }, variables);
  optimizer.applyGradients(grads);
  const values: Record<string, tf.Scalar> = {};
  terms.forEach((term, i) => {
    // Move the kept scalars back under the caller's tidy: a clone is tracked, the kept one freed.
    values[term.name] = tf.clone(kept[i]!);
    kept[i]!.dispose();
  });
  return values;
}

/**
 * One adversarial training step (Goodfellow et al. 2014, Algorithm 1, with one step of each):
 *
 * ```text
 * x̃ = G(z)                                   (no gradient into G)
 * θ_D ← θ_D − optD(∇_θD Σ_t w_t·D-term_t)    (L_D(D(x), D(x̃)) + penalty(D, x, x̃) + …)
 * θ_G ← θ_G − optG(∇_θG Σ_t w_t·G-term_t)    (L_G(D(G(z'))) + …; relativistic: L_G(D(x), D(G(z'))))
 * ```
 *
 * The terms of each objective are listed by {@link adversarialObjectives}: the GAN loss, the
 * penalty, InfoGAN's code term (`config.latentCode`: the generator takes codes `c`, the
 * discriminator returns `[D, Q]`), AC-GAN's classification terms (`config.auxiliaryClassifier`:
 * the generator takes labels, the discriminator returns `[D, C]`), then your own
 * (`config.discriminatorTerms`, `config.generatorTerms`). Every term is reported by name.
 *
 * Both networks are called with `{ training: true }`; each optimizer receives an explicit
 * list of its own network's trainable variables. The step is synchronous and tidied: the
 * returned scalars are the only tensors it leaves.
 *
 * @see https://arxiv.org/abs/1406.2661 (Goodfellow et al. 2014, Generative Adversarial Networks)
 * @param config - networks, loss pair, optional penalty, code, classifier and terms, two optimizers.
 * @param inputs - `real` `[batch, ...]`, `noise` `[batch, latentDim]`, optional `labels`,
 *   `codes` (with `latentCode`), `generatorNoise`, `generatorCodes`, `seed`, `penaltySeed`, `update`.
 * @returns the step's terms as scalars (owned by the caller).
 * @example
 * ```ts
 * const out = train.adversarialStep(
 *   { generator, discriminator, loss: losses.gan.nonSaturating,
 *     generatorOptimizer: tf.train.adam(2e-4, 0.5), discriminatorOptimizer: tf.train.adam(2e-4, 0.5) },
 *   { real, noise: tf.randomNormal([64, 100]) },
 * );
 * const stacked = tf.stack([out.discriminator!, out.generator!]);
 * const [dLoss, gLoss] = await stacked.data();
 * tf.dispose([stacked, out]);
 * ```
 * @category Training
 */
export function adversarialStep(config: AdversarialStepConfig, inputs: AdversarialStepInputs): AdversarialStepLosses {
  assertKnownKeys(config, STEP_CONFIG_KEYS, 'config', FN);
  checkAdversarialConfig(config, FN);
  if (inputs === null || typeof inputs !== 'object') {
    throw new ArgumentError({ fn: FN, arg: 'inputs', expected: 'be an object { real, noise, labels? }', received: describe(inputs) });
  }
  assertKnownKeys(inputs, STEP_INPUT_KEYS, 'inputs', FN);
  const { real, noise, generatorNoise = noise, labels, codes, generatorCodes = codes, seed, penaltySeed, update = 'both' } = inputs;
  assertFloatTensor(real, 'inputs.real', FN);
  assertMinRank(real, 2, 'inputs.real', FN);
  assertNonEmptyBatch(real, 'inputs.real', FN);
  assertFloatTensor(noise, 'inputs.noise', FN);
  assertFloatTensor(generatorNoise, 'inputs.generatorNoise', FN);
  if (seed !== undefined) assertNonNegativeInt(seed, 'inputs.seed', FN);
  if (penaltySeed !== undefined) assertNumber(penaltySeed, 'inputs.penaltySeed', FN);
  assertOneOf(update, ['both', 'discriminator', 'generator'] as const, 'inputs.update', FN);
  if (config.latentCode !== undefined) {
    if (labels !== undefined) {
      throw new ArgumentError({
        fn: FN,
        arg: 'inputs.labels',
        expected: 'be undefined with config.latentCode (the code takes the label input)',
        received: describe(labels),
      });
    }
    checkCodes(codes, 'inputs.codes', real.shape[0]!, config.latentCode.categories, FN);
    checkCodes(generatorCodes, 'inputs.generatorCodes', generatorNoise.shape[0]!, config.latentCode.categories, FN);
  } else if (codes !== undefined || generatorCodes !== undefined) {
    throw new ArgumentError({
      fn: FN,
      arg: 'inputs.codes',
      expected: 'be given only with config.latentCode',
      received: describe(codes ?? generatorCodes),
    });
  }
  if (config.auxiliaryClassifier !== undefined && labels === undefined) {
    throw new ArgumentError({
      fn: FN,
      arg: 'inputs.labels',
      expected: 'hold the class of every real example with config.auxiliaryClassifier',
      received: 'undefined',
    });
  }
  if (labels !== undefined)
    checkLabels(labels, 'inputs.labels', real.shape[0]!, FN, {
      numClasses: config.auxiliaryClassifier?.numClasses,
      float: floatLabelInputs(config),
    });
  const step = resolveStep(config);
  const streams = (update: 'discriminator' | 'generator') => (stream: string) =>
    stream === 'penalty' && penaltySeed !== undefined
      ? penaltySeed
      : seed === undefined
        ? undefined
        : stepSeed(seed, 0, `${update}/${stream}`);
  return tf.tidy(() => {
    let out: AdversarialStepLosses = {};
    if (update !== 'generator') out = runUpdate(step, 'discriminator', { real, noise, labels, codes, seed: streams('discriminator') });
    if (update !== 'discriminator')
      out = {
        ...out,
        ...runUpdate(step, 'generator', { real, noise: generatorNoise, labels, codes: generatorCodes, seed: streams('generator') }),
      };
    return out as tf.TensorContainerObject;
  }) as AdversarialStepLosses;
}

/** Asserts that a batch has at least one example. @internal */
export function assertNonEmptyBatch(t: tf.Tensor, arg: string, fn: string): void {
  if (t.shape[0] === 0) {
    throw new ShapeError({ fn, arg, expected: 'hold at least one example', received: `an empty batch of shape ${formatShape(t.shape)}` });
  }
}

/**
 * Asserts that `codes` hold `n` integer categories in `[0, categories)`: `[n]` or `[n, 1]`.
 *
 * The range check reads the codes on the host, once per tensor: a tensor found in range is
 * remembered, as {@link checkLabels} remembers labels, and not read again (a `tf.Variable` is
 * read every time: its values change). @internal
 */
export function checkCodes(codes: unknown, arg: string, n: number, categories: number, fn: string): asserts codes is tf.Tensor {
  assertTensor(codes, arg, fn);
  const t = codes as tf.Tensor;
  const shapeOk = t.shape[0] === n && (t.rank === 1 || (t.rank === 2 && t.shape[1] === 1));
  if (!shapeOk || t.dtype !== 'int32') {
    throw new ArgumentError({
      fn,
      arg,
      expected: `be int32 codes of shape [${n}] or [${n},1]`,
      received: `${t.dtype} tensor of shape [${t.shape.join(',')}]`,
    });
  }
  if (valuesInRange(t, categories)) return;
  // An out-of-range code would index past the generator's embedding (wasm does not check), so
  // read the codes back: one small int32 read of user input, in a synchronous API, once per tensor.
  // eslint-disable-next-line no-restricted-syntax
  const values = t.dataSync();
  for (const v of values) {
    if (v < 0 || v >= categories) {
      throw new ArgumentError({ fn, arg, expected: `hold categories in [0, ${categories})`, received: `a code ${v}` });
    }
  }
  rememberValuesInRange(t, categories);
}

/**
 * Asserts that `labels` are `n` class labels: `[n]` or `[n, 1]`, int32 unless `float` allows
 * float labels (a network whose label input is declared float32), and in `[0, numClasses)`
 * when `numClasses` is known.
 *
 * The range check needs the label values on the host. With `range: 'now'` (the synchronous
 * `adversarialStep`) they are read here, once per tensor: a tensor's values never change, so
 * one found in range is remembered (a `WeakMap` to the class counts checked) and not read
 * again; a `tf.Variable` is read every time. On cpu and wasm that read costs no stall; on WebGL/WebGPU
 * it waits for the GPU once per distinct labels tensor. With `range: 'later'` (the trainer)
 * nothing is read and the function returns whether the values still need checking: the caller
 * reads them asynchronously with the step's own read and checks them with
 * {@link assertLabelValues} before it keeps the step. @internal
 *
 * @returns whether the values still need a range check (`range: 'later'`; always `false` with `'now'`).
 */
export function checkLabels(
  labels: unknown,
  arg: string,
  n: number,
  fn: string,
  options: { numClasses?: number; float?: boolean; range?: 'now' | 'later' } = {},
): boolean {
  assertTensor(labels, arg, fn);
  const t = labels as tf.Tensor;
  if (t.shape[0] !== n) {
    throw new ShapeError({ fn, arg, expected: `hold ${n} labels, one per example`, received: `shape ${formatShape(t.shape)}` });
  }
  if (t.dtype !== 'int32' && !options.float) {
    throw new DTypeError({
      fn,
      arg,
      expected: 'be int32 class labels',
      received: `a ${t.dtype} tensor`,
      hint: "Cast them with tf.cast(labels, 'int32'): a float label would be truncated by the label embedding",
    });
  }
  const { numClasses, range = 'now' } = options;
  if (numClasses === undefined || t.dtype !== 'int32' || valuesInRange(t, numClasses)) return false;
  if (range === 'later') return true;
  // An out-of-range label would index past an embedding (wasm does not check): read them back,
  // one small int32 read of user input, once per tensor.
  // eslint-disable-next-line no-restricted-syntax
  assertLabelValues(t.dataSync(), arg, fn, numClasses);
  rememberValuesInRange(t, numClasses);
  return false;
}

/** int32 tensors (class labels, InfoGAN codes) already read and found in `[0, k)`, per `k`. */
const checkedInRange = new WeakMap<tf.Tensor, Set<number>>();

/** Whether `t` (labels or codes) was already found in `[0, k)` (never for a variable, whose values change). @internal */
export function valuesInRange(t: tf.Tensor, k: number): boolean {
  return checkedInRange.get(t)?.has(k) === true;
}

/** Records that `t` (labels or codes; not a variable) holds values in `[0, k)`. @internal */
export function rememberValuesInRange(t: tf.Tensor, k: number): void {
  if (t instanceof tf.Variable) return;
  const counts = checkedInRange.get(t);
  if (counts) counts.add(k);
  else checkedInRange.set(t, new Set([k]));
}

/** Throws the `ArgumentError` of {@link checkLabels} for the first value outside `[0, numClasses)`. @internal */
export function assertLabelValues(values: ArrayLike<number>, arg: string, fn: string, numClasses: number): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < 0 || v >= numClasses) {
      throw new ArgumentError({ fn, arg, expected: `hold class labels in [0, ${numClasses})`, received: `a label ${v}` });
    }
  }
}

/**
 * Whether labels may be float: when every label input the networks declare is float32 (a
 * continuous condition), not an int32 class index for an embedding, and no classifier reads them. @internal
 */
export function floatLabelInputs(config: AdversarialStepConfig): boolean {
  if (config.auxiliaryClassifier !== undefined) return false;
  const declared = [config.generator.inputs?.[1], config.discriminator.inputs?.[1]]
    .map((input) => (input as { dtype?: string } | undefined)?.dtype)
    .filter((dtype) => dtype !== undefined);
  return declared.length > 0 && declared.every((dtype) => dtype === 'float32');
}

/** `n` codes drawn uniformly from `{0, …, categories − 1}`, int32 `[n]`. @internal */
export function uniformCodes(n: number, categories: number, seed: number | undefined): tf.Tensor1D {
  return tf.tidy(
    () => tf.cast(tf.minimum(tf.floor(tf.randomUniform([n], 0, categories, 'float32', seed)), categories - 1), 'int32') as tf.Tensor1D,
  );
}

/** The trainable variables of both networks, resolved once. @internal */
export interface StepVariables {
  generator: tf.Variable[];
  discriminator: tf.Variable[];
}

/** A config resolved once: objectives, variables and how each network is fed. @internal */
export interface ResolvedStep {
  config: AdversarialStepConfig;
  objectives: AdversarialObjectives;
  variables: StepVariables;
  /** Whether the generator's second input is the labels (conditional), the codes (InfoGAN), or absent. */
  generatorSecondInput: 'labels' | 'codes' | 'none';
  /** Whether the discriminator takes the labels as a second input. */
  discriminatorTakesLabels: boolean;
  /** Whether the discriminator returns `[logit, auxiliaryLogits]`. */
  discriminatorHasAuxiliary: boolean;
}

/** Resolves a (validated) config for repeated steps. @internal */
export function resolveStep(config: AdversarialStepConfig, variables?: StepVariables): ResolvedStep {
  const { generator, discriminator, latentCode, auxiliaryClassifier } = config;
  const auxiliary = latentCode !== undefined || auxiliaryClassifier !== undefined;
  return {
    config,
    objectives: adversarialObjectives(config),
    variables: variables ?? { generator: trainableVariables(generator), discriminator: trainableVariables(discriminator) },
    generatorSecondInput: latentCode ? 'codes' : generator.inputs === undefined || generator.inputs.length > 1 ? 'labels' : 'none',
    // Networks without symbolic inputs take the labels when given (except an AC-GAN discriminator, which predicts them).
    discriminatorTakesLabels: discriminator.inputs === undefined ? !auxiliary : discriminator.inputs.length > 1,
    discriminatorHasAuxiliary: auxiliary,
  };
}

/** The data of one update: what a context is built from. @internal */
export interface UpdateData {
  /** Real examples. */
  real: tf.Tensor;
  /** Noise of this update's fakes. */
  noise: tf.Tensor;
  /** Labels of the batch (conditional, AC-GAN). */
  labels: tf.Tensor | undefined;
  /** InfoGAN codes of this update's fakes. */
  codes: tf.Tensor | undefined;
  /** Seeds of the terms' named streams. */
  seed: (stream: string) => number | undefined;
}

/**
 * One update of one network: builds the context, minimizes the objective's terms, returns them
 * by name. Runs under the caller's tidy. @internal
 */
export function runUpdate(step: ResolvedStep, update: 'discriminator' | 'generator', data: UpdateData): Record<string, tf.Scalar> {
  const { config, variables } = step;
  if (update === 'discriminator') {
    const fake = generate(step, data); // outside the tape: no gradient flows into the generator
    return minimizeTerms(
      step.objectives.discriminator,
      () => new UpdateContext(step, update, data, fake),
      variables.discriminator,
      config.discriminatorOptimizer,
      'discriminator',
    );
  }
  return minimizeTerms(
    step.objectives.generator,
    () => new UpdateContext(step, update, data, generate(step, data)),
    variables.generator,
    config.generatorOptimizer,
    'generator',
  );
}

// The helpers of runUpdate are module functions and object methods rather than arrow functions
// assigned to names: a step makes no closures it does not need, and keepNames transforms (tsx,
// esbuild) have none to rename.

/** The generator's output on an update's noise (and labels or codes). */
function generate(step: ResolvedStep, data: UpdateData): tf.Tensor {
  const second = step.generatorSecondInput === 'codes' ? data.codes : step.generatorSecondInput === 'labels' ? data.labels : undefined;
  return applyNetwork(step.config.generator, data.noise, second, true, 'config.generator', FN);
}

/** The discriminator's outputs on `x` (fed the batch's labels when it takes them). */
function discriminate(step: ResolvedStep, x: tf.Tensor, labels: tf.Tensor | undefined): DiscriminatorOutputs {
  const { discriminator } = step.config;
  if (!step.discriminatorHasAuxiliary) {
    return { logit: applyNetwork(discriminator, x, step.discriminatorTakesLabels ? labels : undefined, true, 'config.discriminator', FN) };
  }
  const [logit, auxiliary] = applyNetworkPair(discriminator, x, true, 'config.discriminator', FN);
  return { logit, auxiliary };
}

/**
 * The context of one update's terms, with the discriminator's outputs computed on first use.
 * A class rather than an object literal with getters: V8 (Node 20) builds such a literal in
 * dictionary mode (`%HasFastProperties` is false), so making one cost about 0.9 µs and every read
 * of a context was a hash-table lookup; the sampling profile billed about 3 µs a context to it on
 * the trainer-overhead bench's micro MLP. A class instance has fast properties. The getters live
 * on the prototype: spreading a context (`{ ...c }`) copies the data fields and `critic`, not
 * `realOutputs` or `fakeOutputs`.
 */
class UpdateContext implements AdversarialContext {
  readonly real: tf.Tensor;
  readonly labels: tf.Tensor | undefined;
  readonly codes: tf.Tensor | undefined;
  readonly loss: AnyGanLoss;
  readonly seed: (stream: string) => number | undefined;
  /** Uses no `this`: a term may pass it on detached (`r1Penalty(c.critic, ...)`). */
  readonly critic: (x: tf.Tensor) => tf.Tensor;
  private readonly step: ResolvedStep;
  private realCache: DiscriminatorOutputs | undefined = undefined;
  private fakeCache: DiscriminatorOutputs | undefined = undefined;

  constructor(
    step: ResolvedStep,
    readonly update: 'discriminator' | 'generator',
    data: UpdateData,
    readonly fake: tf.Tensor,
  ) {
    const { real, labels, codes } = data;
    this.step = step;
    this.real = real;
    this.labels = labels;
    this.codes = codes;
    this.loss = step.config.loss;
    this.seed = data.seed;
    this.critic = (x) => discriminate(step, x, labels).logit;
  }

  get realOutputs(): DiscriminatorOutputs {
    return (this.realCache ??= discriminate(this.step, this.real, this.labels));
  }

  get fakeOutputs(): DiscriminatorOutputs {
    return (this.fakeCache ??= discriminate(this.step, this.fake, this.labels));
  }
}
