/**
 * AdamW's decoupled weight decay folded into the wasm fused Adam kernel (its `decay` attribute):
 * one kernel call for all the variables, no separate product, and the same update as the float64 formula
 * written out here, with and without the heap kernels (the JavaScript loop); with a gradient
 * scale too, bit for bit the stock operations it replaces (decay, then tf.train.adam on g·s).
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { FUSED_ADAM_KERNEL, FUSED_ADAM_MULTI_KERNEL } from '../../../src/backends/fused-adam-kernel.js';
import { setHeapKernelsEnabled } from '../../../src/backends/wasm/heap-kernels.js';
import { train } from '../../../src/index.js';
import { useTestBackend } from '../../helpers/backends.js';
import { expectClose } from '../../helpers/memory.js';

beforeAll(async () => {
  await useTestBackend('wasm');
});
afterEach(() => {
  setHeapKernelsEnabled(true);
});

/**
 * One AdamW step from zero moments (PyTorch's torch.optim.AdamW, Loshchilov & Hutter 2019, Alg. 2):
 * w ← w·(1 − α·λ) (decayed only); m = (1−β1)·g, v = (1−β2)·g²; w ← w − α·(m/(1−β1))/(√(v/(1−β2)) + ε).
 */
function reference(w: number[], g: number[], decayed: boolean, lr: number, wd: number, b1: number, b2: number, eps: number): number[] {
  return w.map((wi, i) => {
    const m = (1 - b1) * g[i]!;
    const v = (1 - b2) * g[i]! ** 2;
    const w0 = decayed ? wi * (1 - lr * wd) : wi;
    return w0 - (lr * (m / (1 - b1))) / (Math.sqrt(v / (1 - b2)) + eps);
  });
}

describe('AdamW with the decay in the fused Adam kernel', () => {
  it.each([
    ['with the heap kernels', true],
    ['in JavaScript', false],
  ])('matches one float64 AdamW step %s, in one kernel call for both variables', async (_, heap) => {
    setHeapKernelsEnabled(heap as boolean);
    const w0 = [0.5, -1.5, 2, 3, -0.25];
    const g0 = [0.1, -0.2, 0.3, 0, 1.5];
    const kernel = tf.variable(tf.tensor2d(w0, [5, 1]), true, `decay_test/kernel_${String(heap)}`);
    const bias = tf.variable(tf.tensor1d(w0), true, `decay_test/bias_${String(heap)}`);
    const optimizer = train.adamW({ learningRate: 0.1, weightDecay: 0.5, beta2: 0.99 });
    const grads: Record<string, tf.Tensor> = { [kernel.name]: tf.tensor2d(g0, [5, 1]), [bias.name]: tf.tensor1d(g0) };
    const { kernels } = await tf.profile(() => optimizer.applyGradients(grads as Parameters<typeof optimizer.applyGradients>[0]));
    const names = kernels.map((k) => k.name);
    // One multi-variable call: three outputs (value, m, v) for each of the two variables.
    expect(names.filter((n) => n === FUSED_ADAM_KERNEL)).toHaveLength(0);
    const multi = kernels.filter((k) => k.name === FUSED_ADAM_MULTI_KERNEL);
    expect(multi).toHaveLength(1);
    expect(multi[0]!.outputShapes).toEqual([[5, 1], [5, 1], [5, 1], [5], [5], [5]]);
    // No separate decay product over the kernel's values (only the scalar β-power updates remain).
    expect(kernels.filter((k) => k.name === 'Multiply' && k.inputShapes.some((s) => s?.length === 2))).toHaveLength(0);
    expectClose(kernel.dataSync(), reference(w0, g0, true, 0.1, 0.5, 0.9, 0.99, 1e-8), 1e-6, 1e-7);
    expectClose(bias.dataSync(), reference(w0, g0, false, 0.1, 0.5, 0.9, 0.99, 1e-8), 1e-6, 1e-7);
    tf.dispose([kernel, bias, ...Object.values(grads)]);
    optimizer.dispose();
  });
});

