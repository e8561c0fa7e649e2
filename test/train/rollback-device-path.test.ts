/**
 * The device-backend path of the trainer's state check: where tensors do not live in host
 * memory (WebGL, WebGPU), a probe scalar is read with the losses instead of scanning in place.
 * Forced here on cpu and wasm by reporting that the backend cannot be scanned in place.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it, vi } from 'vitest';

import { losses, train } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { mlpDiscriminator, mlpGenerator, ringBatches } from './fixtures.js';

vi.mock('../../src/backends/variable-values.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/backends/variable-values.js')>();
  return { ...actual, scansInPlace: () => false, findNonFinite: () => undefined };
});

describe.each(TEST_BACKENDS)('state check through the probe on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  it('refuses a first step that writes NaN weights (adam(1e39)) and keeps the initial weights; good steps pass and leak nothing', async () => {
    const generator = mlpGenerator(2, 2, 8, 1);
    const bad = new train.AdversarialTrainer({
      generator,
      discriminator: mlpDiscriminator(2, 8, 2),
      loss: losses.gan.nonSaturating,
      generatorOptimizer: tf.train.adam(1e39),
      discriminatorOptimizer: tf.train.adam(1e-3),
      seed: 3,
    });
    const initial = generator.getWeights().map((w) => Array.from(w.dataSync()));
    const batches = ringBatches(2, 8, 0.05, 1);
    await expect(bad.fit(batches, { steps: 2 })).rejects.toThrow(
      /the losses were finite but 'generator.*' became NaN or ±Infinity at step 0/,
    );
    expect(generator.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(initial);

    const good = new train.AdversarialTrainer({
      generator: mlpGenerator(2, 2, 8, 1),
      discriminator: mlpDiscriminator(2, 8, 2),
      loss: losses.gan.nonSaturating,
      generatorOptimizer: tf.train.adam(1e-3),
      discriminatorOptimizer: tf.train.adam(1e-3),
      seed: 3,
    });
    await good.fit(batches, { steps: 2 });
    const count = tf.memory().numTensors;
    await good.fit(batches, { steps: 40 });
    expect(good.step).toBe(40);
    expect(tf.memory().numTensors).toBe(count);
    tf.dispose(batches);
  });
});
