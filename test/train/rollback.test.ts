/**
 * Honest rollback: after a `NonFiniteLossError` or a skipped step, every weight, optimizer slot
 * and non-trainable state (batch-norm statistics, EMA) is finite and equal to the last good
 * step's; a step with finite losses but non-finite new state counts as non-finite; rollbacks,
 * skips and restores leak no tensors, also with clipping and AdamW's decay in the fused pass.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { losses, NonFiniteLossError, train } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { mlpDiscriminator, mlpGenerator, ringBatches, rng } from './fixtures.js';

/** A generator with batch normalization: its moving statistics are non-trainable state. */
function batchNormGenerator(seed: number): tfl.LayersModel {
  const model = tfl.sequential();
  model.add(tfl.layers.dense({ units: 8, inputShape: [2], kernelInitializer: tfl.initializers.glorotUniform({ seed }) }));
  model.add(tfl.layers.batchNormalization());
  model.add(tfl.layers.activation({ activation: 'relu' }));
  model.add(tfl.layers.dense({ units: 2, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) }));
  return model;
}

/** Every value of the trainer's state: both networks (all weights), EMA, both optimizers. */
async function stateOf(trainer: train.AdversarialTrainer, optimizers: tf.Optimizer[]): Promise<number[][]> {
  const out: number[][] = [];
  for (const net of [trainer.generator, trainer.discriminator] as tfl.LayersModel[])
    for (const w of net.getWeights()) out.push(Array.from(await w.data()));
  for (const w of trainer.emaWeights ?? []) out.push(Array.from(await w.data()));
  for (const o of optimizers) {
    const weights = await o.getWeights();
    for (const w of weights) out.push(Array.from(await w.tensor.data()));
    tf.dispose(weights.filter((w) => !(w.tensor instanceof tf.Variable)).map((w) => w.tensor));
  }
  return out;
}

/** A callback that records the whole state after every applied step. */
function recorder(
  trainer: () => train.AdversarialTrainer,
  optimizers: tf.Optimizer[],
): { callback: train.Callback; last: () => number[][] | undefined } {
  let last: number[][] | undefined;
  return {
    callback: {
      async onStepEnd() {
        last = await stateOf(trainer(), optimizers);
      },
    },
    last: () => last,
  };
}

const allFinite = (state: number[][]) => state.every((a) => a.every(Number.isFinite));

