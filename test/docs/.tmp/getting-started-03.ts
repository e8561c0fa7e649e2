import * as tf from '@tensorflow/tfjs-core';
import { backends, data, train, vae } from 'genblocks';
import { loadMnist } from 'genblocks/node';

await backends.use('wasm');
const mnist = await loadMnist({ split: 'train', normalize: '[0,1]', limit: 256 });

const encoder = vae.mlpEncoder({ inputShape: [28, 28, 1], latentDim: 16 });
const decoder = vae.mlpDecoder({ latentDim: 16, outputShape: [28, 28, 1] });
const model = vae.assemble({ encoder, decoder });

const trainer = new train.VaeTrainer({ model, decoder, optimizer: tf.train.adam(1e-3), seed: 1 });
const result = await trainer.fit(data.batches(mnist.images, { batchSize: 128, shuffle: true, seed: 1 }), {
  epochs: 1,
});
// loss = reconstruction + β·KL, in nats per image (β = 1 here, so loss is the negative ELBO)
console.log(result.logs);

const samples = trainer.sample(16, { seed: 0 }); // decoder means σ(logits), [16, 28, 28, 1] in [0, 1]
tf.dispose([samples, mnist.images, mnist.labels]);
