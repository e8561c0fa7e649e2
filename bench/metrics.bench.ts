/**
 * Sample-quality metrics against the tfjs code a user would otherwise write:
 *
 * - `frechetDistanceFromActivations` (float64 moments and symmetric eigendecompositions in
 *   JavaScript) against FID in tfjs float32 with the matrix square root of Σ₁Σ₂ by 20
 *   Newton–Schulz iterations (the usual GPU recipe);
 * - `ssim` (depthwise Gaussian filtering, centred second moments) against the same formula with
 *   one `conv2d` per channel.
 *
 * A ratio above 1 means genblocks is faster.
 */
import * as tf from '@tensorflow/tfjs-core';

import { metrics } from '../src/index.js';
import { compare, settle, type BenchResult, type BenchSuite } from './harness.js';

/** FID in tfjs float32, sqrtm(Σ₁Σ₂) by Newton–Schulz on the trace-normalized product. */
async function fidNewtonSchulz(a: tf.Tensor2D, b: tf.Tensor2D, iterations = 20): Promise<number> {
  const value = tf.tidy(() => {
    const n = a.shape[0];
    const d = a.shape[1];
    const moments = (x: tf.Tensor2D) => {
      const mu = tf.mean(x, 0);
      const c = tf.sub(x, mu);
      return { mu, sigma: tf.div(tf.matMul(c, c, true, false), n - 1) };
    };
    const m1 = moments(a);
    const m2 = moments(b);
    const product = tf.matMul(m1.sigma, m2.sigma);
    const norm = tf.norm(product);
    let y = tf.div(product, norm) as tf.Tensor2D;
    let z = tf.eye(d) as tf.Tensor2D;
    const eye3 = tf.mul(tf.eye(d), 3);
    for (let i = 0; i < iterations; i++) {
      const t = tf.mul(tf.sub(eye3, tf.matMul(z, y)), 0.5) as tf.Tensor2D;
      y = tf.matMul(y, t);
      z = tf.matMul(t, z);
    }
    const traceSqrt = tf.mul(tf.sum(tf.mul(y, tf.eye(d))), tf.sqrt(norm));
    const meanTerm = tf.sum(tf.squaredDifference(m1.mu, m2.mu));
    const traces = tf.add(tf.sum(tf.mul(m1.sigma, tf.eye(d))), tf.sum(tf.mul(m2.sigma, tf.eye(d))));
    return tf.sub(tf.add(meanTerm, traces), tf.mul(traceSqrt, 2));
  });
  const out = (await value.data())[0]!;
  value.dispose();
  return out;
}

/** SSIM with one conv2d per channel and uncentred second moments. */
function ssimPerChannel(a: tf.Tensor4D, b: tf.Tensor4D, maxValue: number): tf.Tensor {
  return tf.tidy(() => {
    const size = 11;
    const g = Array.from({ length: size }, (_, i) => Math.exp(-((i - 5) ** 2) / (2 * 1.5 * 1.5)));
    const s = g.reduce((p, v) => p + v, 0);
    const w = tf.tensor4d(
      g.flatMap((gi) => g.map((gj) => (gi * gj) / (s * s))),
      [size, size, 1, 1],
    );
    const c1 = (0.01 * maxValue) ** 2;
    const c2 = (0.03 * maxValue) ** 2;
    const channels = a.shape[3];
    const maps: tf.Tensor[] = [];
    for (let c = 0; c < channels; c++) {
      const x = tf.slice(a, [0, 0, 0, c], [-1, -1, -1, 1]) as tf.Tensor4D;
      const y = tf.slice(b, [0, 0, 0, c], [-1, -1, -1, 1]) as tf.Tensor4D;
      const f = (t: tf.Tensor) => tf.conv2d(t as tf.Tensor4D, w, 1, 'valid');
      const mx = f(x);
      const my = f(y);
      const vx = tf.sub(f(tf.square(x)), tf.square(mx));
      const vy = tf.sub(f(tf.square(y)), tf.square(my));
      const cxy = tf.sub(f(tf.mul(x, y)), tf.mul(mx, my));
      const num = tf.mul(tf.add(tf.mul(tf.mul(mx, my), 2), c1), tf.add(tf.mul(cxy, 2), c2));
      const den = tf.mul(tf.add(tf.add(tf.square(mx), tf.square(my)), c1), tf.add(tf.add(vx, vy), c2));
      maps.push(tf.div(num, den));
    }
    return tf.mean(tf.concat(maps, 3), [1, 2, 3]);
  });
}

const suite: BenchSuite = {
  name: 'metrics',
  async run(ctx) {
    const results: BenchResult[] = [];
    const fidSizes: [number, number][] = ctx.quick
      ? [[500, 32]]
      : [
          [2000, 64],
          [5000, 128],
        ];
    for (const [n, d] of fidSizes) {
      const a = tf.randomNormal([n, d], 0, 1, 'float32', 1) as tf.Tensor2D;
      const b = tf.randomNormal([n, d], 0.1, 1.2, 'float32', 2) as tf.Tensor2D;
      const ours = await metrics.frechetDistanceFromActivations(a, b);
      const theirs = await fidNewtonSchulz(a, b);
      const result = await compare(
        'frechetDistanceFromActivations (float64 JS)',
        () => metrics.frechetDistanceFromActivations(a, b),
        'tfjs float32 Newton–Schulz (20 it.)',
        () => fidNewtonSchulz(a, b),
        { warmup: 1, runs: ctx.quick ? 2 : 5, size: `[${n},${d}]` },
      );
      result.extra = { fid: ours.toFixed(4), newtonSchulzFid: theirs.toFixed(4) };
      results.push(result);
      tf.dispose([a, b]);
    }
    const imageShapes: [number, number, number, number][] = ctx.quick
      ? [[8, 28, 28, 1]]
      : [
          [64, 28, 28, 1],
          [16, 64, 64, 3],
        ];
    for (const shape of imageShapes) {
      const a = tf.randomUniform(shape, 0, 1, 'float32', 3) as tf.Tensor4D;
      const b = tf.randomUniform(shape, 0, 1, 'float32', 4) as tf.Tensor4D;
      results.push(
        await compare(
          'ssim',
          () => settle(() => metrics.ssim(a, b, { maxValue: 1 })),
          'conv2d per channel',
          () => settle(() => ssimPerChannel(a, b, 1)),
          { warmup: Math.max(ctx.warmup, 1), runs: ctx.runs, size: `[${shape.join(',')}]` },
        ),
      );
      tf.dispose([a, b]);
    }
    return results;
  },
};

export default suite;