describe.each(TEST_BACKENDS)('rollback on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  it('sgd with a huge learning rate: a step with finite losses writes NaN weights and batch-norm statistics → NonFiniteLossError, state of the last good step kept', async () => {
    // Learning rates found by trying: with them the run reaches a step whose losses are finite
    // (batch normalization rescales the huge activations) while the generator's kernel and
    // moving statistics become NaN; without the state check, the next step's NaN loss rolled
    // back to that NaN state and this test fails.
    const optimizers = [tf.train.sgd(backend === 'cpu' ? 1e20 : 1e38), tf.train.sgd(1e-2)];
    const trainer = new train.AdversarialTrainer({
      generator: batchNormGenerator(1),
      discriminator: mlpDiscriminator(2, 8, 2),
      loss: losses.gan.nonSaturating,
      generatorOptimizer: optimizers[0]!,
      discriminatorOptimizer: optimizers[1]!,
      ema: 0.9,
      seed: 3,
    });
    const initial = await stateOf(trainer, optimizers);
    const rec = recorder(() => trainer, optimizers);
    const batches = ringBatches(4, 16, 0.05, 1);
    const error = await trainer.fit(batches, { epochs: 20, callbacks: [rec.callback] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NonFiniteLossError);
    const e = error as NonFiniteLossError;
    const after = await stateOf(trainer, optimizers);
    // Before this fix the run went on with finite losses and an infinite moving variance; now
    // the step that wrote it is refused, whether its losses were finite (variable named) or not.
    expect(allFinite(after)).toBe(true);
    expect(after).toEqual(rec.last() ?? initial);
    expect(e.step).toBe(trainer.step);
    expect(e.variable).toBeDefined();
    expect(e.message).toMatch(
      /the losses were finite but '.+' became NaN or ±Infinity at step \d+; the weights of the last good step were kept/,
    );
    tf.dispose(batches);
    trainer.dispose();
  });

  it('adam(1e39) for the generator: the first step writes non-finite weights → refused, initial state kept (no optimizer slots left)', async () => {
    const optimizers = [tf.train.adam(1e39), tf.train.adam(1e-3)];
    const trainer = new train.AdversarialTrainer({
      generator: mlpGenerator(2, 2, 8, 1),
      discriminator: mlpDiscriminator(2, 8, 2),
      loss: losses.gan.nonSaturating,
      generatorOptimizer: optimizers[0]!,
      discriminatorOptimizer: optimizers[1]!,
      seed: 3,
    });
    const initial = await stateOf(trainer, optimizers);
    const batches = ringBatches(2, 16, 0.05, 1);
    // 1e39 is Infinity in float32: the first update makes the generator's weights NaN while
    // the losses (computed before the update) are finite.
    await expect(trainer.fit(batches, { steps: 3 })).rejects.toThrow(
      /the losses were finite but 'generator(Optimizer)?\/.+' became NaN or ±Infinity at step 0/,
    );
    expect(await stateOf(trainer, optimizers)).toEqual(initial);
    expect(trainer.step).toBe(0);
    tf.dispose(batches);
  });

  it('fusedAdam: a gradient whose square overflows makes only the second moment Infinity (finite loss and weights) → refused, state of the last good step kept', async () => {
    // loss = g·Σw with g = 1e20 (finite, |Σw| small): the gradient is g for every weight, and
    // v' = g²·(1 − β2) = +Infinity in float32 while m' = 0.1·g and w' = w − lr·(m'/c1)/(√v' + ε) = w
    // stay finite. On wasm the fused kernel reports it (its outputs are not marked finite); on
    // cpu (tf.train.adam's operations) the scan finds it.
    const w = tf.variable(tf.tensor1d([0.5, -0.25, 0.125]));
    const g = tf.scalar(1e20);
    const model = { apply: (x: tf.Tensor | tf.Tensor[]) => x, trainableWeights: [w] };
    const optimizer = train.fusedAdam({ learningRate: 1e-3 });
    const trainer = new train.ModelTrainer({ models: { model }, optimizer, loss: () => ({ linear: tf.mul(g, tf.sum(w)) as tf.Scalar }) });
    const x = tf.zeros([2, 1]);
    await expect(trainer.fit([x], { steps: 1 })).rejects.toThrow(
      /the losses were finite but 'optimizer\/.+\/v' became NaN or ±Infinity at step 0; the weights of the last good step were kept/,
    );
    expect(Array.from(await w.data())).toEqual([0.5, -0.25, 0.125]);
    expect(trainer.step).toBe(0);
    const slots = await optimizer.getWeights();
    expect(slots.length).toBe(1); // the iteration counter only: the slots made by the refused step are gone
    tf.dispose([w, g, x, slots[0]!.tensor]);
    optimizer.dispose();
  });

  it("onNonFinite 'skip': 50 skipped steps (NaN batches between good ones) leak nothing and keep the good steps' state", async () => {
    const optimizers = [tf.train.adam(1e-3), tf.train.adam(1e-3)];
    const trainer = new train.AdversarialTrainer({
      generator: batchNormGenerator(1),
      discriminator: mlpDiscriminator(2, 8, 2),
      loss: losses.gan.nonSaturating,
      generatorOptimizer: optimizers[0]!,
      discriminatorOptimizer: optimizers[1]!,
      ema: 0.9,
      onNonFinite: 'skip',
      seed: 3,
    });
    const good = ringBatches(2, 8, 0.05, 1);
    const bad = tf.fill([8, 2], Number.NaN);
    await trainer.fit([good[0]!], { epochs: 1 }); // warm-up: optimizer slots exist
    const rec = recorder(() => trainer, optimizers);
    const before = tf.memory().numTensors;
    // 100 batches alternating bad, good: 50 skipped steps, never 10 in a row.
    const source = Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? bad : good[1]!));
    let applied = 0;
    const count: train.Callback = {
      onStepEnd() {
        applied++;
      },
    };
    await trainer.fit(source, { epochs: 2, callbacks: [count] });
    expect({ skipped: trainer.skippedSteps, applied }).toEqual({ skipped: 50, applied: 50 });
    expect(tf.memory().numTensors).toBe(before);
    // One more epoch: a good step (recorded), then a bad one: the state is the good step's.
    await trainer.fit([good[1]!, bad], { epochs: 3, callbacks: [rec.callback] });
    const last = await stateOf(trainer, optimizers);
    expect(trainer.skippedSteps).toBe(51);
    expect(allFinite(last)).toBe(true);
    expect(last).toEqual(rec.last());
    tf.dispose([...good, bad]);
    trainer.dispose();
  });

  it("ModelTrainer with clipNorm and train.adamW (clipping and decay in the fused pass), onNonFinite 'skip': NaN batches leave weights, m and v at the last good step's, leaking nothing", async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({
          units: 16,
          activation: 'tanh',
          inputShape: [6],
          kernelInitializer: tfl.initializers.glorotUniform({ seed: 5 }),
        }),
        tfl.layers.dense({ units: 3, kernelInitializer: tfl.initializers.glorotUniform({ seed: 6 }) }),
      ],
    });
    const random = rng(7);
    const good = tf.tensor2d(
      Array.from({ length: 8 * 6 }, () => 4 * random() - 2),
      [8, 6],
    );
    const y = tf.tensor2d(
      Array.from({ length: 8 * 3 }, () => 10 * random()),
      [8, 3],
    );
    const bad = tf.fill([8, 6], Number.NaN);
    const optimizer = train.adamW({ learningRate: 0.01, weightDecay: 0.1 });
    const trainer = new train.ModelTrainer({
      models: { net: model },
      optimizer,
      loss: (batch, { models }) => ({ loss: tf.losses.meanSquaredError(y, models.net.apply(batch.x) as tf.Tensor) as tf.Scalar }),
      // The targets are about 5 away: the norm is above 0.5 and every good step is clipped.
      clipNorm: 0.5,
      onNonFinite: 'skip',
      seed: 3,
    });
    /** The model's weights, then the optimizer's state (iterations, every m, every v), by name. */
    const stateOfModel = async (): Promise<Array<[string, number[]]>> => {
      const out: Array<[string, number[]]> = [];
      for (const w of model.weights) out.push([w.name, Array.from(await w.read().data())]);
      const slots = await optimizer.getWeights();
      for (const { name, tensor } of slots) out.push([name, Array.from(await tensor.data())]);
      tf.dispose(slots.filter((w) => !(w.tensor instanceof tf.Variable)).map((w) => w.tensor));
      return out;
    };
    let last: Array<[string, number[]]> | undefined;
    let lastNorm = Number.NaN;
    const record: train.Callback = {
      async onStepEnd(_step, logs) {
        last = await stateOfModel();
        lastNorm = logs['gradientNorm']!;
      },
    };
    await trainer.fit([good], { epochs: 1, callbacks: [record] }); // warm-up: the optimizer slots exist
    const initial = await stateOfModel();
    expect(initial.filter(([name]) => /\/(m|v)$/.test(name))).toHaveLength(8); // m and v of 2 kernels and 2 biases
    expect(lastNorm).toBeGreaterThan(0.5);
    const before = tf.memory().numTensors;
    // Three NaN batches: each step is skipped; nothing changes and nothing leaks.
    await trainer.fit([bad, bad, bad], { epochs: 2 });
    expect(trainer.skippedSteps).toBe(3);
    expect(tf.memory().numTensors).toBe(before);
    expect(await stateOfModel()).toEqual(initial);
    // A good step (recorded), then a NaN one: the state is the good step's, and it moved.
    await trainer.fit([good, bad], { epochs: 3, callbacks: [record] });
    expect(trainer.skippedSteps).toBe(4);
    const after = await stateOfModel();
    expect(after).toEqual(last);
    expect(after).not.toEqual(initial);
    expect(after.every(([, values]) => values.every(Number.isFinite))).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([good, y, bad]);
    trainer.dispose();
    model.dispose();
    optimizer.dispose();
  });
});
