/**
 * Contract shared by the metrics family: the image metrics (per-image `[n]` or mean, symmetric,
 * float32, leak-free, invalid shapes rejected alike) and the distribution distances (symmetric,
 * ≈ 0 for identical sets, larger for a shifted set, no tensors left behind).
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { metrics } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { expectClose, expectNoLeak, values } from '../helpers/memory.js';

type ImageMetric = (a: tf.Tensor4D, b: tf.Tensor4D, options: { maxValue: number; reduction?: 'none' | 'mean' }) => tf.Tensor;
const IMAGE_METRICS: [string, ImageMetric][] = [
  ['psnr', metrics.psnr as ImageMetric],
  ['ssim', metrics.ssim as ImageMetric],
];

type Distance = (a: metrics.ActivationArray, b: metrics.ActivationArray) => Promise<number>;
// The unbiased MMD² of a set against itself is not 0 (its cross term keeps the diagonal
// k(xᵢ, xᵢ) that the within-set terms drop), so only FID promises exactly 0 there.
const DISTANCES: [string, Distance, boolean][] = [
  ['frechetDistanceFromActivations', (a, b) => metrics.frechetDistanceFromActivations(a, b), true],
  ['kernelDistance', async (a, b) => (await metrics.kernelDistance(a, b, { subsets: 4, subsetSize: 60, seed: 1 })).mean, false],
];

function seededUniform(seed: number, count: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 4294967296;
  }
  return out;
}

describe.each(TEST_BACKENDS)('metrics contract (%s)', (backend) => {
  beforeAll(() => useTestBackend(backend));

  describe.each(IMAGE_METRICS)('image metric %s', (name, metric) => {
    const a = () => tf.tensor4d(seededUniform(1, 3 * 12 * 12 * 2), [3, 12, 12, 2]);
    const b = () => tf.tensor4d(seededUniform(2, 3 * 12 * 12 * 2), [3, 12, 12, 2]);

    it('returns float32 [n] by default and the mean of those for reduction "mean"', () => {
      const perImage = metric(a(), b(), { maxValue: 1 });
      expect(perImage.shape).toEqual([3]);
      expect(perImage.dtype).toBe('float32');
      const mean = metric(a(), b(), { maxValue: 1, reduction: 'mean' });
      expect(mean.shape).toEqual([]);
      const v = values(perImage);
      expectClose(values(mean), (v[0]! + v[1]! + v[2]!) / 3, 1e-5);
    });

    it('is symmetric in its two images', () => {
      expectClose(values(metric(a(), b(), { maxValue: 1 })), values(metric(b(), a(), { maxValue: 1 })), 1e-5);
    });

    it('rejects images of different shapes with a message naming the function', () => {
      expect(() => metric(a(), tf.zeros([3, 12, 12, 1]) as tf.Tensor4D, { maxValue: 1 })).toThrow(
        new RegExp(`metrics\\.${name}: argument 'b' must have the same shape as 'a'`),
      );
    });

    it('leaves no tensors behind', async () => {
      const x = a();
      const y = b();
      await expectNoLeak(() => metric(x, y, { maxValue: 1 }));
      tf.dispose([x, y]);
    });
  });

  describe.each(DISTANCES)('distance %s', (_name, distance, zeroOnIdentical) => {
    const n = 60;
    const d = 3;
    const x = { data: seededUniform(3, n * d), shape: [n, d] as [number, number] };
    const y = { data: seededUniform(4, n * d), shape: [n, d] as [number, number] };
    const shifted = { data: x.data.map((v) => v + 1), shape: [n, d] as [number, number] };

    it('is symmetric, ≈ 0 for identical sets (FID), and grows with a shift', async () => {
      expectClose(await distance(x, y), await distance(y, x), 1e-4, 1e-6);
      if (zeroOnIdentical) expect(Math.abs(await distance(x, x))).toBeLessThan(1e-4);
      expect(await distance(x, shifted)).toBeGreaterThan(10 * Math.abs(await distance(x, y)));
    });

    it('leaves no tensors behind', async () => {
      await expectNoLeak(() => distance(x, y));
    });
  });
});
