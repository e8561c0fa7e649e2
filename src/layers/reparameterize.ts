/**
 * The `Reparameterize` layer: {@link reparameterize} as a registered tfjs-layers layer.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { ArgumentError } from '../errors.js';
import { assertNumber, assertOneOf, assertOptionsObject, describe } from '../validation.js';
import type { StatefulLayer } from '../train/stateful-layer.js';
import { reparameterize } from '../vae/reparameterize.js';

const FN = 'vae.Reparameterize';

/** Counter for default layer names (tfjs' own would contain the `>` of the class name). */
let defaultNameCount = 0;

/** Arguments of {@link Reparameterize}. @category Layers */
export interface ReparameterizeArgs {
  /**
   * What the layer returns outside training: `'sample'` draws `z` as in training, `'mean'`
   * returns `mean` (deterministic reconstructions). Default `'sample'`.
   */
  inference?: 'mean' | 'sample';
  /**
   * Seed of the noise. Call `k` of a layer (counted from 0 since it was created or loaded)
   * uses seed `seed + k`, so runs are reproducible and successive calls differ. Default:
   * unseeded.
   */
  seed?: number;
  /** Layer name. */
  name?: string;
  /** Accepted from tfjs-layers' deserialization; unused. */
  trainable?: boolean;
}

/**
 * Samples `z = mean + exp(0.5 · logVar) ⊙ ε` from its two inputs `[mean, logVar]`
 * (see {@link reparameterize}). In training calls (`{ training: true }`, `fit`) it always
 * samples; at inference it samples or returns `mean`, as `inference` says.
 *
 * Registered as `genblocks>Reparameterize` by importing `genblocks`, so a model containing it
 * saves and loads with the usual tfjs calls.
 *
 * @see https://arxiv.org/abs/1312.6114 (Kingma & Welling, §2.4)
 * @example
 * ```ts
 * const mean = tf.input({ shape: [2] });
 * const logVar = tf.input({ shape: [2] });
 * const z = new vae.Reparameterize({ inference: 'mean' }).apply([mean, logVar]);
 * ```
 * @category Layers
 */
export class Reparameterize extends tfl.layers.Layer implements StatefulLayer {
  /** Registered class name (package prefix `genblocks>`). */
  static className = 'genblocks>Reparameterize';

  /** Inference behaviour. */
  readonly inference: 'mean' | 'sample';
  /** Base seed, if any. */
  readonly seed: number | undefined;
  /**
   * Seeded samples drawn so far: call k uses seed `seed + k`. Trainers save it in checkpoints
   * so that a resumed run draws the same noise as an uninterrupted one.
   */
  sampleCount = 0;

  constructor(args: ReparameterizeArgs = {}) {
    assertOptionsObject(args, 'args', FN);
    const { inference = 'sample', seed, name } = args;
    assertOneOf(inference, ['mean', 'sample'] as const, 'config.inference', FN);
    if (seed !== undefined) assertNumber(seed, 'config.seed', FN, { integer: true });
    super({ name: name ?? `reparameterize_${++defaultNameCount}` });
    this.inference = inference;
    this.seed = seed;
  }

  /** Checkpoint state (see `train.StatefulLayer`): `{ sampleCount }`. */
  getState(): Record<string, number> {
    return { sampleCount: this.sampleCount };
  }

  /** Puts back a state from {@link Reparameterize.getState}. */
  setState(state: Record<string, number>): void {
    const count = state['sampleCount'];
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
      throw new ArgumentError({
        fn: `${FN}.setState`,
        arg: 'state.sampleCount',
        expected: 'be a non-negative integer',
        received: describe(count),
      });
    }
    this.sampleCount = count;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    if (!Array.isArray(inputShape[0]) || inputShape.length !== 2) {
      throw new ArgumentError({ fn: FN, arg: 'inputs', expected: 'be the pair [mean, logVar]', received: describe(inputShape) });
    }
    return inputShape[0] as tfl.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    if (!Array.isArray(inputs) || inputs.length !== 2) {
      throw new ArgumentError({ fn: FN, arg: 'inputs', expected: 'be the pair [mean, logVar]', received: describe(inputs) });
    }
    const [mean, logVar] = inputs as [tf.Tensor, tf.Tensor];
    if (kwargs?.['training'] !== true && this.inference === 'mean') return tf.clone(mean);
    const seed = this.seed === undefined ? undefined : this.seed + this.sampleCount++;
    return reparameterize(mean, logVar, { seed });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = { inference: this.inference };
    if (this.seed !== undefined) config['seed'] = this.seed;
    return { ...super.getConfig(), ...config };
  }
}

// Import-time side effect (this file is named in package.json `sideEffects`): the layer is saved
// as `genblocks>Reparameterize` and found again by tf.loadLayersModel in any program whose code
// reaches this file, also in a bundle that keeps only part of genblocks.
tf.serialization.registerClass(Reparameterize, 'genblocks', 'Reparameterize');
