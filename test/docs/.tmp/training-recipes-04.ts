import * as tf from '@tensorflow/tfjs-core';
import { backends, data, losses, nets, train } from 'genblocks';
import { loadMnist, writePng } from 'genblocks/node';

await backends.use('wasm');
const mnist = await loadMnist({ limit: 16 }); // images and int32 labels 0-9

const generator = nets.dcganGenerator({ latentDim: 128, outputShape: [28, 28, 1], numClasses: 10 });
const discriminator = nets.dcganDiscriminator({
  inputShape: [28, 28, 1],
  head: 'projection',
  numClasses: 10,
  spectralNorm: true,
  dropout: 0,
});
const trainer = new train.AdversarialTrainer({
  generator,
  discriminator,
  loss: losses.gan.hinge,
  discriminatorSteps: 5,
  generatorOptimizer: tf.train.adam(2e-4, 0, 0.9),
  discriminatorOptimizer: tf.train.adam(2e-4, 0, 0.9),
  seed: 1,
});
const labels = tf.expandDims(mnist.labels, 1); // [n, 1] int32
const batches = data.batches(mnist.images, { labels, batchSize: 8, shuffle: true, seed: 1, dropRemainder: true });
await trainer.fit(batches, { steps: 1 });

// One row per digit: 10 × 10 samples, labels 0,0,...,0,1,1,...
const digits = tf.tensor2d(Array.from({ length: 100 }, (_, i) => Math.floor(i / 10)), [100, 1], 'int32');
const samples = trainer.sample(100, { labels: digits, seed: 0 }) as tf.Tensor4D;
const grid = data.imageGrid(samples, { columns: 10, range: '[-1,1]' });
await writePng(grid, 'out/cgan/digits.png');
tf.dispose([digits, samples, grid]);
