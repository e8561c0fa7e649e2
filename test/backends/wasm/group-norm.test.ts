/**
 * The wasm group-normalization kernels (src/backends/wasm/group-norm.ts) behind
 * layers.groupNormalization: forward and the gradients of x, γ and β against float64
 * references written out here (Wu & He 2018, eqs. 1-3, and the closed-form gradient of
 * normalization), the same results as the element-wise path they replace, and no leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { GROUP_NORM_GRAD_KERNEL, GROUP_NORM_KERNEL } from '../../../src/backends/group-norm-kernel.js';
import { heapKernelsReady, setHeapThreadsEnabled } from '../../../src/backends/wasm/heap-kernels.js';
import { HeapPool } from '../../../src/backends/wasm/heap-pool.js';
import type { WasmBackend } from '../../../src/backends/wasm/types.js';
import { installWasmKernels, uninstallWasmKernels } from '../../../src/backends/wasm/install.js';
import { layers } from '../../../src/index.js';
import { useTestBackend } from '../../helpers/backends.js';
import { expectClose, expectNoLeak } from '../../helpers/memory.js';
import { randomArray, rng } from '../parity.js';

const KERNELS = [GROUP_NORM_KERNEL, GROUP_NORM_GRAD_KERNEL];

beforeAll(async () => {
  await useTestBackend('wasm');
});
afterEach(() => {
  installWasmKernels(KERNELS);
  setHeapThreadsEnabled(true);
});

/**
 * Float64 group norm of x `[batch, positions, channels]` and its gradients for upstream `dy`:
 * y = γ x̂ + β; with g = γ dy, dx = r (g − mean(g) − x̂ mean(g x̂)) per (example, group);
 * dγ = Σ dy x̂ and dβ = Σ dy over examples and positions.
 */
function reference(
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  batch: number,
  positions: number,
  groups: number,
  eps: number,
) {
  const channels = gamma.length;
  const size = channels / groups;
  const count = positions * size;
  const y = new Array<number>(x.length);
  const dx = new Array<number>(x.length);
  const dGamma = new Array<number>(channels).fill(0);
  const dBeta = new Array<number>(channels).fill(0);
  for (let n = 0; n < batch; n++) {
    for (let g = 0; g < groups; g++) {
      const idx: number[] = [];
      for (let p = 0; p < positions; p++) for (let c = g * size; c < (g + 1) * size; c++) idx.push((n * positions + p) * channels + c);
      const mean = idx.reduce((s, i) => s + x[i]!, 0) / count;
      const variance = idx.reduce((s, i) => s + (x[i]! - mean) ** 2, 0) / count;
      const r = 1 / Math.sqrt(variance + eps);
      const xHat = (i: number) => (x[i]! - mean) * r;
      const ch = (i: number) => i % channels;
      const gdy = (i: number) => gamma[ch(i)]! * dy[i]!;
      const meanG = idx.reduce((s, i) => s + gdy(i), 0) / count;
      const meanGXHat = idx.reduce((s, i) => s + gdy(i) * xHat(i), 0) / count;
      for (const i of idx) {
        y[i] = gamma[ch(i)]! * xHat(i) + beta[ch(i)]!;
        dx[i] = r * (gdy(i) - meanG - xHat(i) * meanGXHat);
        dGamma[ch(i)]! += dy[i]! * xHat(i);
        dBeta[ch(i)]! += dy[i]!;
      }
    }
  }
  return { y, dx, dGamma, dBeta };
}

/** y and the gradients of Σ y ⊙ dy with respect to x, γ and β, through layers.groupNormalization. */
function run(x: tf.Tensor, dy: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, groups: number) {
  return tf.tidy(() => {
    const y = layers.groupNormalization(x, { groups, gamma, beta });
    const f = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(tf.mul(layers.groupNormalization(xx, { groups, gamma: gg, beta: bb }), dy));
    const [dx, dGamma, dBeta] = tf.grads(f)([x, gamma, beta]);
    return [y, dx!, dGamma!, dBeta!].map((t) => t.dataSync());
  });
}

