/**
 * genblocks' wasm ResizeNearestNeighbor and its gradient (runs of channels copied or added on
 * the heap: by the heap kernels' table passes, and by loops with them off) against the cpu backend, for up- and downsampling, integer and fractional scales,
 * alignCorners and halfPixelCenters; and the source indices against hand-worked values.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { setHeapKernelsEnabled } from '../../../src/backends/wasm/heap-kernels.js';
import { nearestSources } from '../../../src/backends/wasm/resize-nearest-neighbor.js';
import { useTestBackend } from '../../helpers/backends.js';
import { expectParity, randomArray, relativeError, resizeNearestAdjoint, rng } from '../parity.js';

beforeAll(async () => {
  await useTestBackend('wasm');
});

describe('nearestSources', () => {
  it('picks the forward kernel’s source rows (hand-worked)', () => {
    // 2x: floor(r/2).
    expect(Array.from(nearestSources(3, 6, false, false))).toEqual([0, 0, 1, 1, 2, 2]);
    // halfPixelCenters at 2x: floor((r + 0.5)/2) = floor(r/2) as well.
    expect(Array.from(nearestSources(3, 6, false, true))).toEqual([0, 0, 1, 1, 2, 2]);
    // alignCorners 3 → 5: ratio 2/4, round(r/2) = [0, 1 (0.5 rounds up), 1, 2 (1.5 rounds up), 2].
    expect(Array.from(nearestSources(3, 5, true, false))).toEqual([0, 1, 1, 2, 2]);
    // 5 → 2 downsampling: ratio 2.5, floor([0, 2.5]) = [0, 2].
    expect(Array.from(nearestSources(5, 2, false, false))).toEqual([0, 2]);
  });
});

// The gradient is checked against the adjoint of the cpu backend's forward op, not against
// tfjs' stock cpu gradient kernel: that one reads dy at the images' batch stride (wrong for
// batch > 1) and ignores halfPixelCenters (tfjs 4.22; genblocks replaces it on cpu, see
// test/backends/cpu).
describe.each([true, false])(
  'wasm ResizeNearestNeighbor matches cpu; its gradient is the adjoint of the forward op (heap kernels %s)',
  (heap) => {
    beforeAll(() => {
      setHeapKernelsEnabled(heap);
    });
    afterAll(() => {
      setHeapKernelsEnabled(true);
    });

    it.each([
      [[2, 3, 4, 5], [6, 8], false, false],
      [[2, 7, 7, 16], [14, 14], false, true],
      [[1, 5, 4, 3], [7, 9], false, false],
      [[3, 6, 5, 2], [3, 2], false, false],
      [[1, 3, 4, 17], [5, 7], true, false],
      [[2, 3, 5, 3], [7, 8], false, true],
    ] as [number[], [number, number], boolean, boolean][])(
      'images %j to %j, alignCorners %s, halfPixelCenters %s',
      async (shape, size, alignCorners, halfPixelCenters) => {
        const r = rng(shape[1]! * 11 + size[0]!);
        const n = shape.reduce((p, d) => p * d, 1);
        const x = randomArray(r, n);
        await expectParity(`resize ${shape} ${size}`, () =>
          tf.image.resizeNearestNeighbor(tf.tensor4d(x, shape as [number, number, number, number]), size, alignCorners, halfPixelCenters),
        );
        // Oracle: the adjoint of the cpu backend's forward op (see resizeNearestAdjoint).
        await tf.setBackend('cpu');
        const dy = randomArray(r, shape[0]! * size[0] * size[1] * shape[3]!);
        const expected = resizeNearestAdjoint(shape, size, alignCorners, halfPixelCenters, dy);
        await tf.setBackend('wasm');
        const dx = tf.tidy(() => {
          const y = tf.tensor4d(dy, [shape[0]!, size[0], size[1], shape[3]!]);
          return tf
            .grad((t: tf.Tensor) =>
              tf.sum(tf.mul(tf.image.resizeNearestNeighbor(t as tf.Tensor4D, size, alignCorners, halfPixelCenters), y)),
            )(tf.tensor4d(x, shape as [number, number, number, number]))
            .dataSync() as Float32Array;
        });
        expect(relativeError(dx, expected)).toBeLessThanOrEqual(1e-6);
      },
    );

    it('leaves no tensors behind', async () => {
      await tf.setBackend('wasm');
      const x = tf.ones([1, 2, 2, 3]) as tf.Tensor4D;
      const f = () => tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.image.resizeNearestNeighbor(t as tf.Tensor4D, [4, 4])))(x));
      f().dispose();
      const before = tf.memory().numTensors;
      const ids = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
      for (let i = 0; i < 3; i++) f().dispose();
      expect(tf.memory().numTensors).toBe(before);
      // The heap path's index tables are freed too.
      expect((tf.backend() as unknown as { numDataIds(): number }).numDataIds()).toBe(ids);
      x.dispose();
    });
  },
);
