/**
 * Memory and read discipline of the trainers: 1,000 steps leave `tf.memory().numTensors`
 * exactly where it was after the first step, and each step reads the losses with one
 * `data()` call (never `dataSync`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { losses, train } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { mlpDiscriminator, mlpGenerator, ringBatches, rng } from './fixtures.js';
import { binaryBatches, mlpDecoder, mlpEncoder } from './vae-fixtures.js';

const STEPS = 1000;

function memoryStore(): train.CheckpointStore {
  const saved = new Map<string, train.Checkpoint>();
  return {
    save: async (name, c) => void saved.set(name, c),
    load: async (name) => saved.get(name ?? [...saved.keys()].sort().pop() ?? ''),
    list: async () => [...saved.keys()].sort(),
    delete: async (name) => void saved.delete(name),
  };
}

/** A loss every step logs (earlyStop throws on a key that is never logged). */
const monitorOf = (trainer: train.Trainer) => (trainer instanceof train.VaeTrainer ? 'loss' : 'generator');

function callbacks(monitor: string): train.Callback[] {
  return [
    train.history(),
    // Patience past the run's end: the check runs every epoch, the callback never stops it.
    train.earlyStop({ monitor, patience: 100_000 }),
    train.sampleGrid({ every: 250, count: 4, write: () => {} }),
    train.checkpoint({ store: memoryStore(), every: 400, keep: 1 }),
  ];
}

type Case = { name: string; make: () => { trainer: train.Trainer; batches: tf.Tensor[] }; callbacks: boolean };

const cases: Case[] = [
  {
    name: 'adversarial',
    callbacks: false,
    make: () => ({
      trainer: new train.AdversarialTrainer({
        generator: mlpGenerator(2, 2, 8, 1),
        discriminator: mlpDiscriminator(2, 8, 2),
        loss: losses.gan.nonSaturating,
        generatorOptimizer: tf.train.adam(1e-3),
        discriminatorOptimizer: tf.train.adam(1e-3),
        seed: 1,
      }),
      batches: ringBatches(4, 8, 0.05, 1),
    }),
  },
  {
    name: 'adversarial + gradient penalty + EMA + 2 critic steps + callbacks',
    callbacks: true,
    make: () => ({
      trainer: new train.AdversarialTrainer({
        generator: mlpGenerator(2, 2, 8, 1),
        discriminator: mlpDiscriminator(2, 8, 2, 1, 'tanh'),
        loss: losses.gan.wasserstein,
        penalty: losses.gan.gradientPenalty,
        discriminatorSteps: 2,
        ema: 0.99,
        generatorOptimizer: tf.train.adam(1e-3),
        discriminatorOptimizer: tf.train.rmsprop(1e-3),
        seed: 1,
      }),
      batches: ringBatches(4, 8, 0.05, 1),
    }),
  },
  {
    name: 'vae',
    callbacks: false,
    make: () => ({
      trainer: new train.VaeTrainer({
        encoder: mlpEncoder(6, 2, 8, 1),
        decoder: mlpDecoder(2, 6, 8, 2),
        optimizer: tf.train.adam(1e-3),
        seed: 1,
      }),
      batches: binaryBatches(
        [
          [1, 0, 1, 0, 1, 0],
          [0, 1, 0, 1, 0, 1],
        ],
        4,
        8,
        rng(1),
      ),
    }),
  },
  {
    name: 'vae + KL warm-up + callbacks',
    callbacks: true,
    make: () => ({
      trainer: new train.VaeTrainer({
        encoder: mlpEncoder(6, 2, 8, 1),
        decoder: mlpDecoder(2, 6, 8, 2),
        optimizer: tf.train.sgd(1e-2),
        warmupSteps: 100,
        seed: 1,
      }),
      batches: binaryBatches(
        [
          [1, 0, 1, 0, 1, 0],
          [0, 1, 0, 1, 0, 1],
        ],
        4,
        8,
        rng(1),
      ),
    }),
  },
];

describe.each(TEST_BACKENDS)('trainer memory on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it.each(cases)(`$name: ${STEPS} steps leave numTensors where the first step left it`, async ({ make, callbacks: withCallbacks }) => {
    const { trainer, batches } = make();
    const counts: number[] = [];
    const probe: train.Callback = {
      onStepEnd(step) {
        if (step === 1 || step === STEPS) counts.push(tf.memory().numTensors);
      },
    };
    const result = await trainer.fit(batches, {
      steps: STEPS,
      callbacks: [...(withCallbacks ? callbacks(monitorOf(trainer)) : []), probe],
    });
    expect(result.step).toBe(STEPS);
    expect(counts).toHaveLength(2);
    expect(counts[1]).toBe(counts[0]);
    trainer.dispose();
    tf.dispose(batches);
  });

  it.each(cases)('$name: one data() read per step and no dataSync', async ({ make }) => {
    const { trainer, batches } = make();
    const data = vi.spyOn(tf.Tensor.prototype, 'data');
    const dataSync = vi.spyOn(tf.Tensor.prototype, 'dataSync');
    const arraySync = vi.spyOn(tf.Tensor.prototype, 'arraySync');
    await trainer.fit(batches, {
      steps: 30,
      callbacks: [train.history(), train.earlyStop({ monitor: monitorOf(trainer), patience: 1000, on: 'step' })],
    });
    expect(data).toHaveBeenCalledTimes(30);
    expect(dataSync).not.toHaveBeenCalled();
    expect(arraySync).not.toHaveBeenCalled();
    trainer.dispose();
    tf.dispose(batches);
  });
});
