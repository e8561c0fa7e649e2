/**
 * What the trainers need from a network, and helpers to reach its variables.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { ArgumentError, ConfigError } from '../errors.js';
import { describe, formatShape } from '../validation.js';

/** A weight as tfjs-layers holds it (`LayerVariable`): `read()` gives the `tf.Variable`. @category Training */
export interface WeightHolder {
  /** The underlying variable (a `tf.Variable`, typed as a tensor by tfjs-layers). */
  read(): tf.Tensor;
}

/**
 * Anything the trainers can train: a `tf.LayersModel`, or an object of your own with `apply`
 * and `trainableWeights`. `weights` (all weights, with batch-norm statistics) and `inputs` /
 * `outputs` (symbolic shapes, for validation) are used when present.
 *
 * @example
 * ```ts
 * const generator: train.Network = nets.mlpGenerator({ latentDim: 2, outputShape: [2] });
 * ```
 * @category Training
 */
export interface Network {
  /** Runs the network. Trainers pass `{ training: true }` in training steps. */
  apply(inputs: tf.Tensor | tf.Tensor[], kwargs?: { training?: boolean }): unknown;
  /** Weights the optimizer updates. */
  readonly trainableWeights: readonly (tf.Variable | WeightHolder)[];
  /** Every weight (trainable or not); checkpoints hold these. Default: `trainableWeights`. */
  readonly weights?: readonly (tf.Variable | WeightHolder)[];
  /** Symbolic inputs (`shape` with `null` batch), as `tf.LayersModel` has them. */
  readonly inputs?: readonly {
    /** Symbolic shape, `null` for the batch axis. */
    readonly shape: readonly (number | null)[];
  }[];
  /** Symbolic outputs, as `tf.LayersModel` has them. */
  readonly outputs?: readonly {
    /** Symbolic shape, `null` for the batch axis. */
    readonly shape: readonly (number | null)[];
  }[];
}

function toVariable(w: tf.Variable | WeightHolder): tf.Variable {
  const v = w instanceof tf.Variable ? w : w.read();
  if (!(v instanceof tf.Variable)) {
    throw new ArgumentError({
      fn: 'train',
      arg: 'network.trainableWeights',
      expected: 'hold tf.Variable objects (or holders whose read() returns one)',
      received: describe(v),
    });
  }
  return v;
}

/** The trainable variables of `net`, in its own order. @internal */
export function trainableVariables(net: Network): tf.Variable[] {
  return net.trainableWeights.map(toVariable);
}

/** Every variable of `net` (trainable first when `weights` is missing). @internal */
export function allVariables(net: Network): tf.Variable[] {
  return (net.weights ?? net.trainableWeights).map(toVariable);
}

/** Asserts that `value` looks like a {@link Network}. @internal */
export function assertNetwork(value: unknown, arg: string, fn: string): asserts value is Network {
  const ok =
    value !== null &&
    typeof value === 'object' &&
    typeof (value as Network).apply === 'function' &&
    Array.isArray((value as Network).trainableWeights);
  if (!ok) {
    throw new ConfigError({
      fn,
      arg,
      expected: 'be a tf.LayersModel or an object with apply() and trainableWeights',
      received: describe(value),
    });
  }
}

/** Calls `net` on `x` (and `labels` as a second input when given) and checks it returns one tensor. @internal */
export function applyNetwork(
  net: Network,
  x: tf.Tensor,
  labels: tf.Tensor | undefined,
  training: boolean,
  arg: string,
  fn: string,
): tf.Tensor {
  // Labels `[batch]` (as loadMnist and data.batches give them) feed a label input declared
  // `[null, 1]` (as the conditional networks built here declare it).
  const fed = labels !== undefined && labels.rank === 1 && net.inputs?.[1]?.shape.length === 2 ? tf.reshape(labels, [-1, 1]) : labels;
  const out = net.apply(fed === undefined ? x : [x, fed], { training });
  if (!(out instanceof tf.Tensor)) {
    throw new ArgumentError({
      fn,
      arg,
      expected: 'return a single tensor',
      received: Array.isArray(out) ? `an array of ${out.length} outputs` : describe(out),
      hint: 'Pass a model with one output',
    });
  }
  return out;
}

/**
 * Runs a discriminator with an auxiliary head, which returns `[logit, auxiliaryLogits]`
 * (InfoGAN's `Q`). @internal
 */
export function applyNetworkPair(net: Network, x: tf.Tensor, training: boolean, arg: string, fn: string): [tf.Tensor, tf.Tensor] {
  const out = net.apply(x, { training });
  if (!Array.isArray(out) || out.length !== 2 || !out.every((t) => t instanceof tf.Tensor)) {
    throw new ArgumentError({
      fn,
      arg,
      expected: 'return two tensors [logit, auxiliaryLogits] (config.latentCode or config.auxiliaryClassifier is set)',
      received: out instanceof tf.Tensor ? 'a single tensor' : Array.isArray(out) ? `an array of ${out.length} outputs` : describe(out),
      hint: "Give the discriminator an auxiliary head, e.g. nets.dcganDiscriminator({ ..., head: 'acgan', numClasses })",
    });
  }
  return [out[0] as tf.Tensor, out[1] as tf.Tensor];
}

/** The symbolic shape of input/output `index`, when known, for messages: `[null,2]`. @internal */
export function symbolicShape(shapes: Network['inputs'], index = 0): (number | null)[] | undefined {
  const s = shapes?.[index]?.shape;
  return s ? [...s] : undefined;
}

/** Formats a symbolic shape: `[null,28,28,1]`. @internal */
export function formatSymbolic(shape: readonly (number | null)[]): string {
  return formatShape(shape.map((d) => (d === null ? -1 : d))).replace(/-1/g, 'null');
}

/** Whether a concrete shape matches a symbolic one (`null` matches any size). @internal */
export function matchesSymbolic(shape: readonly number[], symbolic: readonly (number | null)[]): boolean {
  return shape.length === symbolic.length && symbolic.every((d, i) => d === null || d === shape[i]);
}
