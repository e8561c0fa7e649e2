/**
 * genblocks' broadcasting binary kernels on wasm (Add, Sub, Multiply, RealDiv,
 * SquaredDifference, Maximum, Minimum; one SIMD pass over an [M, N] view) and the broadcast
 * Tile: parity with the cpu backend, forward and backward, for broadcasts along every axis, on
 * either side, odd extents (SIMD tails), and the shapes that fall back to the stock kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { BINARY_OPS, broadcastView, makeBinary } from '../../../src/backends/wasm/binary.js';
import type { WasmKernelFunc } from '../../../src/backends/wasm/types.js';
import { useTestBackend } from '../../helpers/backends.js';
import { expectParity, randomArray, rng } from '../parity.js';

beforeAll(async () => {
  await useTestBackend('wasm');
  // genblocks installs the heap kernel for Maximum and Minimum only (XNNPACK is faster for the
  // others); route the other ops through it here too, so every op code is checked.
  for (const [kernelName, op] of Object.entries(BINARY_OPS)) {
    if (kernelName === 'Maximum' || kernelName === 'Minimum') continue;
    const stock = tf.getKernel(kernelName, 'wasm')!;
    tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ ...stock, kernelFunc: makeBinary(stock.kernelFunc as unknown as WasmKernelFunc, op) as unknown as tf.KernelFunc });
  }
});

describe('broadcastView', () => {
  // Expected views worked out by hand from the definition out(i, j) = a[i·outer + j·inner].
  it('maps rows, columns, scalars and same shapes to an [M, N] view', () => {
    expect(broadcastView([6, 5], [[6, 5], [5]])).toEqual({
      M: 6,
      N: 5,
      operands: [
        { outer: 5, inner: 1 },
        { outer: 0, inner: 1 },
      ],
    });
    expect(
      broadcastView(
        [6, 5],
        [
          [6, 5],
          [6, 1],
        ],
      ),
    ).toEqual({
      M: 6,
      N: 5,
      operands: [
        { outer: 5, inner: 1 },
        { outer: 1, inner: 0 },
      ],
    });
    expect(broadcastView([6, 5], [[6, 5], []])).toEqual({
      M: 1,
      N: 30,
      operands: [
        { outer: 30, inner: 1 },
        { outer: 0, inner: 0 },
      ],
    });
    expect(
      broadcastView(
        [2, 3, 4],
        [
          [2, 3, 4],
          [2, 3, 4],
        ],
      ),
    ).toEqual({
      M: 1,
      N: 24,
      operands: [
        { outer: 24, inner: 1 },
        { outer: 24, inner: 1 },
      ],
    });
    // [N, H, W, C] times [C]: (N·H·W) rows of C.
    expect(broadcastView([2, 3, 3, 4], [[2, 3, 3, 4], [4]])).toEqual({
      M: 18,
      N: 4,
      operands: [
        { outer: 4, inner: 1 },
        { outer: 0, inner: 1 },
      ],
    });
    // a column times a row: an outer product.
    expect(
      broadcastView(
        [3, 4],
        [
          [3, 1],
          [1, 4],
        ],
      ),
    ).toEqual({
      M: 3,
      N: 4,
      operands: [
        { outer: 1, inner: 0 },
        { outer: 0, inner: 1 },
      ],
    });
  });

  it('refuses broadcasts that need three groups', () => {
    expect(
      broadcastView(
        [5, 7, 9],
        [
          [5, 7, 9],
          [1, 7, 1],
        ],
      ),
    ).toBeNull();
    expect(
      broadcastView(
        [2, 3, 4, 5],
        [
          [2, 3, 4, 5],
          [2, 1, 4, 1],
        ],
      ),
    ).toBeNull();
  });
});

// The last flag: whether tfjs 4.22's gradient reduces a broadcast input's gradient to its
// shape. SquaredDifference, Maximum and Minimum return the full-size gradient (an error on every
// backend), so their gradients are checked on same-shape inputs only.
const OPS: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, boolean][] = [
  ['add', tf.add, true],
  ['sub', tf.sub, true],
  ['mul', tf.mul, true],
  ['div', tf.div, true],
  ['squaredDifference', tf.squaredDifference, false],
  ['maximum', tf.maximum, false],
  ['minimum', tf.minimum, false],
];

/** [a shape, b shape]: broadcasts along each axis of a rank-3 output, on both sides, and fallbacks. */
const SHAPES: [number[], number[]][] = [
  [
    [5, 7, 9],
    [5, 7, 9],
  ],
  [
    [5, 7, 9],
    [1, 7, 9],
  ],
  [
    [5, 7, 9],
    [5, 1, 9],
  ],
  [
    [5, 7, 9],
    [5, 7, 1],
  ],
  [[5, 7, 9], [9]],
  [
    [5, 7, 9],
    [5, 1, 1],
  ],
  [[5, 7, 9], []],
  [[1], [5, 7, 9]],
  [
    [7, 1],
    [5, 7, 9],
  ],
  [
    [5, 1, 9],
    [1, 7, 1],
  ],
  [
    [5, 7, 9],
    [1, 7, 1],
  ], // three groups: stock kernel
  [
    [3, 1],
    [1, 6],
  ],
  [[13], [13]],
];

