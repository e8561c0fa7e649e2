/**
 * Parity of the heap `gemm` path of genblocks' wasm BatchMatMul/_FusedMatMul (no XNNPACK
 * packing) against the cpu backend: shapes that fit its 4x8 tiles (and the transposed-B form
 * with the result written transposed), with and without panel copies, fused bias and
 * activations, gradients, and the hand-over to XNNPACK for a right operand reused many times.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { RIGHT_OPERAND_REUSE_LIMIT } from '../../../src/backends/wasm/batch-mat-mul.js';
import { heapKernels, setHeapKernelsEnabled } from '../../../src/backends/wasm/heap-kernels.js';
import type { WasmBackend } from '../../../src/backends/wasm/types.js';
import { useTestBackend } from '../../helpers/backends.js';
import { expectParity, randomArray, relativeError, rng, runOn } from '../parity.js';

beforeAll(async () => {
  await useTestBackend('wasm');
});

afterEach(() => {
  setHeapKernelsEnabled(true);
});

const COMBOS = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
] as const;

describe('wasm heap gemm', () => {
  it('is available on the single-threaded wasm build', async () => {
    await tf.setBackend('wasm');
    expect(heapKernels(tf.backend() as unknown as WasmBackend)).not.toBeNull();
  });

  it.each(COMBOS)('random tile-sized products, transposeA=%s transposeB=%s, forward and backward', async (ta, tb) => {
    const r = rng(300 + (ta ? 2 : 0) + (tb ? 1 : 0));
    for (let trial = 0; trial < 6; trial++) {
      // M, N multiples of 8 fit both the direct (M%4, N%8) and the transposed-B form (N%4, M%8);
      // M = 4 (no panel copy) and M >= 8 (panel copy) both occur. K is any size.
      const M = trial === 0 ? 8 : 8 * (1 + Math.floor((r() + 1) * 5));
      const N = 8 * (1 + Math.floor((r() + 1) * 5));
      const K = 1 + Math.floor((r() + 1) * 40);
      const a = randomArray(r, M * K);
      const b = randomArray(r, K * N);
      const w = randomArray(r, M * N);
      await expectParity(`heap matMul ${M}x${K}x${N} tA=${ta} tB=${tb}`, () => {
        const A = tf.tensor2d(a, ta ? [K, M] : [M, K]);
        const B = tf.tensor2d(b, tb ? [N, K] : [K, N]);
        const W = tf.tensor2d(w, [M, N]);
        const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D, ta, tb), W));
        const [dA, dB] = tf.grads(f)([A, B]);
        return [tf.matMul(A, B, ta, tb), dA!, dB!];
      });
    }
  });

  it('4-row products (no panel copy) match', async () => {
    const r = rng(310);
    const a = randomArray(r, 4 * 19);
    const b = randomArray(r, 19 * 24);
    await expectParity('heap matMul 4x19x24', () => tf.matMul(tf.tensor2d(a, [4, 19]), tf.tensor2d(b, [19, 24])));
  });

  it.each(['linear', 'relu', 'leakyrelu', 'sigmoid', 'elu'] as const)('fused matMul with bias and %s activation', async (activation) => {
    const r = rng(320);
    for (const ta of [false, true]) {
      const [M, K, N] = [16, 37, 24];
      const a = randomArray(r, M * K);
      const b = randomArray(r, K * N);
      const bias = randomArray(r, N);
      await expectParity(`heap fused ${activation} tA=${ta}`, () => {
        const A = tf.tensor2d(a, ta ? [K, M] : [M, K]);
        const B = tf.tensor2d(b, [K, N]);
        const C = tf.tensor1d(bias);
        const f = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) =>
          tf.sum(
            tf.square(
              tf.fused.matMul({ a: x as tf.Tensor2D, b: y as tf.Tensor2D, bias: z, transposeA: ta, activation, leakyreluAlpha: 0.2 }),
            ),
          );
        return [tf.fused.matMul({ a: A, b: B, bias: C, transposeA: ta, activation, leakyreluAlpha: 0.2 }), ...tf.grads(f)([A, B, C])];
      });
    }
  });

  it('the MLP-GAN layer shapes match (64x784·784x1024, its dW and dX)', async () => {
    const r = rng(330);
    const x = randomArray(r, 64 * 784);
    const w = randomArray(r, 784 * 1024);
    const dy = randomArray(r, 64 * 1024);
    await expectParity('MLP layer', () => {
      const X = tf.tensor2d(x, [64, 784]);
      const W = tf.tensor2d(w, [784, 1024]);
      const DY = tf.tensor2d(dy, [64, 1024]);
      return [tf.matMul(X, W), tf.matMul(X, DY, true, false), tf.matMul(DY, W, false, true)];
    });
  });

  // Off the 4x8 tiles: 98 columns (a GPT head's vocabulary) are padded to 104, 66 rows to 68;
  // [66, 40, 98] both, [128, 37, 98] only N, [98, 64, 66] both (each at least 2^16 multiply-adds).
  it.each(COMBOS)(
    'products off the 4x8 tiles run on zero-padded copies, transposeA=%s transposeB=%s, forward and backward',
    async (ta, tb) => {
      const r = rng(360 + (ta ? 2 : 0) + (tb ? 1 : 0));
      for (const [M, K, N] of [
        [66, 40, 98],
        [128, 37, 98],
        [98, 64, 66],
      ] as const) {
        const a = randomArray(r, M * K);
        const b = randomArray(r, K * N);
        const w = randomArray(r, M * N);
        await expectParity(`padded heap matMul ${M}x${K}x${N} tA=${ta} tB=${tb}`, () => {
          const A = tf.tensor2d(a, ta ? [K, M] : [M, K]);
          const B = tf.tensor2d(b, tb ? [N, K] : [K, N]);
          const W = tf.tensor2d(w, [M, N]);
          const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D, ta, tb), W));
          const [dA, dB] = tf.grads(f)([A, B]);
          return [tf.matMul(A, B, ta, tb), dA!, dB!];
        });
      }
    },
  );

  it('a padded product takes the heap gemm with padded sizes, fused bias included, and equals the float64 product', async () => {
    const [M, K, N] = [66, 40, 98];
    const r = rng(370);
    const a = randomArray(r, M * K);
    const b = randomArray(r, K * N);
    const bias = randomArray(r, N);
    await tf.setBackend('wasm');
    const kernels = heapKernels(tf.backend() as unknown as WasmBackend)!;
    const spy = vi.spyOn(kernels, 'gemm');
    const [C] = await runOn('wasm', () =>
      tf.fused.matMul({ a: tf.tensor2d(a, [M, K]), b: tf.tensor2d(b, [K, N]), bias: tf.tensor1d(bias) }),
    );
    // One gemm on 68 x 104 (M up to a multiple of 4, N of 8), K unchanged.
    expect(spy.mock.calls.map((c) => [c[4], c[5], c[6]])).toEqual([[68, 104, 40]]);
    spy.mockRestore();
    // Oracle: Σ_k a[i,k]·b[k,j] + bias[j] in float64.
    let worst = 0;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let sum = bias[j]!;
        for (let k = 0; k < K; k++) sum += a[i * K + k]! * b[k * N + j]!;
        worst = Math.max(worst, Math.abs(C![i * N + j]! - sum));
      }
    }
    expect(worst).toBeLessThan(1e-5);
  });

  it('a matrix-vector product (N = 1: padding would multiply the work by 8) stays off the heap gemm', async () => {
    const [M, K] = [64, 1568];
    const r = rng(380);
    const a = randomArray(r, M * K);
    const b = randomArray(r, K);
    await tf.setBackend('wasm');
    const spy = vi.spyOn(heapKernels(tf.backend() as unknown as WasmBackend)!, 'gemm');
    const [y] = await runOn('wasm', () => tf.matMul(tf.tensor2d(a, [M, K]), tf.tensor2d(b, [K, 1])));
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
    // Oracle: the float64 dot product of each row with b.
    const expected = Float32Array.from({ length: M }, (_, i) => a.subarray(i * K, (i + 1) * K).reduce((sum, v, k) => sum + v * b[k]!, 0));
    expect(relativeError(y!, expected)).toBeLessThan(1e-5);
  });

  it('a right operand reused past the limit goes to XNNPACK and stays correct', async () => {
    const r = rng(340);
    const a = randomArray(r, 16 * 32);
    const b = randomArray(r, 32 * 24);
    const [expected] = await runOn('cpu', () => tf.matMul(tf.tensor2d(a, [16, 32]), tf.tensor2d(b, [32, 24])));
    await tf.setBackend('wasm');
    const A = tf.tensor2d(a, [16, 32]);
    const B = tf.tensor2d(b, [32, 24]);
    for (let i = 0; i < RIGHT_OPERAND_REUSE_LIMIT + 3; i++) {
      const C = tf.matMul(A, B);
      expect(relativeError(C.dataSync() as Float32Array, expected!), `use ${i + 1}`).toBeLessThanOrEqual(1e-5);
      C.dispose();
    }
    tf.dispose([A, B]);
  });

  it('with the heap kernels off, the XNNPACK paths give the same products', async () => {
    const r = rng(350);
    const a = randomArray(r, 24 * 40);
    const b = randomArray(r, 40 * 32);
    setHeapKernelsEnabled(false);
    await expectParity('xnnpack path', () => {
      const A = tf.tensor2d(a, [24, 40]);
      const B = tf.tensor2d(b, [40, 32]);
      return [tf.matMul(A, B), tf.matMul(A, tf.transpose(B), false, true), tf.matMul(tf.transpose(A), B, true, false)];
    });
  });
});
