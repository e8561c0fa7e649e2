/**
 * Parity of genblocks' wasm Conv2DBackpropFilter (added) and Conv2DBackpropInput (replaced)
 * against the cpu backend, through the ops that use them: conv2d's gradients and
 * conv2dTranspose forward and backward.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import {
  EXAMPLE_BLOCK,
  PARTIALS_BUDGET,
  SHIFTED_BLOCK,
  setPartialsBudget,
  shiftedBlock,
  shiftedPlan,
} from '../../../src/backends/wasm/conv2d-backprop-filter.js';
import { heapKernelsReady, setHeapThreadsEnabled } from '../../../src/backends/wasm/heap-kernels.js';
import { HeapPool } from '../../../src/backends/wasm/heap-pool.js';
import type { WasmBackend } from '../../../src/backends/wasm/types.js';
import { useTestBackend } from '../../helpers/backends.js';
import { expectParity, randomArray, rng, runOn } from '../parity.js';

beforeAll(async () => {
  await useTestBackend('wasm');
});

interface ConvCase {
  batch: number;
  size: [number, number];
  inChannels: number;
  outChannels: number;
  kernel: [number, number];
  stride: [number, number];
  pad: 'same' | 'valid';
}

const label = (c: ConvCase) => `x[${c.batch},${c.size},${c.inChannels}] k${c.kernel} → ${c.outChannels}, stride ${c.stride}, ${c.pad}`;

/** Fixed edge cases plus random ones: kernels 1/3/5, strides 1 and 2, same/valid, batch 1 and many. */
function cases(): ConvCase[] {
  const fixed: ConvCase[] = [
    { batch: 1, size: [7, 7], inChannels: 5, outChannels: 6, kernel: [1, 1], stride: [2, 2], pad: 'same' }, // phases without taps
    { batch: 3, size: [9, 9], inChannels: 4, outChannels: 8, kernel: [3, 3], stride: [2, 2], pad: 'valid' }, // cropped trailing row
    { batch: 2, size: [14, 14], inChannels: 8, outChannels: 16, kernel: [5, 5], stride: [2, 2], pad: 'same' }, // DCGAN conv2, small
    { batch: 2, size: [7, 7], inChannels: 16, outChannels: 8, kernel: [5, 5], stride: [1, 1], pad: 'same' }, // DCGAN convT1, small
    { batch: 4, size: [11, 8], inChannels: 1, outChannels: 6, kernel: [5, 3], stride: [2, 1], pad: 'same' }, // 1 input channel: stock path
    { batch: 2, size: [12, 13], inChannels: 6, outChannels: 3, kernel: [3, 5], stride: [1, 2], pad: 'valid' },
    // C·kh·kw < Cout: the im2col path of Conv2DBackpropFilter.
    { batch: 3, size: [12, 12], inChannels: 1, outChannels: 32, kernel: [5, 5], stride: [2, 2], pad: 'same' },
    { batch: 2, size: [9, 10], inChannels: 2, outChannels: 20, kernel: [3, 3], stride: [1, 1], pad: 'valid' },
    { batch: 1, size: [8, 7], inChannels: 3, outChannels: 12, kernel: [1, 3], stride: [2, 1], pad: 'same' },
    // Stride 1, kw·C % 4 == 0 and Cout % 8 == 0: the shifted-product path of Conv2DBackpropFilter.
    // A UNet's 3×3 'same' layer over more than one block of grid positions (2·30·30 = 1800 > 512)
    // and its 1×1 skip (no padding: read in place).
    { batch: 2, size: [28, 28], inChannels: 8, outChannels: 8, kernel: [3, 3], stride: [1, 1], pad: 'same' },
    { batch: 3, size: [9, 9], inChannels: 12, outChannels: 8, kernel: [1, 1], stride: [1, 1], pad: 'same' },
    // Odd sizes, 'valid' with a far-side remainder, even and non-square kernels, one example.
    { batch: 1, size: [13, 11], inChannels: 4, outChannels: 16, kernel: [3, 3], stride: [1, 1], pad: 'valid' },
    { batch: 2, size: [10, 9], inChannels: 6, outChannels: 8, kernel: [2, 2], stride: [1, 1], pad: 'same' },
    { batch: 2, size: [7, 12], inChannels: 4, outChannels: 24, kernel: [5, 3], stride: [1, 1], pad: 'same' },
    { batch: 5, size: [7, 7], inChannels: 32, outChannels: 32, kernel: [3, 3], stride: [1, 1], pad: 'same' },
  ];
  const r = rng(7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(((r() + 1) / 2) * xs.length)]!;
  for (let i = 0; i < 14; i++) {
    const k = pick([1, 3, 5] as const);
    const s = pick([1, 2] as const);
    fixed.push({
      batch: pick([1, 2, 5]),
      size: [k + 2 + Math.floor(((r() + 1) / 2) * 10), k + 2 + Math.floor(((r() + 1) / 2) * 10)],
      inChannels: pick([1, 3, 4, 7, 12]),
      outChannels: pick([1, 2, 5, 9]),
      kernel: [k, k],
      stride: [s, s],
      pad: pick(['same', 'valid'] as const),
    });
  }
  return fixed;
}

