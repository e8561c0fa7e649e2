/**
 * `tf.layers.layerNormalization` trains on wasm through genblocks' Tile (a broadcast copy), its
 * one-reduction gradient and the stock broadcasting kernels: forward output and the gradients of
 * the input, gamma and beta match the cpu backend to 1e-4, for odd widths, rank 3 and two axes.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, it } from 'vitest';

import { useTestBackend } from '../../helpers/backends.js';
import { expectParity, randomArray, rng } from '../parity.js';

beforeAll(async () => {
  await useTestBackend('wasm');
});

describe('layerNormalization forward and backward on wasm match cpu', () => {
  it.each([
    [[13, 7], -1],
    [[6, 5, 9], -1],
    [
      [4, 3, 10],
      [1, 2],
    ],
    [[33, 128], -1],
  ] as [number[], number | number[]][])('input %j, axis %j', async (shape, axis) => {
    const r = rng(shape[0]! * 3 + shape.length);
    const x = randomArray(
      r,
      shape.reduce((p, d) => p * d, 1),
    ).map((v, i) => v * (1 + (i % 5)) + 0.3);
    const w = randomArray(r, x.length);
    const normShape = (Array.isArray(axis) ? axis : [shape.length - 1]).map((a) => shape[a]!);
    const gammaValues = randomArray(
      r,
      normShape.reduce((p, d) => p * d, 1),
    ).map((v) => v + 1.5);
    const betaValues = randomArray(r, gammaValues.length);
    await expectParity(`layerNorm ${shape} ${axis}`, () => {
      const layer = tfl.layers.layerNormalization({ axis, gammaInitializer: 'ones' });
      layer.build([null, ...shape.slice(1)]);
      const [gamma, beta] = layer.getWeights();
      layer.setWeights([tf.reshape(tf.tensor(gammaValues), gamma!.shape), tf.reshape(tf.tensor(betaValues), beta!.shape)]);
      const X = tf.tensor(x, shape);
      const W = tf.tensor(w, shape);
      const loss = () => tf.sum(tf.mul(layer.apply(X) as tf.Tensor, W)) as tf.Scalar;
      const { grads } = tf.variableGrads(
        loss,
        layer.trainableWeights.map((v) => (v as unknown as { val: tf.Variable }).val),
      );
      const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(layer.apply(t) as tf.Tensor, W)))(X);
      const out = [layer.apply(X) as tf.Tensor, dx, ...Object.values(grads)];
      for (const v of layer.weights) v.dispose();
      return out;
    });
  });
});
