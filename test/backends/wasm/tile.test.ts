/**
 * Parity of genblocks' wasm Tile (block copies) against the cpu backend, forward and backward.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { useTestBackend } from '../../helpers/backends.js';
import { expectParity, randomArray, rng } from '../parity.js';

beforeAll(async () => {
  await useTestBackend('wasm');
});

describe('wasm Tile parity with cpu', () => {
  it.each([
    [
      [1, 1, 1, 6],
      [4, 3, 5, 1],
    ],
    [
      [1, 7],
      [1, 9],
    ],
    [
      [2, 3, 4],
      [2, 1, 3],
    ],
    [[5], [4]],
    [
      [3, 1, 2, 2],
      [1, 4, 1, 3],
    ],
  ])('x %j reps %j, and its gradient', async (shape, reps) => {
    const r = rng(shape.length * 31 + reps[0]!);
    const x = randomArray(
      r,
      shape.reduce((a, b) => a * b, 1),
    );
    await expectParity(`tile ${shape} ${reps}`, () => {
      const X = tf.tensor(x, shape);
      const y = tf.tile(X, reps);
      return [y, tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.tile(t, reps), tf.sin(tf.reshape(tf.range(0, y.size), y.shape)))))(X)];
    });
  });

  it('tiles int32 and bool tensors (hand-checked)', async () => {
    await tf.setBackend('wasm');
    expect(Array.from(tf.tidy(() => tf.tile(tf.tensor2d([1, 2], [1, 2], 'int32'), [2, 2]).dataSync()))).toEqual([1, 2, 1, 2, 1, 2, 1, 2]);
    expect(Array.from(tf.tidy(() => tf.tile(tf.tensor1d([true, false], 'bool'), [2]).dataSync()))).toEqual([1, 0, 1, 0]);
  });
});