describe('wasm conv2d backprop parity with cpu', () => {
  it('Conv2DBackpropFilter is registered on wasm', () => {
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });

  it.each(cases().map((c) => [label(c), c] as const))('conv2d dx and dW: %s', async (_, c) => {
    const r = rng(c.batch * 1000 + c.size[0] * 10 + c.kernel[0]);
    const xShape = [c.batch, ...c.size, c.inChannels] as [number, number, number, number];
    const wShape = [...c.kernel, c.inChannels, c.outChannels] as [number, number, number, number];
    const x = randomArray(
      r,
      xShape.reduce((a, b) => a * b, 1),
    );
    const w = randomArray(
      r,
      wShape.reduce((a, b) => a * b, 1),
    );
    await expectParity(label(c), () => {
      const X = tf.tensor4d(x, xShape);
      const W = tf.tensor4d(w, wShape);
      const f = (xx: tf.Tensor, ww: tf.Tensor) => {
        const y = tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, c.stride, c.pad);
        return tf.sum(tf.mul(y, tf.sin(tf.reshape(tf.range(0, y.size), y.shape))));
      };
      return tf.grads(f)([X, W]);
    });
  });

  it.each(cases().map((c) => [label(c), c] as const))('conv2dTranspose forward, dx and dW: %s', async (_, c) => {
    const r = rng(c.batch * 999 + c.size[1] * 10 + c.kernel[1]);
    // conv2dTranspose maps [N, OH, OW, Cout] back to x's shape with filter [kh, kw, Cin, Cout].
    const probe = tf.tidy(() =>
      tf.conv2d(
        tf.zeros([c.batch, ...c.size, c.inChannels]) as tf.Tensor4D,
        tf.zeros([...c.kernel, c.inChannels, c.outChannels]) as tf.Tensor4D,
        c.stride,
        c.pad,
      ),
    );
    const yShape = probe.shape;
    probe.dispose();
    const outShape = [c.batch, ...c.size, c.inChannels] as [number, number, number, number];
    const wShape = [...c.kernel, c.inChannels, c.outChannels] as [number, number, number, number];
    const y = randomArray(
      r,
      yShape.reduce((a, b) => a * b, 1),
    );
    const w = randomArray(
      r,
      wShape.reduce((a, b) => a * b, 1),
    );
    await expectParity(`transpose ${label(c)}`, () => {
      const Y = tf.tensor4d(y, yShape);
      const W = tf.tensor4d(w, wShape);
      const g = (yy: tf.Tensor, ww: tf.Tensor) =>
        tf.sum(tf.square(tf.conv2dTranspose(yy as tf.Tensor4D, ww as tf.Tensor4D, outShape, c.stride, c.pad)));
      return [tf.conv2dTranspose(Y, W, outShape, c.stride, c.pad), ...tf.grads(g)([Y, W])];
    });
  });

  it('explicit padding and NCHW kernels match', async () => {
    const r = rng(5);
    const x = randomArray(r, 2 * 6 * 9 * 9);
    const dy = randomArray(r, 2 * 4 * 5 * 5);
    const w = randomArray(r, 3 * 3 * 6 * 4);
    const pad: tf.backend_util.ExplicitPadding = [
      [0, 0],
      [1, 2],
      [2, 1],
      [0, 0],
    ];
    await expectParity('explicit pad NHWC', () => {
      const X = tf.tensor4d(x, [2, 9, 9, 6]);
      const DY = tf.tensor4d(dy, [2, 5, 5, 4]);
      const W = tf.tensor4d(w, [3, 3, 6, 4]);
      return [
        tf
          .engine()
          .runKernel(
            'Conv2DBackpropFilter',
            { x: X, dy: DY },
            { strides: [2, 2], pad, dataFormat: 'NHWC', filterShape: [3, 3, 6, 4] },
          ) as tf.Tensor,
        tf
          .engine()
          .runKernel(
            'Conv2DBackpropInput',
            { dy: DY, filter: W },
            { strides: [2, 2], pad, dataFormat: 'NHWC', inputShape: [2, 9, 9, 6] },
          ) as tf.Tensor,
      ];
    });
    await expectParity('NCHW', () => {
      const X = tf.tensor4d(x, [2, 6, 9, 9]);
      const DY = tf.tensor4d(dy, [2, 4, 5, 5]);
      const W = tf.tensor4d(w, [3, 3, 6, 4]);
      return [
        tf
          .engine()
          .runKernel(
            'Conv2DBackpropFilter',
            { x: X, dy: DY },
            { strides: [2, 2], pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 6, 4] },
          ) as tf.Tensor,
        tf
          .engine()
          .runKernel(
            'Conv2DBackpropInput',
            { dy: DY, filter: W },
            { strides: [2, 2], pad: 'same', dataFormat: 'NCHW', inputShape: [2, 6, 9, 9] },
          ) as tf.Tensor,
      ];
    });
  });

  it('frees every intermediate (tensors and wasm data ids)', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const X = tf.randomNormal([2, 10, 10, 6]) as tf.Tensor4D;
    const W = tf.randomNormal([5, 5, 6, 8]) as tf.Tensor4D;
    const step = () =>
      tf.tidy(() => tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 2, 'same')))([X, W]));
    tf.dispose(step());
    const tensors = tf.memory().numTensors;
    const ids = backend.numDataIds();
    for (let i = 0; i < 3; i++) tf.dispose(step());
    expect(tf.memory().numTensors).toBe(tensors);
    expect(backend.numDataIds()).toBe(ids);
    tf.dispose([X, W]);
  });
});

