/**
 * Fréchet distance between two sets of activations (FID when the features come from a
 * classifier), as pure maths on activations plus a wrapper that takes a feature function
 * (the TF-GAN split).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { ArgumentError } from '../errors.js';
import { assertKnownKeys } from '../validation.js';
import { assertFiniteValues, computeActivationsAs, readActivations, type Activations, type FeatureFunction } from './activations.js';
import { columnMeans, covariance, traceSqrtProduct } from './linalg.js';

/** Options of {@link frechetDistanceFromActivations}. @category Metrics */
export interface FrechetDistanceOptions {
  /**
   * Allow the two sets to hold different numbers of examples (default `false`: an error).
   * The estimate's bias depends on the sample count, so distances are comparable only at
   * equal counts; allow it only when you know why.
   */
  allowUnequalCounts?: boolean;
}

/**
 * The Fréchet distance between Gaussians fitted to two activation sets (the maths of FID):
 *
 * `d² = ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2 (Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2})`
 *
 * with means `μ` and unbiased covariances `Σ = (X − μ)ᵀ(X − μ)/(n − 1)`. The trace of the matrix
 * square root is computed in float64 through symmetric eigendecompositions (Householder +
 * QL): `Σ₁^{1/2} Σ₂ Σ₁^{1/2}` is symmetric positive semi-definite, so its eigenvalues are real,
 * and those that rounding makes slightly negative are clamped to 0. Nearly singular covariances
 * (fewer examples than dimensions, dead features) therefore give a finite result, not NaN.
 *
 * **Bias.** With finite samples the estimate is biased upwards, and the bias shrinks with the
 * sample count (Chong & Forsyth, arXiv:1911.07023): two samples of the same distribution give a
 * positive distance. Compare distances only at equal sample counts (the function requires
 * `a` and `b` to have the same count unless `allowUnequalCounts` is set), and report the count
 * with the score (FID is usually computed on 10,000 or 50,000 examples). For `d` features use
 * well over `d` examples, or Σ is rank-deficient.
 *
 * @see https://arxiv.org/abs/1706.08500 (Heusel et al., FID)
 * @param a Activations of the first set (e.g. real images), `[n, d]`.
 * @param b Activations of the second set (e.g. generated images), `[m, d]`; `m = n` unless allowed.
 * @param options `allowUnequalCounts` (default `false`).
 * @returns The squared Fréchet distance (≥ 0, a plain number).
 * @example
 * ```ts
 * const real = tf.randomNormal([500, 16]) as tf.Tensor2D;
 * const fake = tf.randomNormal([500, 16], 0.5) as tf.Tensor2D;
 * const fid = await metrics.frechetDistanceFromActivations(real, fake); // ≈ 16 · 0.25 = 4 (+ bias)
 * ```
 * @category Metrics
 */
export async function frechetDistanceFromActivations(
  a: Activations,
  b: Activations,
  options: FrechetDistanceOptions = {},
): Promise<number> {
  return frechetFromActivationsAs('metrics.frechetDistanceFromActivations', a, b, options, 'a', 'b');
}

async function frechetFromActivationsAs(
  fn: string,
  a: unknown,
  b: unknown,
  options: FrechetDistanceOptions,
  argA: string,
  argB: string,
): Promise<number> {
  assertKnownKeys(options, ['allowUnequalCounts'], 'options', fn);
  const x = await readActivations(a, argA, fn);
  const y = await readActivations(b, argB, fn);
  if (x.d !== y.d) {
    throw new ArgumentError({
      fn,
      arg: argB,
      expected: `have the same feature dimension as '${argA}' (${x.d})`,
      received: `${y.d} features`,
    });
  }
  for (const [set, arg] of [
    [x, argA],
    [y, argB],
  ] as const) {
    if (set.n < 2) {
      throw new ArgumentError({ fn, arg, expected: 'hold at least 2 examples (a covariance needs n ≥ 2)', received: `${set.n}` });
    }
    assertFiniteValues(set, arg, fn);
  }
  if (x.n !== y.n && options.allowUnequalCounts !== true) {
    throw new ArgumentError({
      fn,
      arg: argB,
      expected: `hold as many examples as '${argA}' (${x.n})`,
      received: `${y.n}`,
      hint: 'The Fréchet distance is biased by the sample count; compare sets of equal size, or pass { allowUnequalCounts: true }',
    });
  }
  const d = x.d;
  const mu1 = columnMeans(x.data, x.n, d);
  const mu2 = columnMeans(y.data, y.n, d);
  const sigma1 = covariance(x.data, x.n, d, mu1);
  const sigma2 = covariance(y.data, y.n, d, mu2);

  let meanTerm = 0;
  for (let j = 0; j < d; j++) meanTerm += (mu1[j]! - mu2[j]!) ** 2;
  let traceTerm = 0;
  for (let j = 0; j < d; j++) traceTerm += sigma1[j * d + j]! + sigma2[j * d + j]!;
  const cross = traceSqrtProduct(sigma1, sigma2, d);
  // Rounding can take an exact 0 slightly below zero.
  return Math.max(meanTerm + traceTerm - 2 * cross, 0);
}

/** Options of {@link frechetDistance}. @category Metrics */
export interface FrechetDistanceWithFeaturesOptions extends FrechetDistanceOptions {
  /** Examples per call of the feature function. Default 500. */
  batchSize?: number;
}

/**
 * FID-style Fréchet distance between two sets of examples under a feature function: runs
 * `featureFn` batch by batch (each batch in `tf.tidy`) and applies
 * {@link frechetDistanceFromActivations} to the features. See there for the formula and the
 * small-sample bias (use equal counts).
 *
 * @see https://arxiv.org/abs/1706.08500 (Heusel et al., FID)
 * @param featureFn Maps a batch `[b, ...]` to features `[b, d]`, e.g. {@link featureExtractor}.
 * @param real Real examples `[n, ...]`.
 * @param fake Generated examples `[n, ...]` (same count as `real` unless allowed).
 * @param options `batchSize` (default 500), `allowUnequalCounts` (default `false`).
 * @returns The squared Fréchet distance (a plain number).
 * @example
 * ```ts
 * const net = metrics.mnistFeatureNet();
 * await metrics.trainMnistFeatureNet(net, { images, labels, epochs: 3 });
 * const fid = await metrics.frechetDistance(metrics.featureExtractor(net), realImages, fakeImages);
 * ```
 * @category Metrics
 */
export async function frechetDistance(
  featureFn: FeatureFunction,
  real: tf.Tensor,
  fake: tf.Tensor,
  options: FrechetDistanceWithFeaturesOptions = {},
): Promise<number> {
  const fn = 'metrics.frechetDistance';
  assertKnownKeys(options, ['allowUnequalCounts', 'batchSize'], 'options', fn);
  const { batchSize, ...rest } = options;
  // Check the counts before spending time on features.
  if (real instanceof tf.Tensor && fake instanceof tf.Tensor && rest.allowUnequalCounts !== true) {
    const [n, m] = [real.shape[0], fake.shape[0]];
    if (n !== m) {
      throw new ArgumentError({
        fn,
        arg: 'fake',
        expected: `hold as many examples as 'real' (${n})`,
        received: `${m}`,
        hint: 'The Fréchet distance is biased by the sample count; compare sets of equal size, or pass { allowUnequalCounts: true }',
      });
    }
  }
  const a = await computeActivationsAs(fn, featureFn, real, 'real', { batchSize });
  const b = await computeActivationsAs(fn, featureFn, fake, 'fake', { batchSize });
  return frechetFromActivationsAs(fn, a, b, rest, 'real', 'fake');
}
