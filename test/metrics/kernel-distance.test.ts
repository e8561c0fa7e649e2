import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { metrics } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { expectClose, expectNoLeak } from '../helpers/memory.js';

function seededUniform(seed: number, count: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 4294967296 - 0.5;
  }
  return out;
}

/** Unbiased MMD² with k(x, y) = (γ xᵀy + c)^p, by direct double loops in float64 (Bińkowski et al., eq. 3). */
function refMmd2(x: Float32Array, y: Float32Array, n: number, d: number, gamma: number, coef: number, degree: number): number {
  const k = (p: Float32Array, i: number, q: Float32Array, j: number) => {
    let dot = 0;
    for (let t = 0; t < d; t++) dot += p[i * d + t]! * q[j * d + t]!;
    return (gamma * dot + coef) ** degree;
  };
  let kxx = 0;
  let kyy = 0;
  let kxy = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      if (i !== j) {
        kxx += k(x, i, x, j);
        kyy += k(y, i, y, j);
      }
      kxy += k(x, i, y, j);
    }
  return kxx / (n * (n - 1)) + kyy / (n * (n - 1)) - (2 * kxy) / (n * n);
}

describe.each(TEST_BACKENDS)('metrics.kernelDistance (%s)', (backend) => {
  beforeAll(() => useTestBackend(backend));

  it('gives the hand-computed value for a 1-d linear kernel', async () => {
    // x = {0, 1}, y = {1, 2}, k(x, y) = xy + 1 (degree 1, γ = 1, c = 1):
    // mean_{i≠j} k(x) = 1, mean_{i≠j} k(y) = 3, mean k(x, y) = (1 + 1 + 2 + 3)/4 = 7/4,
    // MMD² = 1 + 3 − 2·7/4 = 0.5.
    const kid = await metrics.kernelDistance(
      { data: [0, 1], shape: [2, 1] },
      { data: [1, 2], shape: [2, 1] },
      { degree: 1, gamma: 1, coef: 1, subsets: 3, seed: 1 },
    );
    expectClose(kid.values, [0.5, 0.5, 0.5], 1e-6);
    expect(kid.mean).toBeCloseTo(0.5, 6);
    expect(kid.std).toBeCloseTo(0, 6);
    expect(kid.subsetSize).toBe(2);
  });

  it('matches a float64 double-loop reference of the unbiased MMD² with the default cubic kernel', async () => {
    const n = 40;
    const d = 6;
    const x = seededUniform(1, n * d);
    const y = seededUniform(2, n * d).map((v) => 1.3 * v + 0.2);
    // With subsetSize = n every subset is a permutation of the whole set, and MMD²ᵤ is permutation-invariant.
    const expected = refMmd2(x, y, n, d, 1 / d, 1, 3);
    const kid = await metrics.kernelDistance(tf.tensor2d(x, [n, d]), tf.tensor2d(y, [n, d]), { subsets: 2, subsetSize: 100, seed: 3 });
    expect(kid.subsetSize).toBe(n);
    expectClose(kid.values, [expected, expected], 1e-4, 1e-7);
  });

  it('reports the mean, sample std and standard error of the per-subset estimates', async () => {
    const x = seededUniform(4, 200 * 5);
    const y = seededUniform(5, 200 * 5).map((v) => v + 0.1);
    const kid = await metrics.kernelDistance(
      { data: x, shape: [200, 5] },
      { data: y, shape: [200, 5] },
      { subsets: 10, subsetSize: 50, seed: 9 },
    );
    const mean = kid.values.reduce((s, v) => s + v, 0) / 10;
    const std = Math.sqrt(kid.values.reduce((s, v) => s + (v - mean) ** 2, 0) / 9);
    expectClose([kid.mean, kid.std, kid.standardError], [mean, std, std / Math.sqrt(10)], 1e-9);
    expect(kid.std).toBeGreaterThan(0);
    // Shifted sets are far apart compared with the subset noise.
    expect(kid.mean).toBeGreaterThan(3 * kid.standardError);
    // Same seed, same subsets; another seed, other subsets.
    const again = await metrics.kernelDistance(
      { data: x, shape: [200, 5] },
      { data: y, shape: [200, 5] },
      { subsets: 10, subsetSize: 50, seed: 9 },
    );
    expect(again.values).toEqual(kid.values);
    const other = await metrics.kernelDistance(
      { data: x, shape: [200, 5] },
      { data: y, shape: [200, 5] },
      { subsets: 10, subsetSize: 50, seed: 10 },
    );
    expect(other.values).not.toEqual(kid.values);
  });

  it('is near 0 for two samples of the same distribution (unbiased)', async () => {
    const x = seededUniform(6, 300 * 4);
    const y = seededUniform(7, 300 * 4);
    const kid = await metrics.kernelDistance(
      { data: x, shape: [300, 4] },
      { data: y, shape: [300, 4] },
      { subsets: 20, subsetSize: 100, seed: 1 },
    );
    expect(Math.abs(kid.mean)).toBeLessThan(4 * kid.standardError + 1e-6);
  });

  it('rejects invalid input', async () => {
    const a = { data: [1, 2, 3, 4], shape: [2, 2] as [number, number] };
    await expect(metrics.kernelDistance(a, { data: [1, 2, 3], shape: [1, 3] })).rejects.toThrow(
      /metrics\.kernelDistance: argument 'b' must have the same feature dimension as 'a' \(2\), received 3 features/,
    );
    await expect(metrics.kernelDistance(a, a, { subsets: 0 })).rejects.toThrow(/options\.subsets' must be a positive integer, received 0/);
    await expect(metrics.kernelDistance(a, a, { gamma: -1 })).rejects.toThrow(/options\.gamma' must be a finite number > 0, received -1/);
    await expect(metrics.kernelDistance(a, { data: [1, 2], shape: [1, 2] })).rejects.toThrow(
      /argument 'b' must hold at least 2 examples, received 1/,
    );
  });

  it('leaves no tensors behind', async () => {
    const a = tf.tensor2d(seededUniform(1, 60), [20, 3]);
    await expectNoLeak(() => metrics.kernelDistance(a, a, { subsets: 2, subsetSize: 10, seed: 0 }));
    a.dispose();
  });
});
