import * as tf from '@tensorflow/tfjs-core';
import { backends, data, losses, nets, train } from 'genblocks';
import { loadMnist, writePng } from 'genblocks/node';

await backends.use('wasm');
const mnist = await loadMnist({ split: 'train', normalize: '[-1,1]', limit: 256 });

const generator = nets.mlpGenerator({ latentDim: 64, outputShape: [28, 28, 1] });
const discriminator = nets.mlpDiscriminator({ inputShape: [28, 28, 1] });

const trainer = new train.AdversarialTrainer({
  generator,
  discriminator,
  loss: losses.gan.nonSaturating,
  generatorOptimizer: tf.train.adam(2e-4, 0.5),
  discriminatorOptimizer: tf.train.adam(2e-4, 0.5),
  seed: 1,
});
const result = await trainer.fit(data.batches(mnist.images, { batchSize: 64, shuffle: true, seed: 1 }), {
  epochs: 1,
});
console.log(result.step, result.logs); // 160 { discriminator: ..., generator: ... }

const samples = trainer.sample(16, { seed: 0 }) as tf.Tensor4D; // [16, 28, 28, 1] in [-1, 1]
const grid = data.imageGrid(samples, { range: '[-1,1]' });
await writePng(grid, 'out/first-gan.png');
tf.dispose([samples, grid, mnist.images, mnist.labels]);
