/**
 * Activation matrices: the `[n, d]` feature vectors that the Fréchet and kernel distances
 * compare, given as a tensor or as plain arrays, and {@link computeActivations}, which runs a
 * feature function over a dataset batch by batch.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { ArgumentError, ShapeError } from '../errors.js';
import { assertKnownKeys, assertPositiveInt, describe, formatShape } from '../validation.js';

/**
 * An activation matrix of `n` feature vectors of dimension `d`: a float32 `tf.Tensor2D`
 * `[n, d]`, or row-major values with their shape (`{ data: Float32Array, shape: [n, d] }`, as
 * {@link computeActivations} returns).
 *
 * @category Metrics
 */
export type Activations = tf.Tensor2D | ActivationArray;

/** Activations held in a plain array, row-major. @category Metrics */
export interface ActivationArray {
  /** Row-major values, `n * d` of them. */
  data: Float32Array | Float64Array | readonly number[];
  /** `[n, d]`. */
  shape: readonly [number, number];
}

/** Activations read into JavaScript. @internal */
export interface ReadActivations {
  data: ArrayLike<number>;
  n: number;
  d: number;
}

/** Validates and reads activations (awaiting `data()` for a tensor). @internal */
export async function readActivations(value: unknown, arg: string, fn: string): Promise<ReadActivations> {
  if (value instanceof tf.Tensor) {
    if (value.isDisposed) {
      throw new ArgumentError({ fn, arg, expected: 'be a live tf.Tensor', received: describe(value) });
    }
    if (value.rank !== 2) {
      throw new ShapeError({
        fn,
        arg,
        expected: 'have rank 2 ([n, d] feature vectors)',
        received: `shape ${formatShape(value.shape)}`,
        hint: 'Flatten the features first (tf.reshape(x, [n, -1]))',
      });
    }
    if (value.dtype !== 'float32') {
      throw new ArgumentError({ fn, arg, expected: 'be a float32 tensor', received: describe(value) });
    }
    const data = await value.data();
    return { data: data as Float32Array, n: value.shape[0]!, d: value.shape[1]! };
  }
  const v = value as Partial<ActivationArray> | null;
  const okShape =
    v !== null &&
    typeof v === 'object' &&
    Array.isArray(v.shape) &&
    v.shape.length === 2 &&
    v.shape.every((s) => Number.isInteger(s) && s >= 1);
  const okData = okShape && (v.data instanceof Float32Array || v.data instanceof Float64Array || Array.isArray(v.data));
  if (!okShape || !okData) {
    throw new ArgumentError({
      fn,
      arg,
      expected: 'be a float32 tf.Tensor2D [n, d] or { data: Float32Array | Float64Array | number[], shape: [n, d] }',
      received: describe(value),
    });
  }
  const [n, d] = v.shape as readonly [number, number];
  const data = v.data as ArrayLike<number>;
  if (data.length !== n * d) {
    throw new ShapeError({
      fn,
      arg,
      expected: `hold shape[0] * shape[1] = ${n * d} values`,
      received: `${data.length} values for shape ${formatShape([n, d])}`,
    });
  }
  return { data, n, d };
}

/** Throws when the activation values contain NaN or ±Infinity. @internal */
export function assertFiniteValues(x: ReadActivations, arg: string, fn: string): void {
  for (let i = 0; i < x.data.length; i++) {
    if (!Number.isFinite(x.data[i]!)) {
      throw new ArgumentError({ fn, arg, expected: 'hold finite values', received: `${x.data[i]} at flat index ${i}` });
    }
  }
}

/**
 * A feature function: maps a batch `[b, ...]` to features `[b, d]` (or `[b, ...]`, flattened
 * to `[b, d]`). {@link featureExtractor} builds one from a classifier.
 *
 * @category Metrics
 */
export type FeatureFunction = (batch: tf.Tensor) => tf.Tensor;

/** Options of {@link computeActivations}. @category Metrics */
export interface ComputeActivationsOptions {
  /** Examples per call of the feature function. Default 500. */
  batchSize?: number;
}

/**
 * Runs `featureFn` over `inputs` in batches (each inside `tf.tidy`) and gathers the features
 * as a float32 `[n, d]` array: compute them once, then pass them to both
 * {@link frechetDistanceFromActivations} and {@link kernelDistance}.
 *
 * @param featureFn Maps a batch `[b, ...]` to `[b, d]` (larger ranks are flattened per example).
 * @param inputs The examples, `[n, ...]` float32 (for instance images `[n, 28, 28, 1]`).
 * @param options `batchSize` (default 500).
 * @returns `{ data: Float32Array, shape: [n, d] }`.
 * @example
 * ```ts
 * const features = metrics.featureExtractor(classifier);
 * const real = await metrics.computeActivations(features, realImages);
 * const fake = await metrics.computeActivations(features, fakeImages);
 * console.log(await metrics.frechetDistanceFromActivations(real, fake));
 * ```
 * @category Metrics
 */
export async function computeActivations(
  featureFn: FeatureFunction,
  inputs: tf.Tensor,
  options: ComputeActivationsOptions = {},
): Promise<{
  /** Activations, row-major. */
  data: Float32Array;
  /** `[n, d]`. */
  shape: [number, number];
}> {
  return computeActivationsAs('metrics.computeActivations', featureFn, inputs, 'inputs', options);
}

/** {@link computeActivations}, with the caller's names in errors. @internal */
export async function computeActivationsAs(
  fn: string,
  featureFn: FeatureFunction,
  inputs: unknown,
  arg: string,
  options: ComputeActivationsOptions,
): Promise<{
  /** Activations, row-major. */
  data: Float32Array;
  /** `[n, d]`. */
  shape: [number, number];
}> {
  if (typeof featureFn !== 'function') {
    throw new ArgumentError({ fn, arg: 'featureFn', expected: 'be a function (batch) => features', received: describe(featureFn) });
  }
  if (!(inputs instanceof tf.Tensor) || inputs.isDisposed) {
    throw new ArgumentError({ fn, arg, expected: 'be a tf.Tensor [n, ...]', received: describe(inputs) });
  }
  if (inputs.rank < 1 || inputs.shape[0] === 0) {
    throw new ShapeError({ fn, arg, expected: 'hold at least one example on axis 0', received: `shape ${formatShape(inputs.shape)}` });
  }
  assertKnownKeys(options, ['batchSize'], 'options', fn);
  const batchSize = options.batchSize ?? 500;
  assertPositiveInt(batchSize, 'options.batchSize', fn);
  const n = inputs.shape[0]!;
  let data: Float32Array | null = null;
  let d = 0;
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const features = tf.tidy(() => {
      const batch = tf.slice(inputs, start, size);
      const out: unknown = featureFn(batch);
      if (!(out instanceof tf.Tensor) || out.rank < 1 || out.shape[0] !== size) {
        throw new ArgumentError({
          fn,
          arg: 'featureFn',
          expected: `return a tensor [${size}, ...] for a batch of ${size}`,
          received: describe(out),
        });
      }
      return tf.cast(tf.reshape(out, [size, -1]), 'float32');
    });
    try {
      const width = features.shape[1]!;
      if (data === null) {
        d = width;
        data = new Float32Array(n * d);
      } else if (width !== d) {
        throw new ArgumentError({
          fn,
          arg: 'featureFn',
          expected: `return ${d} features per example in every batch`,
          received: `${width}`,
        });
      }
      data.set((await features.data()) as Float32Array, start * d);
    } finally {
      features.dispose();
    }
  }
  return { data: data!, shape: [n, d] };
}
