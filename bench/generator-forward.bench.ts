/**
 * Generator forward passes: `nets.dcganGenerator` (the TF DCGAN tutorial generator for 28x28x1)
 * against the same architecture written by hand with stock tfjs-layers, and `nets.mlpGenerator`
 * against a hand-written `tf.sequential`, interleaved in the same process. The ratio shows what
 * the builder costs over a plain model (expected: nothing, ratio ≈ 1).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { nets } from '../src/index.js';
import { compare, settle, type BenchResult, type BenchSuite } from './harness.js';

function tutorialGenerator(): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [100], units: 7 * 7 * 256, useBias: false }),
      tfl.layers.batchNormalization(),
      tfl.layers.leakyReLU({ alpha: 0.2 }),
      tfl.layers.reshape({ targetShape: [7, 7, 256] }),
      tfl.layers.conv2dTranspose({ filters: 128, kernelSize: 5, strides: 1, padding: 'same', useBias: false }),
      tfl.layers.batchNormalization(),
      tfl.layers.leakyReLU({ alpha: 0.2 }),
      tfl.layers.conv2dTranspose({ filters: 64, kernelSize: 5, strides: 2, padding: 'same', useBias: false }),
      tfl.layers.batchNormalization(),
      tfl.layers.leakyReLU({ alpha: 0.2 }),
      tfl.layers.conv2dTranspose({ filters: 1, kernelSize: 5, strides: 2, padding: 'same', activation: 'tanh' }),
    ],
  });
}

function plainMlp(latentDim: number): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [latentDim], units: 256, useBias: false }),
      tfl.layers.batchNormalization(),
      tfl.layers.leakyReLU({ alpha: 0.2 }),
      tfl.layers.dense({ units: 512, useBias: false }),
      tfl.layers.batchNormalization(),
      tfl.layers.leakyReLU({ alpha: 0.2 }),
      tfl.layers.dense({ units: 784, activation: 'tanh' }),
      tfl.layers.reshape({ targetShape: [28, 28, 1] }),
    ],
  });
}

const suite: BenchSuite = {
  name: 'generator-forward',
  async run(ctx) {
    // The cpu backend's convolutions are plain JS loops: keep its batch small.
    const batch = ctx.quick ? 4 : ctx.backend === 'cpu' ? 8 : 64;
    const results: BenchResult[] = [];
    const options = { warmup: ctx.warmup, runs: ctx.runs, size: `batch ${batch}` };

    const dcgan = nets.dcganGenerator({ latentDim: 100, outputShape: [28, 28, 1] });
    const dcganBaseline = tutorialGenerator();
    const z = tf.randomNormal([batch, 100], 0, 1, 'float32', 1);
    results.push(
      await compare(
        'nets.dcganGenerator 28x28x1 predict',
        () => settle(() => dcgan.predict(z) as tf.Tensor),
        'hand-written tfjs-layers tutorial generator',
        () => settle(() => dcganBaseline.predict(z) as tf.Tensor),
        options,
      ),
    );

    const mlp = nets.mlpGenerator({ latentDim: 100, outputShape: [28, 28, 1] });
    const mlpBaseline = plainMlp(100);
    results.push(
      await compare(
        'nets.mlpGenerator 100-256-512-784 predict',
        () => settle(() => mlp.predict(z) as tf.Tensor),
        'hand-written tf.sequential',
        () => settle(() => mlpBaseline.predict(z) as tf.Tensor),
        options,
      ),
    );

    z.dispose();
    for (const m of [dcgan, dcganBaseline, mlp, mlpBaseline]) m.dispose();
    return results;
  },
};

export default suite;