describe('Conv2DBackpropFilter by shifted products on the heap gemm', () => {
  afterEach(() => {
    setHeapThreadsEnabled(true);
    setPartialsBudget(PARTIALS_BUDGET);
  });

  // x [2, 28, 28, 32], 3×3 'same', 32 filters: example mode, one gemm per example and filter row
  // over its 28 rows of the 30-wide grid (840 positions); each is 96·32·840 = 2.6M multiply-adds,
  // so with 2 threads the examples are shared out (gemmBatch in the pool), and the two partial
  // results are added by the ones-row gemm. With a budget below 2 partials (grid mode): the
  // 2·30·30 = 1800 grid positions in 3 blocks of SHIFTED_BLOCK (512) and a rest of 264.
  const r = rng(11);
  const x = randomArray(r, 2 * 28 * 28 * 32);
  const dy = randomArray(r, 2 * 28 * 28 * 32);
  const dWOf =
    (xs: Float32Array, dys: Float32Array, [n, h, w, c]: number[], k: number, cout: number) =>
    () =>
      tf
        .engine()
        .runKernel(
          'Conv2DBackpropFilter',
          { x: tf.tensor4d(xs, [n!, h!, w!, c!]), dy: tf.tensor4d(dys, [n!, h!, w!, cout]) },
          { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', filterShape: [k, k, c!, cout] },
        ) as tf.Tensor;
  const dW = dWOf(x, dy, [2, 28, 28, 32], 3, 32);
  // One example of 48×48 (48·50 = 2400 positions > EXAMPLE_BLOCK): two bands of 24 rows.
  const xBand = randomArray(r, 48 * 48 * 4);
  const dyBand = randomArray(r, 48 * 48 * 8);
  const dWBand = dWOf(xBand, dyBand, [1, 48, 48, 4], 3, 8);

  it('plans one piece per example (and band of rows), or grid blocks beyond the budget', () => {
    // The kernels issue's UNet, batch 64: 28 rows of a 30-wide grid (840 positions) per example.
    expect(shiftedPlan(64, 28, 30, 3 * 3 * 32 * 32)).toEqual({ mode: 'example', bands: 1, rows: 28 });
    // 48 rows of 50 (2400 > 2048 positions): two bands of 24 rows; 100 rows of 102: 5 bands of 20.
    expect(48 * 50).toBeGreaterThan(EXAMPLE_BLOCK);
    expect(shiftedPlan(1, 48, 50, 288)).toEqual({ mode: 'example', bands: 2, rows: 24 });
    expect(shiftedPlan(1, 100, 102, 288)).toEqual({ mode: 'example', bands: 5, rows: 20 });
    // 14×14×128 → 64 at batch 64: 64 partials of 73 728 floats (4.7M) fit; 3×3×256 → 256 does not.
    expect(shiftedPlan(64, 14, 16, 3 * 3 * 128 * 64).mode).toBe('example');
    expect(shiftedPlan(64, 14, 16, 3 * 3 * 256 * 256)).toEqual({ mode: 'grid' });
  });

  it('lengthens the grid blocks of large layers so that the partial results stay within budget', () => {
    // 64·30·30 positions, 3·3·32·32 floats per partial: 113 blocks of 512.
    expect(shiftedBlock(64 * 30 * 30, 9216)).toBe(512);
    // 3×3×512 → 512 (2 359 296 floats per partial) over 64·34·34 positions: 8 blocks (the floor).
    const rowSize = 3 * 3 * 512 * 512;
    const K = 64 * 34 * 34;
    const block = shiftedBlock(K, rowSize);
    expect(block).toBe(Math.ceil(K / 8));
    expect(Math.ceil(K / block)).toBeLessThanOrEqual(8);
    // 3×3×64 → 64 (36 864 floats) over 1024·66·66 positions: at most PARTIALS_BUDGET floats.
    const big = shiftedBlock(1024 * 66 * 66, 36864);
    expect(Math.ceil((1024 * 66 * 66) / big) * 36864).toBeLessThanOrEqual(PARTIALS_BUDGET + 36864);
    expect(big).toBeGreaterThan(SHIFTED_BLOCK);
  });

  it('matches cpu to 1e-4 (example mode, one band and two)', async () => {
    await expectParity('shifted dW [2, 28, 28, 32] 3x3 → 32', dW);
    await expectParity('shifted dW [1, 48, 48, 4] 3x3 → 8, two bands', dWBand);
  });

  it.each([
    [[2, 28, 28, 1], 3, 32], // a UNet's first convolution: 1 channel padded to 4
    [[2, 28, 28, 32], 3, 1], // its last: 1 output channel padded to 8
    [[3, 9, 9, 3], 5, 3], // RGB in and out, 5×5
    [[2, 7, 7, 2], 3, 5],
  ] as [number[], number, number][])('matches cpu to 1e-4 with channels padded to the tiles: x %j, k%i → %i', async (shape, k, cout) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const rp = rng(size + cout);
    const xs = randomArray(rp, size);
    const dys = randomArray(rp, (size / shape[3]!) * cout);
    await expectParity(`padded shifted dW ${shape} k${k} → ${cout}`, dWOf(xs, dys, shape, k, cout));
  });

  it('matches cpu to 1e-4 in grid mode', async () => {
    // Below two partials of 3·3·32·32 floats: the grid's blocks.
    setPartialsBudget(9216);
    expect(shiftedPlan(2, 28, 30, 9216)).toEqual({ mode: 'grid' });
    await expectParity('shifted dW [2, 28, 28, 32] 3x3 → 32, grid mode', dW);
  });

  it.each(['example', 'grid'] as const)('gives bit-identical results with the heap threads on and off (%s mode)', async (mode) => {
    if (mode === 'grid') setPartialsBudget(9216);
    const threads = await heapKernelsReady(tf.engine().findBackend('wasm') as unknown as WasmBackend);
    setHeapThreadsEnabled(false);
    const single = await runOn('wasm', dW);
    setHeapThreadsEnabled(true);
    const spy = vi.spyOn(HeapPool.prototype, 'run');
    const threaded = await runOn('wasm', dW);
    const ops = spy.mock.calls.map((call) => call[0]);
    spy.mockRestore();
    // With a pool (2 or more threads) the pieces really were shared out.
    if (threads > 1) expect(ops).toContain('gemmBatch');
    const bits = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    expect(bits(threaded[0]!).equals(bits(single[0]!))).toBe(true);
  });
});

