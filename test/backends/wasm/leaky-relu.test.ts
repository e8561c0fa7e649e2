/**
 * Parity of genblocks' wasm LeakyRelu (α·x + (1 − α)·relu(x)) against the cpu backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, it } from 'vitest';

import { useTestBackend } from '../../helpers/backends.js';
import { expectParity, randomArray, rng } from '../parity.js';

beforeAll(async () => {
  await useTestBackend('wasm');
});

describe('wasm LeakyRelu parity with cpu', () => {
  it.each([0.2, 0.3, 0, 1.5, -0.1])('alpha %f, forward and gradient', async (alpha) => {
    const r = rng(77);
    const x = randomArray(r, 3 * 5 * 7);
    await expectParity(
      `leakyRelu ${alpha}`,
      () => {
        const X = tf.tensor3d(x, [3, 5, 7]);
        return [tf.leakyRelu(X, alpha), tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.leakyRelu(t, alpha))))(X)];
      },
      1e-6,
    );
  });
});
