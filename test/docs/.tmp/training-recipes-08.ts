import * as tf from '@tensorflow/tfjs-core';
import { backends, losses, nets, train } from 'genblocks';

await backends.use('wasm');
const config: train.AdversarialStepConfig = {
  generator: nets.mlpGenerator({ latentDim: 4, outputShape: [8], widths: [16] }),
  discriminator: nets.mlpDiscriminator({ inputShape: [8], widths: [16] }),
  loss: losses.gan.wasserstein,
  penalty: losses.gan.gradientPenalty,
  generatorOptimizer: tf.train.adam(1e-4, 0.5, 0.9),
  discriminatorOptimizer: tf.train.adam(1e-4, 0.5, 0.9),
};
const real = tf.randomNormal([16, 8], 0, 1, 'float32', 1);
for (let step = 0; step < 10; step++) {
  const noise = tf.randomNormal([16, 4], 0, 1, 'float32', step);
  const out = train.adversarialStep(config, { real, noise, penaltySeed: step });
  const stacked = tf.stack([out.discriminator!, out.penalty!, out.generator!]);
  const [d, penalty, g] = await stacked.data(); // one read per step
  tf.dispose([noise, stacked, out.discriminator, out.penalty, out.generator]);
  if (step % 5 === 0) console.log(step, { d, penalty, g });
}
