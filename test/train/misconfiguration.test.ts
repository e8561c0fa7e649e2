/**
 * Misconfigurations that used to surface late or never (issue 17, item 11, the parts outside
 * the trainers' construction checks): a β schedule returning a negative value, earlyStop on a
 * key that is never logged, losses of an empty batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { ConfigError, losses, ShapeError, train } from '../../src/index.js';
import type { TrainingContext } from '../../src/train/callbacks/callback.js';
import { useTestBackend } from '../helpers/backends.js';
import { rng } from './fixtures.js';
import { binaryBatches, mlpDecoder, mlpEncoder } from './vae-fixtures.js';

beforeAll(async () => {
  await useTestBackend('cpu');
});

describe('VaeTrainer beta schedule', () => {
  it('a schedule returning a negative β throws at the step that uses it, naming the step', async () => {
    // β is 1 for two steps, then -5 (the value).
    const trainer = new train.VaeTrainer({
      encoder: mlpEncoder(4, 2, 4, 1),
      decoder: mlpDecoder(2, 4, 4, 2),
      optimizer: tf.train.sgd(1e-3),
      beta: (t) => (t < 2 ? 1 : -5),
      seed: 1,
    });
    const data = binaryBatches(
      [
        [0, 1, 0, 1],
        [1, 0, 1, 0],
      ],
      4,
      4,
      rng(3),
    );
    await expect(trainer.fit(data, { steps: 4 })).rejects.toThrow(
      /argument 'config\.beta' must return a finite number >= 0 at every step, received -5 at step 2/,
    );
    tf.dispose(data);
  });

  it('NaN and non-numbers are refused too', async () => {
    for (const value of [Number.NaN, '1' as never]) {
      const trainer = new train.VaeTrainer({
        encoder: mlpEncoder(4, 2, 4, 1),
        decoder: mlpDecoder(2, 4, 4, 2),
        optimizer: tf.train.sgd(1e-3),
        beta: () => value,
        seed: 1,
      });
      const data = binaryBatches([[0, 1, 0, 1]], 1, 4, rng(3));
      await expect(trainer.fit(data, { steps: 1 })).rejects.toThrow(ConfigError);
      tf.dispose(data);
    }
  });
});

describe('earlyStop on a key that is never logged', () => {
  const context = { stop: () => {} } as unknown as TrainingContext;

  it('throws at the first check, listing the logged keys and the likely one', () => {
    const stop = train.earlyStop({ monitor: 'generatorLoss', on: 'step' });
    stop.onTrainBegin?.({}, context);
    expect(() => stop.onStepEnd?.(0, { generator: 1, discriminator: 2 }, context)).toThrow(
      /train\.earlyStop: argument 'options\.monitor' must name a value the trainer logs \(generator, discriminator\), received 'generatorLoss'\. Did you mean 'generator'\?$/,
    );
  });

  it('a logged key does not throw, and stops after `patience` checks without improvement (control)', () => {
    let stopped = 0;
    const counting = { stop: () => void stopped++ } as unknown as TrainingContext;
    const stop = train.earlyStop({ monitor: 'loss', patience: 2 });
    stop.onTrainBegin?.({}, counting);
    // 3 (best), 4 (wait 1), 5 (wait 2: stop).
    for (const [epoch, loss] of [3, 4, 5].entries()) stop.onEpochEnd?.(epoch, { loss }, counting);
    expect(stopped).toBe(1);
    expect(stop.best).toBe(3);
  });
});

describe('losses refuse empty batches', () => {
  const empty = () => tf.zeros([0, 1]);
  it.each([
    ['losses.gan.nonSaturating.generator', () => losses.gan.nonSaturating.generator(empty())],
    ['losses.gan.hinge.discriminator', () => losses.gan.hinge.discriminator(empty(), empty(), { reduction: 'sum' })],
    ['losses.gan.wasserstein.generator', () => losses.gan.wasserstein.generator(tf.zeros([0]))],
    ['losses.vae.gaussianKl', () => losses.vae.gaussianKl(tf.zeros([0, 2]), tf.zeros([0, 2]), { reduction: 'sum' })],
    ['losses.vae.bernoulliReconstruction', () => losses.vae.bernoulliReconstruction(tf.zeros([0, 2]), tf.zeros([0, 2]))],
  ])('%s', (name, call) => {
    const before = tf.memory().numTensors;
    expect(() => tf.tidy(() => call())).toThrow(ShapeError);
    expect(() => tf.tidy(() => call())).toThrow(
      new RegExp(
        `^${name.replace(/\./g, '\\.')}: argument '\\w+' must hold at least one example \\(a loss of an empty batch is undefined\\), received shape \\[0`,
      ),
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});
