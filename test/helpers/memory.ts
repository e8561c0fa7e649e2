import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

/**
 * Asserts that `fn` leaves `tf.memory().numTensors` unchanged. It is called `warmup` times
 * first (optimizers and layers create their variables on the first call), then `repeats`
 * times, and the tensor count must not move during the repeats. Anything `fn` returns is
 * disposed.
 */
export async function expectNoLeak(fn: () => unknown, { warmup = 1, repeats = 3 } = {}): Promise<void> {
  const run = async () => {
    const out = await fn();
    tf.dispose(out as tf.TensorContainer);
  };
  for (let i = 0; i < warmup; i++) await run();
  const before = tf.memory().numTensors;
  for (let i = 0; i < repeats; i++) await run();
  expect(tf.memory().numTensors, 'tensors leaked by repeated calls').toBe(before);
}

/** Reads a tensor into a plain number array (tests only). */
export function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

/** Relative-or-absolute closeness: |a-b| <= atol + rtol*|b| for every element. */
export function expectClose(actual: ArrayLike<number> | number, expected: ArrayLike<number> | number, rtol = 1e-5, atol = 1e-6): void {
  const a = typeof actual === 'number' ? [actual] : Array.from(actual);
  const e = typeof expected === 'number' ? [expected] : Array.from(expected);
  expect(a.length, 'length').toBe(e.length);
  for (let i = 0; i < a.length; i++) {
    const tol = atol + rtol * Math.abs(e[i]!);
    if (!(Math.abs(a[i]! - e[i]!) <= tol)) {
      expect.fail(`element ${i}: ${a[i]} is not within ${tol.toExponential(2)} of ${e[i]}`);
    }
  }
}
