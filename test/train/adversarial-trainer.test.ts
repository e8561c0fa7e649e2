/**
 * train.AdversarialTrainer: determinism, EMA, non-finite handling, validation, yielding,
 * conditioning and callbacks.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { losses, NonFiniteLossError, train } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { expectClose, values } from '../helpers/memory.js';
import { mlpDiscriminator, mlpGenerator, ringBatches } from './fixtures.js';

function make(overrides: Partial<train.AdversarialTrainerConfig> = {}): train.AdversarialTrainer {
  return new train.AdversarialTrainer({
    generator: mlpGenerator(2, 2, 8, 1),
    discriminator: mlpDiscriminator(2, 8, 2),
    loss: losses.gan.nonSaturating,
    generatorOptimizer: tf.train.adam(1e-2),
    discriminatorOptimizer: tf.train.adam(1e-2),
    seed: 7,
    ...overrides,
  });
}

const weightsOf = (m: tfl.LayersModel) => m.getWeights().map((w) => values(w));

describe.each(TEST_BACKENDS)('train.AdversarialTrainer on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  it('gives identical losses for the first 20 steps with the same seed, different ones with another seed', async () => {
    const batches = ringBatches(5, 16, 0.05, 1);
    const run = async (seed: number) => {
      const h = train.history();
      await make({ seed, penalty: losses.gan.gradientPenalty, loss: losses.gan.wasserstein, discriminatorSteps: 2 }).fit(batches, {
        steps: 20,
        callbacks: [h],
      });
      return h.toJSON();
    };
    const a = await run(7);
    const b = await run(7);
    const c = await run(8);
    expect(a['discriminator']).toHaveLength(20);
    expect(b).toEqual(a);
    expect(c['generator']).not.toEqual(a['generator']);
  });

  it('keeps an EMA of the generator (ema ← d·ema + (1−d)·w) and samples with it', async () => {
    const decay = 0.9;
    const trainer = make({ ema: decay });
    const G = trainer.generator as tfl.LayersModel;
    const before = weightsOf(G);
    await trainer.fit(ringBatches(1, 16, 0.05, 2), { steps: 1 });
    const after = weightsOf(G);
    // One update from ema₀ = w₀: ema₁ = d·w₀ + (1 − d)·w₁ (the averaging formula, in float64).
    trainer.emaWeights!.forEach((v, i) =>
      expectClose(
        values(v),
        before[i]!.map((w0, j) => decay * w0 + (1 - decay) * after[i]![j]!),
        1e-5,
        1e-6,
      ),
    );
    const noise = tf.randomNormal([5, 2], 0, 1, 'float32', 3);
    const sampled = values(await trainer.sample(noise));
    // The same generator with the EMA weights set by hand.
    const copy = mlpGenerator(2, 2, 8, 1);
    copy.setWeights(trainer.emaWeights!.map((v) => v.clone()));
    expectClose(sampled, values(copy.predict(noise) as tf.Tensor), 1e-5);
    // Sampling put the training weights back.
    expect(weightsOf(G)).toEqual(after);
    trainer.dispose();
  });

  it("stops on a non-finite loss with an error naming step, loss and value, keeping the last good step's weights", async () => {
    const trainer = make();
    const good = ringBatches(3, 16, 0.05, 3);
    await trainer.fit(good, { steps: 3 });
    const D = trainer.discriminator as tfl.LayersModel;
    const G = trainer.generator as tfl.LayersModel;
    const [dBefore, gBefore] = [weightsOf(D), weightsOf(G)];
    const bad = tf.fill([16, 2], Number.NaN) as tf.Tensor2D;
    const error = await trainer.fit([bad], { steps: 4 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonFiniteLossError);
    expect((error as Error).message).toMatch(
      /^train\.AdversarialTrainer: loss 'discriminator' is NaN at step 3; the weights of the last good step were kept/,
    );
    expect((error as NonFiniteLossError).step).toBe(3);
    expect(weightsOf(D)).toEqual(dBefore);
    expect(weightsOf(G)).toEqual(gBefore);
    expect(trainer.step).toBe(3);
  });

  it("with onNonFinite: 'skip' discards the step (weights and optimizer state) and counts it", async () => {
    const trainer = make({ onNonFinite: 'skip' });
    const good = ringBatches(2, 16, 0.05, 3);
    const bad = tf.fill([16, 2], Number.NaN) as tf.Tensor2D;
    const D = trainer.discriminator as tfl.LayersModel;
    let afterTwo: number[][] = [];
    await trainer.fit([...good, bad], { epochs: 1, callbacks: [{ onStepEnd: (s) => void (s === 2 && (afterTwo = weightsOf(D))) }] });
    expect(trainer.skippedSteps).toBe(1);
    expect(trainer.step).toBe(2);
    expect(weightsOf(D)).toEqual(afterTwo);
    // A NaN left in Adam's moments would make every later step NaN too.
    const h = train.history();
    await trainer.fit(good, { steps: 6, callbacks: [h] });
    expect(h.toJSON()['discriminator']!.length).toBe(4);
    expect(h.toJSON()['discriminator']!.every(Number.isFinite)).toBe(true);
    expect(trainer.skippedSteps).toBe(1);
  });

  it("with onNonFinite: 'skip' restores both optimizers' state exactly, mid-fit and again on the next skip", async () => {
    const gOpt = tf.train.adam(1e-2);
    const dOpt = tf.train.adam(1e-2);
    const trainer = make({ onNonFinite: 'skip', generatorOptimizer: gOpt, discriminatorOptimizer: dOpt });
    const good = ringBatches(2, 16, 0.05, 7);
    const bad = tf.fill([16, 2], Number.NaN) as tf.Tensor2D;
    const stateOf = async () =>
      Promise.all([...(await gOpt.getWeights()), ...(await dOpt.getWeights())].map(async (w) => Array.from(await w.tensor.data())));
    const seen: number[][][] = [];
    // Steps: good, good, bad (skipped), good, bad (skipped): the optimizer state read after each
    // applied step must be what the next skipped step leaves.
    await trainer.fit([good[0]!, good[1]!, bad, good[0]!, bad], {
      epochs: 1,
      callbacks: [{ onStepEnd: async () => void seen.push(await stateOf()) }],
    });
    expect(trainer.skippedSteps).toBe(2);
    expect(trainer.step).toBe(3);
    expect(await stateOf()).toEqual(seen[2]);
    expect(gOpt.iterations).toBe(3);
    expect(dOpt.iterations).toBe(3);
  });

  it("with onNonFinite: 'skip' gives up after 10 skipped steps in a row", async () => {
    const bad = tf.fill([16, 2], Number.NaN) as tf.Tensor2D;
    await expect(make({ onNonFinite: 'skip' }).fit([bad], { steps: 1 })).rejects.toThrow(/loss 'discriminator' is NaN at step 0/);
  });

  /** Macrotasks that ran while `work` did: a `setImmediate` chain counting its turns. */
  async function macrotasksDuring(work: () => Promise<unknown>): Promise<number> {
    let ticks = 0;
    let running = true;
    const tick = () => {
      ticks++;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    await work();
    running = false;
    return ticks;
  }

  it('yields to the event loop between steps (every step with yieldIntervalMs: 0)', async () => {
    const ticks = await macrotasksDuring(() => make().fit(ringBatches(2, 8, 0.05, 4), { steps: 20, yieldIntervalMs: 0 }));
    expect(ticks).toBeGreaterThanOrEqual(19);
  });

  it('never yields within a fit with yieldIntervalMs: Infinity, and rejects a negative or NaN interval', async () => {
    // Array batches are read synchronously: with no yield, no macrotask runs until fit returns.
    const ticks = await macrotasksDuring(() =>
      make().fit(ringBatches(2, 8, 0.05, 4), { steps: 20, yieldIntervalMs: Number.POSITIVE_INFINITY }),
    );
    expect(ticks).toBe(0);
    await expect(make().fit(ringBatches(1, 8, 0.05, 4), { steps: 1, yieldIntervalMs: -1 })).rejects.toThrow(
      /options\.yieldIntervalMs.*>= 0/,
    );
    await expect(make().fit(ringBatches(1, 8, 0.05, 4), { steps: 1, yieldIntervalMs: Number.NaN })).rejects.toThrow(
      /options\.yieldIntervalMs/,
    );
  });

  it('trains a conditional pair, feeding the batch labels to both networks', async () => {
    const conditionalNet = (inDim: number, outDim: number) => {
      const x = tfl.input({ shape: [inDim] });
      const label = tfl.input({ shape: [1] });
      const h = tfl.layers.dense({ units: 8, activation: 'relu' }).apply(tfl.layers.concatenate().apply([x, label])) as tfl.SymbolicTensor;
      return tfl.model({ inputs: [x, label], outputs: tfl.layers.dense({ units: outDim }).apply(h) as tfl.SymbolicTensor });
    };
    const trainer = make({ generator: conditionalNet(2, 2), discriminator: conditionalNet(2, 1) });
    expect(trainer.conditional).toBe(true);
    const x = ringBatches(1, 8, 0.05, 5)[0]!;
    const y = tf.tensor2d([0, 1, 0, 1, 0, 1, 0, 1], [8, 1]);
    const result = await trainer.fit([{ x, y }], { steps: 3 });
    expect(result.step).toBe(3);
    await expect(trainer.fit([x], { steps: 4 })).rejects.toThrow(/argument 'batch\.y' must hold labels \(the networks are conditional\)/);
    expect((await trainer.sample(4, { labels: tf.tensor2d([0, 1, 0, 1], [4, 1]) })).shape).toEqual([4, 2]);
  });
});

