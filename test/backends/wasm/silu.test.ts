/**
 * The wasm SiLU gradient kernel (`GenblocksSiluGrad`) called directly: the heap pass and the
 * JavaScript fallback (heap kernels off) against the float64 formula dy·s·(1 + x·(1 − s)), and
 * inputs it rejects.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { SILU_GRAD_KERNEL } from '../../../src/backends/silu-kernel.js';
import { setHeapKernelsEnabled } from '../../../src/backends/wasm/heap-kernels.js';
import { useTestBackend } from '../../helpers/backends.js';
import { expectClose } from '../../helpers/memory.js';
import { randomArray, rng } from '../parity.js';

beforeAll(async () => {
  await useTestBackend('wasm');
});
afterEach(() => setHeapKernelsEnabled(true));

describe('wasm SiLU gradient kernel', () => {
  // 4·25 + 3 elements: SIMD groups of four and a scalar tail.
  const r = rng(9);
  const n = 103;
  const x = randomArray(r, n).map((v) => 6 * v);
  const s = x.map((v) => 1 / (1 + Math.exp(-v)));
  const dy = randomArray(r, n);
  // float64 oracle from the float32 inputs.
  const expected = Array.from(x, (v, i) => dy[i]! * s[i]! * (1 + v * (1 - s[i]!)));
  const run = () =>
    tf.tidy(() => tf.engine().runKernel(SILU_GRAD_KERNEL, { dy: tf.tensor1d(dy), x: tf.tensor1d(x), s: tf.tensor1d(s) }) as tf.Tensor);

  it.each([true, false])('computes dy·s·(1 + x·(1 − s)) (heap kernels %s)', (heap) => {
    setHeapKernelsEnabled(heap);
    const out = run();
    expectClose(out.dataSync(), expected, 1e-6, 1e-7);
    out.dispose();
  });

  it('rejects mismatched sizes and dtypes', () => {
    expect(() =>
      tf.engine().runKernel(SILU_GRAD_KERNEL, { dy: tf.tensor1d([1, 2]), x: tf.tensor1d([1, 2, 3]), s: tf.tensor1d([1, 2, 3]) }),
    ).toThrow(/GenblocksSiluGrad: expected dy float32 \[3\], received float32 \[2\]/);
    expect(() =>
      tf.engine().runKernel(SILU_GRAD_KERNEL, { dy: tf.tensor1d([1, 2]), x: tf.tensor1d([1, 2]), s: tf.tensor1d([1, 2], 'int32') }),
    ).toThrow(/expected s float32/);
  });
});
