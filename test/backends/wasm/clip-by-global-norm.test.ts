/**
 * The wasm clipping kernel (src/backends/wasm/clip-by-global-norm.ts) behind
 * train.clipByGlobalNorm: one dispatch for any number of gradients; the global norm and the
 * clipped gradients against hand-computed values and a float64 reference written out here, with
 * and without the heap kernels, the same results as the element-wise path, and no leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { CLIP_BY_GLOBAL_NORM_KERNEL } from '../../../src/backends/clip-by-global-norm-kernel.js';
import { setHeapKernelsEnabled } from '../../../src/backends/wasm/heap-kernels.js';
import { installWasmKernels, uninstallWasmKernels } from '../../../src/backends/wasm/install.js';
import { train } from '../../../src/index.js';
import { useTestBackend } from '../../helpers/backends.js';
import { expectClose, expectNoLeak } from '../../helpers/memory.js';
import { randomArray, rng } from '../parity.js';

beforeAll(async () => {
  await useTestBackend('wasm');
});
afterEach(() => {
  setHeapKernelsEnabled(true);
  installWasmKernels([CLIP_BY_GLOBAL_NORM_KERNEL]);
});

/** Odd-sized gradients (sizes not multiples of 4: the kernels' scalar tails) and their float64 norm. */
function gradients(scale: number) {
  const r = rng(17);
  const shapes = [[7], [3, 5], [2, 3, 11], [1]];
  const arrays = shapes.map((s) =>
    randomArray(
      r,
      s.reduce((a, b) => a * b, 1),
    ).map((v) => v * scale),
  );
  const norm = Math.sqrt(arrays.reduce((sum, a) => sum + a.reduce((s, v) => s + v * v, 0), 0));
  return { shapes, arrays, norm };
}

function clip(arrays: Float32Array[], shapes: number[][], maxNorm: number) {
  return tf.tidy(() => {
    const { grads, norm } = train.clipByGlobalNorm(
      arrays.map((a, i) => tf.tensor(a, shapes[i])),
      maxNorm,
    );
    return { norm: norm.dataSync()[0]!, grads: grads.map((g) => Array.from(g.dataSync())) };
  });
}

describe('wasm clipping kernel', () => {
  it('scales [3, 0] and [0, 4] (global norm √(9 + 16) = 5) by 1/5 for maxNorm 1, in one dispatch', async () => {
    const a = tf.tensor1d([3, 0]);
    const b = tf.tensor1d([0, 4]);
    const { kernels } = await tf.profile(() => {
      const { grads, norm } = train.clipByGlobalNorm([a, b], 1);
      expectClose(norm.dataSync()[0]!, 5);
      expectClose(grads[0]!.dataSync(), [0.6, 0]);
      expectClose(grads[1]!.dataSync(), [0, 0.8]);
      tf.dispose([...grads, norm]);
    });
    expect(kernels.map((k) => k.name)).toEqual([CLIP_BY_GLOBAL_NORM_KERNEL]);
    tf.dispose([a, b]);
  });

  it.each([
    ['with the heap kernels', true],
    ['in JavaScript', false],
  ])('matches a float64 reference %s, clipped and not', (_, heap) => {
    setHeapKernelsEnabled(heap as boolean);
    for (const [scale, maxNorm] of [
      [3, 1],
      [0.01, 1],
    ] as const) {
      const { shapes, arrays, norm } = gradients(scale);
      const factor = maxNorm / Math.max(norm, maxNorm); // g ← g · maxNorm / max(n, maxNorm)
      const got = clip(arrays, shapes, maxNorm);
      expectClose(got.norm, norm, 1e-6, 0);
      got.grads.forEach((g, i) =>
        expectClose(
          g,
          Array.from(arrays[i]!, (v) => v * factor),
          1e-6,
          1e-7,
        ),
      );
    }
  });

  it('gives the element-wise path its results, a map kept a map', () => {
    const { shapes, arrays } = gradients(3);
    const withKernel = clip(arrays, shapes, 1);
    uninstallWasmKernels([CLIP_BY_GLOBAL_NORM_KERNEL]);
    const elementwise = clip(arrays, shapes, 1);
    expectClose(withKernel.norm, elementwise.norm, 1e-6, 0);
    withKernel.grads.forEach((g, i) => expectClose(g, elementwise.grads[i]!, 1e-6, 1e-7));
    installWasmKernels([CLIP_BY_GLOBAL_NORM_KERNEL]);
    const map = { w: tf.tensor1d([3, 0]), b: tf.tensor1d([0, 4]) };
    const { grads, norm } = train.clipByGlobalNorm(map, 1);
    expect(Object.keys(grads)).toEqual(['w', 'b']);
    expectClose(grads.b!.dataSync(), [0, 0.8]);
    tf.dispose([map.w, map.b, grads.w!, grads.b!, norm]);
  });

  it('does not leak', async () => {
    const g = [tf.randomNormal([5, 3]), tf.randomNormal([9])];
    await expectNoLeak(() => {
      const { grads, norm } = train.clipByGlobalNorm(g, 0.5);
      tf.dispose([...grads, norm]);
    });
    tf.dispose(g);
  });
});
