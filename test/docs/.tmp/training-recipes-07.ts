import * as tf from '@tensorflow/tfjs-core';
import { backends, losses, nets, train } from 'genblocks';

await backends.use('wasm');
const trainer = new train.AdversarialTrainer({
  generator: nets.mlpGenerator({ latentDim: 4, outputShape: [8], widths: [16] }),
  discriminator: nets.mlpDiscriminator({ inputShape: [8], widths: [16] }),
  loss: losses.gan.hinge,
  generatorOptimizer: tf.train.adam(2e-4, 0.5),
  discriminatorOptimizer: tf.train.adam(2e-4, 0.5),
  seed: 1,
});
const watchdog: train.Callback = {
  onStepEnd(step, logs, context) {
    if (step % 5 === 0) console.log(step, logs);
    if (logs['discriminator']! < 0.01) context.stop(); // the discriminator has won: stop early
  },
};
const real = tf.randomNormal([16, 8], 0, 1, 'float32', 1);
const result = await trainer.fit([real], { epochs: 10, callbacks: [watchdog] });
console.log(result.step, result.stopped);
