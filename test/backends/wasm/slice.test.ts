/**
 * Parity of genblocks' wasm Slice (read in place from the heap) against the cpu backend,
 * forward and backward, for contiguous and strided slices of rank 1 to 5, and hand-checked
 * integer, boolean and string slices.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { useTestBackend } from '../../helpers/backends.js';
import { expectParity, randomArray, rng } from '../parity.js';

beforeAll(async () => {
  await useTestBackend('wasm');
});

describe('wasm Slice parity with cpu', () => {
  it.each([
    [[10], [3], [4]],
    [
      [6, 5],
      [2, 0],
      [3, 5],
    ], // whole rows: contiguous
    [
      [6, 5],
      [1, 2],
      [4, 2],
    ], // strided
    [
      [4, 3, 5],
      [1, 1, 0],
      [2, 2, 5],
    ],
    [
      [4, 3, 5],
      [0, 0, 1],
      [4, 3, 3],
    ],
    [
      [3, 4, 4, 2],
      [1, 1, 2, 0],
      [2, 3, 2, 2],
    ],
    [
      [2, 3, 2, 3, 4],
      [1, 0, 1, 1, 1],
      [1, 3, 1, 2, 2],
    ],
    [
      [5, 4],
      [0, 0],
      [-1, -1],
    ],
  ])('x %j begin %j size %j, and its gradient', async (shape, begin, size) => {
    const r = rng(shape.length * 17 + begin[0]! + 3);
    const x = randomArray(
      r,
      shape.reduce((a, b) => a * b, 1),
    );
    await expectParity(`slice ${shape} ${begin} ${size}`, () => {
      const X = tf.tensor(x, shape);
      const y = tf.slice(X, begin, size);
      const weights = tf.sin(tf.reshape(tf.range(0, Math.max(1, y.size)), [Math.max(1, y.size)]));
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.reshape(tf.slice(t, begin, size), [-1]), tf.slice(weights, 0, y.size))))(X);
      return [y, g];
    });
  });

  it('slices int32, bool and string tensors (hand-checked)', async () => {
    await tf.setBackend('wasm');
    const ints = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], 'int32');
    expect(Array.from(tf.tidy(() => tf.slice(ints, [0, 1], [2, 2]).dataSync()))).toEqual([2, 3, 5, 6]);
    const bools = tf.tensor1d([true, false, true, true], 'bool');
    expect(Array.from(tf.tidy(() => tf.slice(bools, 1, 2).dataSync()))).toEqual([0, 1]);
    const strings = tf.tensor1d(['a', 'b', 'c']);
    expect(tf.tidy(() => tf.slice(strings, 1, 2).dataSync())).toEqual(['b', 'c']);
    const empty = tf.tidy(() => tf.slice(ints, [1, 0], [0, 3]));
    expect(empty.shape).toEqual([0, 3]);
    tf.dispose([ints, bools, strings, empty]);
  });

  it('reads the right rows of a large tensor after the heap has grown', async () => {
    await tf.setBackend('wasm');
    // 60000 x 28: rows 59990..59999 are n·28 + j (hand-computed), whatever the heap did meanwhile.
    const big = tf.tidy(() => tf.reshape(tf.range(0, 60000 * 28, 1, 'float32'), [60000, 28]));
    const grow = tf.zeros([4_000_000]);
    const rows = tf.slice(big, [59990, 3], [10, 2]);
    const expected = Array.from({ length: 10 }, (_, i) => [(59990 + i) * 28 + 3, (59990 + i) * 28 + 4]).flat();
    expect(Array.from(await rows.data())).toEqual(expected);
    tf.dispose([big, grow, rows]);
  });
});
