/**
 * One adversarial training step: a discriminator update and a generator update.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { ArgumentError, ConfigError } from '../errors.js';
import type { AnyGanLoss } from '../losses/gan/types.js';
import { assertFloatTensor, assertMinRank, assertNumber, assertOneOf, assertPositiveInt, assertTensor, describe } from '../validation.js';
import { applyNetwork, applyNetworkPair, assertNetwork, formatSymbolic, symbolicShape, trainableVariables, type Network } from './network.js';

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
}

/** The inputs of one adversarial step. @category Training */
export interface AdversarialStepInputs {
  /** Real examples `[batch, ...]`. */
  real: tf.Tensor;
  /** Latent noise `[batch, latentDim]` for the discriminator update. */
  noise: tf.Tensor;
  /** Noise for the generator update. Default: `noise`. */
  generatorNoise?: tf.Tensor;
  /** Class labels for conditional networks (passed as a second input to both); fakes use the same labels. */
  labels?: tf.Tensor;
  /** InfoGAN codes `[batch]` or `[batch, 1]` (int32 in `[0, K)`) for the discriminator update, with `config.latentCode`. */
  codes?: tf.Tensor;
  /** Codes for the generator update. Default: `codes`. */
  generatorCodes?: tf.Tensor;
  /** Seed passed to the penalty. */
  penaltySeed?: number;
  /** Which updates to run. Default `'both'` (discriminator first, then generator). */
  update?: 'both' | 'discriminator' | 'generator';
}

/**
 * The losses of a step, as scalars the caller owns (read them with one `await data()` of
 * `tf.stack([...])`, then dispose them).
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
   * With `config.latentCode`, when the generator was updated: the code's cross-entropy
   * `−mean log Q(c | G(z, c))` (unweighted), which falls towards 0 as the categories become
   * recognizable; `log K − code` is InfoGAN's lower bound on the mutual information.
   */
  code?: tf.Scalar;
}

const FN = 'train.adversarialStep';

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
    throw new ConfigError({ fn, arg: `${prefix}penalty`, expected: 'be a function (critic, real, fake, { seed }) => Scalar', received: describe(penalty) });
  }
  for (const [arg, opt] of [[`${prefix}generatorOptimizer`, generatorOptimizer], [`${prefix}discriminatorOptimizer`, discriminatorOptimizer]] as const) {
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
  if (config.latentCode !== undefined) checkLatentCode(config, fn, prefix);
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

/** Validates `config.latentCode` and the networks' shapes it needs, when those are known. */
function checkLatentCode(config: AdversarialStepConfig, fn: string, prefix: string): void {
  const code = config.latentCode;
  const arg = `${prefix}latentCode`;
  if (code === null || typeof code !== 'object') {
    throw new ConfigError({ fn, arg, expected: 'be an object { categories, weight? }', received: describe(code) });
  }
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
  const outputs = config.discriminator.outputs;
  if (outputs !== undefined) {
    const q = symbolicShape(outputs, 1);
    if (outputs.length !== 2 || q?.length !== 2 || q[1] !== code.categories) {
      throw new ConfigError({
        fn,
        arg: `${prefix}discriminator`,
        expected: `return [logit, codeLogits [null,${code.categories}]] with latentCode`,
        received: `a discriminator with outputs ${outputs.map((o) => formatSymbolic([...o.shape])).join(', ')}`,
        hint: `Build it with an auxiliary head, e.g. nets.dcganDiscriminator({ ..., head: 'acgan', numClasses: ${code.categories} })`,
      });
    }
  }
}

/** `−mean_i log softmax(logits)_{i, codes_i}`: the code's cross-entropy, stable for any logits. */
function codeCrossEntropy(logits: tf.Tensor, codes: tf.Tensor, categories: number): tf.Scalar {
  const target = tf.oneHot(tf.cast(tf.reshape(codes, [-1]), 'int32') as tf.Tensor1D, categories);
  return tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(logits)), -1))) as tf.Scalar;
}

/** Computes `loss`, keeping extra scalars it reports through `extra` alive past `variableGrads`. */
function lossAndGrads(f: (keep: (t: tf.Scalar) => void) => tf.Scalar, varList: tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap; kept: tf.Scalar[] } {
  const kept: tf.Scalar[] = [];
  const { value, grads } = tf.variableGrads(() => f((t) => kept.push(tf.keep(t))), varList);
  // Move the kept scalars back under the caller's tidy: a clone is tracked, the original freed.
  const tracked = kept.map((t) => {
    const c = tf.clone(t);
    t.dispose();
    return c;
  });
  return { value, grads, kept: tracked };
}

