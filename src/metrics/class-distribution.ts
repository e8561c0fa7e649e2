/**
 * How evenly a set of examples covers the classes: the mode-collapse diagnostic.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';

import { ArgumentError, ShapeError } from '../errors.js';
import { assertKnownKeys, assertOneOf, assertPositiveInt, assertTensor, formatShape } from '../validation.js';
import { readProbabilities } from './probabilities.js';

/** Options of {@link classDistribution}. @category Metrics */
export interface ClassDistributionOptions {
  /** Number of classes. Default: the width of `probabilities`; required for labels. */
  numClasses?: number;
  /**
   * For probabilities: `'argmax'` (default) counts each example once, for its most probable
   * class; `'soft'` adds the probabilities themselves.
   */
  assignment?: 'argmax' | 'soft';
}

/** Result of {@link classDistribution}. @category Metrics */
export interface ClassDistributionResult {
  /** Examples per class (fractional under `'soft'` assignment), length `numClasses`. */
  counts: number[];
  /** Share of each class, `counts / n`; sums to 1. */
  shares: number[];
  /** Entropy of the shares in nats, `−Σ s log s` (0 ≤ H ≤ log numClasses). */
  entropy: number;
  /** `entropy / log(numClasses)`: 1 for perfectly even coverage, 0 when one class takes everything. */
  normalizedEntropy: number;
  /** Number of classes with a non-zero count. */
  classesCovered: number;
  /** Number of classes. */
  numClasses: number;
  /** Number of examples. */
  total: number;
}

/**
 * Class distribution of generated examples as judged by a classifier (or of given labels):
 * per-class share, its entropy `H = −Σ_c s_c log s_c` in nats and normalized by `log K`, and
 * the number of classes covered. A mode-collapsing generator shows a low normalized entropy
 * and missing classes long before its samples look bad one by one.
 *
 * @see https://arxiv.org/abs/1606.03498 (Salimans et al.: the marginal p(y) behind the Inception score)
 * @param predictions Class probabilities, float32 `[n, numClasses]`, or integer labels, int32 `[n]`.
 * @param options `numClasses` (required for labels), `assignment` (`'argmax'` or `'soft'`).
 * @returns `{ counts, shares, entropy, normalizedEntropy, classesCovered, numClasses, total }`.
 * @example
 * ```ts
 * const probs = tf.softmax(classifier.predict(fakeImages) as tf.Tensor) as tf.Tensor2D;
 * const { shares, normalizedEntropy, classesCovered } = await metrics.classDistribution(probs);
 * ```
 * @category Metrics
 */
export async function classDistribution(
  predictions: tf.Tensor1D | tf.Tensor2D,
  options: ClassDistributionOptions = {},
): Promise<ClassDistributionResult> {
  const fn = 'metrics.classDistribution';
  assertKnownKeys(options, ['numClasses', 'assignment'], 'options', fn);
  const assignment = options.assignment ?? 'argmax';
  assertOneOf(assignment, ['argmax', 'soft'] as const, 'options.assignment', fn);
  if (options.numClasses !== undefined) assertPositiveInt(options.numClasses, 'options.numClasses', fn);
  assertTensor(predictions, 'predictions', fn);

  let counts: Float64Array;
  let total: number;
  if (predictions.rank === 1) {
    if (predictions.dtype !== 'int32') {
      throw new ArgumentError({
        fn,
        arg: 'predictions',
        expected: 'be int32 labels when of rank 1',
        received: `${predictions.dtype} tensor`,
      });
    }
    const numClasses = options.numClasses;
    if (numClasses === undefined) {
      throw new ArgumentError({ fn, arg: 'options.numClasses', expected: 'be given when predictions are labels', received: 'undefined' });
    }
    const labels = await predictions.data();
    counts = new Float64Array(numClasses);
    for (let i = 0; i < labels.length; i++) {
      const c = labels[i]!;
      if (c < 0 || c >= numClasses) {
        throw new ArgumentError({
          fn,
          arg: 'predictions',
          expected: `hold labels in [0, ${numClasses - 1}]`,
          received: `${c} at index ${i}`,
        });
      }
      counts[c]! += 1;
    }
    total = labels.length;
  } else if (predictions.rank === 2) {
    const { data, n, k } = await readProbabilities(predictions, 'predictions', fn);
    if (options.numClasses !== undefined && options.numClasses !== k) {
      throw new ArgumentError({
        fn,
        arg: 'options.numClasses',
        expected: `equal the width of 'predictions' (${k})`,
        received: `${options.numClasses}`,
      });
    }
    counts = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      if (assignment === 'soft') {
        for (let j = 0; j < k; j++) counts[j]! += data[i * k + j]!;
      } else {
        let best = 0;
        for (let j = 1; j < k; j++) if (data[i * k + j]! > data[i * k + best]!) best = j;
        counts[best]! += 1;
      }
    }
    total = n;
  } else {
    throw new ShapeError({
      fn,
      arg: 'predictions',
      expected: 'have rank 1 (int32 labels [n]) or 2 (probabilities [n, numClasses])',
      received: `shape ${formatShape(predictions.shape)}`,
    });
  }
  if (total === 0) {
    throw new ArgumentError({ fn, arg: 'predictions', expected: 'hold at least one example', received: 'none' });
  }
  const numClasses = counts.length;
  const shares = Array.from(counts, (c) => c / total);
  let entropy = 0;
  for (const s of shares) if (s > 0) entropy -= s * Math.log(s);
  return {
    counts: Array.from(counts),
    shares,
    entropy,
    normalizedEntropy: numClasses > 1 ? entropy / Math.log(numClasses) : 0,
    classesCovered: shares.filter((s) => s > 0).length,
    numClasses,
    total,
  };
}
