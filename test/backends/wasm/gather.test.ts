/**
 * genblocks' wasm GatherV2 (row copies on the heap): parity with the cpu backend forward and
 * backward on every axis, with batch dimensions, short and long slices; hand-checked int32 and
 * repeated indices; the out-of-range error; a gather after the heap has grown.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { useTestBackend } from '../../helpers/backends.js';
import { expectParity, randomArray, rng } from '../parity.js';

beforeAll(async () => {
  await useTestBackend('wasm');
});

describe('wasm GatherV2 parity with cpu', () => {
  it.each([
    // [x shape, indices shape, axis, batchDims]
    [[98, 128], [12, 64], 0, 0], // a GPT's token embedding: slices of 128 (one subarray each)
    [[7, 5], [9], 0, 0], // short slices (element loop), repeated indices
    [[4, 7, 3], [2, 5], 1, 0], // middle axis
    [[3, 4, 11], [6], 2, 0], // last axis: slices of one element
    [[3, 6, 20], [3, 4], 1, 1], // batch dimensions (forward only: tfjs' gradient does not support them)
  ])('x %j indices %j axis %i batchDims %i, and its gradient', async (shape, indexShape, axis, batchDims) => {
    const r = rng(shape.length * 31 + axis * 7 + batchDims);
    const x = randomArray(
      r,
      shape.reduce((a, b) => a * b, 1),
    );
    const dim = shape[axis]!;
    const ids = Array.from({ length: indexShape.reduce((a, b) => a * b, 1) }, (_, i) => (i * 5 + 3) % dim);
    await expectParity(`gather ${shape} ${indexShape} ${axis} ${batchDims}`, () => {
      const X = tf.tensor(x, shape);
      const I = tf.tensor(ids, indexShape, 'int32');
      const y = tf.gather(X, I, axis, batchDims);
      if (batchDims > 0) return [y];
      const weights = tf.sin(tf.range(0, y.size));
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.reshape(tf.gather(t, I, axis, batchDims), [-1]), weights)))(X);
      return [y, g];
    });
  });

  it('gathers int32 rows, repeats indices, and rejects an index out of range (hand-checked)', async () => {
    await tf.setBackend('wasm');
    const table = tf.tensor2d([10, 11, 20, 21, 30, 31], [3, 2], 'int32');
    const rows = tf.gather(table, tf.tensor1d([2, 0, 2], 'int32'));
    // Rows 2, 0, 2 of the table, read off by hand.
    expect(rows.dtype).toBe('int32');
    expect(Array.from(await rows.data())).toEqual([30, 31, 10, 11, 30, 31]);
    expect(() => tf.gather(table, tf.tensor1d([1, 3], 'int32'))).toThrow(/GatherV2: the index value 3 is not in \[0, 2\]/);
    tf.dispose([table, rows]);
  });

  it('reads the right rows after the heap has grown', async () => {
    await tf.setBackend('wasm');
    // Row n of a [50000, 20] range is 20n .. 20n + 19 (hand-computed), whatever the heap did meanwhile.
    const big = tf.tidy(() => tf.reshape(tf.range(0, 50000 * 20, 1, 'float32'), [50000, 20]));
    const grow = tf.zeros([4_000_000]);
    const rows = tf.gather(big, tf.tensor1d([49999, 7], 'int32'));
    const expected = [...Array.from({ length: 20 }, (_, j) => 49999 * 20 + j), ...Array.from({ length: 20 }, (_, j) => 7 * 20 + j)];
    expect(Array.from(await rows.data())).toEqual(expected);
    tf.dispose([big, grow, rows]);
  });
});
