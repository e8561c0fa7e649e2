/**
 * The transformer layers' `linear` (src/layers/ops.ts): `x · W + b` and its gradients against
 * float64 sums written out here, on cpu and wasm, for row counts that are not multiples of 4, and
 * without leaks; on wasm the bias gradient is one `Sum` kernel, bit for bit the float32 row sum
 * in row order (what the product with ones it replaced gave).
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { linear } from '../../src/layers/ops.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { expectClose, expectNoLeak } from '../helpers/memory.js';
import { randomArray, rng } from '../backends/parity.js';

describe.each(TEST_BACKENDS)('linear on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  it.each([
    [[6, 5], 8],
    [[2, 7, 12], 16],
  ])('x %j, %i outputs: value and gradients of Σ (x·W + b) ⊙ dy match float64 sums', (shape, outputs) => {
    const r = rng(shape.length * 100 + outputs);
    const inner = shape[shape.length - 1]!;
    const rows = shape.reduce((a, b) => a * b, 1) / inner;
    const x = randomArray(r, rows * inner);
    const w = randomArray(r, inner * outputs);
    const b = randomArray(r, outputs);
    const dy = randomArray(r, rows * outputs);
    // Float64: y[i, j] = b[j] + Σ_k x[i, k] w[k, j];  dx = dy · Wᵀ;  dW = xᵀ · dy;  db[j] = Σ_i dy[i, j].
    const y: number[] = [];
    const dx: number[] = [];
    const dW = new Array<number>(inner * outputs).fill(0);
    const db = new Array<number>(outputs).fill(0);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < outputs; j++) {
        let s = b[j]!;
        for (let k = 0; k < inner; k++) s += x[i * inner + k]! * w[k * outputs + j]!;
        y.push(s);
        db[j]! += dy[i * outputs + j]!;
        for (let k = 0; k < inner; k++) dW[k * outputs + j]! += x[i * inner + k]! * dy[i * outputs + j]!;
      }
      for (let k = 0; k < inner; k++) {
        let s = 0;
        for (let j = 0; j < outputs; j++) s += dy[i * outputs + j]! * w[k * outputs + j]!;
        dx.push(s);
      }
    }
    const [X, W, B, DY] = [
      tf.tensor(x, shape),
      tf.tensor2d(w, [inner, outputs]),
      tf.tensor1d(b),
      tf.tensor(dy, [...shape.slice(0, -1), outputs]),
    ];
    const f = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(linear(xx, ww as tf.Tensor2D, bb as tf.Tensor1D), DY!));
    const got = tf.tidy(() => [linear(X!, W as tf.Tensor2D, B as tf.Tensor1D), ...tf.grads(f)([X!, W!, B!])].map((t) => t.dataSync()));
    expectClose(got[0]!, y, 1e-5, 1e-5);
    expectClose(got[1]!, dx, 1e-5, 1e-5);
    expectClose(got[2]!, dW, 1e-5, 1e-5);
    expectClose(got[3]!, db, 1e-5, 1e-5);
    tf.dispose([X!, W!, B!, DY!]);
  });

  it('does not leak', async () => {
    const x = tf.randomNormal([5, 3]);
    const w = tf.randomNormal([3, 8]) as tf.Tensor2D;
    const b = tf.zeros([8]) as tf.Tensor1D;
    await expectNoLeak(() =>
      tf.dispose(tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => linear(xx, ww as tf.Tensor2D, bb as tf.Tensor1D))([x, w, b])),
    );
    tf.dispose([x, w, b]);
  });
});

describe('linear on wasm: the bias gradient', () => {
  beforeAll(async () => {
    await useTestBackend('wasm');
  });

  it('is one Sum kernel, bit for bit the float32 sum of the rows of dy in row order, at a GPT shape (768 rows, 384 outputs)', async () => {
    const [rows, inner, outputs] = [768, 16, 384];
    const r = rng(990);
    const dy = randomArray(r, rows * outputs);
    // Float32 oracle: db[j] = ((0 + dy[0, j]) + dy[1, j]) + …, each addition rounded to float32.
    const expected = new Float32Array(outputs);
    for (let i = 0; i < rows; i++) for (let j = 0; j < outputs; j++) expected[j] = Math.fround(expected[j]! + dy[i * outputs + j]!);
    const [X, W, B, DY] = [
      tf.tensor2d(randomArray(r, rows * inner), [rows, inner]),
      tf.tensor2d(randomArray(r, inner * outputs), [inner, outputs]),
      tf.zeros([outputs]),
      tf.tensor2d(dy, [rows, outputs]),
    ];
    // d/db Σ (x·W + b) ⊙ dy = Σ_rows dy (the product with dy's ones-gradient is exact).
    const grad = tf.grad((bb: tf.Tensor) => tf.sum(tf.mul(linear(X!, W as tf.Tensor2D, bb as tf.Tensor1D), DY!)));
    let db: Float32Array = new Float32Array();
    const { kernels } = await tf.profile(() => {
      const t = grad(B!);
      db = t.dataSync() as Float32Array;
      t.dispose();
    });
    expect(Buffer.from(db.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
    // Backward: dy·Wᵀ and xᵀ·dy are the only products (no ones[4, rows]·dy), no Slice of one.
    const products = kernels.filter((k) => k.name === 'BatchMatMul');
    expect(products.map((k) => k.inputShapes)).not.toContainEqual([
      [4, rows],
      [rows, outputs],
    ]);
    expect(kernels.filter((k) => k.name === 'Slice')).toHaveLength(0);
    expect(kernels.filter((k) => k.name === 'Sum' && k.outputShapes[0]?.[0] === outputs)).toHaveLength(1);
    tf.dispose([X!, W!, B!, DY!]);
  });
});
