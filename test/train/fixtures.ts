/**
 * Small networks and synthetic data for the trainer tests.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { losses, train } from '../../src/index.js';

/** An MLP generator `[null, latentDim] → [null, outDim]` with tanh hidden units. */
export function mlpGenerator(latentDim: number, outDim: number, width: number, seed: number, hidden = 2): tfl.LayersModel {
  const model = tfl.sequential();
  for (let i = 0; i < hidden; i++) {
    model.add(
      tfl.layers.dense({
        units: width,
        activation: 'relu',
        inputShape: i === 0 ? [latentDim] : undefined,
        kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + i }),
      }),
    );
  }
  model.add(tfl.layers.dense({ units: outDim, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 99 }) }));
  return model;
}

/** An MLP discriminator `[null, inDim] → [null, 1]` (linear logits). */
export function mlpDiscriminator(
  inDim: number,
  width: number,
  seed: number,
  hidden = 2,
  activation: 'relu' | 'tanh' = 'relu',
): tfl.LayersModel {
  const model = tfl.sequential();
  for (let i = 0; i < hidden; i++) {
    model.add(
      tfl.layers.dense({
        units: width,
        activation,
        inputShape: i === 0 ? [inDim] : undefined,
        kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + i }),
      }),
    );
  }
  model.add(tfl.layers.dense({ units: 1, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 99 }) }));
  return model;
}

/** Centres of the 8-Gaussian ring of radius `radius` (Metz et al. 2017, unrolled GAN paper's toy). */
export function ringCentres(radius = 2): [number, number][] {
  return Array.from({ length: 8 }, (_, k) => [radius * Math.cos((2 * Math.PI * k) / 8), radius * Math.sin((2 * Math.PI * k) / 8)]);
}

/** Deterministic PRNG (mulberry32) for test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draws by Box–Muller. */
export function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/** `count` batches of `batchSize` points from the 8-Gaussian ring with standard deviation `std`. */
export function ringBatches(count: number, batchSize: number, std: number, seed: number): tf.Tensor2D[] {
  const r = rng(seed);
  const centres = ringCentres();
  return Array.from({ length: count }, () => {
    const values = new Float32Array(batchSize * 2);
    for (let i = 0; i < batchSize; i++) {
      const c = centres[Math.floor(r() * 8)]!;
      values[2 * i] = c[0] + std * normal(r);
      values[2 * i + 1] = c[1] + std * normal(r);
    }
    return tf.tensor2d(values, [batchSize, 2]);
  });
}

/** For each sample: index of the nearest centre and the distance to it. */
export function nearestCentres(points: Float32Array | number[]): { mode: number; distance: number }[] {
  const centres = ringCentres();
  const out: { mode: number; distance: number }[] = [];
  for (let i = 0; i < points.length / 2; i++) {
    let best = 0;
    let bestD = Infinity;
    centres.forEach(([cx, cy], k) => {
      const d = Math.hypot(points[2 * i]! - cx, points[2 * i + 1]! - cy);
      if (d < bestD) {
        bestD = d;
        best = k;
      }
    });
    out.push({ mode: best, distance: bestD });
  }
  return out;
}

/**
 * A GAN of 2-192-192-2 / 2-192-192-1 MLPs (non-saturating loss, Adam 1e-3 for both players):
 * one 192x192 kernel per network (36,864 elements, over the 2^15 of the trainers'
 * in-assignment check); the other kernels and the biases are scanned after the step.
 */
export function wideMlpGan(
  seed: number,
  onNonFinite: 'stop' | 'skip' = 'stop',
): { generator: tfl.LayersModel; discriminator: tfl.LayersModel; trainer: train.AdversarialTrainer; dispose: () => void } {
  const generator = mlpGenerator(2, 2, 192, 1);
  const discriminator = mlpDiscriminator(2, 192, 2);
  const trainer = new train.AdversarialTrainer({
    generator,
    discriminator,
    loss: losses.gan.nonSaturating,
    generatorOptimizer: tf.train.adam(1e-3),
    discriminatorOptimizer: tf.train.adam(1e-3),
    seed,
    onNonFinite,
  });
  return { generator, discriminator, trainer, dispose: () => (generator.dispose(), discriminator.dispose()) };
}
