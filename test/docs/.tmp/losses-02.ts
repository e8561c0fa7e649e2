import * as tf from '@tensorflow/tfjs-core';
import { backends, losses, nets } from 'genblocks';

await backends.use('wasm');
const critic = nets.mlpDiscriminator({ inputShape: [16], widths: [32] });
const real = tf.randomNormal([8, 16], 0, 1, 'float32', 1);
const fake = tf.randomNormal([8, 16], 0, 1, 'float32', 2);

const optimizer = tf.train.adam(1e-4, 0.0, 0.9); // WGAN-GP's Adam settings
const loss = optimizer.minimize(() => {
  const realLogits = critic.apply(real, { training: true }) as tf.Tensor;
  const fakeLogits = critic.apply(fake, { training: true }) as tf.Tensor;
  return tf.add(
    losses.gan.wasserstein.discriminator(realLogits, fakeLogits),
    losses.gan.gradientPenalty(critic, real, fake, { weight: 10, seed: 3 }),
  ) as tf.Scalar;
}, true);
console.log('critic loss', await loss!.data());
