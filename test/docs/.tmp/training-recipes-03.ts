import * as tf from '@tensorflow/tfjs-core';
import { backends, data, losses, nets, train } from 'genblocks';
import { loadMnist } from 'genblocks/node';

await backends.use('wasm');
const mnist = await loadMnist({ limit: 16 });

const generator = nets.dcganGenerator({ latentDim: 128, outputShape: [28, 28, 1] });
const discriminator = nets.dcganDiscriminator({ inputShape: [28, 28, 1], spectralNorm: true, dropout: 0 });
const trainer = new train.AdversarialTrainer({
  generator,
  discriminator,
  loss: losses.gan.hinge,
  discriminatorSteps: 5,
  generatorOptimizer: tf.train.adam(2e-4, 0, 0.9),
  discriminatorOptimizer: tf.train.adam(2e-4, 0, 0.9),
  seed: 1,
});
await trainer.fit(data.batches(mnist.images, { batchSize: 8, shuffle: true, seed: 1, dropRemainder: true }), {
  steps: 1,
});
