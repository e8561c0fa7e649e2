/**
 * The next-token cross entropy of autoregressive models, on logits, and its unit conversions.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { ArgumentError, DTypeError, ShapeError } from '../../errors.js';
import { assertFloatTensor, assertMinRank, assertNumber, assertTensor, formatShape } from '../../validation.js';
import { assertNonEmptyBatch, readReduction, reduce, type Reduced, type Reduction, type ReductionOptions } from '../reduction.js';

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
 * computed stably, so logits of any magnitude (±100 and beyond) give finite, exact losses:
 * with `p = softmax(x)` (one `Softmax` kernel, which subtracts the maximum first), the largest
 * probability is `1 / Σⱼ exp(xⱼ − m)` and never underflows (it is at least `1/V`), so
 *
 * ```text
 * CE(x, y) = (m − x_y) − log maxⱼ pⱼ
 * ∂CE/∂x   = p − onehot(y)            (times the upstream gradient; / N for 'mean')
 * ```
 *
 * The target logits are gathered (`tf.gather` with one batch axis), and the gradient is written
 * out (`tf.customGrad`) from the forward pass's `p`: a one-hot mask and two element-wise
 * kernels back, instead of differentiating a log-softmax, its exponentials and the pick. Being
 * a custom gradient, it has no second derivative (`tf.grad` of this gradient is not defined).
 *
 * @param logits Float32 logits `[..., V]` (e.g. `[B, T, V]` from {@link nets.gpt}, or
 *   `[B, H, W, levels]` from {@link nets.pixelCnn}), rank ≥ 2.
 * @param targets Int32 token ids in `[0, V)` with the shape of `logits` without its last axis.
 * @param options `reduction`: `'mean'` over every token (default), `'sum'`, or `'none'`
 *   (the per-token losses, shaped like `targets`).
 * @returns The loss in nats: a scalar, or a tensor shaped like `targets` for `'none'`.
 * @throws {@link ArgumentError} for non-float `logits` of rank < 2, non-int32 `targets`, a
 *   `targets` shape other than `logits` without its last axis, an empty batch, or a token id
 *   outside `[0, V)`. The ids are checked where the backend's `GatherV2` kernel checks them
 *   (cpu and wasm); GPU backends (webgl, webgpu) do not check them and give a wrong loss instead.
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
  assertNonEmptyBatch(targets, 'targets', FN);
  const reduction = readReduction(options, FN);
  try {
    return forward(logits, targets, reduction) as Reduced<R>;
  } catch (e) {
    throw outOfRangeTarget(e, logits.shape[logits.rank - 1]!) ?? e;
  }
}

/** The loss and its custom gradient, inside one `tf.tidy`. */
function forward(logits: tf.Tensor, targets: tf.Tensor, reduction: Reduction): tf.Tensor {
  return tf.tidy(FN, () => {
    const vocabSize = logits.shape[logits.rank - 1]!;
    const tokens = targets.size;
    const loss = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
      const probabilities = tf.softmax(x);
      // x_y: each token's target logit, gathered ([tokens, 1] from [tokens, V]).
      const rows = tf.reshape(x, [tokens, vocabSize]);
      const picked = tf.reshape(tf.gather(rows, tf.reshape(targets, [tokens, 1]), 1, 1), targets.shape);
      // m − x_y, then − log max p = log Σ exp(x − m): −log softmax(x)_y.
      const perToken = tf.sub(tf.sub(tf.max(x, -1), picked), tf.log(tf.max(probabilities, -1)));
      // The targets too: the caller may free them before the backward pass runs (a saved tensor is a kept clone).
      save([probabilities, targets]);
      return {
        value: reduce(perToken, reduction),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          // int32, then cast: the wasm OneHot kernel writes int32 bits whatever dtype it is asked for (tfjs 4.22).
          const [p, ids] = saved as [tf.Tensor, tf.Tensor];
          const oneHot = tf.cast(tf.oneHot(ids, vocabSize), 'float32');
          // The upstream gradient of each token's loss: dy per token ('none'), dy ('sum'), dy / N ('mean').
          const perTokenGradient = reduction === 'none' ? tf.expandDims(dy, -1) : reduction === 'mean' ? tf.div(dy, tokens) : dy;
          return tf.mul(tf.sub(p, oneHot), perTokenGradient);
        },
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]);
    return loss(logits);
  });
}

/**
 * The {@link ArgumentError} for the error the cpu and wasm `GatherV2` kernels throw on an id
 * outside `[0, V)` (`GatherV2: the index value 4 is not in [0, 3]`, tfjs 4.22's wording), or
 * undefined for any other error. Caught around the loss instead of checked beforehand, so a
 * training step reads no ids back to the host.
 */
function outOfRangeTarget(error: unknown, vocabSize: number): ArgumentError | undefined {
  const match = error instanceof Error ? /^GatherV2: the index value (-?\d+) is not in \[0, -?\d+\]/.exec(error.message) : null;
  if (match === null) return undefined;
  return new ArgumentError({
    fn: FN,
    arg: 'targets',
    expected: `hold token ids in [0, V) = [0, ${vocabSize})`,
    received: `id ${match[1]}`,
  });
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
