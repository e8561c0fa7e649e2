/**
 * Shared pieces of the training benchmarks (not a suite: no `.bench.ts` suffix): small MLP
 * networks and a hand-written tfjs GAN step, the baseline the trainer is compared with.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { losses, train } from '../src/index.js';

/** Dense ReLU MLP with seeded initializers; `units[0]` is the input size. */
export function mlp(units: number[], seed = 1): tfl.LayersModel {
  const model = tfl.sequential();
  for (let i = 1; i < units.length; i++) {
    const last = i === units.length - 1;
    model.add(
      tfl.layers.dense({
        units: units[i]!,
        activation: last ? 'linear' : 'relu',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + i }),
        ...(i === 1 ? { inputShape: [units[0]!] } : {}),
      }),
    );
  }
  return model;
}

/** The variables of a model's trainable weights. */
export function variables(model: tfl.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

/**
 * The hand-written GAN step the trainer must match: D update (non-saturating loss), then G
 * update on fresh noise, one `await data()` of the stacked losses.
 */
export function handWrittenGanStep(
  generator: tfl.LayersModel,
  discriminator: tfl.LayersModel,
  latent: number,
): { step: (real: tf.Tensor, position: number) => Promise<void>; dispose: () => void } {
  const dOpt = tf.train.adam(2e-4, 0.5);
  const gOpt = tf.train.adam(2e-4, 0.5);
  const dVars = variables(discriminator);
  const gVars = variables(generator);
  const D = (x: tf.Tensor) => discriminator.apply(x, { training: true }) as tf.Tensor;
  const G = (z: tf.Tensor) => generator.apply(z, { training: true }) as tf.Tensor;
  const step = async (real: tf.Tensor, position: number): Promise<void> => {
    const losses = tf.tidy(() => {
      const n = real.shape[0]!;
      const fake = G(tf.randomNormal([n, latent], 0, 1, 'float32', 2 * position));
      const d = dOpt.minimize(
        () => tf.add(tf.mean(tf.softplus(tf.neg(D(real)))), tf.mean(tf.softplus(D(fake)))) as tf.Scalar,
        true,
        dVars,
      )!;
      const z = tf.randomNormal([n, latent], 0, 1, 'float32', 2 * position + 1);
      const g = gOpt.minimize(() => tf.mean(tf.softplus(tf.neg(D(G(z))))) as tf.Scalar, true, gVars)!;
      return tf.stack([d, g]);
    });
    await losses.data();
    losses.dispose();
  };
  return { step, dispose: () => (dOpt.dispose(), gOpt.dispose()) };
}

/** An MLP GAN of the trainer-overhead comparison: generator and discriminator layer sizes, batch. */
export interface OverheadSize {
  latent: number;
  g: number[];
  d: number[];
  batch: number;
}

/**
 * The two sides of the trainer-overhead comparison on equal, separately seeded copies of one
 * MLP GAN: `train.AdversarialTrainer` (non-saturating loss, Adam 2e-4/0.5 for both players) and
 * {@link handWrittenGanStep}, with four fixed batches of "real" data; `dispose` frees them all.
 */
export function overheadSides(size: OverheadSize): {
  real: tf.Tensor[];
  trainer: train.AdversarialTrainer;
  hand: ReturnType<typeof handWrittenGanStep>;
  dispose: () => void;
} {
  const real = Array.from({ length: 4 }, (_, i) => tf.randomNormal([size.batch, size.d[0]!], 0, 1, 'float32', i));
  const models = [mlp(size.g, 1), mlp(size.d, 2), mlp(size.g, 1), mlp(size.d, 2)] as const;
  const optimizers = [tf.train.adam(2e-4, 0.5), tf.train.adam(2e-4, 0.5)];
  const trainer = new train.AdversarialTrainer({
    generator: models[0],
    discriminator: models[1],
    loss: losses.gan.nonSaturating,
    generatorOptimizer: optimizers[0]!,
    discriminatorOptimizer: optimizers[1]!,
    seed: 1,
  });
  const hand = handWrittenGanStep(models[2], models[3], size.latent);
  return {
    real,
    trainer,
    hand,
    dispose: () => {
      trainer.dispose();
      hand.dispose();
      optimizers.forEach((o) => o.dispose());
      models.forEach((m) => m.dispose());
      tf.dispose(real);
    },
  };
}
