/**
 * AdamW's decoupled weight decay folded into the wasm fused Adam kernel (its `decay` attribute):
 * one kernel per variable, no separate product, and the same update as the float64 formula
 * written out here, with and without the heap kernels (the JavaScript loop).
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { FUSED_ADAM_KERNEL } from '../../../src/backends/fused-adam-kernel.js';
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
  ])('matches one float64 AdamW step %s, in one kernel per variable', async (_, heap) => {
    setHeapKernelsEnabled(heap as boolean);
    const w0 = [0.5, -1.5, 2, 3, -0.25];
    const g0 = [0.1, -0.2, 0.3, 0, 1.5];
    const kernel = tf.variable(tf.tensor2d(w0, [5, 1]), true, `decay_test/kernel_${String(heap)}`);
    const bias = tf.variable(tf.tensor1d(w0), true, `decay_test/bias_${String(heap)}`);
    const optimizer = train.adamW({ learningRate: 0.1, weightDecay: 0.5, beta2: 0.99 });
    const grads: Record<string, tf.Tensor> = { [kernel.name]: tf.tensor2d(g0, [5, 1]), [bias.name]: tf.tensor1d(g0) };
    const { kernels } = await tf.profile(() => optimizer.applyGradients(grads as Parameters<typeof optimizer.applyGradients>[0]));
    const names = kernels.map((k) => k.name);
    expect(names.filter((n) => n === FUSED_ADAM_KERNEL)).toHaveLength(2);
    // No separate decay product over the kernel's values (only the scalar β-power updates remain).
    expect(kernels.filter((k) => k.name === 'Multiply' && k.inputShapes.some((s) => s?.length === 2))).toHaveLength(0);
    expectClose(kernel.dataSync(), reference(w0, g0, true, 0.1, 0.5, 0.9, 0.99, 1e-8), 1e-6, 1e-7);
    expectClose(bias.dataSync(), reference(w0, g0, false, 0.1, 0.5, 0.9, 0.99, 1e-8), 1e-6, 1e-7);
    tf.dispose([kernel, bias, ...Object.values(grads)]);
    optimizer.dispose();
  });
});
