/**
 * Helpers for comparing a computation on wasm (with genblocks' kernels) against the cpu backend,
 * the pure-JavaScript reference implementation of every tfjs kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

/** Deterministic uniform [-1, 1) numbers (mulberry32), so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

/** `n` numbers from `r`. */
export function randomArray(r: () => number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = r();
  return out;
}

/** Runs `f` on backend `name` and returns every output tensor's values (then frees them). */
export async function runOn(name: string, f: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(name);
  const outs = tf.tidy(() => {
    const r = f();
    return Array.isArray(r) ? r : [r];
  });
  const values = outs.map((t) => t.dataSync() as Float32Array);
  tf.dispose(outs);
  return values;
}

/** max |a − b| / max |b|: the relative error measure used throughout (1e-4 is the bar). */
export function relativeError(actual: Float32Array, expected: Float32Array): number {
  expect(actual.length, 'length').toBe(expected.length);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    err = Math.max(err, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return scale === 0 ? err : err / scale;
}

/** Computes `f` on cpu and on wasm and asserts every output agrees to `tol` relative. */
export async function expectParity(label: string, f: () => tf.Tensor | tf.Tensor[], tol = 1e-4): Promise<void> {
  const expected = await runOn('cpu', f);
  const actual = await runOn('wasm', f);
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = relativeError(actual[i]!, expected[i]!);
    expect(e, `${label}: output ${i} relative error ${e.toExponential(2)}`).toBeLessThanOrEqual(tol);
    // Guard against comparing two all-zero results (a test that cannot fail).
    expect(
      expected[i]!.some((v) => v !== 0),
      `${label}: output ${i} is all zeros`,
    ).toBe(true);
  }
}

/**
 * The gradient of `sum(resizeNearestNeighbor(x)·dy)` with respect to `x`, as the adjoint of the
 * forward op on the active backend: resizing the element indices gives each output's source
 * element, then dx[src(i)] += dy[i], summed in float64. The oracle of the resize-gradient tests.
 */
export function resizeNearestAdjoint(
  shape: number[],
  size: [number, number],
  alignCorners: boolean,
  halfPixelCenters: boolean,
  dy: Float32Array,
): Float32Array {
  const n = shape.reduce((p, d) => p * d, 1);
  const sources = tf.tidy(() =>
    tf.image
      .resizeNearestNeighbor(
        tf.reshape(tf.range(0, n), shape as [number, number, number, number]) as tf.Tensor4D,
        size,
        alignCorners,
        halfPixelCenters,
      )
      .dataSync(),
  );
  const expected = new Float64Array(n);
  sources.forEach((src, i) => (expected[src]! += dy[i]!));
  return Float32Array.from(expected);
}
