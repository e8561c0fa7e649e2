/**
 * genblocks' cpu `ResizeNearestNeighborGrad` (installed by `backends.enableTraining('cpu')`)
 * against the adjoint of the forward op: resizing the element indices gives each output's
 * source element, and the gradient of sum(y·dy) is dx[src(i)] += dy[i], summed in float64.
 * The stock tfjs 4.22 kernel fails this for batches above 1 (it reads dy at the images' batch
 * stride), which the last case shows.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { backends } from '../../../src/index.js';
import { installCpuKernels, uninstallCpuKernels } from '../../../src/backends/cpu/resize-nearest-neighbor-grad.js';
import { useTestBackend } from '../../helpers/backends.js';
import { randomArray, relativeError, resizeNearestAdjoint, rng } from '../parity.js';

type Case = [number[], [number, number], boolean, boolean];

beforeAll(async () => {
  await useTestBackend('cpu');
});

afterAll(() => {
  installCpuKernels();
});

/** The gradient by the cpu kernel and by the index oracle. */
function gradients(
  shape: number[],
  size: [number, number],
  alignCorners: boolean,
  halfPixelCenters: boolean,
): [Float32Array, Float32Array] {
  const r = rng(shape[1]! * 13 + size[1]!);
  const n = shape.reduce((p, d) => p * d, 1);
  const x = randomArray(r, n);
  const image = shape as [number, number, number, number];
  const dy = randomArray(r, shape[0]! * size[0] * size[1] * shape[3]!);
  const expected = resizeNearestAdjoint(shape, size, alignCorners, halfPixelCenters, dy);
  const dx = tf.tidy(() => {
    const y = tf.tensor4d(dy, [shape[0]!, size[0], size[1], shape[3]!]);
    return tf
      .grad((t: tf.Tensor) => tf.sum(tf.mul(tf.image.resizeNearestNeighbor(t as tf.Tensor4D, size, alignCorners, halfPixelCenters), y)))(
        tf.tensor4d(x, image),
      )
      .dataSync() as Float32Array;
  });
  return [dx, expected];
}

describe('cpu ResizeNearestNeighborGrad is the adjoint of the forward op', () => {
  it('enableTraining reports it, and describeBackend too', () => {
    expect(backends.enableTraining('cpu')).toEqual({ backend: 'cpu', added: [], replaced: ['ResizeNearestNeighborGrad'] });
    expect(backends.describeBackend().replaced).toEqual(['ResizeNearestNeighborGrad']);
  });

  it.each([
    [[3, 4, 4, 2], [8, 8], false, false],
    [[2, 7, 7, 5], [14, 14], false, true],
    [[2, 5, 4, 3], [7, 9], false, false],
    [[3, 6, 5, 2], [3, 2], false, false],
    [[2, 3, 4, 4], [5, 7], true, false],
    [[2, 3, 5, 3], [7, 8], false, true],
  ] as Case[])('images %j to %j, alignCorners %s, halfPixelCenters %s', (shape, size, alignCorners, halfPixelCenters) => {
    backends.enableTraining('cpu');
    const [dx, expected] = gradients(shape, size, alignCorners, halfPixelCenters);
    expect(relativeError(dx, expected)).toBeLessThanOrEqual(1e-6);
  });

  it('the stock kernel it replaces is wrong for a batch of 2 (why it is replaced)', () => {
    uninstallCpuKernels();
    try {
      const [dx, expected] = gradients([2, 4, 4, 2], [8, 8], false, false);
      expect(relativeError(dx, expected)).toBeGreaterThan(0.1);
    } finally {
      installCpuKernels();
    }
  });

  it('leaves no tensors behind', () => {
    backends.enableTraining('cpu');
    const x = tf.ones([2, 2, 2, 3]) as tf.Tensor4D;
    const f = () => tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.image.resizeNearestNeighbor(t as tf.Tensor4D, [4, 4])))(x));
    f().dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) f().dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
