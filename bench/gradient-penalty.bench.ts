/**
 * A critic step with `losses.gan.gradientPenalty` / `r1Penalty` (value and gradients with
 * respect to the critic's weights, i.e. second order) against the same penalty written inline
 * with tf.grad as the baseline, for a small MLP critic with leakyReLU.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { losses } from '../src/index.js';
import { compare, settle, type BenchResult, type BenchSuite } from './harness.js';

function mlpCritic(inputDim: number, hidden: number): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({ units: hidden, inputShape: [inputDim], kernelInitializer: tfl.initializers.glorotNormal({ seed: 1 }) }),
      tfl.layers.leakyReLU({ alpha: 0.2 }),
      tfl.layers.dense({ units: hidden, kernelInitializer: tfl.initializers.glorotNormal({ seed: 2 }) }),
      tfl.layers.leakyReLU({ alpha: 0.2 }),
      tfl.layers.dense({ units: 1, kernelInitializer: tfl.initializers.glorotNormal({ seed: 3 }) }),
    ],
  });
}

const suite: BenchSuite = {
  name: 'gradient-penalty',
  async run(ctx) {
    const batch = ctx.quick ? 16 : 64;
    const inputDim = ctx.quick ? 64 : 784;
    const hidden = ctx.quick ? 32 : 256;
    const critic = mlpCritic(inputDim, hidden);
    const real = tf.randomNormal([batch, inputDim], 0, 1, 'float32', 1);
    const fake = tf.randomNormal([batch, inputDim], 0, 1, 'float32', 2);
    const alpha = tf.randomUniform([batch], 0, 1, 'float32', 3);
    const size = `batch ${batch}, MLP ${inputDim}-${hidden}-${hidden}-1`;
    const options = { warmup: Math.max(ctx.warmup, 2), runs: ctx.runs, size };
    const apply = (x: tf.Tensor) => critic.apply(x, { training: true }) as tf.Tensor;
    const inputGradient = (x: tf.Tensor) => tf.grad((input: tf.Tensor) => tf.sum(apply(input)))(x);

    const inlineGp = () => {
      const a = tf.reshape(alpha, [batch, 1]);
      const xHat = tf.add(fake, tf.mul(a, tf.sub(real, fake)));
      const norms = tf.sqrt(tf.add(tf.sum(tf.square(inputGradient(xHat)), 1), 1e-12));
      return tf.mul(10, tf.mean(tf.square(tf.sub(norms, 1)))) as tf.Scalar;
    };
    const inlineR1 = () => tf.mul(5, tf.mean(tf.sum(tf.square(inputGradient(real)), 1))) as tf.Scalar;
    const step = (penalty: () => tf.Scalar) => () => settle(() => tf.variableGrads(penalty).grads);

    const results: BenchResult[] = [
      await compare(
        'gradientPenalty + grads w.r.t. weights',
        step(() => losses.gan.gradientPenalty(critic, real, fake, { alpha })),
        'inline tf.grad WGAN-GP',
        step(inlineGp),
        options,
      ),
      await compare(
        'r1Penalty + grads w.r.t. weights',
        step(() => losses.gan.r1Penalty(critic, real)),
        'inline tf.grad R1',
        step(inlineR1),
        options,
      ),
    ];
    tf.dispose([real, fake, alpha]);
    critic.dispose();
    return results;
  },
};

export default suite;
