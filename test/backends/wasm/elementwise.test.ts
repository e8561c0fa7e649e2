/**
 * Parity of genblocks' wasm Sqrt, Greater, Select and LeakyRelu (SIMD passes over the heap) and
 * Identity (shares data) against the cpu backend, for sizes that leave every SIMD tail length,
 * and the stock fallbacks (other broadcasts, dtypes).
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { useTestBackend } from '../../helpers/backends.js';
import { expectParity, randomArray, rng } from '../parity.js';

beforeAll(async () => {
  await useTestBackend('wasm');
});

/** Every remainder modulo 4 and 16, plus a large size. */
const SIZES = [1, 2, 3, 4, 5, 15, 16, 17, 33, 1000];

/** The same values through `f` on cpu and wasm; `f` gets a tensor of `n` values in [-1, 1) with zeros. */
async function parity(
  label: string,
  n: number,
  f: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor | tf.Tensor[],
  tol = 0,
  seed = 1,
): Promise<void> {
  const r = rng(seed + n);
  const x = randomArray(r, n);
  const y = randomArray(r, n);
  if (n > 4) x[3] = 0;
  await expectParity(`${label} n=${n}`, () => f(tf.tensor1d(x), tf.tensor1d(y)), tol);
}

/** A boolean tensor as 1/2 floats (so that no output is all zeros). */
const asFloat = (b: tf.Tensor) => tf.add(tf.cast(b, 'float32'), 1);

describe('wasm element-wise kernels match cpu exactly', () => {
  it.each(SIZES)('Sqrt, n=%i', async (n) => {
    await parity('sqrt', n, (x) => tf.add(tf.sqrt(tf.abs(x)), 1));
  });

  // The cpu backend multiplies by α in double precision, so α·x may differ in the last bit.
  it.each(SIZES)('LeakyRelu, n=%i (to 1e-7)', async (n) => {
    await parity('leakyRelu', n, (x) => [tf.leakyRelu(x, 0.2), tf.add(tf.leakyRelu(x, -1.5), 2)], 1e-7);
  });

  it.each(SIZES)('Greater against a scalar and against a same-shape tensor, n=%i', async (n) => {
    await parity('greater', n, (x, y) => [asFloat(tf.greater(x, 0)), asFloat(tf.greater(x, y)), asFloat(tf.greater(x, tf.scalar(-0.5)))]);
  });

  it.each(SIZES)('Select of float32 and int32, n=%i', async (n) => {
    await parity('select', n, (x, y) => {
      const c = tf.greater(x, y);
      return [
        tf.where(c, x, y),
        tf.cast(tf.add(tf.where(c, tf.cast(tf.mul(x, 100), 'int32'), tf.cast(tf.mul(y, 100), 'int32')), 1000), 'float32'),
      ];
    });
  });

  it.each(SIZES)('Tanh, n=%i (to 1e-6)', async (n) => {
    await parity('tanh', n, (x) => [tf.tanh(tf.mul(x, 5)), tf.add(tf.tanh(tf.mul(x, 1e-3)), 1)], 1e-6);
  });

  it('Tanh is within 4e-7 of the exact tanh on a dense grid of [-9, 9], saturates to ±1 and keeps NaN', async () => {
    await tf.setBackend('wasm');
    const n = 200001;
    const x = Float32Array.from({ length: n }, (_, i) => -9 + (18 * i) / (n - 1));
    const y = tf.tidy(() => tf.tanh(tf.tensor1d(x)).dataSync());
    let err = 0;
    for (let i = 0; i < n; i++) err = Math.max(err, Math.abs(y[i]! - Math.tanh(x[i]!)));
    expect(err).toBeLessThanOrEqual(4e-7);
    const special = tf.tidy(() => Array.from(tf.tanh(tf.tensor1d([Infinity, -Infinity, NaN, 0, 1e-5])).dataSync()));
    expect(special.slice(0, 2)).toEqual([1, -1]);
    expect(special[2]).toBeNaN();
    expect(special[3]).toBe(0);
    expect(special[4]).toBeCloseTo(1e-5, 10);
  });

  it('Greater keeps the stock kernel for other broadcasts and int32', async () => {
    const r = rng(5);
    const x = randomArray(r, 12);
    const y = randomArray(r, 4);
    await expectParity(
      'greater broadcast',
      () => [
        asFloat(tf.greater(tf.tensor2d(x, [3, 4]), tf.tensor1d(y))),
        asFloat(tf.greater(tf.scalar(0.1), tf.tensor2d(x, [3, 4]))),
        asFloat(tf.greater(tf.tensor1d([1, 5, -2], 'int32'), tf.scalar(0, 'int32'))),
      ],
      0,
    );
  });

  it('Select with a row condition keeps the stock kernel', async () => {
    await expectParity(
      'select rows',
      () => tf.where(tf.tensor1d([true, false], 'bool'), tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2])),
      0,
    );
  });

  it('the leakyRelu gradient (Greater, Select) matches to 1e-7', async () => {
    const r = rng(9);
    const x = randomArray(r, 64 * 33);
    await expectParity(
      'leakyRelu grad',
      () => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.leakyRelu(t, 0.2), t)))(tf.tensor2d(x, [64, 33])),
      1e-7,
    );
  });
});

describe('wasm Identity shares data', () => {
  it('a clone has the input values and survives the input', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const ids = backend.numDataIds();
    const y = tf.clone(x);
    expect(backend.numDataIds(), 'a clone allocates no new buffer').toBe(ids);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(y.shape).toEqual([2, 3]);
    expect(backend.numDataIds(), 'the shared buffer outlives x').toBe(ids);
    y.dispose();
    expect(backend.numDataIds(), 'disposing the last holder frees it').toBe(ids - 1);
  });

  it('variables assigned from a clone keep their values after the source is disposed', async () => {
    await tf.setBackend('wasm');
    const source = tf.tensor1d([7, 8, 9]);
    const v = tf.variable(tf.zeros([3]));
    v.assign(tf.clone(source));
    source.dispose();
    expect(Array.from(v.dataSync())).toEqual([7, 8, 9]);
    v.dispose();
  });

  it('string tensors keep the stock copy', async () => {
    await tf.setBackend('wasm');
    const s = tf.tensor1d(['a', 'b'], 'string');
    const c = tf.clone(s);
    s.dispose();
    expect(await c.array()).toEqual(['a', 'b']);
    c.dispose();
  });
});
