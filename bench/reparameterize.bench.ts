/**
 * `vae.reparameterize` (validation, tidy) against the same formula written inline with tfjs
 * ops, and the `Reparameterize` layer in a training call against the function.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { vae } from '../src/index.js';
import { compare, settle, type BenchResult, type BenchSuite } from './harness.js';

const suite: BenchSuite = {
  name: 'reparameterize',
  async run(ctx) {
    const batch = ctx.quick ? 16 : 256;
    const latentDim = ctx.quick ? 8 : 64;
    const options = { warmup: ctx.warmup, runs: ctx.runs, size: `[${batch}, ${latentDim}]` };
    const mean = tf.randomNormal([batch, latentDim], 0, 1, 'float32', 1);
    const logVar = tf.randomNormal([batch, latentDim], 0, 0.5, 'float32', 2);
    const inline = () => tf.add(mean, tf.mul(tf.exp(tf.mul(logVar, 0.5)), tf.randomNormal(mean.shape, 0, 1, 'float32', 3)));

    const meanIn = tfl.input({ shape: [latentDim] });
    const logVarIn = tfl.input({ shape: [latentDim] });
    const layer = new vae.Reparameterize({ seed: 3 });
    const model = tfl.model({ inputs: [meanIn, logVarIn], outputs: layer.apply([meanIn, logVarIn]) as tfl.SymbolicTensor });

    const results: BenchResult[] = [
      await compare(
        'vae.reparameterize',
        () => settle(() => vae.reparameterize(mean, logVar, { seed: 3 })),
        'inline tf ops',
        () => settle(inline),
        options,
      ),
      await compare(
        'Reparameterize layer (model.apply, training)',
        () => settle(() => model.apply([mean, logVar], { training: true }) as tf.Tensor),
        'vae.reparameterize',
        () => settle(() => vae.reparameterize(mean, logVar, { seed: 3 })),
        options,
      ),
    ];
    tf.dispose([mean, logVar]);
    model.dispose();
    return results;
  },
};

export default suite;
