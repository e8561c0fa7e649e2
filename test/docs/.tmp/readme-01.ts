import * as tf from '@tensorflow/tfjs-core';
import { backends, data, losses, nets, train } from 'genblocks';
import { loadMnist } from 'genblocks/node';

await backends.use('wasm'); // sets the backend and installs the kernels it needs to train
const generator = nets.dcganGenerator({ latentDim: 100, outputShape: [28, 28, 1] });
const discriminator = nets.dcganDiscriminator({ inputShape: [28, 28, 1] });
const mnist = await loadMnist({ split: 'train', normalize: '[-1,1]', limit: 32 });

const trainer = new train.AdversarialTrainer({
  generator,
  discriminator,
  loss: losses.gan.nonSaturating,
  generatorOptimizer: tf.train.adam(2e-4, 0.5),
  discriminatorOptimizer: tf.train.adam(2e-4, 0.5),
});
await trainer.fit(data.batches(mnist.images, { batchSize: 16, shuffle: true, seed: 1 }), {
  steps: 1,
  callbacks: [train.progressBar()],
});