/**
 * One adversarial training step (Goodfellow et al. 2014, Algorithm 1, with one step of each):
 *
 * ```text
 * x̃ = G(z)                                   (no gradient into G)
 * θ_D ← θ_D − optD(∇_θD [ L_D(D(x), D(x̃)) + penalty(D, x, x̃) ])
 * θ_G ← θ_G − optG(∇_θG L_G(D(G(z'))))       (relativistic losses: L_G(D(x), D(G(z'))))
 * ```
 *
 * With `config.latentCode` (InfoGAN) the generator also takes codes `c`, the discriminator
 * returns `[D, Q]`, and both losses gain `λ·CE(Q(G(z, c)), c)` (the discriminator's through its
 * `Q` head on `x̃ = G(z, c)`, the generator's through `G(z', c')`); the penalty sees `D` only.
 *
 * Both networks are called with `{ training: true }`; each optimizer receives an explicit
 * list of its own network's trainable variables. The step is synchronous and tidied: the
 * returned scalars are the only tensors it leaves.
 *
 * @see https://arxiv.org/abs/1406.2661 (Goodfellow et al. 2014, Generative Adversarial Networks)
 * @param config - networks, loss pair, optional penalty, two optimizers.
 * @param inputs - `real` `[batch, ...]`, `noise` `[batch, latentDim]`, optional `labels`,
 *   `codes` (with `latentCode`), `generatorNoise`, `generatorCodes`, `penaltySeed`, `update`.
 * @returns the step's losses as scalars (owned by the caller).
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
  checkAdversarialConfig(config, FN);
  if (inputs === null || typeof inputs !== 'object') {
    throw new ArgumentError({ fn: FN, arg: 'inputs', expected: 'be an object { real, noise, labels? }', received: describe(inputs) });
  }
  const { real, noise, generatorNoise = noise, labels, codes, generatorCodes = codes, penaltySeed, update = 'both' } = inputs;
  assertFloatTensor(real, 'inputs.real', FN);
  assertMinRank(real, 2, 'inputs.real', FN);
  assertFloatTensor(noise, 'inputs.noise', FN);
  assertFloatTensor(generatorNoise, 'inputs.generatorNoise', FN);
  if (labels !== undefined) assertTensor(labels, 'inputs.labels', FN);
  assertOneOf(update, ['both', 'discriminator', 'generator'] as const, 'inputs.update', FN);
  if (config.latentCode !== undefined) {
    if (labels !== undefined) {
      throw new ArgumentError({ fn: FN, arg: 'inputs.labels', expected: 'be undefined with config.latentCode (the code takes the label input)', received: describe(labels) });
    }
    checkCodes(codes, 'inputs.codes', real.shape[0]!, config.latentCode.categories, FN);
    checkCodes(generatorCodes, 'inputs.generatorCodes', generatorNoise.shape[0]!, config.latentCode.categories, FN);
  } else if (codes !== undefined || generatorCodes !== undefined) {
    throw new ArgumentError({ fn: FN, arg: 'inputs.codes', expected: 'be given only with config.latentCode', received: describe(codes ?? generatorCodes) });
  }
  return adversarialStepUnchecked(config, real, noise, generatorNoise, labels, penaltySeed, update, undefined, codes, generatorCodes);
}

/** Asserts that `codes` hold `n` integer categories in `[0, categories)`: `[n]` or `[n, 1]`. @internal */
export function checkCodes(codes: unknown, arg: string, n: number, categories: number, fn: string): asserts codes is tf.Tensor {
  assertTensor(codes, arg, fn);
  const t = codes as tf.Tensor;
  const shapeOk = t.shape[0] === n && (t.rank === 1 || (t.rank === 2 && t.shape[1] === 1));
  if (!shapeOk || t.dtype !== 'int32') {
    throw new ArgumentError({ fn, arg, expected: `be int32 codes of shape [${n}] or [${n},1]`, received: `${t.dtype} tensor of shape [${t.shape.join(',')}]` });
  }
  // An out-of-range code would index past the generator's embedding (wasm does not check), so
  // read the codes back: one small int32 read of user input, in a synchronous API.
  // eslint-disable-next-line no-restricted-syntax
  const values = t.dataSync();
  for (const v of values) {
    if (v < 0 || v >= categories) {
      throw new ArgumentError({ fn, arg, expected: `hold categories in [0, ${categories})`, received: `a code ${v}` });
    }
  }
}

/** `n` codes drawn uniformly from `{0, …, categories − 1}`, int32 `[n]`. @internal */
export function uniformCodes(n: number, categories: number, seed: number | undefined): tf.Tensor1D {
  return tf.tidy(() => tf.cast(tf.minimum(tf.floor(tf.randomUniform([n], 0, categories, 'float32', seed)), categories - 1), 'int32') as tf.Tensor1D);
}

