/**
 * One `train.VaeTrainer` step (Bernoulli ELBO, Adam, one `await data()`, snapshot, yield)
 * against the same step written by hand with the same maths (`vae.reparameterize`,
 * `losses.vae.elbo`, `optimizer.minimize`), so the ratio is the trainer's own cost, for an
 * MLP VAE on 784-dimensional data at batch 128.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { losses, train, vae } from '../src/index.js';
import { compare, type BenchSuite } from './harness.js';
import { mlp, variables } from './train-bench-common.js';

function encoder(dim: number, hidden: number, latent: number): tfl.LayersModel {
  const x = tfl.input({ shape: [dim] });
  const h = tfl.layers.dense({ units: hidden, activation: 'relu' }).apply(x) as tfl.SymbolicTensor;
  const mean = tfl.layers.dense({ units: latent }).apply(h) as tfl.SymbolicTensor;
  const logVar = tfl.layers.dense({ units: latent }).apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: x, outputs: [mean, logVar] });
}

const suite: BenchSuite = {
  name: 'vae-step',
  async run(ctx) {
    const [dim, hidden, latent, batch] = [784, 256, 16, 128];
    const steps = ctx.quick ? 3 : 10;
    const x = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([batch, dim], 0, 1, 'float32', 1), 0.5), 'float32'));
    const trainerNets = [encoder(dim, hidden, latent), mlp([latent, hidden, dim], 3)] as const;
    const trainerOptimizer = tf.train.adam(1e-3);
    const trainer = new train.VaeTrainer({ encoder: trainerNets[0], decoder: trainerNets[1], optimizer: trainerOptimizer, seed: 1 });
    const enc = encoder(dim, hidden, latent);
    const dec = mlp([latent, hidden, dim], 3);
    const opt = tf.train.adam(1e-3);
    const vars = [...variables(enc), ...variables(dec)];
    const elbo = losses.vae.elbo({ likelihood: 'bernoulli' });
    let position = 0;
    const handStep = async () => {
      const out = tf.tidy(() => {
        let parts: tf.Tensor[] = [];
        const loss = opt.minimize(
          () => {
            const [mean, logVar] = enc.apply(x, { training: true }) as tf.Tensor[];
            const z = vae.reparameterize(mean!, logVar!, { seed: position++ });
            const logits = dec.apply(z, { training: true }) as tf.Tensor;
            const { reconstruction, kl } = elbo(logits, x, mean!, logVar!);
            parts = [tf.keep(reconstruction), tf.keep(kl)];
            return tf.add(reconstruction, kl) as tf.Scalar;
          },
          true,
          vars,
        )!;
        const stacked = tf.stack([loss, parts[0]!, parts[1]!, tf.add(parts[0]!, parts[1]!)]);
        tf.dispose(parts);
        return stacked;
      });
      await out.data();
      out.dispose();
    };
    const result = await compare(
      `VaeTrainer.fit, ${steps} steps`,
      () => trainer.fit([x], { steps: trainer.step + steps }),
      `hand-written VAE loop, ${steps} steps`,
      async () => {
        for (let i = 0; i < steps; i++) await handStep();
      },
      { warmup: 1, runs: ctx.quick ? 3 : ctx.runs, size: `MLP ${dim}-${hidden}-${latent}, batch ${batch}` },
    );
    result.extra = {
      'overhead %': (1 / result.ratio! - 1) * 100,
      'min-time ratio': result.baseline!.timing.minMs / result.timing.minMs,
      'trainer ms/step': result.timing.medianMs / steps,
    };
    x.dispose();
    [trainerOptimizer, opt].forEach((o) => o.dispose());
    [...trainerNets, enc, dec].forEach((m) => m.dispose());
    return [result];
  },
};

export default suite;
