/**
 * Discriminator forward passes: `nets.dcganDiscriminator` (the TF DCGAN tutorial discriminator
 * for 28x28x1) against the same architecture written by hand with stock tfjs-layers, and the
 * cost of spectral normalization: the same discriminator with `spectralNorm: true` in a
 * training call (power iteration and `u` update included) against it without.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { nets } from '../src/index.js';
import { compare, settle, type BenchResult, type BenchSuite } from './harness.js';

function tutorialDiscriminator(): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 64, kernelSize: 5, strides: 2, padding: 'same' }),
      tfl.layers.leakyReLU({ alpha: 0.2 }),
      tfl.layers.dropout({ rate: 0.3 }),
      tfl.layers.conv2d({ filters: 128, kernelSize: 5, strides: 2, padding: 'same' }),
      tfl.layers.leakyReLU({ alpha: 0.2 }),
      tfl.layers.dropout({ rate: 0.3 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 1 }),
    ],
  });
}

const suite: BenchSuite = {
  name: 'discriminator-forward',
  async run(ctx) {
    const batch = ctx.quick ? 4 : ctx.backend === 'cpu' ? 8 : 64;
    const results: BenchResult[] = [];
    const options = { warmup: ctx.warmup, runs: ctx.runs, size: `batch ${batch}, 28x28x1` };
    const images = tf.randomUniform([batch, 28, 28, 1], -1, 1, 'float32', 1);

    const plain = nets.dcganDiscriminator({ inputShape: [28, 28, 1] });
    const baseline = tutorialDiscriminator();
    results.push(
      await compare(
        'nets.dcganDiscriminator predict',
        () => settle(() => plain.predict(images) as tf.Tensor),
        'hand-written tfjs-layers tutorial discriminator',
        () => settle(() => baseline.predict(images) as tf.Tensor),
        options,
      ),
    );

    const spectral = nets.dcganDiscriminator({ inputShape: [28, 28, 1], spectralNorm: true });
    results.push(
      await compare(
        'dcganDiscriminator spectralNorm, training call',
        () => settle(() => spectral.apply(images, { training: true }) as tf.Tensor),
        'dcganDiscriminator without spectralNorm, training call',
        () => settle(() => plain.apply(images, { training: true }) as tf.Tensor),
        options,
      ),
    );

    images.dispose();
    for (const m of [plain, baseline, spectral]) m.dispose();
    return results;
  },
};

export default suite;
