/**
 * train.DiffusionTrainer: steps, EMA used by sample, label dropout, clipping, no leaks.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { ConfigError, data, diffusion, nets, train } from '../../src/index.js';
import { useTestBackend } from '../helpers/backends.js';
import { fileCheckpointStore } from '../../src/node.js';
import { values } from '../helpers/memory.js';

const unetConfig = { imageShape: [8, 8, 1], baseChannels: 8, channelMultipliers: [1, 2], groups: 4, attentionAt: [], seed: 1 };

describe('train.DiffusionTrainer on wasm', () => {
  beforeAll(async () => {
    await useTestBackend('wasm');
  });
  const schedule = diffusion.noiseSchedule({ timesteps: 100 });

  it('trains with clipping and EMA; sample uses the EMA weights and the configured sampler; nothing leaks', async () => {
    const model = nets.unet(unetConfig);
    const optimizer = tf.train.adam(1e-2);
    const trainer = new train.DiffusionTrainer({
      model,
      optimizer,
      schedule,
      prediction: 'v',
      minSnrGamma: 5,
      clipNorm: 1,
      ema: { decay: 0.9, warmup: true },
      sampler: { sampler: 'ddim', steps: 3, clipSample: 1 },
      seed: 3,
    });
    const images = tf.tidy(() => tf.tanh(tf.randomNormal([8, 8, 8, 1], 0, 1, 'float32', 1)));
    const history = train.history();
    await trainer.fit(data.batches(images, { batchSize: 4 }), { steps: 1, callbacks: [history] });
    const before = tf.memory().numTensors;
    // `steps` counts from the start of the run: 3 more steps.
    await trainer.fit(data.batches(images, { batchSize: 4 }), { steps: 4, callbacks: [history] });
    expect(tf.memory().numTensors, 'fit leaks no tensors').toBe(before);
    const series = history.series();
    expect(series['loss']).toHaveLength(4);
    expect(series['loss']!.every(Number.isFinite)).toBe(true);
    expect(series['gradientNorm']!.every((g) => Number.isFinite(g) && g > 0)).toBe(true);
    // sample = diffusion.sample with the EMA weights and the configured sampler.
    const samples = await trainer.sample(2, { seed: 5 });
    expect(samples.shape).toEqual([2, 8, 8, 1]);
    const options = { schedule, shape: [2, 8, 8, 1], prediction: 'v' as const, sampler: 'ddim' as const, steps: 3, clipSample: 1, seed: 5 };
    const withAverage = await trainer.withSamplingWeights(async () => (await diffusion.sample(model, options)).samples);
    const withTraining = (await diffusion.sample(model, options)).samples;
    expect(values(samples)).toEqual(values(withAverage));
    expect(values(samples)).not.toEqual(values(withTraining));
    tf.dispose([samples, withAverage, withTraining]);
    expect(tf.memory().numTensors, 'sample leaks no tensors').toBe(before);
    tf.dispose(images);
    trainer.dispose();
    optimizer.dispose();
  });

  it('a conditional model trains with label dropout and samples with guidance', async () => {
    const model = nets.unet({ ...unetConfig, numClasses: 2 });
    const optimizer = tf.train.adam(1e-3);
    const trainer = new train.DiffusionTrainer({ model, optimizer, schedule, labelDropout: 0.5, nullLabel: 2, sampler: { steps: 2, guidanceScale: 1.5 }, seed: 4 });
    const images = tf.randomNormal([4, 8, 8, 1], 0, 0.5, 'float32', 2);
    const labels = tf.tensor1d([0, 1, 0, 1], 'int32');
    await trainer.fit(data.batches(images, { labels, batchSize: 4 }), { steps: 2 });
    const asked = tf.tensor1d([1, 0], 'int32');
    const samples = await trainer.sample(2, { labels: asked, seed: 1 });
    // Guided: (1 + w) cond - w uncond with the model's current weights (no EMA).
    const expected = (await diffusion.sample(model, { schedule, shape: [2, 8, 8, 1], steps: 2, labels: [1, 0], guidanceScale: 1.5, nullLabel: 2, seed: 1 })).samples;
    expect(values(samples)).toEqual(values(expected));
    const unconditional = await trainer.sample(2, { seed: 1 }); // null label
    expect(unconditional.shape).toEqual([2, 8, 8, 1]);
    await expect(trainer.fit(data.batches(images, { batchSize: 4 }), { steps: 3 })).rejects.toThrow(/batch.y' must hold labels/);
    tf.dispose([images, labels, asked, samples, expected, unconditional]);
    trainer.dispose();
    optimizer.dispose();
  });

  it('2 steps + checkpoint + new objects + resume + 2 steps = 4 steps straight (weights, EMA, dropped labels)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'genblocks-diffusion-resume-'));
    const images = tf.randomNormal([8, 8, 8, 1], 0, 0.5, 'float32', 6);
    const labels = tf.tensor1d([0, 1, 0, 1, 1, 0, 1, 0], 'int32');
    // A fresh batch source per run: a Batches object counts the epochs it has served.
    const batches = () => data.batches(images, { labels, batchSize: 4, shuffle: true, seed: 2 });
    const make = (initSeed: number) => {
      const model = nets.unet({ ...unetConfig, numClasses: 2, seed: initSeed });
      const trainer = new train.DiffusionTrainer({ model, optimizer: tf.train.adam(1e-2), schedule, labelDropout: 0.3, nullLabel: 2, ema: { decay: 0.9, warmup: true }, seed: 9 });
      return { model, trainer };
    };
    const straight = make(1);
    await straight.trainer.fit(batches(), { steps: 4 });
    const store = fileCheckpointStore(dir);
    const first = make(1);
    await first.trainer.fit(batches(), { steps: 2, callbacks: [train.checkpoint({ store, every: 2 })] });
    first.trainer.dispose();
    const resumed = make(5); // other initial weights: everything must come from the checkpoint
    expect(await resumed.trainer.resume(store)).toBe(true);
    await resumed.trainer.fit(batches(), { steps: 4 });
    expect(resumed.model.getWeights().map((w) => values(w))).toEqual(straight.model.getWeights().map((w) => values(w)));
    expect(resumed.trainer.ema!.variables.map((v) => values(v))).toEqual(straight.trainer.ema!.variables.map((v) => values(v)));
    tf.dispose([images, labels]);
    straight.trainer.dispose();
    resumed.trainer.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('rejects invalid configs', () => {
    const model = nets.unet(unetConfig);
    const optimizer = tf.train.adam(1e-3);
    expect(() => new train.DiffusionTrainer({ model, optimizer, schedule, labelDropout: 0.1, nullLabel: 2 })).toThrow(/config.labelDropout' must be 0 for a model without a label input/);
    const conditional = nets.unet({ ...unetConfig, numClasses: 2 });
    expect(() => new train.DiffusionTrainer({ model: conditional, optimizer, schedule, labelDropout: 0.1 })).toThrow(/config.nullLabel' must be given with labelDropout/);
    expect(() => new train.DiffusionTrainer({ model, optimizer, schedule, sampler: { stepz: 3 } as never })).toThrow(/Did you mean 'steps'/);
    expect(() => new train.DiffusionTrainer({ model, optimizer, schedule: {} as never })).toThrow(/config.schedule' must be a schedule made by diffusion.noiseSchedule/);
    expect(() => new train.DiffusionTrainer({ model, optimizer, schedule, predicton: 'v' } as never)).toThrow(ConfigError);
    optimizer.dispose();
  });
});
