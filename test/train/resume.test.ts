/**
 * Checkpoints and resume: 40 steps straight give exactly the weights of 20 steps, a
 * checkpoint, new networks/optimizers/trainer, resume, 20 more steps. Also the file store.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { losses, train, vae } from '../../src/index.js';
import { fileCheckpointStore } from '../../src/node.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { values } from '../helpers/memory.js';
import { mlpDiscriminator, mlpGenerator, ringBatches, rng } from './fixtures.js';
import { makeGan } from './resume-fixtures.js';
import { binaryBatches, mlpDecoder, mlpEncoder } from './vae-fixtures.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'genblocks-resume-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const weightsOf = (m: tfl.LayersModel) => m.getWeights().map((w) => values(w));

/** The GAN of the cross-process resume tests (`makeGan`), with its networks named. */
function gan(initSeed: number) {
  const { trainer, networks } = makeGan(initSeed);
  const [generator, discriminator] = networks as [tfl.LayersModel, tfl.LayersModel];
  return { trainer: trainer as train.AdversarialTrainer, generator, discriminator };
}

describe.each(TEST_BACKENDS)('resume on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  it('AdversarialTrainer: 20 steps + checkpoint + new objects + resume + 20 steps = 40 steps straight', async () => {
    const batches = ringBatches(7, 8, 0.05, 21); // 20 is mid-epoch: the resumed run must skip 6 batches
    const straight = gan(1);
    await straight.trainer.fit(batches, { steps: 40 });

    const store = fileCheckpointStore(join(dir, `gan-${backend}`));
    const first = gan(1);
    await first.trainer.fit(batches, { steps: 20, callbacks: [train.checkpoint({ store, every: 10, keep: 2 })] });
    expect(await store.list()).toEqual(['step-00000010', 'step-00000020']);
    first.trainer.dispose();

    const resumed = gan(2); // different initial weights: everything must come from the checkpoint
    expect(await resumed.trainer.resume(store)).toBe(true);
    expect(resumed.trainer.step).toBe(20);
    await resumed.trainer.fit(batches, { steps: 40 });

    expect(weightsOf(resumed.generator)).toEqual(weightsOf(straight.generator));
    expect(weightsOf(resumed.discriminator)).toEqual(weightsOf(straight.discriminator));
    expect(resumed.trainer.emaWeights!.map(values)).toEqual(straight.trainer.emaWeights!.map(values));
    expect({ step: resumed.trainer.step, epoch: resumed.trainer.epoch, batch: resumed.trainer.batchInEpoch }).toEqual({
      step: straight.trainer.step,
      epoch: straight.trainer.epoch,
      batch: straight.trainer.batchInEpoch,
    });
  });

  it('VaeTrainer: 20 + resume + 20 = 40 straight', async () => {
    const prototypes = [
      [1, 0, 1, 0, 1, 0],
      [0, 1, 0, 1, 0, 1],
    ];
    const batches = binaryBatches(prototypes, 6, 8, rng(2));
    const make = (initSeed: number) => {
      const encoder = mlpEncoder(6, 2, 8, initSeed);
      const decoder = mlpDecoder(2, 6, 8, initSeed + 5);
      return {
        encoder,
        decoder,
        trainer: new train.VaeTrainer({ encoder, decoder, optimizer: tf.train.adam(1e-2), warmupSteps: 30, seed: 4 }),
      };
    };
    const straight = make(1);
    await straight.trainer.fit(batches, { steps: 40 });
    const store = fileCheckpointStore(join(dir, `vae-${backend}`));
    const first = make(1);
    await first.trainer.fit(batches, { steps: 20, callbacks: [train.checkpoint({ store, every: 1000 })] });
    const resumed = make(3);
    await resumed.trainer.resume(store);
    await resumed.trainer.fit(batches, { steps: 40 });
    expect(weightsOf(resumed.encoder)).toEqual(weightsOf(straight.encoder));
    expect(weightsOf(resumed.decoder)).toEqual(weightsOf(straight.decoder));
  });

  it('VaeTrainer over vae.assemble (seeded Reparameterize layer): resumed = straight, bit for bit', async () => {
    const prototypes = [
      [1, 0, 1, 0, 1, 0],
      [0, 1, 0, 1, 0, 1],
    ];
    const batches = binaryBatches(prototypes, 6, 8, rng(3));
    const make = (initSeed: number) => {
      const encoder = mlpEncoder(6, 2, 8, initSeed);
      const decoder = mlpDecoder(2, 6, 8, initSeed + 5);
      const model = vae.assemble({ encoder, decoder, seed: 11 });
      return { model, trainer: new train.VaeTrainer({ model, decoder, optimizer: tf.train.adam(1e-2), seed: 4 }) };
    };
    const straight = make(1);
    await straight.trainer.fit(batches, { steps: 30 });
    const store = fileCheckpointStore(join(dir, `vae-assembled-${backend}`));
    const first = make(1);
    await first.trainer.fit(batches, { steps: 15, callbacks: [train.checkpoint({ store, every: 1000 })] });
    const resumed = make(3);
    await resumed.trainer.resume(store);
    await resumed.trainer.fit(batches, { steps: 30 });
    // The layer's sample counter travels in the checkpoint: without it the resumed run would
    // draw epsilon with seeds 11, 12, ... again and its weights would differ.
    expect(weightsOf(resumed.model)).toEqual(weightsOf(straight.model));
  });
});

