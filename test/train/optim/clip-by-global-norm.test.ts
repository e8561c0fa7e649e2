/**
 * train.clipByGlobalNorm against hand-computed norms and factors.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { train } from '../../../src/index.js';
import { useTestBackend } from '../../helpers/backends.js';
import { expectClose, expectNoLeak, values } from '../../helpers/memory.js';

describe('train.clipByGlobalNorm', () => {
  beforeAll(async () => {
    await useTestBackend('cpu');
  });

  it('scales [3, 0] and [0, 4] (global norm sqrt(9 + 16) = 5) by 1/5 for maxNorm 1', () => {
    const { grads, norm } = train.clipByGlobalNorm([tf.tensor1d([3, 0]), tf.tensor1d([0, 4])], 1);
    expectClose(values(norm), [5]);
    // g · maxNorm / max(n, maxNorm) = g · 1/5
    expectClose(values(grads[0]!), [0.6, 0]);
    expectClose(values(grads[1]!), [0, 0.8]);
  });

  it('leaves gradients within maxNorm unchanged, and keeps a map a map', () => {
    // ‖[1, 2]‖² + ‖[[2]]‖² = 1 + 4 + 4 = 9: norm 3 ≤ 10, factor 10 / max(3, 10) = 1.
    const { grads, norm } = train.clipByGlobalNorm({ a: tf.tensor1d([1, 2]), b: tf.tensor2d([[2]]) }, 10);
    expectClose(values(norm), [3]);
    expect(Object.keys(grads)).toEqual(['a', 'b']);
    expectClose(values(grads['a']!), [1, 2]);
    expect(grads['b']!.shape).toEqual([1, 1]);
    // The same gradients clipped to 1.5: factor 1.5 / 3 = 0.5.
    const half = train.clipByGlobalNorm({ a: tf.tensor1d([1, 2]), b: tf.tensor2d([[2]]) }, 1.5);
    expectClose(values(half.grads['a']!), [0.5, 1]);
    expectClose(values(half.grads['b']!), [1]);
  });

  it('rejects empty or non-tensor gradients and a non-positive maxNorm, and leaks nothing', async () => {
    expect(() => train.clipByGlobalNorm([], 1)).toThrow(
      /^train\.clipByGlobalNorm: argument 'grads' must be a non-empty array or map of float32 tensors/,
    );
    expect(() => train.clipByGlobalNorm([1 as never], 1)).toThrow(/argument 'grads' must be a non-empty array or map of float32 tensors/);
    expect(() => train.clipByGlobalNorm([tf.scalar(1)], 0)).toThrow(
      /^train\.clipByGlobalNorm: argument 'maxNorm' must be a finite number > 0, received 0/,
    );
    const g = [tf.tensor1d([3, 4])];
    await expectNoLeak(() => train.clipByGlobalNorm(g, 1));
  });
});
