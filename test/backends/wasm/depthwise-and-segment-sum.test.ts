/**
 * Parity of genblocks' wasm DepthwiseConv2dNativeBackprop{Filter,Input} and UnsortedSegmentSum
 * (all missing on stock wasm) against the cpu backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { useTestBackend } from '../../helpers/backends.js';
import { expectParity, randomArray, rng } from '../parity.js';

beforeAll(async () => {
  await useTestBackend('wasm');
});

const DEPTHWISE: Array<[number, [number, number], number, number, number, 'same' | 'valid']> = [
  // batch, size, channels, multiplier, kernel/stride packed below, pad
  [1, [7, 7], 3, 1, 31, 'same'],
  [3, [9, 8], 4, 2, 32, 'valid'],
  [2, [10, 10], 5, 3, 52, 'same'],
  [4, [6, 11], 2, 1, 11, 'same'],
  [2, [8, 8], 6, 2, 51, 'valid'],
  [1, [12, 9], 1, 4, 12, 'valid'],
];

describe('wasm depthwise backprop parity with cpu', () => {
  it.each(DEPTHWISE)('batch %i size %j channels %i x%i k/s %i %s', async (batch, size, channels, mult, ks, pad) => {
    const k = Math.floor(ks / 10);
    const s = ks % 10;
    const r = rng(ks * 7 + channels);
    const xShape = [batch, ...size, channels] as [number, number, number, number];
    const wShape = [k, k, channels, mult] as [number, number, number, number];
    const x = randomArray(
      r,
      xShape.reduce((a, b) => a * b, 1),
    );
    const w = randomArray(
      r,
      wShape.reduce((a, b) => a * b, 1),
    );
    await expectParity(`depthwise ${xShape} k${k} s${s} ${pad}`, () => {
      const X = tf.tensor4d(x, xShape);
      const W = tf.tensor4d(w, wShape);
      const f = (xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.square(tf.depthwiseConv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, s, pad)));
      return tf.grads(f)([X, W]);
    });
  });
});

describe('wasm UnsortedSegmentSum parity with cpu', () => {
  it('matches for rank 1 and rank 3 data, with out-of-range ids dropped', async () => {
    const r = rng(3);
    const data = randomArray(r, 12 * 4 * 3);
    const ids = [0, 2, 2, 5, 1, 0, -1, 7, 3, 3, 2, 9];
    await expectParity('unsortedSegmentSum', () => [
      tf.unsortedSegmentSum(tf.tensor1d(data.slice(0, 12)), tf.tensor1d(ids, 'int32'), 8),
      tf.unsortedSegmentSum(tf.tensor3d(data, [12, 4, 3]), tf.tensor1d(ids, 'int32'), 8),
    ]);
  });

  it('makes gather (embeddings) trainable: gradient of a gather with repeated indices', async () => {
    const r = rng(4);
    const table = randomArray(r, 10 * 6);
    await expectParity('gather gradient', () => {
      const T = tf.tensor2d(table, [10, 6]);
      const idx = tf.tensor1d([3, 3, 0, 9, 1, 3], 'int32');
      return tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.gather(t, idx))))(T);
    });
    // Hand check (independent of cpu): row 3 is gathered three times, so its gradient is 2·3·T[3].
    await tf.setBackend('wasm');
    const g = tf.tidy(() =>
      tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.gather(t, tf.tensor1d([3, 3, 3], 'int32')))))(tf.tensor2d(table, [10, 6])),
    );
    const v = g.dataSync();
    for (let j = 0; j < 6; j++) expect(v[3 * 6 + j]).toBeCloseTo(6 * table[3 * 6 + j]!, 5);
    expect(v[0]).toBe(0);
    g.dispose();
  });
});
