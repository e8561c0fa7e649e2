import * as tf from '@tensorflow/tfjs-core';
import { backends, losses, nets, train } from 'genblocks';
import { saveModel } from 'genblocks/node';

await backends.use('wasm');
const generator = nets.mlpGenerator({ latentDim: 16, outputShape: [8], widths: [32] });
const discriminator = nets.mlpDiscriminator({ inputShape: [8], widths: [32] });
const trainer = new train.AdversarialTrainer({
  generator,
  discriminator,
  loss: losses.gan.nonSaturating,
  generatorOptimizer: tf.train.adam(2e-4, 0.5),
  discriminatorOptimizer: tf.train.adam(2e-4, 0.5),
  ema: 0.999,
  seed: 1,
});
const real = tf.randomNormal([32, 8], 0, 1, 'float32', 2);
await trainer.fit([real, real], { epochs: 2 });

await trainer.withSamplingWeights(() => saveModel(generator, 'out/models/ema-generator'));
