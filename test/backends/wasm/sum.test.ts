/**
 * Parity of genblocks' wasm Sum and Mean over leading axes (rows accumulated in place) against
 * the cpu backend, forward and backward, and the cases they hand to the stock kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { useTestBackend } from '../../helpers/backends.js';
import { expectParity, randomArray, rng } from '../parity.js';

beforeAll(async () => {
  await useTestBackend('wasm');
});

describe('wasm Sum parity with cpu', () => {
  it.each([
    [[32, 3136], [0], false], // a dense layer's bias gradient
    [[8, 5, 5, 160], [0, 1, 2], false], // a wide conv layer's bias gradient
    [[8, 5, 5, 160], [0, 1, 2], true],
    [[4, 3, 7, 20], [0], true],
    [[3, 4, 130], [1, 0], false], // unsorted axes
    [[6, 200], [-2], false], // negative axis
    [[8, 5, 5, 6], [0, 1, 2], false], // short rows (the heap pass; the stock kernel without it)
    [[6, 7], [1], false], // trailing axis: the stock kernel
    [[4, 3, 5], [0, 2], false], // not a leading block: the stock kernel
    [[5, 4], [0, 1], false], // every axis: the stock kernel
  ])('x %j axis %j keepDims %s, and its gradient', async (shape, axis, keepDims) => {
    const r = rng(shape.length * 13 + axis.length);
    const x = randomArray(
      r,
      shape.reduce((a, b) => a * b, 1),
    );
    await expectParity(`sum ${shape} ${axis} ${keepDims}`, () => {
      const X = tf.tensor(x, shape);
      const y = tf.sum(X, axis, keepDims);
      const w = tf.cos(tf.reshape(tf.range(0, y.size), y.shape));
      return [y, tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.sum(t, axis, keepDims), w)))(X)];
    });
  });

  it.each([
    [[8, 5, 5, 160], [0, 1, 2], false], // batch-norm moments of an [N, H, W, C] activation
    [[768, 128], [0], true],
    [[6, 7], [1], false], // trailing axis: the stock kernel
    [[8, 5, 5, 6], [0, 1, 2], false], // short rows (the heap pass; the stock kernel without it)
  ])('Mean of x %j axis %j keepDims %s, and its gradient', async (shape, axis, keepDims) => {
    const r = rng(shape.length * 29 + axis.length);
    const x = randomArray(
      r,
      shape.reduce((a, b) => a * b, 1),
    ).map((v) => v + 0.25);
    await expectParity(`mean ${shape} ${axis} ${keepDims}`, () => {
      const X = tf.tensor(x, shape);
      const y = tf.mean(X, axis, keepDims);
      const w = tf.cos(tf.reshape(tf.range(0, y.size), y.shape));
      return [y, tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.mean(t, axis, keepDims), w)))(X)];
    });
  });

  it('averages rows by hand-checked values: rows r·(j + 1) for r = 1..4 average 2.5·(j + 1)', async () => {
    await tf.setBackend('wasm');
    const x = Float32Array.from({ length: 4 * 128 }, (_, i) => (Math.floor(i / 128) + 1) * ((i % 128) + 1));
    const y = tf.tidy(() => tf.mean(tf.tensor2d(x, [4, 128]), 0).dataSync());
    expect(Array.from(y)).toEqual(Array.from({ length: 128 }, (_, j) => 2.5 * (j + 1)));
  });

  it('sums rows by hand-checked values, and int32 through the stock kernel', async () => {
    await tf.setBackend('wasm');
    // 3 rows of 128: row r holds (r + 1)·(j + 1); column sums are 6·(j + 1).
    const rows = tf.tensor2d(
      Array.from({ length: 3 * 128 }, (_, k) => (Math.floor(k / 128) + 1) * ((k % 128) + 1)),
      [3, 128],
    );
    expect(Array.from(tf.tidy(() => tf.sum(rows, 0).dataSync()))).toEqual(Array.from({ length: 128 }, (_, j) => 6 * (j + 1)));
    const ints = tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32');
    const s = tf.sum(ints, 0);
    expect(s.dtype).toBe('int32');
    expect(Array.from(s.dataSync())).toEqual([4, 6]);
    const empty = tf.tidy(() => tf.sum(tf.zeros([0, 130]), 0));
    expect(Array.from(empty.dataSync())).toEqual(new Array(130).fill(0));
    tf.dispose([rows, ints, s, empty]);
  });
});
