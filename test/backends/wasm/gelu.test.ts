/**
 * The wasm GELU kernels (src/backends/wasm/gelu.ts) behind the transformer MLP's GELU
 * (src/layers/ops.ts): forward and gradient against float64 GPT-2 tanh-form formulas written out
 * here, parity with the cpu backend's element-wise path (forward and backward, to 1e-4
 * relative), lengths that are not multiples of 4 (the JavaScript tail), and no leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { GELU_GRAD_KERNEL, GELU_KERNEL } from '../../../src/backends/gelu-kernel.js';
import { installWasmKernels, uninstallWasmKernels } from '../../../src/backends/wasm/install.js';
import { gelu } from '../../../src/layers/ops.js';
import { useTestBackend } from '../../helpers/backends.js';
import { expectClose, expectNoLeak } from '../../helpers/memory.js';
import { expectParity, randomArray, rng } from '../parity.js';

const KERNELS = [GELU_KERNEL, GELU_GRAD_KERNEL];

beforeAll(async () => {
  await useTestBackend('wasm');
});
afterEach(async () => {
  await tf.setBackend('wasm');
  installWasmKernels(KERNELS);
});

/** GPT-2's GELU (Hendrycks & Gimpel 2016, tanh form) and its derivative, in float64. */
function reference(x: number): { y: number; dydx: number } {
  const c = Math.sqrt(2 / Math.PI);
  const t = Math.tanh(c * (x + 0.044715 * x ** 3));
  // d/dx [0.5 x (1 + t)] = 0.5 (1 + t) + 0.5 x (1 − t²) · c (1 + 3·0.044715 x²)
  return { y: 0.5 * x * (1 + t), dydx: 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x) };
}

/** gelu(x) and the gradient of Σ gelu(x) ⊙ dy with respect to x. */
function run(x: tf.Tensor, dy: tf.Tensor): [Float32Array, Float32Array] {
  return tf.tidy(() => {
    const { value, grad } = tf.valueAndGrad((v: tf.Tensor) => gelu(v))(x, dy);
    return [value.dataSync() as Float32Array, grad.dataSync() as Float32Array];
  });
}

