import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { metrics } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { expectClose, expectNoLeak } from '../helpers/memory.js';

// ---------- Independent float64 reference (written for this test) ----------
// Covariance by the two-pass formula, and tr((S1 S2)^{1/2}) by the Denman–Beavers iteration
// (Y₀ = A, Z₀ = I; Y ← (Y + Z⁻¹)/2, Z ← (Z + Y⁻¹)/2; Y → A^{1/2}), with Gauss–Jordan inverses.
// The library uses a symmetric eigendecomposition instead, so the two share no code path.

type Mat = Float64Array;

function refMoments(x: ArrayLike<number>, n: number, d: number): { mean: Mat; cov: Mat } {
  const mean = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i * d + j]!;
    mean[j] = s / n;
  }
  const cov = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    for (let k = 0; k < d; k++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += (x[i * d + j]! - mean[j]!) * (x[i * d + k]! - mean[k]!);
      cov[j * d + k] = s / (n - 1);
    }
  }
  return { mean, cov };
}

function refMatMul(a: Mat, b: Mat, d: number): Mat {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += a[i * d + k]! * b[k * d + j]!;
      out[i * d + j] = s;
    }
  return out;
}

function refInverse(a: Mat, d: number): Mat {
  const m = Float64Array.from(a);
  const inv = new Float64Array(d * d);
  for (let i = 0; i < d; i++) inv[i * d + i] = 1;
  for (let c = 0; c < d; c++) {
    let p = c;
    for (let r = c + 1; r < d; r++) if (Math.abs(m[r * d + c]!) > Math.abs(m[p * d + c]!)) p = r;
    for (let k = 0; k < d; k++) {
      [m[c * d + k], m[p * d + k]] = [m[p * d + k]!, m[c * d + k]!];
      [inv[c * d + k], inv[p * d + k]] = [inv[p * d + k]!, inv[c * d + k]!];
    }
    const pivot = m[c * d + c]!;
    for (let k = 0; k < d; k++) {
      m[c * d + k]! /= pivot;
      inv[c * d + k]! /= pivot;
    }
    for (let r = 0; r < d; r++) {
      if (r === c) continue;
      const f = m[r * d + c]!;
      if (f === 0) continue;
      for (let k = 0; k < d; k++) {
        m[r * d + k]! -= f * m[c * d + k]!;
        inv[r * d + k]! -= f * inv[c * d + k]!;
      }
    }
  }
  return inv;
}

function refSqrtm(a: Mat, d: number): Mat {
  let y = Float64Array.from(a);
  let z = new Float64Array(d * d);
  for (let i = 0; i < d; i++) z[i * d + i] = 1;
  for (let it = 0; it < 100; it++) {
    const yInv = refInverse(y, d);
    const zInv = refInverse(z, d);
    const yNext = y.map((v, i) => 0.5 * (v + zInv[i]!));
    const zNext = z.map((v, i) => 0.5 * (v + yInv[i]!));
    const delta = yNext.reduce((s, v, i) => s + Math.abs(v - y[i]!), 0);
    y = yNext;
    z = zNext;
    if (delta < 1e-13 * y.reduce((s, v) => s + Math.abs(v), 0)) break;
  }
  return y;
}

function trace(a: Mat, d: number): number {
  let t = 0;
  for (let i = 0; i < d; i++) t += a[i * d + i]!;
  return t;
}

function refFrechet(x: ArrayLike<number>, y: ArrayLike<number>, n: number, d: number): number {
  const a = refMoments(x, n, d);
  const b = refMoments(y, n, d);
  let dist = 0;
  for (let j = 0; j < d; j++) dist += (a.mean[j]! - b.mean[j]!) ** 2 + a.cov[j * d + j]! + b.cov[j * d + j]!;
  return dist - 2 * trace(refSqrtm(refMatMul(a.cov, b.cov, d), d), d);
}

/** Sylvester Hadamard matrix of order 2^k (entries ±1, orthogonal columns). */
function hadamard(order: number): number[][] {
  let h = [[1]];
  while (h.length < order) h = [...h.map((r) => [...r, ...r]), ...h.map((r) => [...r, ...r.map((v) => -v)])];
  return h;
}

/**
 * n = 64 activations in d dimensions whose sample mean is exactly `mean` and whose unbiased
 * sample covariance is exactly diag(variances): Hadamard columns 1..d are ±1, zero-mean and
 * mutually orthogonal with squared norm n.
 */
function momentMatched(mean: number[], variances: number[]): tf.Tensor2D {
  const n = 64;
  const h = hadamard(n);
  const scale = Math.sqrt((n - 1) / n);
  const rows = h.map((r) => mean.map((m, j) => m + r[j + 1]! * scale * Math.sqrt(variances[j]!)));
  return tf.tensor2d(rows);
}