describe('wasm group-normalization kernels', () => {
  // [batch, height, width, channels, groups]: several channels per group, one, and one group.
  // Channels a multiple of 4 take the SIMD heap kernels (2 channels per group: a SIMD lane
  // spans groups; 3 per group; 7×7 positions), 6 channels the JavaScript loops.
  it.each([
    [2, 3, 5, 6, 3],
    [3, 2, 2, 4, 4],
    [1, 4, 3, 8, 1],
    [5, 7, 7, 8, 4],
    [4, 6, 5, 24, 8],
    [2, 3, 3, 12, 1],
  ])('match the float64 reference and the element-wise path, x [%i, %i, %i, %i], %i groups', (batch, h, w, c, groups) => {
    const r = rng(batch * 100 + c);
    // A mean far from 0 and a spread far from 1, so both matter.
    const xs = randomArray(r, batch * h * w * c).map((v) => 3 + 2 * v);
    const dys = randomArray(r, xs.length);
    const gammas = randomArray(r, c).map((v) => 1 + 0.5 * v);
    const betas = randomArray(r, c);
    const x = tf.tensor4d(xs, [batch, h, w, c]);
    const dy = tf.tensor4d(dys, [batch, h, w, c]);
    const gamma = tf.tensor1d(gammas);
    const beta = tf.tensor1d(betas);
    expect(tf.getKernel(GROUP_NORM_KERNEL, 'wasm'), 'installed by backends.use').toBeDefined();
    const fused = run(x, dy, gamma, beta, groups);
    const expected = reference(xs, dys, gammas, betas, batch, h * w, groups, 1e-5);
    expectClose(fused[0]!, expected.y, 1e-5, 1e-5);
    expectClose(fused[1]!, expected.dx, 1e-4, 1e-5);
    expectClose(fused[2]!, expected.dGamma, 1e-4, 1e-5);
    expectClose(fused[3]!, expected.dBeta, 1e-5, 1e-5);
    uninstallWasmKernels(KERNELS);
    expect(tf.getKernel(GROUP_NORM_KERNEL, 'wasm')).toBeUndefined();
    const elementwise = run(x, dy, gamma, beta, groups);
    fused.forEach((values, k) => expectClose(values, elementwise[k]!, 1e-4, 1e-5));
    tf.dispose([x, dy, gamma, beta]);
  });

  it('without γ and β is plain standardization, and leaks nothing forward or back', async () => {
    const x = tf.tensor4d(randomArray(rng(5), 2 * 2 * 2 * 4), [2, 2, 2, 4]);
    const plain = layers.groupNormalization(x, { groups: 2 });
    const unit = layers.groupNormalization(x, { groups: 2, gamma: tf.ones([4]), beta: tf.zeros([4]) });
    expectClose(plain.dataSync(), unit.dataSync(), 0, 0);
    tf.dispose([plain, unit]);
    await expectNoLeak(() => tf.grad((xx: tf.Tensor) => tf.sum(tf.square(layers.groupNormalization(xx, { groups: 2 }))))(x));
    x.dispose();
  });

  it('the kernels reject inputs that break their contract', () => {
    const x = tf.zeros([1, 2, 2, 2]);
    expect(() => tf.engine().runKernel(GROUP_NORM_KERNEL, { x, gamma: tf.ones([3]), beta: tf.zeros([4]) }, { epsilon: 1e-5 })).toThrow(
      /GenblocksGroupNorm: expected gamma float32 \[4\], received float32 \[3\]/,
    );
    expect(() =>
      tf.engine().runKernel(GROUP_NORM_KERNEL, { x: tf.zeros([2, 4]), gamma: tf.ones([4]), beta: tf.zeros([4]) }, { epsilon: 1e-5 }),
    ).toThrow(/expected x float32 \[batch, positions, groups, channelsPerGroup\], received float32 \[2,4\]/);
    x.dispose();
  });
});

describe('wasm group-normalization heap kernels with threads', () => {
  it('give bit-identical results with the heap threads on and off (split by examples)', async () => {
    const threads = await heapKernelsReady(tf.engine().findBackend('wasm') as unknown as WasmBackend);
    // [16, 14, 14, 32]: 100 352 elements, enough for two threads' share (2 · 2^15) to be split.
    const r = rng(17);
    const x = tf.tensor4d(randomArray(r, 16 * 14 * 14 * 32), [16, 14, 14, 32]);
    const dy = tf.tensor4d(randomArray(r, x.size), x.shape);
    const gamma = tf.tensor1d(randomArray(r, 32).map((v) => 1 + 0.5 * v));
    const beta = tf.tensor1d(randomArray(r, 32));
    setHeapThreadsEnabled(false);
    const single = run(x, dy, gamma, beta, 8);
    setHeapThreadsEnabled(true);
    const spy = vi.spyOn(HeapPool.prototype, 'run');
    const threaded = run(x, dy, gamma, beta, 8);
    const ops = spy.mock.calls.map((call) => call[0]);
    spy.mockRestore();
    if (threads > 1) expect(ops).toEqual(expect.arrayContaining(['groupNorm', 'groupNormGrad']));
    const bits = (v: tf.TypedArray) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    threaded.forEach((v, i) => expect(bits(v).equals(bits(single[i]!)), `output ${i}`).toBe(true));
    tf.dispose([x, dy, gamma, beta]);
  });
});
