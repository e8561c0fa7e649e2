/**
 * Gradient clipping by global norm.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { CLIP_BY_GLOBAL_NORM_KERNEL } from '../../backends/clip-by-global-norm-kernel.js';
import { ArgumentError } from '../../errors.js';
import { assertNumber, describe } from '../../validation.js';

/** What {@link clipByGlobalNorm} returns. @category Training */
export interface ClippedGradients<T extends readonly tf.Tensor[] | tf.NamedTensorMap> {
  /** The clipped gradients, in the structure they were given in. */
  grads: T;
  /** The global norm of the gradients before clipping, `sqrt(Σ_i ‖g_i‖²)`. */
  norm: tf.Scalar;
}

/**
 * Scales a list (or map) of gradients so that their global norm is at most `maxNorm`, as
 * `tf.clip_by_global_norm` and optax's `clip_by_global_norm` do:
 *
 * ```text
 * n   = sqrt(Σ_i ‖g_i‖²)            (every element of every gradient)
 * g_i ← g_i · maxNorm / max(n, maxNorm)
 * ```
 *
 * Gradients whose global norm is within `maxNorm` come back unchanged (the factor is 1); the
 * direction of the whole update is kept, unlike clipping each gradient on its own. A pure
 * function: runs in `tf.tidy`, leaves its inputs alone; the caller disposes what it returns.
 *
 * @see https://arxiv.org/abs/1211.5063 (Pascanu et al. 2013, gradient norm clipping)
 * @param grads - the gradients: an array of tensors, or a map of them (what `tf.variableGrads` returns).
 * @param maxNorm - the largest global norm allowed, > 0.
 * @returns `{ grads, norm }`: the clipped gradients (same structure and shapes) and the global norm before clipping.
 * @example
 * ```ts
 * const { grads, norm } = train.clipByGlobalNorm([tf.tensor1d([3, 0]), tf.tensor1d([0, 4])], 1);
 * // norm = 5; grads = [[0.6, 0], [0, 0.8]]
 * ```
 * @category Training
 */
export function clipByGlobalNorm<T extends readonly tf.Tensor[] | tf.NamedTensorMap>(grads: T, maxNorm: number): ClippedGradients<T> {
  const fn = 'train.clipByGlobalNorm';
  const isArray = Array.isArray(grads);
  const entries = checkedEntries(grads, fn);
  assertNumber(maxNorm, 'maxNorm', fn, { min: 0, minExclusive: true });
  const [norm, ...clipped] = tf.getKernel(CLIP_BY_GLOBAL_NORM_KERNEL, tf.getBackend())
    ? clipInOneKernel(entries, maxNorm, false)
    : tf.tidy(() => {
        const [n, scale] = normAndScale(entries, maxNorm);
        return [n, ...entries.map(([, g]) => tf.mul(g, scale))];
      });
  const out = isArray ? clipped : Object.fromEntries(entries.map(([name], i) => [name, clipped[i]!]));
  return { grads: out as unknown as T, norm: norm as tf.Scalar };
}

/** What {@link globalNormScale} returns. @category Training */
export interface GlobalNormScale {
  /** The global norm of the gradients, `sqrt(Σ_i ‖g_i‖²)`. */
  norm: tf.Scalar;
  /** The factor {@link clipByGlobalNorm} multiplies every gradient by, `maxNorm / max(norm, maxNorm)` (≤ 1). */
  scale: tf.Scalar;
}

/**
 * The global norm of a list (or map) of gradients and the factor that clips them to `maxNorm`,
 * without writing the clipped gradients: what {@link clipByGlobalNorm} computes before its
 * products, for an optimizer that applies the factor in its own pass over the gradients
 * (the `gradientScale` of `FusedAdamOptimizer.applyGradients`, which `ModelTrainer`'s
 * `clipNorm` uses):
 *
 * ```text
 * norm  = sqrt(Σ_i ‖g_i‖²)            (every element of every gradient)
 * scale = maxNorm / max(norm, maxNorm)
 * ```
 *
 * `tf.mul(g_i, scale)` is, bit for bit, the gradient {@link clipByGlobalNorm} returns. Both
 * scalars stay tensors (nothing is read back to JavaScript); the caller disposes them.
 *
 * @see https://arxiv.org/abs/1211.5063 (Pascanu et al. 2013, gradient norm clipping)
 * @param grads - the gradients: an array of float32 tensors, or a map of them (what `tf.variableGrads` returns).
 * @param maxNorm - the largest global norm allowed, > 0.
 * @returns `{ norm, scale }`, two float32 scalars.
 * @throws {@link ArgumentError} for an empty or non-float32 `grads`, or a non-positive `maxNorm`.
 * @example
 * ```ts
 * const { norm, scale } = train.globalNormScale([tf.tensor1d([3, 0]), tf.tensor1d([0, 4])], 1);
 * // norm = 5, scale = 0.2
 * ```
 * @category Training
 */
export function globalNormScale(grads: readonly tf.Tensor[] | tf.NamedTensorMap, maxNorm: number): GlobalNormScale {
  const entries = checkedEntries(grads, 'train.globalNormScale');
  assertNumber(maxNorm, 'maxNorm', 'train.globalNormScale', { min: 0, minExclusive: true });
  const [norm, scale] = tf.getKernel(CLIP_BY_GLOBAL_NORM_KERNEL, tf.getBackend())
    ? clipInOneKernel(entries, maxNorm, true)
    : tf.tidy(() => normAndScale(entries, maxNorm));
  return { norm: norm as tf.Scalar, scale: scale as tf.Scalar };
}

/** The gradients as `[name, tensor]` pairs, after checking they are a non-empty list or map of float32 tensors. */
function checkedEntries(grads: readonly tf.Tensor[] | tf.NamedTensorMap, fn: string): [string, tf.Tensor][] {
  const entries: [string, tf.Tensor][] =
    grads !== null && typeof grads === 'object'
      ? Array.isArray(grads)
        ? (grads as readonly tf.Tensor[]).map((g, i) => [String(i), g])
        : Object.entries(grads as tf.NamedTensorMap)
      : [];
  if (entries.length === 0 || !entries.every(([, g]) => g instanceof tf.Tensor && g.dtype === 'float32')) {
    throw new ArgumentError({ fn, arg: 'grads', expected: 'be a non-empty array or map of float32 tensors', received: describe(grads) });
  }
  return entries;
}

/** The global norm and the clipping factor with tfjs operations (backends without the kernel). */
function normAndScale(entries: [string, tf.Tensor][], maxNorm: number): [tf.Scalar, tf.Scalar] {
  // Stacked and summed, not tf.addN: webgpu's AddN binds every input in one shader and returns
  // garbage past the device's storage-buffer limit (8 by default; tfjs 4.22).
  const n = tf.sqrt(tf.sum(tf.stack(entries.map(([, g]) => tf.sum(tf.square(g)))))) as tf.Scalar;
  return [n, tf.div(maxNorm, tf.maximum(n, maxNorm))];
}

/**
 * The global norm and the clipped gradients (or, with `scaleOnly`, the clipping factor) in one
 * dispatch, where the backend registers genblocks' clipping kernel (wasm): instead of a square,
 * a sum and a product per gradient.
 */
function clipInOneKernel(entries: [string, tf.Tensor][], maxNorm: number, scaleOnly: boolean): tf.Tensor[] {
  const inputs = Object.fromEntries(entries.map(([, g], i) => [String(i), g]));
  return tf.engine().runKernel(CLIP_BY_GLOBAL_NORM_KERNEL, inputs, scaleOnly ? { maxNorm, scaleOnly } : { maxNorm }) as tf.Tensor[];
}
