import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { metrics } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { expectClose, expectNoLeak, values } from '../helpers/memory.js';

function seededUniform(seed: number, count: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 4294967296;
  }
  return out;
}

/**
 * Independent float64 SSIM (Wang et al. 2004, eqs. 13–15 with the Gaussian window of §III-C):
 * for each window position fully inside the image and each channel, Gaussian-weighted means,
 * variances and covariance computed directly as weighted sums of the pixels (Σ w (x − μx)²,
 * not E[x²] − μ²), then the mean of the SSIM map.
 */
function refSsim(a: Float32Array, b: Float32Array, h: number, w: number, c: number, L: number, size = 11, sigma = 1.5): number {
  const g: number[] = [];
  for (let i = 0; i < size; i++) g.push(Math.exp(-((i - (size - 1) / 2) ** 2) / (2 * sigma * sigma)));
  const gs = g.reduce((s, v) => s + v, 0);
  const win = (i: number, j: number) => (g[i]! / gs) * (g[j]! / gs);
  const C1 = (0.01 * L) ** 2;
  const C2 = (0.03 * L) ** 2;
  const at = (x: Float32Array, y: number, xx: number, ch: number) => x[(y * w + xx) * c + ch]!;
  let sum = 0;
  let count = 0;
  for (let ch = 0; ch < c; ch++)
    for (let y0 = 0; y0 + size <= h; y0++)
      for (let x0 = 0; x0 + size <= w; x0++) {
        let ma = 0;
        let mb = 0;
        for (let i = 0; i < size; i++)
          for (let j = 0; j < size; j++) {
            ma += win(i, j) * at(a, y0 + i, x0 + j, ch);
            mb += win(i, j) * at(b, y0 + i, x0 + j, ch);
          }
        let va = 0;
        let vb = 0;
        let cov = 0;
        for (let i = 0; i < size; i++)
          for (let j = 0; j < size; j++) {
            const da = at(a, y0 + i, x0 + j, ch) - ma;
            const db = at(b, y0 + i, x0 + j, ch) - mb;
            va += win(i, j) * da * da;
            vb += win(i, j) * db * db;
            cov += win(i, j) * da * db;
          }
        sum += ((2 * ma * mb + C1) * (2 * cov + C2)) / ((ma * ma + mb * mb + C1) * (va + vb + C2));
        count++;
      }
  return sum / count;
}

