/**
 * The transformer layers' `linear` (src/layers/ops.ts): `x · W + b` and its gradients, whose bias
 * gradient is a product with ones instead of a row sum, against float64 sums written out here,
 * on cpu and wasm, for row counts that are not multiples of 4, and without leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, it } from 'vitest';

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
