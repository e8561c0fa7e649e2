/**
 * Kernel Inception Distance maths: the unbiased squared MMD with a polynomial kernel, averaged
 * over random subsets of the activations.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { ArgumentError } from '../errors.js';
import { assertKnownKeys, assertNumber, assertPositiveInt } from '../validation.js';
import { assertFiniteValues, readActivations, type Activations } from './activations.js';
import { mulberry32, sampleWithoutReplacement } from '../random.js';

/** Options of {@link kernelDistance}. @category Metrics */
export interface KernelDistanceOptions {
  /** Number of random subsets averaged. Default 100. */
  subsets?: number;
  /** Examples per subset, drawn without replacement from each set; clamped to the smaller set's count. Default 1000. */
  subsetSize?: number;
  /** Degree of the polynomial kernel. Default 3. */
  degree?: number;
  /** Kernel scale γ. Default `1 / d` (the feature dimension). */
  gamma?: number;
  /** Kernel offset c. Default 1. */
  coef?: number;
  /** Seed of the subset sampling. Default: a random seed (pass one for reproducible scores). */
  seed?: number;
}

/** Result of {@link kernelDistance}. @category Metrics */
export interface KernelDistanceResult {
  /** KID: the mean of the per-subset MMD² estimates. */
  mean: number;
  /** Sample standard deviation (n − 1) of the per-subset estimates. */
  std: number;
  /** Standard error of the mean, `std / √subsets`. */
  standardError: number;
  /** The per-subset unbiased MMD² estimates. */
  values: number[];
  /** The subset size actually used. */
  subsetSize: number;
}

/**
 * Kernel distance (KID): the unbiased estimate of the squared maximum mean discrepancy between
 * two activation sets under the polynomial kernel `k(x, y) = (γ xᵀy + c)^degree`, averaged over
 * random subsets of `m` examples of each set:
 *
 * `MMD²ᵤ = 1/(m(m−1)) Σ_{i≠j} k(xᵢ, xⱼ) + 1/(m(m−1)) Σ_{i≠j} k(yᵢ, yⱼ) − 2/m² Σ_{i,j} k(xᵢ, yⱼ)`
 *
 * Unlike FID the estimator is unbiased, so its expectation does not depend on the sample count,
 * and it can be slightly negative when the two sets are independent samples of the same
 * distribution (a set compared with itself does not give 0: the cross term keeps the pairs
 * `k(xᵢ, xᵢ)` that the within-set terms leave out). The kernel
 * matrices are computed with tfjs (float32) and their sums finished in float64.
 *
 * @see https://arxiv.org/abs/1801.01401 (Bińkowski et al., Demystifying MMD GANs)
 * @param a Activations of the first set, `[n, d]`.
 * @param b Activations of the second set, `[n', d]`.
 * @param options `subsets` (100), `subsetSize` (1000), `degree` (3), `gamma` (1/d), `coef` (1), `seed`.
 * @returns `{ mean, std, standardError, values, subsetSize }` (plain numbers).
 * @example
 * ```ts
 * const real = await metrics.computeActivations(features, realImages);
 * const fake = await metrics.computeActivations(features, fakeImages);
 * const kid = await metrics.kernelDistance(real, fake, { subsets: 50, subsetSize: 500, seed: 0 });
 * console.log(`KID ${kid.mean.toFixed(4)} ± ${kid.standardError.toFixed(4)}`);
 * ```
 * @category Metrics
 */
export async function kernelDistance(a: Activations, b: Activations, options: KernelDistanceOptions = {}): Promise<KernelDistanceResult> {
  const fn = 'metrics.kernelDistance';
  assertKnownKeys(options, ['subsets', 'subsetSize', 'degree', 'gamma', 'coef', 'seed'], 'options', fn);
  const { subsets = 100, subsetSize = 1000, degree = 3, coef = 1, seed } = options;
  assertPositiveInt(subsets, 'options.subsets', fn);
  assertPositiveInt(subsetSize, 'options.subsetSize', fn);
  assertPositiveInt(degree, 'options.degree', fn);
  assertNumber(coef, 'options.coef', fn);
  if (seed !== undefined) assertNumber(seed, 'options.seed', fn, { integer: true });
  const x = await readActivations(a, 'a', fn);
  const y = await readActivations(b, 'b', fn);
  if (x.d !== y.d) {
    throw new ArgumentError({ fn, arg: 'b', expected: `have the same feature dimension as 'a' (${x.d})`, received: `${y.d} features` });
  }
  const gamma = options.gamma ?? 1 / x.d;
  assertNumber(gamma, 'options.gamma', fn, { min: 0, minExclusive: true });
  assertFiniteValues(x, 'a', fn);
  assertFiniteValues(y, 'b', fn);
  const m = Math.min(subsetSize, x.n, y.n);
  if (m < 2) {
    throw new ArgumentError({ fn, arg: x.n < 2 ? 'a' : 'b', expected: 'hold at least 2 examples', received: `${Math.min(x.n, y.n)}` });
  }
  const random = mulberry32(seed ?? Math.floor(Math.random() * 2 ** 32));
  const xAll = tf.tensor2d(Float32Array.from(x.data), [x.n, x.d]);
  const yAll = tf.tensor2d(Float32Array.from(y.data), [y.n, y.d]);
  const values: number[] = [];
  try {
    for (let s = 0; s < subsets; s++) {
      const ix = sampleWithoutReplacement(x.n, m, random);
      const iy = sampleWithoutReplacement(y.n, m, random);
      // Row sums of the three kernel matrices and the diagonals, [5, m].
      const sums = tf.tidy(() => {
        const xs = tf.gather(xAll, tf.tensor1d(ix, 'int32'));
        const ys = tf.gather(yAll, tf.tensor1d(iy, 'int32'));
        const kernel = (p: tf.Tensor2D, q: tf.Tensor2D) => tf.pow(tf.add(tf.mul(tf.matMul(p, q, false, true), gamma), coef), degree);
        const diag = (p: tf.Tensor2D) => tf.pow(tf.add(tf.mul(tf.sum(tf.square(p), 1), gamma), coef), degree);
        return tf.stack([tf.sum(kernel(xs, xs), 1), tf.sum(kernel(ys, ys), 1), tf.sum(kernel(xs, ys), 1), diag(xs), diag(ys)]);
      });
      const data = await sums.data();
      sums.dispose();
      let kxx = 0;
      let kyy = 0;
      let kxy = 0;
      for (let i = 0; i < m; i++) {
        kxx += data[i]! - data[3 * m + i]!;
        kyy += data[m + i]! - data[4 * m + i]!;
        kxy += data[2 * m + i]!;
      }
      values.push((kxx + kyy) / (m * (m - 1)) - (2 * kxy) / (m * m));
    }
  } finally {
    tf.dispose([xAll, yAll]);
  }
  const mean = values.reduce((s, v) => s + v, 0) / subsets;
  const std = subsets > 1 ? Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (subsets - 1)) : 0;
  return { mean, std, standardError: std / Math.sqrt(subsets), values, subsetSize: m };
}
