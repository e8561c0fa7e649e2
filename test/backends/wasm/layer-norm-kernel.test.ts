/**
 * The wasm layer-normalization kernels (src/backends/wasm/layer-norm.ts) behind layers.LayerNorm
 * and the transformer layers (src/layers/ops.ts `layerNorm`): forward and the gradients of x, γ
 * and β against a float64 reference written out here (Ba et al. 2016, eq. 4, and the
 * closed-form gradient of normalization), parity with the cpu backend's element-wise path (1e-4
 * relative), no β, one kernel each way, and no leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { LAYER_NORM_GRAD_KERNEL, LAYER_NORM_KERNEL } from '../../../src/backends/layer-norm-kernel.js';
import { installWasmKernels, uninstallWasmKernels } from '../../../src/backends/wasm/install.js';
import { layerNorm } from '../../../src/layers/ops.js';
import { useTestBackend } from '../../helpers/backends.js';
import { expectClose, expectNoLeak } from '../../helpers/memory.js';
import { expectParity, randomArray, rng } from '../parity.js';

const KERNELS = [LAYER_NORM_KERNEL, LAYER_NORM_GRAD_KERNEL];
const EPS = 1e-5;

beforeAll(async () => {
  await useTestBackend('wasm');
});
afterEach(async () => {
  await tf.setBackend('wasm');
  installWasmKernels(KERNELS);
});

/**
 * Float64 layer norm of the rows of x `[rows, C]` and the gradients of Σ y ⊙ dy: y = γ x̂ + β;
 * with g = γ dy, dx = r (g − mean(g) − x̂ mean(g x̂)) per row; dγ = Σ dy x̂, dβ = Σ dy over rows.
 */
function reference(x: ArrayLike<number>, dy: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>) {
  const c = gamma.length;
  const rows = x.length / c;
  const y: number[] = [];
  const dx: number[] = [];
  const dGamma = new Array<number>(c).fill(0);
  const dBeta = new Array<number>(c).fill(0);
  for (let n = 0; n < rows; n++) {
    const row = Array.from({ length: c }, (_, k) => x[n * c + k]!);
    const d = Array.from({ length: c }, (_, k) => dy[n * c + k]!);
    const mean = row.reduce((s, v) => s + v, 0) / c;
    const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / c;
    const r = 1 / Math.sqrt(variance + EPS);
    const xHat = row.map((v) => (v - mean) * r);
    const g = d.map((v, k) => gamma[k]! * v);
    const meanG = g.reduce((s, v) => s + v, 0) / c;
    const meanGXHat = g.reduce((s, v, k) => s + v * xHat[k]!, 0) / c;
    for (let k = 0; k < c; k++) {
      y.push(gamma[k]! * xHat[k]! + beta[k]!);
      dx.push(r * (g[k]! - meanG - xHat[k]! * meanGXHat));
      dGamma[k]! += d[k]! * xHat[k]!;
      dBeta[k]! += d[k]!;
    }
  }
  return { y, dx, dGamma, dBeta };
}

/** y and the gradients of Σ y ⊙ dy with respect to x, γ and β. */
function run(x: tf.Tensor, dy: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D) {
  return tf.tidy(() => {
    const f = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(layerNorm(xx, gg as tf.Tensor1D, bb as tf.Tensor1D, EPS), dy));
    const [dx, dGamma, dBeta] = tf.grads(f)([x, gamma, beta]);
    return [layerNorm(x, gamma, beta, EPS), dx!, dGamma!, dBeta!].map((t) => t.dataSync());
  });
}

function inputs(shape: number[], seed: number) {
  const r = rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const c = shape[shape.length - 1]!;
  // Rows with an offset and a scale of their own (the mean and variance matter).
  const x = randomArray(r, size).map((v, i) => v * (1 + (Math.floor(i / c) % 4)) + 0.7);
  return { x, dy: randomArray(r, size), gamma: randomArray(r, c).map((v) => v + 1.5), beta: randomArray(r, c) };
}

describe('wasm layer-normalization kernels', () => {
  it.each([[[5, 7]], [[2, 3, 33]], [[12, 64, 128]]])('match the float64 reference, shape %j', (shape) => {
    const { x, dy, gamma, beta } = inputs(shape, shape.length * 31 + shape[0]!);
    const expected = reference(x, dy, gamma, beta);
    const [y, dx, dGamma, dBeta] = run(tf.tensor(x, shape), tf.tensor(dy, shape), tf.tensor1d(gamma), tf.tensor1d(beta));
    expectClose(y!, expected.y, 1e-5, 1e-5);
    expectClose(dx!, expected.dx, 1e-4, 1e-5);
    expectClose(dGamma!, expected.dGamma, 1e-4, 1e-4);
    expectClose(dBeta!, expected.dBeta, 1e-4, 1e-4);
  });

  it('give the same values and gradients as the element-wise path on cpu (1e-4 relative)', async () => {
    const shape = [6, 9, 40];
    const { x, dy, gamma, beta } = inputs(shape, 5);
    await expectParity('layerNorm forward and backward', () => {
      const f = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
        tf.sum(tf.mul(layerNorm(xx, gg as tf.Tensor1D, bb as tf.Tensor1D, EPS), tf.tensor(dy, shape)));
      const args = [tf.tensor(x, shape), tf.tensor1d(gamma), tf.tensor1d(beta)];
      return [layerNorm(args[0]!, args[1] as tf.Tensor1D, args[2] as tf.Tensor1D, EPS), ...tf.grads(f)(args)];
    });
  });

  it('without β: the same values as β = 0, and the element-wise path agrees', () => {
    const { x, dy, gamma } = inputs([4, 16], 9);
    const X = tf.tensor(x, [4, 16]);
    const dY = tf.tensor(dy, [4, 16]);
    const G = tf.tensor1d(gamma);
    const withKernels = tf.tidy(() =>
      tf
        .grads((xx: tf.Tensor) => tf.sum(tf.mul(layerNorm(xx, G, undefined, EPS), dY)))([X])[0]!
        .dataSync(),
    );
    const y = tf.tidy(() => layerNorm(X, G, undefined, EPS).dataSync());
    const expected = reference(x, dy, gamma, new Array<number>(16).fill(0));
    expectClose(y, expected.y, 1e-5, 1e-5);
    expectClose(withKernels, expected.dx, 1e-4, 1e-5);
    uninstallWasmKernels(KERNELS);
    const elementwise = tf.tidy(() => layerNorm(X, G, undefined, EPS).dataSync());
    expectClose(elementwise, y, 1e-5, 1e-5);
    tf.dispose([X, dY, G]);
  });

  it('run as one kernel forward and one back', async () => {
    const x = tf.randomNormal([3, 8]);
    const gamma = tf.ones([8]) as tf.Tensor1D;
    const { kernels } = await tf.profile(() => tf.grad((v: tf.Tensor) => layerNorm(v, gamma, undefined, EPS))(x));
    const names = kernels.map((k) => k.name);
    expect(names.filter((n) => n === LAYER_NORM_KERNEL)).toHaveLength(1);
    expect(names.filter((n) => n === LAYER_NORM_GRAD_KERNEL)).toHaveLength(1);
    expect(names).not.toContain('Mean');
    tf.dispose([x, gamma]);
  });

  it('do not leak', async () => {
    const x = tf.randomNormal([4, 10]);
    const gamma = tf.ones([10]) as tf.Tensor1D;
    await expectNoLeak(() => tf.dispose(tf.grad((v: tf.Tensor) => layerNorm(v, gamma, undefined, EPS))(x)));
    tf.dispose([x, gamma]);
  });
});
