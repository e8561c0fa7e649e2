import { rm } from 'node:fs/promises';

import * as tf from '@tensorflow/tfjs-core';
import { backends, data, losses, nets, train } from 'genblocks';
import { fileCheckpointStore } from 'genblocks/node';

await backends.use('wasm');
const images = tf.randomUniform([64, 8], -1, 1, 'float32', 1);
const batches = data.batches(images, { batchSize: 16, shuffle: true, seed: 1 });

// Everything that defines the run, built the same way in every process.
function makeTrainer(): train.AdversarialTrainer {
  return new train.AdversarialTrainer({
    generator: nets.mlpGenerator({ latentDim: 4, outputShape: [8], widths: [16] }),
    discriminator: nets.mlpDiscriminator({ inputShape: [8], widths: [16] }),
    loss: losses.gan.nonSaturating,
    generatorOptimizer: tf.train.adam(2e-4, 0.5),
    discriminatorOptimizer: tf.train.adam(2e-4, 0.5),
    seed: 1,
  });
}
const store = fileCheckpointStore('out/runs/gan/checkpoints');

// First process: a fresh run (no old checkpoints) trains 2 of 4 epochs, saving a checkpoint
// every 4 steps and at the end.
await rm('out/runs/gan', { recursive: true, force: true });
const first = makeTrainer();
await first.fit(batches, { epochs: 2, callbacks: [train.checkpoint({ store, every: 4, keep: 2 })] });

// Later, a new process: same code, then resume and finish the run.
const second = makeTrainer();
if (await second.resume(store)) console.log('resumed at step', second.step); // 8
await second.fit(batches, { epochs: 4, callbacks: [train.checkpoint({ store, every: 4, keep: 2 })] });
console.log(second.step, await store.list()); // 16 [ 'step-00000012', 'step-00000016' ]
