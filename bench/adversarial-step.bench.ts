/**
 * `train.adversarialStep` (validated, tidied, explicit variable lists) against the same step
 * written by hand with `optimizer.minimize`, for an MLP GAN (every backend) and a DCGAN on
 * 28×28×1 (wasm only: the cpu backend's conv backprop is a naive loop).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { losses, nets, train } from '../src/index.js';
import { compare, type BenchResult, type BenchSuite } from './harness.js';
import { mlp, variables } from './train-bench-common.js';

async function one(
  name: string,
  generator: tfl.LayersModel,
  discriminator: tfl.LayersModel,
  latent: number,
  real: tf.Tensor,
  runs: number,
): Promise<BenchResult> {
  const config = {
    generator,
    discriminator,
    loss: losses.gan.nonSaturating,
    generatorOptimizer: tf.train.adam(2e-4, 0.5),
    discriminatorOptimizer: tf.train.adam(2e-4, 0.5),
  };
  const n = real.shape[0]!;
  const noise = tf.randomNormal([n, latent], 0, 1, 'float32', 1);
  const dOpt = tf.train.adam(2e-4, 0.5);
  const gOpt = tf.train.adam(2e-4, 0.5);
  const [dVars, gVars] = [variables(discriminator), variables(generator)];
  const D = (x: tf.Tensor) => discriminator.apply(x, { training: true }) as tf.Tensor;
  const G = (z: tf.Tensor) => generator.apply(z, { training: true }) as tf.Tensor;
  const result = await compare(
    `train.adversarialStep, ${name}`,
    async () => {
      const out = train.adversarialStep(config, { real, noise });
      const stacked = tf.stack([out.discriminator!, out.generator!]);
      await stacked.data();
      tf.dispose([stacked, out.discriminator!, out.generator!]);
    },
    'hand-written minimize() step',
    async () => {
      const stacked = tf.tidy(() => {
        const fake = G(noise);
        const d = dOpt.minimize(
          () => tf.add(tf.mean(tf.softplus(tf.neg(D(real)))), tf.mean(tf.softplus(D(fake)))) as tf.Scalar,
          true,
          dVars,
        )!;
        const g = gOpt.minimize(() => tf.mean(tf.softplus(tf.neg(D(G(noise))))) as tf.Scalar, true, gVars)!;
        return tf.stack([d, g]);
      });
      await stacked.data();
      stacked.dispose();
    },
    { warmup: 2, runs, size: `batch ${n}` },
  );
  tf.dispose([noise]);
  [config.generatorOptimizer, config.discriminatorOptimizer, dOpt, gOpt].forEach((o) => o.dispose());
  generator.dispose();
  discriminator.dispose();
  return result;
}

const suite: BenchSuite = {
  name: 'adversarial-step',
  async run(ctx) {
    const results: BenchResult[] = [];
    const runs = ctx.quick ? 3 : ctx.runs;
    const real = tf.randomNormal([64, 784], 0, 1, 'float32', 1);
    results.push(await one('MLP 64-256-512-784 / 784-512-256-1', mlp([64, 256, 512, 784], 1), mlp([784, 512, 256, 1], 2), 64, real, runs));
    real.dispose();
    if (ctx.backend === 'wasm' && !ctx.quick) {
      const images = tf.randomUniform([16, 28, 28, 1], -1, 1, 'float32', 2);
      const generator = nets.dcganGenerator({ latentDim: 64, outputShape: [28, 28, 1] });
      const discriminator = nets.dcganDiscriminator({ inputShape: [28, 28, 1] });
      results.push(await one('DCGAN 28x28x1', generator, discriminator, 64, images, Math.min(runs, 5)));
      images.dispose();
    }
    return results;
  },
};

export default suite;
