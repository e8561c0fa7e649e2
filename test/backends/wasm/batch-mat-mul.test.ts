/**
 * Parity of genblocks' wasm BatchMatMul/_FusedMatMul against the cpu backend (the reference
 * implementation), forward and backward, for every transpose combination and batched forms.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { useTestBackend } from '../../helpers/backends.js';
import { expectParity, randomArray, rng } from '../parity.js';

beforeAll(async () => {
  await useTestBackend('wasm');
});

const COMBOS = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
] as const;

describe('wasm BatchMatMul parity with cpu', () => {
  it('is installed', () => {
    expect(tf.getKernel('BatchMatMul', 'wasm')).toBeDefined();
  });

  it.each(COMBOS)('2-D products, transposeA=%s transposeB=%s, random shapes, forward and backward', async (ta, tb) => {
    const r = rng(ta ? (tb ? 4 : 3) : tb ? 2 : 1);
    for (let trial = 0; trial < 6; trial++) {
      const [M, K, N] = [1 + Math.floor((r() + 1) * 35), 1 + Math.floor((r() + 1) * 35), 1 + Math.floor((r() + 1) * 35)];
      const a = randomArray(r, M * K);
      const b = randomArray(r, K * N);
      const w = randomArray(r, M * N);
      await expectParity(`matMul ${M}x${K}x${N} tA=${ta} tB=${tb}`, () => {
        const A = tf.tensor2d(a, ta ? [K, M] : [M, K]);
        const B = tf.tensor2d(b, tb ? [N, K] : [K, N]);
        const W = tf.tensor2d(w, [M, N]);
        const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D, ta, tb), W));
        const [dA, dB] = tf.grads(f)([A, B]);
        return [tf.matMul(A, B, ta, tb), dA!, dB!];
      });
    }
  });

  it.each(COMBOS)('batched products (equal and broadcast batches), transposeA=%s transposeB=%s', async (ta, tb) => {
    const r = rng(10 + (ta ? 2 : 0) + (tb ? 1 : 0));
    // tfjs-core's matMul gradient does not reduce broadcast batch dimensions (on any backend), so
    // broadcast cases are checked forward only.
    const cases: Array<[number[], number[], boolean]> = [
      [[3], [3], true],
      [[2, 3], [2, 3], true],
      [[4], [1], false],
      [[1], [5], false],
      [[2, 3], [], false],
    ];
    for (const [batchA, batchB, backward] of cases) {
      const [M, K, N] = [5 + Math.floor((r() + 1) * 10), 3 + Math.floor((r() + 1) * 10), 4 + Math.floor((r() + 1) * 10)];
      const aShape = [...batchA, ...(ta ? [K, M] : [M, K])];
      const bShape = [...batchB, ...(tb ? [N, K] : [K, N])];
      const a = randomArray(
        r,
        aShape.reduce((x, y) => x * y, 1),
      );
      const b = randomArray(
        r,
        bShape.reduce((x, y) => x * y, 1),
      );
      await expectParity(`batched [${aShape}]x[${bShape}] tA=${ta} tB=${tb}`, () => {
        const A = tf.tensor(a, aShape);
        const B = tf.tensor(b, bShape);
        const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, y, ta, tb)));
        return backward ? [tf.matMul(A, B, ta, tb), ...tf.grads(f)([A, B])] : tf.matMul(A, B, ta, tb);
      });
    }
  });

  // Sizes that fit the heap gemm's 4x8 tiles in the product and in both gradient products
  // (M = 8, K = 16, N = 24): equal batches run one in-place gemm per batch entry.
  it.each(COMBOS)('batched products on the heap gemm path (attention shapes), transposeA=%s transposeB=%s', async (ta, tb) => {
    const r = rng(40 + (ta ? 2 : 0) + (tb ? 1 : 0));
    const [M, K, N] = [8, 16, 24];
    const aShape = [2, 3, ...(ta ? [K, M] : [M, K])];
    const bShape = [2, 3, ...(tb ? [N, K] : [K, N])];
    const a = randomArray(
      r,
      aShape.reduce((x, y) => x * y, 1),
    );
    const b = randomArray(
      r,
      bShape.reduce((x, y) => x * y, 1),
    );
    await expectParity(`heap batched [${aShape}]x[${bShape}] tA=${ta} tB=${tb}`, () => {
      const A = tf.tensor(a, aShape);
      const B = tf.tensor(b, bShape);
      const f = (x: tf.Tensor, y: tf.Tensor) =>
        tf.sum(tf.mul(tf.matMul(x, y, ta, tb), tf.sin(tf.reshape(tf.range(0, 2 * 3 * M * N), [2, 3, M, N]))));
      return [tf.matMul(A, B, ta, tb), ...tf.grads(f)([A, B])];
    });
  });

  it.each(COMBOS)('fused matMul with bias and activation, transposeA=%s transposeB=%s', async (ta, tb) => {
    const r = rng(20 + (ta ? 2 : 0) + (tb ? 1 : 0));
    for (const activation of ['linear', 'relu', 'leakyrelu'] as const) {
      for (const batch of [[], [3]]) {
        const [M, K, N] = [17, 23, 9];
        const aShape = [...batch, ...(ta ? [K, M] : [M, K])];
        const bShape = [...batch, ...(tb ? [N, K] : [K, N])];
        const a = randomArray(
          r,
          aShape.reduce((x, y) => x * y, 1),
        );
        const b = randomArray(
          r,
          bShape.reduce((x, y) => x * y, 1),
        );
        const bias = randomArray(r, N);
        await expectParity(`fused ${activation} [${aShape}]x[${bShape}]`, () => {
          const A = tf.tensor(a, aShape);
          const B = tf.tensor(b, bShape);
          const C = tf.tensor1d(bias);
          const f = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) =>
            tf.sum(tf.square(tf.fused.matMul({ a: x, b: y, bias: z, transposeA: ta, transposeB: tb, activation, leakyreluAlpha: 0.2 })));
          const g = tf.grads(f)([A, B, C]);
          return [tf.fused.matMul({ a: A, b: B, bias: C, transposeA: ta, transposeB: tb, activation, leakyreluAlpha: 0.2 }), ...g];
        });
      }
    }
  });

  // dy·Wᵀ with more rows than columns (M = tokens > N = input width, M % 4 = N % 8 = 0) copies
  // B to [K, N] instead of A to [K, M]; with N not a multiple of 8 or N ≥ M it keeps the Cᵀ form.
  // The weight gradient xᵀ·dy copies x through the heap transpose. Odd K and a GPT layer's shapes.
  it.each([
    [96, 37, 24],
    [20, 12, 8],
    [16, 9, 12],
    [8, 5, 16],
    [768, 384, 128],
  ])('the transformer backward shapes dy[%i, %i]·W[%i, ·]ᵀ and xᵀ·dy match', async (M, K, N) => {
    const r = rng(M + K + N);
    const dy = randomArray(r, M * K);
    const w = randomArray(r, N * K);
    const x = randomArray(r, M * N);
    await expectParity(`dy·Wᵀ and xᵀ·dy at ${M}x${K}x${N}`, () => {
      const DY = tf.tensor2d(dy, [M, K]);
      const W = tf.tensor2d(w, [N, K]);
      const X = tf.tensor2d(x, [M, N]);
      return [tf.matMul(DY, W, false, true), tf.matMul(X, DY, true, false)];
    });
  });

  it('the dense backward shapes of the MLP GAN (64x1024 · 1024x784ᵀ) match', async () => {
    const r = rng(99);
    const dy = randomArray(r, 64 * 784);
    const w = randomArray(r, 1024 * 784);
    const x = randomArray(r, 64 * 1024);
    await expectParity('dense backward', () => {
      const DY = tf.tensor2d(dy, [64, 784]);
      const W = tf.tensor2d(w, [1024, 784]);
      const X = tf.tensor2d(x, [64, 1024]);
      return [tf.matMul(DY, W, false, true), tf.matMul(X, DY, true, false)];
    });
  });
});