describe('wasm GELU kernels', () => {
  it('uses one kernel forward and one back', async () => {
    const x = tf.randomNormal([6, 8]);
    const { kernels } = await tf.profile(() => tf.grad((v: tf.Tensor) => gelu(v))(x));
    const names = kernels.map((k) => k.name);
    expect(names).toContain(GELU_KERNEL);
    expect(names).toContain(GELU_GRAD_KERNEL);
    expect(names).not.toContain('Sigmoid');
    x.dispose();
  });

  // [3, 199, 113]: 67,461 elements, enough to be split across the heap pool's threads when the
  // suite runs with GENBLOCKS_TEST_THREADS=2, and n mod 4 = 1 (the JavaScript tail).
  it.each([[[7]], [[3, 5, 11]], [[2, 64, 48]], [[3, 199, 113]]])('matches the float64 formula and its derivative, shape %j', (shape) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const r = rng(size);
    // Inputs over [-6, 6], past where tanh saturates, and a few exact points.
    const xs = randomArray(r, size).map((v) => 6 * v);
    xs[0] = 0;
    if (size > 2) [xs[1], xs[2]] = [1e-5, -9];
    const dys = randomArray(r, size);
    const x = tf.tensor(xs, shape);
    const dy = tf.tensor(dys, shape);
    const [y, dx] = run(x, dy);
    const expectedY = Array.from(xs, (v) => reference(v).y);
    const expectedDx = Array.from(xs, (v, i) => reference(v).dydx * dys[i]!);
    // Absolute slack 1e-5 on the gradient: for x ≲ −4, t rounds within a few ulps of −1 in
    // float32 and 1 − t² (≈ 2e-6 there) cancels, as in PyTorch's own float32 tanh-GELU backward.
    expectClose(y, expectedY, 1e-5, 2e-6);
    expectClose(dx, expectedDx, 1e-5, 1e-5);
    tf.dispose([x, dy]);
  });

  // The heap kernels' operations, one rounded float32 step at a time, written out from
  // heap-kernels.wat's "tanh4" (Eigen's float tanh: clamp, x·P(x²)/Q(x²), x itself below 4e-4),
  // "gelu" and "geluGrad": the SIMD loops (four vectors at a time, then one) must give exactly
  // these floats, lane by lane, whatever the unrolling.
  it('gives, bit for bit, the float32 operations of heap-kernels.wat evaluated one by one', () => {
    const f = Math.fround;
    const P = [
      -2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11, 5.12229709037114e-8, 1.48572235717979e-5, 6.37261928875436e-4,
      4.89352455891786e-3,
    ].map(f);
    const Q = [1.19825839466702e-6, 1.18534705686654e-4, 2.268434632439e-3, 4.89352518554385e-3].map(f);
    const [A, B, G, K] = [0.7978845608028654, 0.035677408136300125, 0.10703222440890037, 7.90531110763549805].map(f);
    const tanhOf = (u: number): number => {
      const c = Math.max(Math.min(u, K!), -K!);
      const s = f(c * c);
      let p = f(f(s * P[0]!) + P[1]!);
      for (const a of P.slice(2)) p = f(f(s * p) + a);
      let q = f(f(s * Q[0]!) + Q[1]!);
      for (const b of Q.slice(2)) q = f(f(s * q) + b);
      return Math.abs(u) < f(0.0004) ? u : f(f(c * p) / q);
    };
    // 16·61 + 4·3 elements: the four-vector loop, the one-vector loop; no JavaScript tail.
    const n = 16 * 61 + 12;
    const r = rng(11);
    const xs = randomArray(r, n).map((v) => f(7 * v));
    xs[0] = f(1e-4); // |u| < 4e-4: t = u
    xs[5] = 20; // clamped
    xs[6] = -20;
    xs[7] = -0; // t = u = −0 (the clamp keeps the sign of zero)
    xs[n - 2] = 9; // clamped in the one-vector loop
    const dys = randomArray(r, n);
    const x = tf.tensor1d(xs);
    const dy = tf.tensor1d(dys);
    const [y, dx] = run(x, dy);
    const expectedY: number[] = [];
    const expectedDx: number[] = [];
    xs.forEach((v, i) => {
      const t = tanhOf(f(v * f(A! + f(B! * f(v * v)))));
      expectedY.push(f(f(0.5 * v) * f(1 + t)));
      const slope = f(f(f(0.5 * v) * f(1 - f(t * t))) * f(A! + f(G! * f(v * v))));
      expectedDx.push(f(dys[i]! * f(f(0.5 * f(1 + t)) + slope)));
    });
    expect(Array.from(y)).toEqual(expectedY);
    expect(Array.from(dx)).toEqual(expectedDx);
    expect(Object.is(y[7], -0)).toBe(true);
    tf.dispose([x, dy]);
  });

  it('gives NaN values and gradients for NaN inputs, in both loops', () => {
    const xs = new Float32Array(16 + 4).fill(0.5);
    xs[2] = Number.NaN; // four-vector loop
    xs[17] = Number.NaN; // one-vector loop
    const x = tf.tensor1d(xs);
    const dy = tf.onesLike(x);
    const [y, dx] = run(x, dy);
    expect([y[2], y[17], dx[2], dx[17]].every(Number.isNaN)).toBe(true);
    expect(y.filter(Number.isNaN)).toHaveLength(2);
    tf.dispose([x, dy]);
  });

  it('gives the same values and gradients as the element-wise path on cpu (1e-4 relative)', async () => {
    const r = rng(7);
    const xs = randomArray(r, 12 * 16 * 33).map((v) => 4 * v);
    const dys = randomArray(r, xs.length);
    await expectParity('gelu forward and backward', () => {
      const x = tf.tensor(xs, [12, 16, 33]);
      const dy = tf.tensor(dys, [12, 16, 33]);
      const { value, grad } = tf.valueAndGrad((v: tf.Tensor) => gelu(v))(x, dy);
      return [value, grad];
    });
  });

  it('without the kernels, the element-wise path gives the same values', () => {
    const r = rng(3);
    const xs = randomArray(r, 101).map((v) => 5 * v);
    const dys = randomArray(r, 101);
    const x = tf.tensor1d(xs);
    const dy = tf.tensor1d(dys);
    const [y, dx] = run(x, dy);
    uninstallWasmKernels(KERNELS);
    const [y2, dx2] = run(x, dy);
    expectClose(y, y2, 1e-5, 2e-6);
    expectClose(dx, dx2, 1e-5, 1e-5); // the cancellation of 1 − t² above
    tf.dispose([x, dy]);
  });

  it('does not leak', async () => {
    const x = tf.randomNormal([4, 10]);
    await expectNoLeak(() => tf.dispose(tf.grad((v: tf.Tensor) => gelu(v))(x)));
    x.dispose();
  });
});