function seededNormal(seed: number, count: number): Float32Array {
  let s = seed >>> 0;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

describe('metrics.frechetDistanceFromActivations', () => {
  beforeAll(() => useTestBackend('cpu'));

  it('is 0 for identical sets (1e-4)', async () => {
    const a = tf.tensor2d(seededNormal(1, 300 * 16), [300, 16]);
    expect(Math.abs(await metrics.frechetDistanceFromActivations(a, a))).toBeLessThan(1e-4);
    a.dispose();
  });

  it('matches the closed form for diagonal Gaussians: ‖μ₁−μ₂‖² + Σ(s₁ + s₂ − 2√(s₁s₂))', async () => {
    const m1 = [0, 1, -2, 0.5, 3, 0, 0, 1];
    const m2 = [1, 1, 0, -0.5, 3, 2, 0, 0];
    const s1 = [1, 4, 0.25, 2, 9, 1, 0.5, 3];
    const s2 = [4, 1, 0.25, 8, 1, 0.01, 2, 3];
    let expected = 0; // closed form, evaluated here term by term
    for (let j = 0; j < 8; j++) expected += (m1[j]! - m2[j]!) ** 2 + s1[j]! + s2[j]! - 2 * Math.sqrt(s1[j]! * s2[j]!);
    const a = momentMatched(m1, s1);
    const b = momentMatched(m2, s2);
    expectClose(await metrics.frechetDistanceFromActivations(a, b), expected, 1e-5, 1e-5);
    tf.dispose([a, b]);
  });

  it('matches the 1-d formula (μ₁ − μ₂)² + (σ₁ − σ₂)²', async () => {
    const a = momentMatched([2], [9]);
    const b = momentMatched([-1], [1]);
    // (2 − (−1))² + (3 − 1)² = 9 + 4 = 13
    expectClose(await metrics.frechetDistanceFromActivations(a, b), 13, 1e-5);
    tf.dispose([a, b]);
  });

  it('matches an independent float64 reference (Denman–Beavers) on random 64-d activations to 1e-3 relative', async () => {
    const n = 256;
    const d = 64;
    // Correlated features: x = z·A (+ shift), with a different random mixing matrix A for each
    // set, so that Σ₁ and Σ₂ do not commute (tr((Σ₁Σ₂)^{1/2}) ≠ tr(Σ₁^{1/2}Σ₂^{1/2})).
    const make = (seed: number, shift: number, gain: number) => {
      const mix = seededNormal(seed + 100, d * d).map((v) => v / Math.sqrt(d));
      const z = seededNormal(seed, n * d);
      const x = new Float32Array(n * d);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < d; j++) {
          let s = 0;
          for (let k = 0; k < d; k++) s += z[i * d + k]! * mix[k * d + j]!;
          x[i * d + j] = gain * s + shift * Math.sin(j);
        }
      return x;
    };
    const xa = make(11, 0, 1);
    const xb = make(12, 0.3, 1.5);
    const expected = refFrechet(xa, xb, n, d);
    // The common mistake tr(Σ₁^{1/2} Σ₂^{1/2}) would be off by far more than the tolerance here.
    const ma = refMoments(xa, n, d);
    const mb = refMoments(xb, n, d);
    const wrongCross = trace(refMatMul(refSqrtm(ma.cov, d), refSqrtm(mb.cov, d), d), d);
    const rightCross = trace(refSqrtm(refMatMul(ma.cov, mb.cov, d), d), d);
    expect(Math.abs(2 * (wrongCross - rightCross))).toBeGreaterThan(0.01 * expected);
    const a = tf.tensor2d(xa, [n, d]);
    const b = tf.tensor2d(xb, [n, d]);
    expectClose(await metrics.frechetDistanceFromActivations(a, b), expected, 1e-3, 0);
    // The same numbers as plain arrays give the same result.
    expectClose(
      await metrics.frechetDistanceFromActivations({ data: xa, shape: [n, d] }, { data: Float64Array.from(xb), shape: [n, d] }),
      expected,
      1e-3,
      0,
    );
    tf.dispose([a, b]);
  });

  it('is finite (and 0 for identical sets) with nearly singular covariances', async () => {
    // 10 examples in 32 dimensions (rank ≤ 9), one dead feature, two duplicated features.
    const n = 10;
    const d = 32;
    const make = (seed: number) => {
      const x = seededNormal(seed, n * d);
      for (let i = 0; i < n; i++) {
        x[i * d + 0] = 0.5;
        x[i * d + 2] = x[i * d + 1]!;
      }
      return x;
    };
    const a = { data: make(3), shape: [n, d] as [number, number] };
    const b = { data: make(4), shape: [n, d] as [number, number] };
    const fid = await metrics.frechetDistanceFromActivations(a, b);
    expect(Number.isFinite(fid)).toBe(true);
    expect(fid).toBeGreaterThan(0);
    expect(await metrics.frechetDistanceFromActivations(a, a)).toBeLessThan(1e-6);
    // Tiny values (1e-4 of unit scale) stay finite too.
    const tiny = { data: make(5).map((v) => v * 1e-4), shape: [n, d] as [number, number] };
    expect(Number.isFinite(await metrics.frechetDistanceFromActivations(tiny, a))).toBe(true);
  });

  it('requires equal sample counts unless allowed', async () => {
    const a = { data: seededNormal(1, 40), shape: [20, 2] as [number, number] };
    const b = { data: seededNormal(2, 30), shape: [15, 2] as [number, number] };
    await expect(metrics.frechetDistanceFromActivations(a, b)).rejects.toThrow(
      /metrics\.frechetDistanceFromActivations: argument 'b' must hold as many examples as 'a' \(20\), received 15.*allowUnequalCounts/,
    );
    expect(Number.isFinite(await metrics.frechetDistanceFromActivations(a, b, { allowUnequalCounts: true }))).toBe(true);
  });

  it('rejects invalid activations with messages naming the argument', async () => {
    const fn = metrics.frechetDistanceFromActivations;
    const ok = tf.zeros([4, 3]) as tf.Tensor2D;
    await expect(fn(tf.zeros([4, 3, 1]) as unknown as tf.Tensor2D, ok)).rejects.toThrow(
      /argument 'a' must have rank 2.*received shape \[4,3,1\]/,
    );
    await expect(fn(ok, tf.zeros([4, 5]) as tf.Tensor2D)).rejects.toThrow(
      /argument 'b' must have the same feature dimension as 'a' \(3\), received 5 features/,
    );
    await expect(fn({ data: [1, 2, 3], shape: [1, 3] }, { data: [1, 2, 3], shape: [1, 3] })).rejects.toThrow(
      /argument 'a' must hold at least 2 examples/,
    );
    await expect(fn({ data: [1, 2, 3], shape: [2, 3] }, ok)).rejects.toThrow(
      /argument 'a' must hold shape\[0\] \* shape\[1\] = 6 values, received 3 values/,
    );
    await expect(fn({ data: [1, NaN, 3, 4], shape: [2, 2] }, { data: [1, 2, 3, 4], shape: [2, 2] })).rejects.toThrow(
      /argument 'a' must hold finite values, received NaN at flat index 1/,
    );
    await expect(fn([1, 2] as unknown as tf.Tensor2D, ok)).rejects.toThrow(
      /argument 'a' must be a float32 tf.Tensor2D \[n, d\] or \{ data/,
    );
    await expect(fn(tf.zeros([4, 3], 'int32') as tf.Tensor2D, ok)).rejects.toThrow(/argument 'a' must be a float32 tensor/);
    tf.dispose(ok);
  });

  it('leaves no tensors behind', async () => {
    const a = tf.tensor2d(seededNormal(1, 60), [20, 3]);
    const b = tf.tensor2d(seededNormal(2, 60), [20, 3]);
    await expectNoLeak(() => metrics.frechetDistanceFromActivations(a, b));
    tf.dispose([a, b]);
  });
});

describe.each(TEST_BACKENDS)('metrics.frechetDistance and computeActivations (%s)', (backend) => {
  beforeAll(() => useTestBackend(backend));
  let real: tf.Tensor4D;
  let fake: tf.Tensor4D;
  beforeAll(() => {
    real = tf.tensor4d(seededNormal(21, 50 * 4 * 4), [50, 4, 4, 1]);
    fake = tf.tensor4d(
      seededNormal(22, 50 * 4 * 4).map((v) => 0.8 * v + 0.2),
      [50, 4, 4, 1],
    );
  });
  afterAll(() => tf.dispose([real, fake]));
  // A fixed feature function: 2x2 average pooling, flattened to 4 features.
  const pool = (x: tf.Tensor) => tf.reshape(tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid'), [x.shape[0]!, -1]);

  it('equals frechetDistanceFromActivations on features computed in one batch, for any batch size', async () => {
    const expected = await metrics.frechetDistanceFromActivations(pool(real) as tf.Tensor2D, pool(fake) as tf.Tensor2D);
    expect(expected).toBeGreaterThan(0.01);
    expectClose(await metrics.frechetDistance(pool, real, fake, { batchSize: 7 }), expected, 1e-5);
    expectClose(await metrics.frechetDistance(pool, real, fake), expected, 1e-5);
  });

  it('computeActivations gathers [n, d] features batch by batch', async () => {
    const { data, shape } = await metrics.computeActivations(pool, real, { batchSize: 16 });
    expect(shape).toEqual([50, 4]);
    expectClose(data, (pool(real) as tf.Tensor).dataSync(), 1e-6);
  });

  it('rejects unequal counts, bad feature functions and bad options', async () => {
    const few = tf.slice(fake, 0, 10);
    await expect(metrics.frechetDistance(pool, real, few)).rejects.toThrow(
      /metrics\.frechetDistance: argument 'fake' must hold as many examples as 'real' \(50\), received 10/,
    );
    await expect(metrics.frechetDistance(() => tf.zeros([3, 2]), real, fake)).rejects.toThrow(
      /argument 'featureFn' must return a tensor \[50, \.\.\.\] for a batch of 50/,
    );
    await expect(metrics.frechetDistance('f' as never, real, fake)).rejects.toThrow(/argument 'featureFn' must be a function/);
    await expect(metrics.frechetDistance(pool, real, fake, { batchSize: 0 })).rejects.toThrow(
      /options\.batchSize' must be a positive integer, received 0/,
    );
    few.dispose();
  });

  it('leaves no tensors behind', async () => {
    await expectNoLeak(() => metrics.frechetDistance(pool, real, fake, { batchSize: 16 }));
  });
});
