/**
 * `Sum` over leading or middle axes by the heap column-sum pass (src/backends/wasm/sum-columns.ts):
 * a conv's bias gradient (leading axes) and a UNet's per-example time-shift gradient (the middle
 * axes) against the cpu backend, with and without keepDims, odd column counts (blocks of 16, 4
 * and single columns) and the axes it leaves to other paths; bit for bit against a float32
 * accumulation in order of rows; results bit-identical with the heap threads on and off; no leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { setHeapThreadsEnabled } from '../../../src/backends/wasm/heap-kernels.js';
import { useTestBackend } from '../../helpers/backends.js';
import { expectNoLeak } from '../../helpers/memory.js';
import { expectParity, randomArray, rng, runOn } from '../parity.js';

beforeAll(async () => {
  await useTestBackend('wasm');
});
afterEach(() => setHeapThreadsEnabled(true));

describe('wasm Sum of few columns matches cpu', () => {
  it.each([
    [[6, 5, 7, 16], [0, 1, 2], false], // bias gradient
    [[32, 28, 28, 8], [0, 1, 2], false], // the diffusion example's first level, 25 088 rows
    [[4, 5, 24], [0, 1], true],
    [[3, 9, 5, 8], [1, 2], true], // time-shift gradient: per example
    [[5, 7, 7, 32], [1, 2], false],
    [[2, 6, 5, 12], [0, 1, 2], false], // 12 columns: three blocks of 4
    [[3, 4, 5, 8], [0, 1], false], // kept [5, 8]: 40 columns
    [[4, 9, 9, 37], [1, 2], true], // 37 columns: 2 blocks of 16, 1 of 4, 1 single
    [[64, 49, 3], [0, 1], false], // 3 columns: single columns only
    [[3, 4, 8], [2], false], // the last axis: other path
  ] as [number[], number[], boolean][])('x %j summed over %j (keepDims %s), and the gradient', async (shape, axis, keepDims) => {
    const x = randomArray(
      rng(shape.reduce((a, b) => a * b, 7)),
      shape.reduce((a, b) => a * b, 1),
    );
    await expectParity(`sum ${shape} ${axis}`, () => {
      const X = tf.tensor(x, shape);
      const y = tf.sum(X, axis, keepDims);
      // And of x², whose terms are all positive (no cancellation to hide an error).
      return [y, tf.sum(tf.mul(X, X), axis, keepDims)];
    });
  });

  it.each([
    [
      [37, 5, 19],
      [0, 1],
    ],
    [[3, 50, 37], [1]],
    [
      [16, 28, 28, 32],
      [0, 1, 2],
    ],
  ] as [number[], number[]][])('x %j over %j: bit for bit the float32 sums in order of rows, from 0', async (shape, axis) => {
    const x = randomArray(
      rng(shape.length + shape[0]!),
      shape.reduce((a, b) => a * b, 1),
    );
    // Oracle: out[b, j] = (((0 + x[b, 0, j]) + x[b, 1, j]) + …) rounded to float32 after each addition.
    const middle = axis[0] === 1;
    const batch = middle ? shape[0]! : 1;
    const cols = shape[shape.length - 1]! * (middle ? 1 : shape.slice(axis.length, -1).reduce((a, b) => a * b, 1));
    const rows = x.length / batch / cols;
    const expected = new Float32Array(batch * cols);
    for (let b = 0; b < batch; b++) {
      for (let j = 0; j < cols; j++) {
        let s = 0;
        for (let i = 0; i < rows; i++) s = Math.fround(s + x[(b * rows + i) * cols + j]!);
        expected[b * cols + j] = s;
      }
    }
    const [actual] = await runOn('wasm', () => tf.sum(tf.tensor(x, shape), axis));
    expect(Buffer.from(actual!.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
  });

  it('sums in an order independent of the heap threads, and leaks nothing', async () => {
    const x = randomArray(rng(3), 16 * 28 * 28 * 32);
    const f = () => [tf.sum(tf.tensor4d(x, [16, 28, 28, 32]), [0, 1, 2]), tf.sum(tf.tensor4d(x, [16, 28, 28, 32]), [1, 2], true)];
    setHeapThreadsEnabled(false);
    const single = await runOn('wasm', f);
    setHeapThreadsEnabled(true);
    const threaded = await runOn('wasm', f);
    threaded.forEach((v, i) => expect(Buffer.from(v.buffer).equals(Buffer.from(single[i]!.buffer)), `output ${i}`).toBe(true));
    const t = tf.tensor4d(x, [16, 28, 28, 32]);
    await expectNoLeak(() => tf.sum(t, [1, 2], true));
    t.dispose();
  });
});