describe("wasm convolutions with 'same' padding (explicit pads) match cpu", () => {
  // Stock wasm returns wrong values for kernel 1x3, stride [2, 1], 'same' (relative error 1.0).
  it.each([
    [
      [1, 3],
      [2, 1],
    ],
    [
      [3, 1],
      [1, 2],
    ],
    [
      [1, 1],
      [2, 2],
    ],
    [
      [3, 3],
      [2, 1],
    ],
    [
      [5, 5],
      [2, 2],
    ],
  ])('conv2d, fused conv2d, depthwise and fused depthwise: kernel %j stride %j', async (k, s) => {
    const r = rng(k[0]! * 10 + s[0]!);
    const x = randomArray(r, 3 * 8 * 7 * 4);
    const w = randomArray(r, k[0]! * k[1]! * 4 * 5);
    const dw = randomArray(r, k[0]! * k[1]! * 4 * 2);
    const bias = randomArray(r, 5);
    const strides = s as [number, number];
    await expectParity(`same ${k} ${s}`, () => {
      const X = tf.tensor4d(x, [3, 8, 7, 4]);
      const W = tf.tensor4d(w, [k[0]!, k[1]!, 4, 5]);
      const DW = tf.tensor4d(dw, [k[0]!, k[1]!, 4, 2]);
      return [
        tf.conv2d(X, W, strides, 'same'),
        tf.fused.conv2d({ x: X, filter: W, strides, pad: 'same', bias: tf.tensor1d(bias), activation: 'relu' }),
        tf.depthwiseConv2d(X, DW, strides, 'same'),
        tf.fused.depthwiseConv2d({ x: X, filter: DW, strides, pad: 'same', activation: 'relu' }),
      ];
    });
  });
});