describe('fileCheckpointStore and train.checkpoint', () => {
  beforeAll(async () => {
    await useTestBackend('cpu');
  });

  it('keeps the newest `keep` checkpoints, leaves no temporary folders, and loads the newest by default', async () => {
    const root = join(dir, 'keep');
    const store = fileCheckpointStore(root);
    const { trainer } = gan(1);
    await trainer.fit(ringBatches(3, 8, 0.05, 1), { steps: 7, callbacks: [train.checkpoint({ store, every: 2, keep: 2 })] });
    // Saved after steps 2, 4, 6 and at the end (7); the two newest remain.
    expect(await store.list()).toEqual(['step-00000006', 'step-00000007']);
    expect((await readdir(root)).sort()).toEqual(['step-00000006', 'step-00000007']);
    const newest = await store.load();
    expect(newest!.meta).toMatchObject({ format: 'genblocks-checkpoint', kind: 'adversarial', step: 7, seed: 11, rngPosition: 7 });
    expect(await fileCheckpointStore(join(dir, 'empty')).load()).toBeUndefined();
    expect(await trainer.resume(fileCheckpointStore(join(dir, 'empty')))).toBe(false);
    trainer.dispose();
  });

  it('refuses a checkpoint of another kind or of differently shaped networks, and a directory string as store', async () => {
    const store = fileCheckpointStore(join(dir, 'kinds'));
    const { trainer } = gan(1);
    await trainer.fit(ringBatches(1, 8, 0.05, 1), { steps: 1, callbacks: [train.checkpoint({ store })] });
    const vaeTrainer = new train.VaeTrainer({
      encoder: mlpEncoder(2, 2, 4, 1),
      decoder: mlpDecoder(2, 2, 4, 1),
      optimizer: tf.train.sgd(1),
    });
    await expect(vaeTrainer.resume(store)).rejects.toThrow(
      /train\.VaeTrainer\.restore: checkpoint '.*kinds\/step-00000001\/checkpoint\.json': field 'meta\.kind' must be 'vae' \(a checkpoint of a vae trainer\), received 'adversarial'/,
    );
    const wider = new train.AdversarialTrainer({
      generator: mlpGenerator(2, 2, 16, 1),
      discriminator: mlpDiscriminator(2, 8, 1, 1, 'tanh'),
      loss: losses.gan.wasserstein,
      generatorOptimizer: tf.train.sgd(1),
      discriminatorOptimizer: tf.train.sgd(1),
    });
    await expect(wider.resume(store)).rejects.toThrow(
      /field 'tensors\['generator\/0'\]\.shape' must be \[2,16\] like generator's weight 0, received \[2,8\]\. Resume with networks and optimizers built exactly as/,
    );
    expect(() => train.checkpoint({ store: 'runs/ckpt' as never })).toThrow(
      /train\.checkpoint: argument 'options\.store' must be a CheckpointStore \(save, load, list, delete\), received 'runs\/ckpt'\. In Node pass fileCheckpointStore\('runs\/ckpt'\)/,
    );
  });
});