describe('train.AdversarialTrainer validation (before the first step)', () => {
  beforeAll(async () => {
    await useTestBackend('cpu');
  });

  it('rejects a generator with no trainable weights', () => {
    const generator = mlpGenerator(2, 2, 8, 1);
    generator.trainable = false;
    expect(() => make({ generator })).toThrow(
      /^train\.AdversarialTrainer: argument 'config\.generator' must have trainable weights, received a network with none\. Build the generator/,
    );
  });

  it('rejects one optimizer shared by the generator and the discriminator', () => {
    const optimizer = tf.train.adam(1e-3);
    expect(() => make({ generatorOptimizer: optimizer, discriminatorOptimizer: optimizer })).toThrow(
      /argument 'config\.discriminatorOptimizer' must be a different optimizer object from generatorOptimizer, received the same object\. An optimizer keeps per-variable state/,
    );
  });

  it("rejects a discriminator whose input shape is not the generator's output shape", () => {
    expect(() => make({ discriminator: mlpDiscriminator(3, 8, 2) })).toThrow(
      /argument 'config\.discriminator' must take the generator's output shape \[null,2\] as input, received a discriminator with input shape \[null,3\]\. Build both networks for the same data shape/,
    );
  });

  it('rejects a batch of the wrong rank before any step runs', async () => {
    const trainer = make();
    const weights = weightsOf(trainer.discriminator as tfl.LayersModel);
    await expect(trainer.fit([tf.ones([8, 2, 1])], { steps: 1 })).rejects.toThrow(
      /^train\.AdversarialTrainer\.fit: argument 'batch\.x' must have the discriminator's input shape \[null,2\], received shape \[8,2,1\]\. Reshape the examples to rank 2/,
    );
    expect(trainer.step).toBe(0);
    expect(weightsOf(trainer.discriminator as tfl.LayersModel)).toEqual(weights);
  });

  it('asks for latentDim when the generator has no symbolic input shape', () => {
    const G = mlpGenerator(2, 2, 8, 1);
    const custom: train.Network = { apply: (x, k) => G.apply(x, k), trainableWeights: G.trainableWeights };
    expect(() => make({ generator: custom })).toThrow(
      /argument 'config\.latentDim' must be given when the generator has no input shape \[null, latentDim\]/,
    );
    expect(make({ generator: custom, latentDim: 2 }).latentDim).toBe(2);
  });

  it('rejects batches that are not batches, and a one-shot generator used for two epochs', async () => {
    await expect(make().fit(tf.ones([8, 2]) as never)).rejects.toThrow(
      /argument 'batches' must be an array of batches, a tf\.data\.Dataset or an \(async\) iterable of batches, received float32 tensor of shape \[8,2\]\. Wrap a single tensor/,
    );
    const once = (function* () {
      yield tf.ones([8, 2]);
    })();
    await expect(make().fit(once, { epochs: 2 })).rejects.toThrow(
      /must yield at least one batch in every epoch \(epoch 1 was empty\).*A generator can be iterated only once/,
    );
  });
});

