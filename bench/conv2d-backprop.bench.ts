/**
 * Conv backprop kernels on wasm at the DCGAN-MNIST shapes (batch 64; 16 with `--quick`):
 * genblocks' Conv2DBackpropInput (sub-pixel phases) against the stock wasm loop, interleaved,
 * and genblocks' Conv2DBackpropFilter (the stock wasm backend has none) against the plain
 * forward Conv2D of the same size, the rate it should reach.
 */
import * as tf from '@tensorflow/tfjs-core';

import { installWasmKernels, uninstallWasmKernels } from '../src/internal.js';
import { compare, type BenchResult, type BenchSuite } from './harness.js';

interface Shape {
  name: string;
  x: [number, number, number, number];
  k: number;
  outChannels: number;
  stride: number;
}

const SHAPES: Shape[] = [
  { name: 'D conv2 / G convT2', x: [64, 14, 14, 64], k: 5, outChannels: 128, stride: 2 },
  { name: 'G convT1', x: [64, 7, 7, 128], k: 5, outChannels: 256, stride: 1 },
  { name: 'D conv1 / G convT3 (1 channel: stock loop kept)', x: [64, 28, 28, 1], k: 5, outChannels: 64, stride: 2 },
];

const suite: BenchSuite = {
  name: 'conv2d-backprop',
  backends: ['wasm'],
  async run(ctx) {
    const results: BenchResult[] = [];
    const runs = ctx.quick ? 3 : 8;
    for (const shape of SHAPES) {
      const x = tf.randomNormal(ctx.quick ? [16, shape.x[1], shape.x[2], shape.x[3]] : shape.x) as tf.Tensor4D;
      const w = tf.randomNormal([shape.k, shape.k, shape.x[3], shape.outChannels]) as tf.Tensor4D;
      const y = tf.conv2d(x, w, shape.stride, 'same');
      const dy = tf.randomNormal(y.shape) as tf.Tensor4D;
      const macs = dy.size / shape.outChannels * shape.k * shape.k * shape.x[3] * shape.outChannels;
      const size = `x [${x.shape}] k${shape.k} s${shape.stride} → ${shape.outChannels}`;
      const run = async (f: () => tf.Tensor) => {
        const t = f();
        await t.data();
        t.dispose();
      };
      const dx = () => tf.conv2dTranspose(dy, w, x.shape, shape.stride, 'same');
      const input = await compare(
        `Conv2DBackpropInput (${shape.name})`,
        async () => {
          installWasmKernels(['Conv2DBackpropInput']);
          await run(dx);
        },
        'stock wasm Conv2DBackpropInput',
        async () => {
          uninstallWasmKernels(['Conv2DBackpropInput']);
          await run(dx);
        },
        { warmup: 1, runs, size },
      );
      input.extra = { 'GFLOP/s': (2 * macs) / (input.timing.medianMs * 1e6), 'stock GFLOP/s': (2 * macs) / (input.baseline!.timing.medianMs * 1e6) };
      installWasmKernels();
      const dW = () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: shape.stride, pad: 'same', dataFormat: 'NHWC', filterShape: w.shape }) as tf.Tensor;
      const forward = () => tf.conv2d(x, w, shape.stride, 'same');
      const filter = await compare(`Conv2DBackpropFilter (${shape.name})`, () => run(dW), 'forward Conv2D, same size', () => run(forward), { warmup: 1, runs, size });
      filter.extra = { 'GFLOP/s': (2 * macs) / (filter.timing.medianMs * 1e6), 'forward GFLOP/s': (2 * macs) / (filter.baseline!.timing.medianMs * 1e6) };
      results.push(input, filter);
      tf.dispose([x, w, y, dy]);
    }
    return results;
  },
};

export default suite;
