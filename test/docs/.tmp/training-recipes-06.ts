import * as tf from '@tensorflow/tfjs-core';
import { backends, data, train, vae } from 'genblocks';
import { loadMnist } from 'genblocks/node';

await backends.use('wasm');
const mnist = await loadMnist({ normalize: '[0,1]', limit: 64 });

const encoder = vae.mlpEncoder({ inputShape: [28, 28, 1], latentDim: 10 });
const decoder = vae.mlpDecoder({ latentDim: 10, outputShape: [28, 28, 1] });
const trainer = new train.VaeTrainer({
  model: vae.assemble({ encoder, decoder }),
  decoder,
  optimizer: tf.train.adam(1e-4),
  beta: 4,
  warmupSteps: 2000,
  seed: 1,
});
const history = train.history();
await trainer.fit(data.batches(mnist.images, { batchSize: 32, shuffle: true, seed: 1 }), {
  steps: 2,
  callbacks: [history],
});
const { beta, negativeElbo } = history.series();
console.log('β now', beta!.at(-1), 'negative ELBO', negativeElbo!.at(-1));
