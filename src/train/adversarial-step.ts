/**
 * One adversarial training step: a discriminator update and a generator update.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { ArgumentError, ConfigError } from '../errors.js';
import type { AnyGanLoss } from '../losses/gan/types.js';
import { assertFloatTensor, assertMinRank, assertOneOf, assertTensor, describe } from '../validation.js';
import { applyNetwork, assertNetwork, trainableVariables, type Network } from './network.js';

/**
 * A penalty on the discriminator, added to its loss: `(critic, real, fake, { seed }) => Scalar`.
 * `losses.gan.gradientPenalty` has this signature; wrap others:
 * `(critic, real) => losses.gan.r1Penalty(critic, real, { weight: 10 })`.
 *
 * @category Training
 */
export type Penalty = (critic: (x: tf.Tensor) => tf.Tensor, real: tf.Tensor, fake: tf.Tensor, options: { seed?: number }) => tf.Scalar;

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
  /** Generator loss, when the generator was updated. */
  generator?: tf.Scalar;
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
 * Both networks are called with `{ training: true }`; each optimizer receives an explicit
 * list of its own network's trainable variables. The step is synchronous and tidied: the
 * returned scalars are the only tensors it leaves.
 *
 * @see https://arxiv.org/abs/1406.2661 (Goodfellow et al. 2014, Generative Adversarial Networks)
 * @param config - networks, loss pair, optional penalty, two optimizers.
 * @param inputs - `real` `[batch, ...]`, `noise` `[batch, latentDim]`, optional `labels`,
 *   `generatorNoise`, `penaltySeed`, `update`.
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
  const { real, noise, generatorNoise = noise, labels, penaltySeed, update = 'both' } = inputs;
  assertFloatTensor(real, 'inputs.real', FN);
  assertMinRank(real, 2, 'inputs.real', FN);
  assertFloatTensor(noise, 'inputs.noise', FN);
  assertFloatTensor(generatorNoise, 'inputs.generatorNoise', FN);
  if (labels !== undefined) assertTensor(labels, 'inputs.labels', FN);
  assertOneOf(update, ['both', 'discriminator', 'generator'] as const, 'inputs.update', FN);
  return adversarialStepUnchecked(config, real, noise, generatorNoise, labels, penaltySeed, update);
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
): AdversarialStepLosses {
  const { generator, discriminator, loss, penalty, generatorOptimizer, discriminatorOptimizer } = config;
  const dVars = variables?.discriminator ?? trainableVariables(discriminator);
  const gVars = variables?.generator ?? trainableVariables(generator);
  const G = (z: tf.Tensor) => applyNetwork(generator, z, labels, true, 'config.generator', FN);
  const D = (x: tf.Tensor) => applyNetwork(discriminator, x, labels, true, 'config.discriminator', FN);
  return tf.tidy(() => {
    const out: AdversarialStepLosses = {};
    if (update !== 'generator') {
      const fake = G(noise);
      const dLoss = () => loss.discriminator(D(real), D(fake)) as tf.Scalar;
      if (penalty) {
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
        const { value, grads } = tf.variableGrads(dLoss, dVars);
        discriminatorOptimizer.applyGradients(grads);
        out.discriminator = value;
      }
    }
    if (update !== 'discriminator') {
      const { value, grads } = tf.variableGrads(() => {
        const fakeLogits = D(G(generatorNoise));
        return (loss.relativistic ? loss.generator(D(real), fakeLogits) : loss.generator(fakeLogits)) as tf.Scalar;
      }, gVars);
      generatorOptimizer.applyGradients(grads);
      out.generator = value;
    }
    return out as tf.TensorContainerObject;
  }) as AdversarialStepLosses;
}
