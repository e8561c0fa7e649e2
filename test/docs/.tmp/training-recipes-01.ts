import * as tf from '@tensorflow/tfjs-core';
import { backends, data, losses, nets, train } from 'genblocks';
import { loadMnist, saveModel, writePng } from 'genblocks/node';

await backends.use('wasm');
const mnist = await loadMnist({ limit: 32 }); // 60,000 images [28, 28, 1] in [-1, 1]

const generator = nets.dcganGenerator({ latentDim: 100, outputShape: [28, 28, 1] });
const discriminator = nets.dcganDiscriminator({ inputShape: [28, 28, 1] });
const trainer = new train.AdversarialTrainer({
  generator,
  discriminator,
  loss: losses.gan.nonSaturating,
  generatorOptimizer: tf.train.adam(2e-4, 0.5),
  discriminatorOptimizer: tf.train.adam(2e-4, 0.5),
  seed: 1,
});
await trainer.fit(data.batches(mnist.images, { batchSize: 16, shuffle: true, seed: 1, dropRemainder: true }), {
  steps: 1,
  callbacks: [
    train.progressBar(),
    train.sampleGrid({ everyEpoch: true, write: (grid, { epoch }) => writePng(grid, `out/dcgan/epoch-${epoch}.png`) }),
  ],
});
await saveModel(generator, 'out/dcgan/generator');