describe.each(TEST_BACKENDS)('metrics.psnr and metrics.ssim (%s)', (backend) => {
  beforeAll(() => useTestBackend(backend));

  it('psnr gives the hand-computed value', () => {
    const a = tf.zeros([2, 2, 2, 1]) as tf.Tensor4D;
    const b = tf.tensor4d([0.1, 0.2, 0.3, 0.4, 0.5, 0.5, 0.5, 0.5], [2, 2, 2, 1]);
    // Image 1: MSE = (0.01 + 0.04 + 0.09 + 0.16)/4 = 0.075 → 10 log10(1/0.075) = 11.2494 dB.
    // Image 2: MSE = 0.25 → 10 log10(4) = 6.0206 dB.
    const expected = [10 * Math.log10(1 / 0.075), 10 * Math.log10(4)];
    expectClose(values(metrics.psnr(a, b, { maxValue: 1 })), expected, 1e-5);
    expectClose(values(metrics.psnr(a, b, { maxValue: 1, reduction: 'mean' })), (expected[0]! + expected[1]!) / 2, 1e-5);
    // maxValue 2 adds 20 log10 2 dB.
    expectClose(
      values(metrics.psnr(a, b, { maxValue: 2 })),
      expected.map((v) => v + 20 * Math.log10(2)),
      1e-5,
    );
    expect(values(metrics.psnr(b, b, { maxValue: 1 }))).toEqual([Infinity, Infinity]);
  });

  it('ssim is 1 for identical images', () => {
    const x = tf.tensor4d(seededUniform(1, 2 * 16 * 16 * 3), [2, 16, 16, 3]);
    expectClose(values(metrics.ssim(x, x, { maxValue: 1 })), [1, 1], 1e-5);
  });

  it('ssim of two constant images is (2ab + C1)/(a² + b² + C1)', () => {
    // σ = 0 and σ_ab = 0 make the contrast-structure factor C2/C2 = 1.
    const a = tf.fill([1, 12, 12, 1], 0.2) as tf.Tensor4D;
    const b = tf.fill([1, 12, 12, 1], 0.6) as tf.Tensor4D;
    const C1 = (0.01 * 1) ** 2;
    const expected = (2 * 0.2 * 0.6 + C1) / (0.2 ** 2 + 0.6 ** 2 + C1); // 0.2401 / 0.4001
    expectClose(values(metrics.ssim(a, b, { maxValue: 1 })), [expected], 1e-5);
  });

  it('ssim matches an independent float64 implementation of Wang et al. on random images', () => {
    const [h, w, c] = [16, 18, 2];
    const xa = seededUniform(5, h * w * c);
    // b = a plus structured noise, clipped to [0, 1].
    const xb = xa.map((v, i) => Math.min(1, Math.max(0, 0.8 * v + 0.1 + 0.2 * Math.sin(i))));
    const got = metrics.ssim(tf.tensor4d(xa, [1, h, w, c]), tf.tensor4d(xb, [1, h, w, c]), { maxValue: 1 });
    const expected = refSsim(xa, xb, h, w, c, 1);
    expect(expected).toBeLessThan(0.95);
    expectClose(values(got), [expected], 1e-4, 1e-5);
    // With pixel range 255 and a 7x7 window.
    const a255 = xa.map((v) => v * 255);
    const b255 = xb.map((v) => v * 255);
    const got255 = metrics.ssim(tf.tensor4d(a255, [1, h, w, c]), tf.tensor4d(b255, [1, h, w, c]), { maxValue: 255, windowSize: 7 });
    expectClose(values(got255), [refSsim(a255, b255, h, w, c, 255, 7)], 1e-3, 1e-4);
  });

  it('rejects invalid input', () => {
    const x = tf.zeros([1, 12, 12, 1]) as tf.Tensor4D;
    expect(() => metrics.psnr(x, tf.zeros([1, 12, 11, 1]) as tf.Tensor4D, { maxValue: 1 })).toThrow(
      /metrics\.psnr: argument 'b' must have the same shape as 'a' \[1,12,12,1\], received shape \[1,12,11,1\]/,
    );
    expect(() => metrics.psnr(x, x, undefined as never)).toThrow(
      /metrics\.psnr: argument 'options' must give maxValue.*maxValue: 2 \} for \[-1, 1\]/,
    );
    expect(() => metrics.psnr(x, x, { maxValue: 0 })).toThrow(/options\.maxValue' must be a finite number > 0, received 0/);
    expect(() => metrics.ssim(tf.zeros([12, 12, 1]) as never, x, { maxValue: 1 })).toThrow(
      /metrics\.ssim: argument 'a' must have rank 4, received shape \[12,12,1\]/,
    );
    expect(() => metrics.ssim(tf.zeros([1, 8, 8, 1]) as tf.Tensor4D, tf.zeros([1, 8, 8, 1]) as tf.Tensor4D, { maxValue: 1 })).toThrow(
      /must have height and width of at least windowSize \(11\)/,
    );
    expect(() => metrics.ssim(x, x, { maxValue: 1, reduction: 'sum' as never })).toThrow(
      /options\.reduction' must be one of 'none', 'mean', received 'sum'/,
    );
    expect(() => metrics.ssim(x, tf.cast(x, 'int32') as never, { maxValue: 1 })).toThrow(/argument 'b' must be a float32 tensor/);
  });

  it('leaves no tensors behind', async () => {
    const a = tf.tensor4d(seededUniform(2, 2 * 12 * 12 * 2), [2, 12, 12, 2]);
    const b = tf.tensor4d(seededUniform(3, 2 * 12 * 12 * 2), [2, 12, 12, 2]);
    await expectNoLeak(() => metrics.ssim(a, b, { maxValue: 1, reduction: 'mean' }));
    await expectNoLeak(() => metrics.psnr(a, b, { maxValue: 1 }));
    tf.dispose([a, b]);
  });
});
