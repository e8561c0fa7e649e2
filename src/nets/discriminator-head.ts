/**
 * The output heads shared by the discriminators: a plain logit, an AC-GAN auxiliary
 * classifier, or a projection head.
 *
 * @module
 * @internal
 */
import * as tfl from '@tensorflow/tfjs-layers';

import { ConfigError } from '../errors.js';
import { assertOneOf, describe } from '../validation.js';
import { labelInput } from '../layers/label-conditioning.js';
import { applyLayer, checkNumClasses, type LayerSeeds, maybeSpectral, type Sym } from './common.js';

/** Output head of a discriminator. @category Networks */
export type DiscriminatorHead = 'none' | 'acgan' | 'projection';

/** Conditioning options shared by the discriminators. @category Networks */
export interface DiscriminatorConditioning {
  /**
   * Output head. Default `'none'`.
   * - `'none'`: input `x`, output the real/fake logit `[batch, 1]`.
   * - `'acgan'` (Odena et al. 2017): input `x`, outputs `[logit [batch, 1], classLogits [batch, numClasses]]`.
   * - `'projection'` (Miyato & Koyama 2018): inputs `[x, label]` (label int32 `[batch, 1]`),
   *   output `logit = ψ(φ(x)) + embed(label) · φ(x)`, `[batch, 1]`.
   */
  head?: DiscriminatorHead;
  /** Number of classes; required by the `'acgan'` and `'projection'` heads, not allowed otherwise. */
  numClasses?: number;
}

/** Validates the head options; returns the head. @internal */
export function checkHead(config: DiscriminatorConditioning, fn: string): DiscriminatorHead {
  const { head = 'none', numClasses } = config;
  assertOneOf(head, ['none', 'acgan', 'projection'] as const, 'config.head', fn);
  checkNumClasses(numClasses, fn);
  if (head !== 'none' && numClasses === undefined) {
    throw new ConfigError({ fn, arg: 'config.numClasses', expected: `be a positive integer with head '${head}'`, received: 'undefined' });
  }
  if (head === 'none' && numClasses !== undefined) {
    throw new ConfigError({
      fn,
      arg: 'config.head',
      expected: "be 'acgan' or 'projection' when config.numClasses is set",
      received: describe(config.head),
      hint: 'A conditional discriminator needs a head that uses the labels',
    });
  }
  return head;
}

/** The label input of a projection discriminator, or none. @internal */
export function discriminatorLabelInputs(head: DiscriminatorHead): Sym[] {
  return head === 'projection' ? [labelInput()] : [];
}

/**
 * Ends a discriminator: from the features `[batch, F]`, a linear logit plus the head's extra.
 *
 * @internal
 */
export function discriminatorOutputs(
  features: Sym,
  head: DiscriminatorHead,
  numClasses: number | undefined,
  labels: Sym[],
  spectralNorm: boolean,
  seeds: LayerSeeds,
): Sym[] {
  const logit = applyLayer(maybeSpectral(tfl.layers.dense({ units: 1, ...seeds.kernel() }), spectralNorm, seeds), features);
  if (head === 'acgan') {
    const classLogits = applyLayer(
      maybeSpectral(tfl.layers.dense({ units: numClasses!, ...seeds.kernel() }), spectralNorm, seeds),
      features,
    );
    return [logit, classLogits];
  }
  if (head === 'projection') {
    const featureDim = features.shape[features.shape.length - 1]!;
    const embedding = maybeSpectral(
      tfl.layers.embedding({ inputDim: numClasses!, outputDim: featureDim, ...seeds.embeddings() }),
      spectralNorm,
      seeds,
    );
    const embedded = applyLayer(tfl.layers.flatten(), applyLayer(embedding, labels[0]!));
    const projection = applyLayer(tfl.layers.dot({ axes: 1 }), [embedded, features]);
    return [applyLayer(tfl.layers.add(), [logit, projection])];
  }
  return [logit];
}
