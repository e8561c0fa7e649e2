/**
 * The activations of transformers and UNets on wasm, forward and backward, against the cpu
 * backend: softmax (stock XNNPACK kernel), SiLU `x·σ(x)`, GELU in its tanh form (genblocks' `Pow`
 * for the cube and square, genblocks' `Tanh`) and its erf form (genblocks' `Erf`), `Pow` and
 * `Erf` themselves, for odd shapes and every SIMD tail.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { useTestBackend } from '../../helpers/backends.js';
import { expectParity, randomArray, rng } from '../parity.js';

beforeAll(async () => {
  await useTestBackend('wasm');
});

const silu = (x: tf.Tensor) => tf.mul(x, tf.sigmoid(x));
// Hendrycks & Gimpel 2016 (arXiv 1606.08415), eq. for the tanh approximation and the exact form.
const geluTanh = (x: tf.Tensor) =>
  tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))));
const geluErf = (x: tf.Tensor) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));

const FUNCTIONS: [string, (x: tf.Tensor) => tf.Tensor][] = [
  ['softmax', (x) => tf.softmax(x)],
  ['silu', silu],
  ['gelu (tanh)', geluTanh],
  ['gelu (erf)', geluErf],
  ['pow 2', (x) => tf.pow(x, 2)],
  ['pow 3', (x) => tf.pow(x, tf.scalar(3))],
];

describe('activations forward and backward on wasm match cpu', () => {
  for (const [name, f] of FUNCTIONS) {
    it.each([[[7, 13]], [[3, 5, 33]], [[1, 3]]])(`${name} on %j`, async (shape) => {
      const r = rng(name.length * 5 + shape.length);
      const x = randomArray(
        r,
        shape.reduce((p, d) => p * d, 1),
      ).map((v) => 3 * v);
      await expectParity(`${name} ${shape}`, () => {
        const X = tf.tensor(x, shape);
        const w = tf.add(tf.sin(tf.reshape(tf.range(0, X.size), shape)), 0.1);
        return [f(X), tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), w)))(X)];
      });
    });
  }

  it.each([1, 2, 3, 4, 5, 7, 16, 17])('erf (heap kernel) matches cpu to 1e-6 for n = %i, every SIMD tail', async (n) => {
    const r = rng(90 + n);
    const x = randomArray(r, n).map((v, i) => v * (1 + (i % 6)));
    await expectParity(`erf n=${n}`, () => tf.add(tf.erf(tf.tensor1d(x)), 2), 1e-6);
  });

  it('erf is within 4e-7 of the float64 A&S 7.1.26 formula on [-12, 12], odd, and keeps NaN', async () => {
    await tf.setBackend('wasm');
    const n = 48001;
    const x = Float32Array.from({ length: n }, (_, i) => -12 + (24 * i) / (n - 1));
    const y = tf.tidy(() => tf.erf(tf.tensor1d(x)).dataSync());
    // Abramowitz & Stegun 7.1.26 in float64 (the cpu backend's formula).
    const reference = (v: number) => {
      const t = 1 / (1 + 0.3275911 * Math.abs(v));
      return (
        Math.sign(v) *
        (1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-v * v))
      );
    };
    let worst = 0;
    x.forEach((v, i) => (worst = Math.max(worst, Math.abs(y[i]! - reference(v)))));
    expect(worst).toBeLessThan(4e-7);
    expect(y[0]).toBe(-1);
    expect(y[n - 1]).toBe(1);
    const special = tf.tidy(() => Array.from(tf.erf(tf.tensor1d([NaN, 0, 1])).dataSync()));
    expect(special[0]).toBeNaN();
    expect(Math.abs(special[1]!)).toBeLessThan(1e-7);
    expect(special[2]).toBeCloseTo(0.8427007, 6); // erf(1) = 0.8427007929 (tables)
  });

  it('pow with other exponents and broadcasts (stock kernel) still matches', async () => {
    const x = Float32Array.from([0.5, 1.5, 2, 3, 0.25, 4]);
    await expectParity('pow other', () => [
      tf.pow(tf.tensor1d(x), 0.5),
      tf.pow(tf.tensor1d(x), 4),
      tf.pow(tf.tensor2d(x, [2, 3]), tf.tensor1d([1, 2, 3])),
    ]);
  });
});
