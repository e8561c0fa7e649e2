/**
 * The runs of the exact-resume tests: a GAN (gradient penalty, 2 critic steps, EMA, Adam and
 * RMSProp) and a VAE built with `vae.assemble` (a seeded `Reparameterize` layer, whose sample
 * counter travels in checkpoints through the stateful-layer hook). Initial weights come from
 * `initSeed`, so a resumed run built with another seed must take everything from the checkpoint.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import { losses, train, vae } from '../../src/index.js';
import { mlpDiscriminator, mlpGenerator, ringCentres, rng } from './fixtures.js';
import { mlpDecoder, mlpEncoder } from './vae-fixtures.js';

export interface Run {
  trainer: train.AdversarialTrainer | train.VaeTrainer;
  /** The networks whose weights are compared. */
  networks: tfl.LayersModel[];
  /** Further state compared (EMA weights). */
  extra: () => tf.Tensor[];
}

export function makeGan(initSeed: number): Run {
  const generator = mlpGenerator(2, 2, 8, initSeed);
  const discriminator = mlpDiscriminator(2, 8, initSeed + 10, 1, 'tanh');
  const trainer = new train.AdversarialTrainer({
    generator,
    discriminator,
    loss: losses.gan.wasserstein,
    penalty: losses.gan.gradientPenalty,
    discriminatorSteps: 2,
    ema: 0.9,
    generatorOptimizer: tf.train.adam(1e-2, 0.5, 0.9),
    discriminatorOptimizer: tf.train.rmsprop(1e-2, 0.9, 0.1),
    seed: 11,
  });
  return { trainer, networks: [generator, discriminator], extra: () => [...trainer.emaWeights!] };
}

export function makeVae(initSeed: number): Run {
  const encoder = mlpEncoder(6, 2, 8, initSeed);
  const decoder = mlpDecoder(2, 6, 8, initSeed + 5);
  const model = vae.assemble({ encoder, decoder, seed: 11 });
  const trainer = new train.VaeTrainer({ model, decoder, optimizer: tf.train.adam(1e-2), warmupSteps: 10, seed: 4 });
  return { trainer, networks: [model], extra: () => [] };
}

/** 64 points of the 8-Gaussian ring, `[64, 2]`. */
export function ganData(): tf.Tensor2D {
  const r = rng(21);
  const centres = ringCentres();
  const values = new Float32Array(128);
  for (let i = 0; i < 64; i++) {
    const c = centres[Math.floor(r() * 8)]!;
    values[2 * i] = c[0] + 0.05 * (r() - 0.5);
    values[2 * i + 1] = c[1] + 0.05 * (r() - 0.5);
  }
  return tf.tensor2d(values, [64, 2]);
}

/** 64 binary examples drawn from two prototypes, `[64, 6]`. */
export function vaeData(): tf.Tensor2D {
  const r = rng(22);
  const prototypes = [
    [1, 0, 1, 0, 1, 0],
    [0, 1, 0, 1, 0, 1],
  ];
  const values = new Float32Array(64 * 6);
  for (let i = 0; i < 64; i++) values.set(prototypes[Math.floor(r() * 2)]!, i * 6);
  return tf.tensor2d(values, [64, 6]);
}