/** The trainable variables of both networks, resolved once. @internal */
export interface StepVariables {
  generator: tf.Variable[];
  discriminator: tf.Variable[];
}

/** {@link adversarialStep} without validation (the trainer validates once). @internal */
export function adversarialStepUnchecked(
  config: AdversarialStepConfig,
  real: tf.Tensor,
  noise: tf.Tensor,
  generatorNoise: tf.Tensor,
  labels: tf.Tensor | undefined,
  penaltySeed: number | undefined,
  update: 'both' | 'discriminator' | 'generator',
  variables?: StepVariables,
  codes?: tf.Tensor,
  generatorCodes: tf.Tensor | undefined = codes,
): AdversarialStepLosses {
  const { generator, discriminator, loss, penalty, generatorOptimizer, discriminatorOptimizer, latentCode } = config;
  const dVars = variables?.discriminator ?? trainableVariables(discriminator);
  const gVars = variables?.generator ?? trainableVariables(generator);
  const G = (z: tf.Tensor, c: tf.Tensor | undefined) => applyNetwork(generator, z, latentCode ? c : labels, true, 'config.generator', FN);
  const D = (x: tf.Tensor) => applyNetwork(discriminator, x, labels, true, 'config.discriminator', FN);
  // With a latent code the discriminator returns [logit, codeLogits]; the loss and the penalty see the logit.
  const DQ = (x: tf.Tensor) => applyNetworkPair(discriminator, x, true, 'config.discriminator', FN);
  const logit = latentCode ? (x: tf.Tensor) => DQ(x)[0] : D;
  const weight = latentCode?.weight ?? 1;
  return tf.tidy(() => {
    const out: AdversarialStepLosses = {};
    if (update !== 'generator') {
      const fake = G(noise, codes);
      if (latentCode) {
        const { grads, kept } = lossAndGrads((keep) => {
          const [fakeLogit, fakeCode] = DQ(fake);
          const d = loss.discriminator(logit(real), fakeLogit) as tf.Scalar;
          keep(d);
          let total = tf.add(d, tf.mul(weight, codeCrossEntropy(fakeCode, codes!, latentCode.categories)));
          if (penalty) {
            const p = penalty(logit, real, fake, { seed: penaltySeed });
            keep(p);
            total = tf.add(total, p);
          }
          return total as tf.Scalar;
        }, dVars);
        discriminatorOptimizer.applyGradients(grads);
        out.discriminator = kept[0];
        if (penalty) out.penalty = kept[1];
      } else if (penalty) {
        const dLoss = () => loss.discriminator(D(real), D(fake)) as tf.Scalar;
        const { grads, kept } = lossAndGrads((keep) => {
          const d = dLoss();
          keep(d);
          const p = penalty(D, real, fake, { seed: penaltySeed });
          keep(p);
          return tf.add(d, p) as tf.Scalar;
        }, dVars);
        discriminatorOptimizer.applyGradients(grads);
        out.discriminator = kept[0];
        out.penalty = kept[1];
      } else {
        // Without a penalty the differentiated value is the loss itself: no copy to keep.
        const { value, grads } = tf.variableGrads(() => loss.discriminator(D(real), D(fake)) as tf.Scalar, dVars);
        discriminatorOptimizer.applyGradients(grads);
        out.discriminator = value;
      }
    }
    if (update !== 'discriminator') {
      const generatorLoss = (fakeLogits: tf.Tensor) => (loss.relativistic ? loss.generator(logit(real), fakeLogits) : loss.generator(fakeLogits)) as tf.Scalar;
      if (latentCode) {
        const { grads, kept } = lossAndGrads((keep) => {
          const [fakeLogit, fakeCode] = DQ(G(generatorNoise, generatorCodes));
          const g = generatorLoss(fakeLogit);
          keep(g);
          const c = codeCrossEntropy(fakeCode, generatorCodes!, latentCode.categories);
          keep(c);
          return tf.add(g, tf.mul(weight, c)) as tf.Scalar;
        }, gVars);
        generatorOptimizer.applyGradients(grads);
        out.generator = kept[0];
        out.code = kept[1];
      } else {
        const { value, grads } = tf.variableGrads(() => generatorLoss(D(G(generatorNoise, undefined))), gVars);
        generatorOptimizer.applyGradients(grads);
        out.generator = value;
      }
    }
    return out as tf.TensorContainerObject;
  }) as AdversarialStepLosses;
}
