/**
 * The next-token cross entropy of autoregressive models, on logits, and its unit conversions.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { DTypeError, ShapeError } from '../../errors.js';
import { assertFloatTensor, assertMinRank, assertNumber, assertTensor, formatShape } from '../../validation.js';
import { readReduction, reduce, type Reduced, type Reduction, type ReductionOptions } from '../reduction.js';

const FN = 'losses.autoregressive.crossEntropy';

/**
 * The negative log-likelihood of the target tokens under the model's categorical
 * distributions, in nats per token (PyTorch's `F.cross_entropy(logits.view(-1, V),
 * targets.view(-1))`):
 *
 * ```text
 * CE(x, y) = −log softmax(x)_y = logΣⱼ exp(xⱼ − m) + m − x_y,   m = maxⱼ xⱼ
 * ```
 *
 * computed with `tf.logSoftmax`, which subtracts the maximum first, so logits of any magnitude
 * (±100 and beyond) give finite, exact losses.
 *
 * @param logits Float32 logits `[..., V]` (e.g. `[B, T, V]` from {@link nets.gpt}, or
 *   `[B, H, W, levels]` from {@link nets.pixelCnn}), rank ≥ 2.
 * @param targets Int32 token ids in `[0, V)` with the shape of `logits` without its last axis.
 * @param options `reduction`: `'mean'` over every token (default), `'sum'`, or `'none'`
 *   (the per-token losses, shaped like `targets`).
 * @returns The loss in nats: a scalar, or a tensor shaped like `targets` for `'none'`.
 * @see https://arxiv.org/abs/1601.06759 (van den Oord et al. 2016, §2: the per-pixel softmax log-likelihood)
 * @example
 * ```ts
 * const logits = model.apply(inputs, { training: true }) as tf.Tensor; // [B, T, V]
 * const loss = losses.autoregressive.crossEntropy(logits, targets);     // nats per token
 * ```
 * @category Losses
 */
export function crossEntropy<R extends Reduction = 'mean'>(
  logits: tf.Tensor,
  targets: tf.Tensor,
  options?: ReductionOptions<R>,
): Reduced<R> {
  assertFloatTensor(logits, 'logits', FN);
  assertMinRank(logits, 2, 'logits', FN);
  assertTensor(targets, 'targets', FN);
  if (targets.dtype !== 'int32') {
    throw new DTypeError({
      fn: FN,
      arg: 'targets',
      expected: 'be an int32 tensor of token ids',
      received: `${targets.dtype} tensor of shape ${formatShape(targets.shape)}`,
      hint: "Convert it with tf.cast(targets, 'int32')",
    });
  }
  if (!tf.util.arraysEqual(targets.shape, logits.shape.slice(0, -1))) {
    throw new ShapeError({
      fn: FN,
      arg: 'targets',
      expected: `have the shape of 'logits' without its last axis ${formatShape(logits.shape.slice(0, -1))}`,
      received: `shape ${formatShape(targets.shape)}`,
    });
  }
  const reduction = readReduction(options, FN);
  return tf.tidy(FN, () => {
    const vocabSize = logits.shape[logits.rank - 1]!;
    const logProbabilities = tf.logSoftmax(logits);
    // −log p(y): pick the target's log-probability with a one-hot mask.
    const perToken = tf.neg(tf.sum(tf.mul(logProbabilities, tf.oneHot(targets, vocabSize)), -1));
    return reduce(perToken, reduction);
  }) as Reduced<R>;
}

/**
 * Converts a loss in nats per token to bits per token (bits per character for a character
 * model): `bits = nats / ln 2`.
 *
 * @param nats Cross entropy in nats per token.
 * @returns The same in bits per token.
 * @example
 * ```ts
 * losses.autoregressive.bitsPerToken(Math.LN2); // 1
 * ```
 * @category Losses
 */
export function bitsPerToken(nats: number): number {
  assertNumber(nats, 'nats', 'losses.autoregressive.bitsPerToken');
  return nats / Math.LN2;
}

/**
 * The perplexity of a model with the given cross entropy: `exp(nats)`, the effective number of
 * equally likely choices per token.
 *
 * @param nats Cross entropy in nats per token.
 * @returns `exp(nats)`.
 * @example
 * ```ts
 * losses.autoregressive.perplexity(Math.log(65)); // 65: uniform over 65 characters
 * ```
 * @category Losses
 */
export function perplexity(nats: number): number {
  assertNumber(nats, 'nats', 'losses.autoregressive.perplexity');
  return Math.exp(nats);
}
