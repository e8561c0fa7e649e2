import * as tf from '@tensorflow/tfjs-core';
import { backends, losses, vae } from 'genblocks';

await backends.use('wasm');
const encoder = vae.mlpEncoder({ inputShape: [16], latentDim: 2, widths: [8] });
const decoder = vae.mlpDecoder({ latentDim: 2, outputShape: [16], widths: [8] });
const x = tf.randomUniform([4, 16], 0, 1, 'float32', 1); // data in [0, 1]

const vaeLoss = losses.vae.elbo({ likelihood: 'bernoulli', beta: 1 });
const { value, grads } = tf.variableGrads(() => {
  const [mean, logVar] = encoder.apply(x, { training: true }) as tf.Tensor[];
  const z = vae.reparameterize(mean!, logVar!, { seed: 2 });
  const logits = decoder.apply(z, { training: true }) as tf.Tensor;
  return vaeLoss(logits, x, mean!, logVar!).loss; // also .reconstruction and .kl, for logging
});
console.log('negative ELBO (nats per example)', await value.data());
tf.dispose([value, grads]);