describe('wasm broadcasting binary kernels match cpu (forward and both gradients)', () => {
  for (const [name, op, broadcastGradient] of OPS) {
    it.each(SHAPES)(`${name}: %j with %j`, async (aShape, bShape) => {
      const r = rng(aShape.length * 7 + bShape.length + name.length);
      const a = randomArray(
        r,
        aShape.reduce((p, d) => p * d, 1),
      );
      // b away from 0 (division) and from a (max/min ties have a one-sided gradient).
      const b = randomArray(
        r,
        bShape.reduce((p, d) => p * d, 1),
      ).map((v) => (v < 0 ? v - 1.25 : v + 1.25));
      await expectParity(`${name} ${aShape} ${bShape}`, () => {
        const A = tf.tensor(a, aShape);
        const B = tf.tensor(b, bShape);
        const y = op(A, B);
        const w = tf.sin(tf.reshape(tf.range(0, y.size), y.shape));
        const sameShape = aShape.length === bShape.length && aShape.every((d, i) => d === bShape[i]);
        if (!broadcastGradient && !sameShape) return [y];
        const [da, db] = tf.grads((x: tf.Tensor, z: tf.Tensor) => tf.sum(tf.mul(op(x, z), w)))([A, B]);
        return [y, da!, db!];
      });
    });
  }

  it('keeps int32 arithmetic exact (stock kernel)', async () => {
    await tf.setBackend('wasm');
    const y = tf.tidy(() => tf.add(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), tf.tensor1d([10, 20], 'int32')).dataSync());
    expect(Array.from(y)).toEqual([11, 22, 13, 24]);
  });

  it('propagates NaN through maximum and minimum as the cpu backend does', async () => {
    await expectParity('nan', () =>
      [
        tf.add(tf.maximum(tf.tensor1d([NaN, 1, -2, 3, 4]), tf.scalar(0)), 1),
        tf.add(tf.minimum(tf.tensor1d([1, NaN, -2, 3, 4]), tf.scalar(0)), 1),
      ].map((t) => tf.where(tf.isNaN(t), tf.mul(tf.onesLike(t), 7), t)),
    );
  });
});

describe('wasm Tile as a broadcast matches cpu', () => {
  it.each([
    [
      [9, 1],
      [1, 13],
    ],
    [
      [1, 13],
      [9, 1],
    ],
    [
      [1, 1, 1, 6],
      [4, 3, 5, 1],
    ],
    [
      [3, 1, 5],
      [1, 4, 1],
    ],
  ])('x %j reps %j, float32 and int32, and the gradient', async (shape, reps) => {
    const r = rng(shape[0]! * 13 + reps[1]!);
    const x = randomArray(
      r,
      shape.reduce((p, d) => p * d, 1),
    );
    await expectParity(`tile ${shape} ${reps}`, () => {
      const X = tf.tensor(x, shape);
      const y = tf.tile(X, reps);
      const w = tf.sin(tf.reshape(tf.range(0, y.size), y.shape));
      return [
        y,
        tf.cast(tf.tile(tf.cast(tf.mul(X, 100), 'int32'), reps), 'float32'),
        tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.tile(t, reps), w)))(X),
      ];
    });
  });
});
