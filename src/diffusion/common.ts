/**
 * Validation and per-example gathering shared by the diffusion functions.
 *
 * @module
 * @internal
 */
import * as tf from '@tensorflow/tfjs-core';

import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import { assertOneOf, describe, formatShape } from '../validation.js';
import type { NoiseSchedule } from './schedule.js';

/** What a diffusion model is trained to predict. @category Diffusion */
export type Prediction = 'epsilon' | 'v' | 'x0';

/** The allowed {@link Prediction}s. @internal */
export const PREDICTIONS: readonly Prediction[] = ['epsilon', 'v', 'x0'];

/**
 * Per-example timesteps: an int32 tensor `[batch]`, or plain integers, each in `[0, T)`.
 *
 * @category Diffusion
 */
export type Timesteps = tf.Tensor | readonly number[] | Int32Array;

/** Asserts that `schedule` looks like a {@link NoiseSchedule}. */
export function assertSchedule(schedule: unknown, arg: string, fn: string): asserts schedule is NoiseSchedule {
  const s = schedule as Partial<NoiseSchedule> | undefined;
  if (typeof s !== 'object' || s === null || !(s.alphasCumprod instanceof Float64Array) || typeof s.timesteps !== 'number') {
    throw new ArgumentError({ fn, arg, expected: 'be a schedule made by diffusion.noiseSchedule', received: describe(schedule), hint: 'Build one with diffusion.noiseSchedule({ ... }).' });
  }
}

/** Asserts that `prediction` is a {@link Prediction}. */
export function assertPrediction(prediction: unknown, arg: string, fn: string): asserts prediction is Prediction {
  assertOneOf(prediction, PREDICTIONS, arg, fn);
}

/**
 * Validates per-example timesteps against the batch size and the schedule. Plain integers are
 * range-checked; a tensor is checked for dtype and shape only (reading it would sync).
 */
export function checkTimesteps(t: unknown, batch: number, schedule: NoiseSchedule, arg: string, fn: string): void {
  if (t instanceof tf.Tensor) {
    if (t.dtype !== 'int32') throw new DTypeError({ fn, arg, expected: 'have dtype int32', received: `dtype ${t.dtype}` });
    if (t.rank !== 1 || t.shape[0] !== batch) {
      throw new ShapeError({ fn, arg, expected: `have shape [${batch}] (one timestep per example)`, received: `shape ${formatShape(t.shape)}` });
    }
    return;
  }
  if (!(Array.isArray(t) || t instanceof Int32Array) || t.length !== batch) {
    throw new ArgumentError({ fn, arg, expected: `be an int32 tensor or an array of ${batch} timesteps`, received: describe(t) });
  }
  const bad = Array.from(t as ArrayLike<unknown>).findIndex((v) => typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= schedule.timesteps);
  if (bad >= 0) {
    throw new ArgumentError({ fn, arg, expected: `hold integers in [0, ${schedule.timesteps})`, received: `${describe((t as ArrayLike<unknown>)[bad])} at index ${bad}` });
  }
}

/** The timesteps as an int32 tensor (a new tensor for arrays: call inside a tidy). */
export function timestepTensor(t: Timesteps): tf.Tensor1D {
  return (t instanceof tf.Tensor ? t : tf.tensor1d(Array.from(t), 'int32')) as tf.Tensor1D;
}

/** `values[tᵢ]` for each example, shaped `[batch, 1, …, 1]` to broadcast against a rank-`rank` batch. */
export function perExample(values: Float64Array, t: tf.Tensor1D, rank: number): tf.Tensor {
  const gathered = tf.gather(tf.tensor1d(Float32Array.from(values)), t);
  return tf.reshape(gathered, [t.shape[0], ...new Array<number>(rank - 1).fill(1)]);
}
