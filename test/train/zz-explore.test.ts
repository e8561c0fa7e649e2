import * as tf from '@tensorflow/tfjs-core';
import { it } from 'vitest';
import { useTestBackend } from '../helpers/backends.js';
import { losses, train } from '../../src/index.js';
import { mlpDiscriminator, mlpGenerator, ringBatches, nearestCentres } from './fixtures.js';

function cover(trainer: train.AdversarialTrainer) {
  const s = trainer.sample(1000, { seed: 5 });
  const near = nearestCentres(s.dataSync() as Float32Array); s.dispose();
  const counts = new Array(8).fill(0); let off = 0;
  for (const { mode, distance } of near) { if (distance < 0.3) counts[mode]++; else off++; }
  return `${counts.filter((c) => c >= 20).length} modes, off ${off} ${counts.join(' ')}`;
}
it('explore', async () => {
  await useTestBackend('wasm');
  for (const [name, width, lr, batch, wgan, act, b1] of [['wgan-relu-b0', 64, 1e-3, 64, true, 'relu', 0], ['wgan-tanh-b0', 64, 1e-3, 64, true, 'tanh', 0], ['wgan-relu-5e-4', 64, 5e-4, 64, true, 'relu', 0.5]] as const) {
  const G = mlpGenerator(2, 2, width, 1);
  const D = mlpDiscriminator(2, width, 2, 2, act);
  const trainer = new train.AdversarialTrainer({ generator: G, discriminator: D, loss: wgan ? losses.gan.wasserstein : losses.gan.nonSaturating,
    penalty: wgan ? losses.gan.gradientPenalty : undefined, discriminatorSteps: 2,
    generatorOptimizer: tf.train.adam(lr, b1, 0.9), discriminatorOptimizer: tf.train.adam(lr, b1, 0.9), seed: 1 });
  const batches = ringBatches(100, batch, 0.05, 3);
  const t0 = performance.now();
  await trainer.fit(batches, { steps: 1000, callbacks: [{ onStepEnd(step, logs) { if (step % 250 === 0) console.log(name, step, JSON.stringify(logs), cover(trainer)); } }] });
  console.log(name, 'ms/step', (performance.now() - t0) / 1000);
  }
}, 300000);
