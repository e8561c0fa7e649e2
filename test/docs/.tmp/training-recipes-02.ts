import * as tf from '@tensorflow/tfjs-core';
import { backends, data, losses, nets, train } from 'genblocks';
import { loadMnist } from 'genblocks/node';

await backends.use('wasm');
const mnist = await loadMnist({ limit: 16 });

const generator = nets.dcganGenerator({ latentDim: 128, outputShape: [28, 28, 1] });
const critic = nets.dcganDiscriminator({ inputShape: [28, 28, 1], normalization: 'layer', dropout: 0 });
const trainer = new train.AdversarialTrainer({
  generator,
  discriminator: critic,
  loss: losses.gan.wasserstein,
  penalty: losses.gan.gradientPenalty, // weight 10; the trainer passes a fresh seed every step
  discriminatorSteps: 5,
  generatorOptimizer: tf.train.adam(1e-4, 0.5, 0.9),
  discriminatorOptimizer: tf.train.adam(1e-4, 0.5, 0.9),
  seed: 1,
});
const result = await trainer.fit(data.batches(mnist.images, { batchSize: 8, shuffle: true, seed: 1, dropRemainder: true }), {
  steps: 1,
});
console.log(result.logs); // { discriminator, generator, penalty }
