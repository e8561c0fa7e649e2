/**
 * The classifier score (the Inception-score formula on any classifier's predictions).
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';

import { ArgumentError } from '../errors.js';
import { assertKnownKeys, assertPositiveInt } from '../validation.js';
import { readProbabilities } from './probabilities.js';

/** Options of {@link classifierScore}. @category Metrics */
export interface ClassifierScoreOptions {
  /** Number of equal consecutive splits the score is computed on (the Inception score uses 10). Default 1. */
  splits?: number;
}

/** Result of {@link classifierScore}. @category Metrics */
export interface ClassifierScoreResult {
  /** Mean of the per-split scores (the score itself when `splits` is 1). */
  mean: number;
  /** Population standard deviation of the per-split scores (0 for one split), as the Inception score reports it. */
  std: number;
  /** Score of each split. */
  values: number[];
}

/**
 * Classifier score: `exp(E_x KL(p(y|x) ‖ p(y)))`, with `p(y)` the mean prediction over the
 * split, i.e. the Inception score computed with any classifier's softmax output (with an
 * MNIST classifier it is often called the "MNIST score"). It is 1 when every prediction is the
 * same and at most `numClasses`, reached when predictions are confident (one-hot) and the
 * classes equally frequent. Terms with `p = 0` contribute 0 (`0 · log 0 = 0`). Computed in
 * float64.
 *
 * @see https://arxiv.org/abs/1606.03498 (Salimans et al., Improved Techniques for Training GANs)
 * @param probabilities Class probabilities `[n, numClasses]` (rows sum to 1; apply `tf.softmax` to logits).
 * @param options `splits` (default 1): the examples are cut into this many consecutive parts.
 * @returns `{ mean, std, values }`.
 * @example
 * ```ts
 * const probs = tf.softmax(classifier.predict(fakeImages) as tf.Tensor);
 * const { mean } = await metrics.classifierScore(probs as tf.Tensor2D); // in [1, 10] for MNIST
 * ```
 * @category Metrics
 */
export async function classifierScore(probabilities: tf.Tensor2D, options: ClassifierScoreOptions = {}): Promise<ClassifierScoreResult> {
  const fn = 'metrics.classifierScore';
  assertKnownKeys(options, ['splits'], 'options', fn);
  const splits = options.splits ?? 1;
  assertPositiveInt(splits, 'options.splits', fn);
  const { data, n, k } = await readProbabilities(probabilities, 'probabilities', fn);
  if (splits > n) {
    throw new ArgumentError({ fn, arg: 'options.splits', expected: `be at most the number of examples (${n})`, received: `${splits}` });
  }
  const values: number[] = [];
  for (let s = 0; s < splits; s++) {
    const start = Math.floor((s * n) / splits);
    const end = Math.floor(((s + 1) * n) / splits);
    const marginal = new Float64Array(k);
    for (let i = start; i < end; i++) for (let j = 0; j < k; j++) marginal[j]! += data[i * k + j]!;
    for (let j = 0; j < k; j++) marginal[j]! /= end - start;
    let kl = 0;
    for (let i = start; i < end; i++) {
      for (let j = 0; j < k; j++) {
        const p = data[i * k + j]!;
        if (p > 0) kl += p * (Math.log(p) - Math.log(marginal[j]!));
      }
    }
    values.push(Math.exp(kl / (end - start)));
  }
  const mean = values.reduce((a, v) => a + v, 0) / splits;
  const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / splits);
  return { mean, std, values };
}
