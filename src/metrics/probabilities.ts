/**
 * Reading and validating class-probability matrices (internal).
 *
 * @module
 * @internal
 */
import * as tf from '@tensorflow/tfjs-core';

import { ArgumentError, ShapeError } from '../errors.js';
import { assertTensor, formatShape } from '../validation.js';

/** Validates a float32 `[n, k]` matrix of probabilities (rows ≥ 0, summing to 1 within `tolerance`) and reads it. @internal */
export async function readProbabilities(
  value: unknown,
  arg: string,
  fn: string,
  tolerance = 1e-3,
): Promise<{ data: Float32Array; n: number; k: number }> {
  assertTensor(value, arg, fn);
  if (value.rank !== 2 || value.shape[0] === 0 || value.shape[1]! < 2) {
    throw new ShapeError({
      fn,
      arg,
      expected: 'have shape [n, numClasses] with n ≥ 1 and numClasses ≥ 2',
      received: `shape ${formatShape(value.shape)}`,
    });
  }
  if (value.dtype !== 'float32') {
    throw new ArgumentError({ fn, arg, expected: 'be a float32 tensor of probabilities', received: `${value.dtype} tensor` });
  }
  const [n, k] = value.shape as [number, number];
  const data = (await value.data()) as Float32Array;
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const p = data[i * k + j]!;
      if (!(p >= 0 && p <= 1 + tolerance)) {
        throw new ArgumentError({
          fn,
          arg,
          expected: 'hold probabilities in [0, 1] (apply tf.softmax to logits first)',
          received: `${p} at row ${i}, column ${j}`,
        });
      }
      sum += p;
    }
    if (Math.abs(sum - 1) > tolerance) {
      throw new ArgumentError({
        fn,
        arg,
        expected: `have rows that sum to 1 (within ${tolerance}; apply tf.softmax to logits first)`,
        received: `a sum of ${sum} at row ${i}`,
      });
    }
  }
  return { data, n, k };
}

/** Whether `value` is a tensor the caller passed as class labels (int32 rank 1). @internal */
export function isLabelTensor(value: unknown): value is tf.Tensor1D {
  return value instanceof tf.Tensor && !value.isDisposed && value.rank === 1;
}
