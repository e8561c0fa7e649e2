import * as tf from '@tensorflow/tfjs-core';
import { backends, data, metrics, train, vae } from 'genblocks';
import { loadMnist, writePng } from 'genblocks/node';

await backends.use('wasm');
const mnist = await loadMnist({ normalize: '[0,1]', limit: 64 }); // Bernoulli likelihood: pixels in [0, 1]

const encoder = vae.convEncoder({ inputShape: [28, 28, 1], latentDim: 2 });
const decoder = vae.convDecoder({ latentDim: 2, outputShape: [28, 28, 1] });
const model = vae.assemble({ encoder, decoder }); // outputs [logits, mean, logVar]
const trainer = new train.VaeTrainer({ model, decoder, optimizer: tf.train.adam(1e-4), seed: 1 });

const result = await trainer.fit(data.batches(mnist.images, { batchSize: 32, shuffle: true, seed: 1 }), {
  steps: 2,
  callbacks: [
    train.sampleGrid({ atEnd: true, write: (grid) => writePng(grid, 'out/vae/samples.png') }),
  ],
});
console.log(result.logs); // { loss, reconstruction, kl, negativeElbo, beta }

// Reconstruction quality on a few images.
const x = tf.slice(mnist.images, 0, 16);
const reconstructions = tf.tidy(() => tf.sigmoid((model.predict(x) as tf.Tensor[])[0]!) as tf.Tensor4D);
const psnr = metrics.psnr(reconstructions, x, { maxValue: 1, reduction: 'mean' });
console.log('PSNR', (await psnr.data())[0]);