let counter = 0;

/**
 * Four AdamW steps (lr 0.01, β2 0.99, ε 1e-3, λ 0.5) on L = Σ sin(v ⊙ (v − t)) over a
 * [37, 29] kernel (decayed: rank 2; 1,073 values, not a multiple of 4, so the SIMD loop's scalar
 * tail runs too) and a [7] bias (not decayed), every gradient multiplied by `s` (0.3). `fused`:
 * `train.adamW`'s `applyGradients(grads, s)`. Otherwise the stock-operations oracle, in the
 * order the kernel computes (heap-kernels.wat `adam`: w·d, then the Adam step added to it):
 * `kernel.assign(kernel·(1 − α·λ))`, then `tf.train.adam`'s `applyGradients` of `g·s` (tf.mul),
 * tf.train.adam being bit for bit the fused update without decay or scale (test/train/optim/fused-adam.test.ts).
 */
function decayAndScaleSteps(fused: boolean, { scale = 0.3, wd = 0.5 } = {}): number[][] {
  const id = counter++;
  // ε = 1e-3, not 1e-8: Adam's step m̂/(√v̂ + ε) is invariant to a constant gradient scale but
  // for ε, so a scale the kernel dropped shows only where ε is not negligible against √v̂.
  const [lr, beta1, beta2, epsilon, steps] = [0.01, 0.9, 0.99, 1e-3, 4];
  let seed = 7;
  // A small linear congruential generator: the same values for both runs.
  const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648) * 2 - 1;
  const array = (n: number) => Array.from({ length: n }, random);
  const [kernel, bias, targets] = tf.tidy(() => [
    tf.variable(tf.tensor2d(array(37 * 29), [37, 29]), true, `decay_oracle_${id}/kernel`),
    tf.variable(tf.tensor1d(array(7)), true, `decay_oracle_${id}/bias`),
    [tf.keep(tf.tensor2d(array(37 * 29), [37, 29])), tf.keep(tf.tensor1d(array(7)))],
  ]) as [tf.Variable, tf.Variable, tf.Tensor[]];
  const s = tf.scalar(scale);
  const adamW = train.adamW({ learningRate: lr, weightDecay: wd, beta1, beta2, epsilon });
  const stock = tf.train.adam(lr, beta1, beta2, epsilon);
  for (let step = 0; step < steps; step++) {
    tf.tidy(() => {
      const { grads } = tf.variableGrads(
        () => tf.addN([kernel, bias].map((v, i) => tf.sum(tf.sin(tf.mul(v, tf.sub(v, targets[i]!)))))) as tf.Scalar,
        [kernel, bias],
      );
      if (fused) {
        adamW.applyGradients(grads, s);
      } else {
        kernel.assign(tf.mul(kernel, 1 - lr * wd));
        stock.applyGradients(Object.fromEntries(Object.entries(grads).map(([name, g]) => [name, tf.mul(g, s)])));
      }
    });
  }
  const out = [Array.from(kernel.dataSync()), Array.from(bias.dataSync())];
  tf.dispose([kernel, bias, s, ...targets]);
  adamW.dispose();
  stock.dispose();
  return out;
}

describe('AdamW with decay and a gradient scale in the fused kernel', () => {
  it.each([
    ['with the heap kernels', true],
    ['in JavaScript', false],
  ])('equals decay then tf.train.adam on g·s in stock operations, bit for bit, over 4 steps (%s)', (_, heap) => {
    setHeapKernelsEnabled(heap as boolean);
    const fused = decayAndScaleSteps(true);
    const oracle = decayAndScaleSteps(false);
    expect(fused).toEqual(oracle);
    // The test can fail: without the decay, or without the scale, the kernel's values differ.
    expect(fused[0]).not.toEqual(decayAndScaleSteps(false, { wd: 0 })[0]);
    expect(fused[0]).not.toEqual(decayAndScaleSteps(false, { scale: 1 })[0]);
    expect(fused[1]).not.toEqual(decayAndScaleSteps(false, { scale: 1 })[1]);
  });
});
