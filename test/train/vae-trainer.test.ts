/**
 * train.VaeTrainer: the bound it reaches on data of known entropy, KL warm-up, logging,
 * sampling and validation.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { train, vae } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { expectClose, values } from '../helpers/memory.js';
import { rng } from './fixtures.js';
import { binaryBatches, mlpDecoder, mlpEncoder } from './vae-fixtures.js';

// Four 8-pixel binary prototypes, drawn uniformly: the data's entropy is H = log 4 nats per example.
const PROTOTYPES = [
  [1, 1, 1, 1, 0, 0, 0, 0],
  [0, 0, 0, 0, 1, 1, 1, 1],
  [1, 0, 1, 0, 1, 0, 1, 0],
  [0, 1, 0, 1, 0, 1, 0, 1],
];
const ENTROPY = Math.log(4);

describe.each(TEST_BACKENDS)('train.VaeTrainer on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  it('drives the negative ELBO below H + 1 nat on data of entropy H = log 4', async () => {
    // −ELBO ≥ −log p(x) and E[−log p(x)] ≥ H, so H is the floor. A model that ignores z (each
    // pixel Bernoulli(1/2)) scores 8·log 2 ≈ 5.55 nats; only a VAE that encodes the prototype
    // in z gets within 1 nat of H (a Gaussian posterior leaves some overlap between the four).
    const trainer = new train.VaeTrainer({
      encoder: mlpEncoder(8, 2, 32, 1),
      decoder: mlpDecoder(2, 8, 32, 2),
      optimizer: tf.train.adam(1e-2),
      seed: 3,
    });
    const batches = binaryBatches(PROTOTYPES, 20, 64, rng(4));
    const h = train.history();
    await trainer.fit(batches, { steps: 600, callbacks: [h] });
    const last = h.series()['negativeElbo']!.slice(-50);
    const meanLast = last.reduce((a, b) => a + b, 0) / last.length;
    expect(meanLast).toBeLessThan(ENTROPY + 1);
    expect(meanLast).toBeGreaterThan(ENTROPY - 0.05);
  });

  it('trains a model from vae.assemble and logs loss = reconstruction + β·kl and negativeElbo = reconstruction + kl', async () => {
    const encoder = vae.mlpEncoder({ inputShape: [8], latentDim: 2, widths: [16] });
    const decoder = vae.mlpDecoder({ latentDim: 2, outputShape: [8], widths: [16] });
    const model = vae.assemble({ encoder, decoder, seed: 1 });
    const trainer = new train.VaeTrainer({ model, optimizer: tf.train.adam(1e-3), beta: 0.5, seed: 1 });
    expect(trainer.latentDim).toBe(2);
    const logs: train.Logs[] = [];
    await trainer.fit(binaryBatches(PROTOTYPES, 3, 16, rng(5)), { steps: 3, callbacks: [{ onStepEnd: (_s, l) => void logs.push(l) }] });
    for (const l of logs) {
      expectClose(l['loss']!, l['reconstruction']! + 0.5 * l['kl']!, 1e-5);
      expectClose(l['negativeElbo']!, l['reconstruction']! + l['kl']!, 1e-5);
      expect(l['beta']).toBe(0.5);
    }
    const samples = await trainer.sample(5, { seed: 2 });
    expect(samples.shape).toEqual([5, 8]);
    // Bernoulli means: sigmoid of the logits, in (0, 1).
    expect(values(samples).every((p) => p > 0 && p < 1)).toBe(true);
  });
});

describe('train.VaeTrainer KL warm-up and validation', () => {
  beforeAll(async () => {
    await useTestBackend('cpu');
  });

  it('raises β linearly from 0 over warmupSteps (β_t = beta · min(1, t / warmupSteps))', async () => {
    const trainer = new train.VaeTrainer({
      encoder: mlpEncoder(8, 2, 8, 1),
      decoder: mlpDecoder(2, 8, 8, 2),
      optimizer: tf.train.sgd(1e-3),
      beta: 2,
      warmupSteps: 4,
      seed: 1,
    });
    const h = train.history();
    await trainer.fit(binaryBatches(PROTOTYPES, 6, 4, rng(6)), { steps: 6, callbacks: [h] });
    expect(h.series()['beta']).toEqual([0, 0.5, 1, 1.5, 2, 2]);
    const s = h.series();
    s['loss']!.forEach((loss, i) => expectClose(loss, s['reconstruction']![i]! + s['beta']![i]! * s['kl']![i]!, 1e-5));
  });

  it('rejects a missing optimizer, a model that is not a VAE, and batches of the wrong shape', async () => {
    const encoder = mlpEncoder(8, 2, 8, 1);
    const decoder = mlpDecoder(2, 8, 8, 2);
    expect(() => new train.VaeTrainer({ encoder, decoder } as never)).toThrow(
      /^train\.VaeTrainer: argument 'config\.optimizer' must be a tf\.Optimizer/,
    );
    expect(() => new train.VaeTrainer({ encoder, optimizer: tf.train.sgd(1) } as never)).toThrow(
      /argument 'config\.decoder' must be a tf\.LayersModel or an object with apply\(\) and trainableWeights, received undefined/,
    );
    const notVae = new train.VaeTrainer({ model: decoder, optimizer: tf.train.sgd(1e-3) });
    await expect(notVae.fit([tf.zeros([4, 2])], { steps: 1 })).rejects.toThrow(
      /argument 'config\.model' must return \[logits, mean, logVar\] \(build it with vae\.assemble\), received float32 tensor/,
    );
    const trainer = new train.VaeTrainer({ encoder, decoder, optimizer: tf.train.sgd(1e-3) });
    await expect(trainer.fit([tf.zeros([4, 7])], { steps: 1 })).rejects.toThrow(
      /^train\.VaeTrainer\.fit: argument 'batch\.x' must have the model's input shape \[null,8\], received shape \[4,7\]/,
    );
    expect(() => new train.VaeTrainer({ encoder, decoder, optimizer: tf.train.sgd(1), warmupSteps: -1 })).toThrow(
      /argument 'config\.warmupSteps' must be a non-negative integer, received -1/,
    );
  });
});