describe('train.AdversarialTrainer callbacks', () => {
  beforeAll(async () => {
    await useTestBackend('cpu');
  });

  it('calls the hooks in order with counted steps and epoch means, and stop() ends the run', async () => {
    const events: string[] = [];
    const seen: train.Logs[] = [];
    const trainer = make();
    const result = await trainer.fit(ringBatches(3, 8, 0.05, 6), {
      epochs: 5,
      callbacks: [
        {
          onTrainBegin: (_logs, c) => void events.push(`begin total=${c.totalSteps}`),
          onEpochBegin: (e) => void events.push(`epoch ${e}`),
          onStepEnd: (s, logs, c) => {
            events.push(`step ${s}`);
            seen.push(logs);
            if (s === 4) c.stop();
          },
          onEpochEnd: (e, logs) => {
            events.push(`end ${e}`);
            // The epoch's logs are the mean of its steps' logs.
            expectClose(logs['generator']!, (seen[0]!['generator']! + seen[1]!['generator']! + seen[2]!['generator']!) / 3, 1e-6);
          },
          onTrainEnd: () => void events.push('finish'),
        },
      ],
    });
    expect(events).toEqual(['begin total=15', 'epoch 0', 'step 1', 'step 2', 'step 3', 'end 0', 'epoch 1', 'step 4', 'finish']);
    expect(result).toMatchObject({ step: 4, epoch: 1, stopped: true });
    // A later fit continues the interrupted epoch from its second batch.
    expect(trainer.batchInEpoch).toBe(1);
  });

  it('history keeps curves and writes JSON and CSV; earlyStop stops after patience checks', async () => {
    const h = train.history();
    const stop = train.earlyStop({ monitor: 'constant', patience: 2, on: 'step' });
    const constant: train.Callback = { onStepEnd: (_s, logs) => void (logs['constant'] = 1) };
    await make().fit(ringBatches(4, 8, 0.05, 6), { steps: 10, callbacks: [constant, h, stop] });
    // First check sets best = 1, two checks without improvement then stop: 3 steps.
    expect(h.steps).toEqual([1, 2, 3]);
    expect(stop.stopped).toBe(true);
    const csv = h.toCSV().trim().split('\n');
    expect(csv[0]).toBe('step,discriminator,generator,constant');
    expect(csv).toHaveLength(4);
    expect(csv[1]!.split(',')[1]).toBe(String(h.series()['discriminator']![0]));
  });

  it('sampleGrid hands comparable grids from fixed noise to write, and disposes them', async () => {
    const grids: number[][] = [];
    const infos: train.SampleGridInfo[] = [];
    const trainer = make({ generatorOptimizer: tf.train.sgd(0), discriminatorOptimizer: tf.train.sgd(0) });
    await trainer.fit(ringBatches(2, 8, 0.05, 6), {
      steps: 4,
      callbacks: [train.sampleGrid({ every: 2, count: 3, seed: 5, write: (g, info) => void (grids.push(values(g)), infos.push(info)) })],
    });
    // Steps 2 and 4 end before their epoch is counted (2 batches per epoch); the run stops inside epoch 1.
    expect(infos).toEqual([
      { step: 2, epoch: 0, final: false },
      { step: 4, epoch: 1, final: false },
      { step: 4, epoch: 1, final: true },
    ]);
    // Learning rate 0: the generator does not change, so grids from the same noise are equal.
    expect(grids[1]).toEqual(grids[0]);
    expect(grids[0]).toHaveLength(6);
  });

  it('stops when the signal aborts, and refuses a second concurrent fit', async () => {
    const controller = new AbortController();
    const trainer = make();
    const batches = ringBatches(3, 8, 0.05, 6);
    const running = trainer.fit(batches, {
      steps: 50,
      callbacks: [{ onStepEnd: (s) => void (s === 2 && controller.abort()) }],
      signal: controller.signal,
    });
    await expect(trainer.fit(batches, { steps: 1 })).rejects.toThrow(
      /train\.AdversarialTrainer\.fit: argument 'this' must not be training already.*Await the first fit\(\)/,
    );
    expect(await running).toMatchObject({ step: 2, stopped: true });
  });

  it('progressBar runs without a terminal', async () => {
    const chunks: string[] = [];
    const stream: train.ProgressStream = { write: (s: string) => chunks.push(s), isTTY: false };
    await make().fit(ringBatches(2, 8, 0.05, 6), { steps: 3, callbacks: [train.progressBar({ stream })] });
    expect(chunks.join('')).toMatch(/step 3\/3/);
  });
});
