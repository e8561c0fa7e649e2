/**
 * genblocks' wasm Transpose (runs of the innermost axis and matrix transposes, through the heap
 * kernels `copyRuns` and `transpose` for float32 and int32, JavaScript loops for bool) and
 * Unpack (through the in-place Slice) against the cpu backend, forward and backward, with
 * extent-1 axes, odd extents, int32 and bool tensors; bit-exact copies against a by-hand
 * permutation; and the axis simplification by hand.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { simplifyTranspose } from '../../../src/backends/wasm/transpose.js';
import { useTestBackend } from '../../helpers/backends.js';
import { expectParity, randomArray, rng } from '../parity.js';

beforeAll(async () => {
  await useTestBackend('wasm');
});

describe('simplifyTranspose', () => {
  it('drops extent-1 axes and merges axes that stay adjacent (hand-worked)', () => {
    // attention's head split: [B, T, 3, H, D] → [3, B, H, T, D]; nothing adjacent stays adjacent but D.
    expect(simplifyTranspose([2, 5, 3, 4, 8], [2, 0, 3, 1, 4])).toEqual({ shape: [2, 5, 3, 4, 8], perm: [2, 0, 3, 1, 4] });
    // [B, H, T, D] → [B, T, H, D]
    expect(simplifyTranspose([2, 4, 6, 8], [0, 2, 1, 3])).toEqual({ shape: [2, 4, 6, 8], perm: [0, 2, 1, 3] });
    // [A, B, C, D] → [C, D, A, B] is a 2-D transpose of [A·B, C·D].
    expect(simplifyTranspose([2, 3, 4, 5], [2, 3, 0, 1])).toEqual({ shape: [6, 20], perm: [1, 0] });
    // extent-1 axes vanish: [1, 3, 1, 4] → [4, 1, 3, 1] is a 2-D transpose of [3, 4].
    expect(simplifyTranspose([1, 3, 1, 4], [3, 2, 1, 0])).toEqual({ shape: [3, 4], perm: [1, 0] });
    // batched last-two swap stays rank 3.
    expect(simplifyTranspose([2, 3, 4, 5], [0, 1, 3, 2])).toEqual({ shape: [6, 4, 5], perm: [0, 2, 1] });
  });
});

describe('wasm Transpose and Unpack match cpu', () => {
  it.each([
    [
      [2, 5, 3, 4, 8],
      [2, 0, 3, 1, 4],
    ],
    [
      [3, 4, 5, 7],
      [0, 2, 1, 3],
    ],
    [
      [2, 3, 9, 17],
      [0, 1, 3, 2],
    ],
    [
      [5, 13, 11],
      [0, 2, 1],
    ],
    [
      [1, 3, 1, 4],
      [3, 2, 1, 0],
    ],
    [
      [4, 6],
      [1, 0],
    ],
    [
      [2, 1, 3, 20],
      [1, 2, 0, 3],
    ],
    [[7], [0]],
    // Matrix transposes ("transpose" kernel): 4 x 4 blocks, a band edge at 64 columns, R mod 4
    // and C mod 4 edges, matrices smaller than one block.
    [
      [67, 130],
      [1, 0],
    ],
    [
      [3, 3],
      [1, 0],
    ],
    [
      [8, 68],
      [1, 0],
    ],
    [
      [3, 8, 68],
      [0, 2, 1],
    ],
    [
      [2, 7, 1, 6],
      [0, 3, 2, 1],
    ],
    // Runs ("copyRuns" kernel): attention's head split at D = 32 and its inverse (the gradient
    // of the other), odd runs (7: one vector and three single elements; 3: single elements only).
    [
      [2, 6, 3, 4, 32],
      [2, 0, 3, 1, 4],
    ],
    [
      [3, 2, 4, 6, 32],
      [1, 3, 0, 2, 4],
    ],
    [
      [2, 3, 3, 2, 7],
      [2, 0, 3, 1, 4],
    ],
    [
      [5, 4, 3],
      [1, 0, 2],
    ],
    // Five outer axes after simplification: more than copyRuns takes, the JavaScript loop runs.
    [
      [2, 3, 2, 3, 2, 5],
      [4, 3, 2, 1, 0, 5],
    ],
  ])('x %j perm %j, and the gradient; int32 and bool', async (shape, perm) => {
    const r = rng(shape.length * 19 + perm[0]!);
    const x = randomArray(
      r,
      shape.reduce((p, d) => p * d, 1),
    );
    await expectParity(`transpose ${shape} ${perm}`, () => {
      const X = tf.tensor(x, shape);
      const y = tf.transpose(X, perm);
      const w = tf.sin(tf.reshape(tf.range(0, y.size), y.shape));
      return [
        y,
        tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.transpose(t, perm), w)))(X),
        tf.cast(tf.transpose(tf.cast(tf.mul(X, 1000), 'int32'), perm), 'float32'),
        tf.add(tf.cast(tf.transpose(tf.greater(X, 0), perm), 'float32'), 1),
      ];
    });
  });

  // The heap kernels copy bits: NaN, ±0, ±Infinity, subnormals and int32 values beyond 2²⁴ (which
  // a float32 round trip would round) come out unchanged, at the positions an index-by-index
  // permutation written out here puts them.
  it.each([
    [
      [9, 13],
      [1, 0],
    ],
    [
      [2, 5, 12],
      [0, 2, 1],
    ],
    [
      [2, 3, 3, 2, 7],
      [2, 0, 3, 1, 4],
    ],
    [
      [3, 2, 5, 9],
      [0, 2, 1, 3],
    ],
  ])('x %j perm %j moves float32 and int32 bits exactly (by-hand permutation)', async (shape, perm) => {
    await tf.setBackend('wasm');
    const n = shape.reduce((p, d) => p * d, 1);
    const special = [NaN, -0, 0, Infinity, -Infinity, 1e-45, -3.4e38];
    const floats = Float32Array.from({ length: n }, (_, i) => (i < special.length ? special[i]! : i * 0.37 - 5));
    const ints = Int32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 2147483647 - i : i % 3 === 1 ? -2147483648 + i : 16777217 + i));
    const expectedShape = perm.map((a) => shape[a]!);
    const permute = <T extends Float32Array | Int32Array>(values: T, out: T): T => {
      // out index (row-major over expectedShape) → the input index with axis perm[j] at position j.
      const inStrides = shape.map((_, d) => shape.slice(d + 1).reduce((p, e) => p * e, 1));
      const index = new Array<number>(shape.length).fill(0);
      for (let o = 0; o < n; o++) {
        let src = 0;
        for (let j = 0; j < perm.length; j++) src += index[j]! * inStrides[perm[j]!]!;
        out[o] = values[src]!;
        for (let j = perm.length - 1; j >= 0 && ++index[j]! === expectedShape[j]!; j--) index[j] = 0;
      }
      return out;
    };
    const [f, i] = tf.tidy(() => [tf.transpose(tf.tensor(floats, shape), perm), tf.transpose(tf.tensor(ints, shape, 'int32'), perm)]);
    expect(f!.shape).toEqual(expectedShape);
    const bits = (v: Float32Array) => Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length));
    expect(bits(f!.dataSync() as Float32Array)).toEqual(bits(permute(floats, new Float32Array(n))));
    expect(Array.from(i!.dataSync())).toEqual(Array.from(permute(ints, new Int32Array(n))));
    tf.dispose([f!, i!]);
  });

  it.each([0, 1, 2, -1])('unstack along axis %i, and its gradient', async (axis) => {
    const r = rng(70 + axis);
    const shape = [3, 4, 5];
    const x = randomArray(r, 60);
    await expectParity(`unstack ${axis}`, () => {
      const X = tf.tensor(x, shape);
      const parts = tf.unstack(X, axis);
      const grad = tf.grad((t: tf.Tensor) => tf.addN(tf.unstack(t, axis).map((p, i) => tf.sum(tf.mul(p, i + 1)))))(X);
      return [...parts, grad];
    });
  });

  it('attention-shaped transposes, unstack and batched products leave no tensor or heap buffer behind', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([2, 8, 3, 4, 8]);
    const step = () =>
      tf.tidy(() => {
        const [q, k, v] = tf.unstack(tf.transpose(x, [2, 0, 3, 1, 4])) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
        const y = tf.matMul(tf.softmax(tf.matMul(q, k, false, true)), v);
        return tf.add(tf.grad((t: tf.Tensor) => tf.sum(tf.matMul(t, k, false, true)))(y), tf.sum(tf.transpose(y, [0, 2, 1, 3])));
      });
    step().dispose();
    const tensors = tf.memory().numTensors;
    const dataIds = tf.engine().backend.numDataIds();
    for (let i = 0; i < 3; i++) step().dispose();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.engine().backend.numDataIds()).toBe(dataIds);
    x.dispose();
  });

  it('unstacks int32 values exactly (hand-checked)', async () => {
    await tf.setBackend('wasm');
    const parts = tf.tidy(() => tf.unstack(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], 'int32'), 1).map((p) => Array.from(p.dataSync())));
    expect(parts).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
  });
});
