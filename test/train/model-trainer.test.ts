/**
 * train.ModelTrainer: one step against hand-computed SGD updates (weights, clipping, groups),
 * a user-defined classifier (with EMA and gradient clipping) trained, resumed bit for bit and
 * leak-free over 1,000 steps, and invalid configs.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { train } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { expectClose, values } from '../helpers/memory.js';
import { rng } from './fixtures.js';

/** y = w·x with w initialised to `w0` (one weight, no bias). */
function scalarModel(w0: number): tfl.LayersModel {
  return tfl.sequential({ layers: [tfl.layers.dense({ units: 1, inputShape: [1], useBias: false, kernelInitializer: tfl.initializers.constant({ value: w0 }) })] });
}

const weightOf = (m: tfl.LayersModel) => values(m.getWeights()[0]!)[0]!;

function memoryStore(): train.CheckpointStore {
  const saved = new Map<string, train.Checkpoint>();
  return {
    save: async (name, c) => void saved.set(name, c),
    load: async (name) => saved.get(name ?? [...saved.keys()].pop()!),
    list: async () => [...saved.keys()],
    delete: async (name) => void saved.delete(name),
  };
}

/** A 4 → 8 → 3 classifier with seeded initial weights. */
function classifier(seed: number): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({ units: 8, activation: 'relu', inputShape: [4], kernelInitializer: tfl.initializers.glorotUniform({ seed }) }),
      tfl.layers.dense({ units: 3, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
}

/** The user-defined trainer of the test: cross-entropy with seeded input noise, accuracy logged. */
function classifierTrainer(seed: number) {
  const net = classifier(seed);
  const trainer = new train.ModelTrainer({
    models: { classifier: net },
    optimizer: tf.train.adam(1e-2),
    loss: ({ x, y }, { models, seed: streamSeed, log }) => {
      const noisy = tf.add(x, tf.randomNormal(x.shape, 0, 0.1, 'float32', streamSeed('input noise')));
      const logits = models.classifier.apply(noisy, { training: true }) as tf.Tensor2D;
      log('accuracy', tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), y!), 'float32')) as tf.Scalar);
      return { crossEntropy: tf.losses.softmaxCrossEntropy(tf.oneHot(y as tf.Tensor1D, 3), logits) as tf.Scalar };
    },
    ema: { decay: 0.9, warmup: true },
    clipNorm: 1,
    seed: 5,
  });
  return { net, trainer };
}

/** Three separable classes in 4-D: class k has mean 2·e_k. */
function classBatches(count: number, size: number, seed: number): { x: tf.Tensor2D; y: tf.Tensor1D }[] {
  const r = rng(seed);
  return Array.from({ length: count }, () => {
    const labels = Array.from({ length: size }, () => Math.floor(r() * 3));
    const x = labels.flatMap((k) => [0, 1, 2, 3].map((d) => (d === k ? 2 : 0) + 0.3 * (r() - 0.5)));
    return { x: tf.tensor2d(x, [size, 4]), y: tf.tensor1d(labels, 'int32') };
  });
}

describe('train.ModelTrainer: one step by hand', () => {
  beforeAll(async () => {
    await useTestBackend('cpu');
  });

  // x = [1, 2], target 0, w = 2: mse = mean((2·1)², (2·2)²) = (4 + 16)/2 = 10,
  // d mse / dw = mean(2·w·x·x) = (2·2·1·1 + 2·2·2·2)/2 = 10.
  let batch: { x: tf.Tensor2D };
  beforeAll(() => {
    batch = { x: tf.tensor2d([[1], [2]]) };
  });
  const mse = (m: tfl.LayersModel, x: tf.Tensor) => tf.mean(tf.square(m.apply(x) as tf.Tensor)) as tf.Scalar;

  it('minimises the sum of the terms with the optimizer, and logs loss, each term and context.log', async () => {
    const model = scalarModel(2);
    const trainer = new train.ModelTrainer({
      models: { model },
      optimizer: tf.train.sgd(0.1),
      loss: ({ x }, { models, log }) => {
        log('twice', tf.mul(2, mse(models.model, x)) as tf.Scalar);
        return { mse: mse(models.model, x), constant: tf.scalar(1) };
      },
    });
    const { logs } = await trainer.fit([batch], { steps: 1 });
    // loss = 10 + 1; w ← 2 − 0.1 · 10 = 1.
    expect(logs).toEqual({ loss: 11, mse: 10, constant: 1, twice: 20 });
    expectClose(weightOf(model), 1);
  });

  it('weights terms with lossWeights (numbers and schedules) and clips to clipNorm', async () => {
    const model = scalarModel(2);
    const trainer = new train.ModelTrainer({ models: { model }, optimizer: tf.train.sgd(0.1), loss: ({ x }, { models }) => ({ mse: mse(models.model, x) }), lossWeights: { mse: 0.5 } });
    const { logs } = await trainer.fit([batch], { steps: 1 });
    // loss = 0.5 · 10, gradient 0.5 · 10 = 5: w ← 2 − 0.1 · 5 = 1.5.
    expect(logs).toEqual({ loss: 5, mse: 10 });
    expectClose(weightOf(model), 1.5);

    const scheduled = scalarModel(2);
    const t2 = new train.ModelTrainer({ models: { scheduled }, optimizer: tf.train.sgd(0.1), loss: ({ x }, { models }) => ({ mse: mse(models.scheduled, x) }), lossWeights: { mse: (step) => step + 2 } });
    // step 0: weight 2, gradient 20: w ← 2 − 0.1 · 20 = 0.
    expect((await t2.fit([batch], { steps: 1 })).logs).toEqual({ loss: 20, mse: 10 });
    expectClose(weightOf(scheduled), 0);

    const clipped = scalarModel(2);
    const t3 = new train.ModelTrainer({ models: { clipped }, optimizer: tf.train.sgd(0.1), loss: ({ x }, { models }) => ({ loss: mse(models.clipped, x) }), clipNorm: 1 });
    // One term named 'loss' is logged once; the gradient 10 has norm 10, clipped to 1: w ← 2 − 0.1 · 1 = 1.9.
    expect((await t3.fit([batch], { steps: 1 })).logs).toEqual({ loss: 10, gradientNorm: 10 });
    expectClose(weightOf(clipped), 1.9);
  });

  it('updates each group of models with its own optimizer, and leaves models in no group alone', async () => {
    // term a = w_a², term b = w_b² at w = 1: gradients 2 and 2.
    const [a, b, frozen] = [scalarModel(1), scalarModel(1), scalarModel(1)];
    const one = tf.tensor2d([[1]]);
    const trainer = new train.ModelTrainer({
      models: { a, b, frozen },
      optimizers: { slow: { optimizer: tf.train.sgd(0.1), models: ['a'] }, fast: { optimizer: tf.train.sgd(1), models: ['b'] } },
      loss: (_batch, { models }) => ({
        a: tf.sum(tf.square(models.a.apply(one) as tf.Tensor)) as tf.Scalar,
        b: tf.sum(tf.square(models.b.apply(one) as tf.Tensor)) as tf.Scalar,
        frozen: tf.sum(tf.square(models.frozen.apply(one) as tf.Tensor)) as tf.Scalar,
      }),
    });
    await trainer.fit([batch], { steps: 1 });
    // w_a ← 1 − 0.1 · 2 = 0.8; w_b ← 1 − 1 · 2 = −1; frozen stays 1.
    expectClose([weightOf(a), weightOf(b), weightOf(frozen)], [0.8, -1, 1]);
    const names = (await trainer.checkpoint()).tensors.map((t) => t.name.split('/')[0]);
    expect([...new Set(names)]).toEqual(['a', 'b', 'frozen', 'slow', 'fast']);
  });

  it('samples with config.sample and refuses to sample without it', async () => {
    const model = scalarModel(3);
    const trainer = new train.ModelTrainer({
      models: { model },
      optimizer: tf.train.sgd(0.1),
      loss: ({ x }, { models }) => ({ mse: mse(models.model, x) }),
      sample: (n, { seed }, t) => t.models.model.apply(tf.randomNormal([n, 1], 0, 1, 'float32', seed)) as tf.Tensor,
      sampleRange: '[-1,1]',
    });
    const z = values(tf.randomNormal([4, 1], 0, 1, 'float32', 7));
    // The sampler's output is 3·z for the same seeded z.
    expectClose(values(await trainer.sample(4, { seed: 7 })), z.map((v) => 3 * v));
    expect(trainer.sampleRange).toBe('[-1,1]');
    const plain = new train.ModelTrainer({ models: { model }, optimizer: tf.train.sgd(0.1), loss: ({ x }, { models }) => ({ mse: mse(models.model, x) }) });
    await expect(plain.sample(2)).rejects.toThrow(/^train\.ModelTrainer\.sample: argument 'config\.sample' must be given to sample/);
    await expect(trainer.sample(2, { seeds: 1 } as never)).rejects.toThrow(/argument 'options\.seeds' must be one of the known options .* Did you mean 'seed'\?/);
  });

  it('rejects invalid configs and loss functions with messages that name the field', async () => {
    const model = scalarModel(1);
    const loss = ({ x }: train.TrainingBatch, { models }: train.ModelStepContext) => ({ mse: mse(models['model'] as tfl.LayersModel, x) });
    const sgd = tf.train.sgd(0.1);
    expect(() => new train.ModelTrainer({ models: { model }, loss } as never)).toThrow(/^train\.ModelTrainer: argument 'config\.optimizer' must be given, or config\.optimizers instead \(exactly one of the two\), received neither/);
    expect(() => new train.ModelTrainer({ models: { model }, loss, optimizer: sgd, clipnorm: 1 } as never)).toThrow(/argument 'config\.clipnorm' must be one of the known config fields .* Did you mean 'clipNorm'\?/);
    expect(() => new train.ModelTrainer({ models: { model }, optimizer: sgd })).toThrow(/argument 'config\.loss' must be a function \(batch, context\) => \{ \[term\]: Scalar \}, received undefined/);
    expect(() => new train.ModelTrainer({ models: {}, loss, optimizer: sgd })).toThrow(/argument 'config\.models' must be an object of models by name/);
    expect(() => new train.ModelTrainer({ models: { model }, loss, optimizers: { o: { optimizer: sgd, models: ['modle'] } } } as never)).toThrow(/argument 'config\.optimizers\.o\.models' must name models of config\.models \(model\), received 'modle'/);
    expect(() => new train.ModelTrainer({ models: { model }, loss, optimizer: sgd, clipNorm: 0 })).toThrow(/argument 'config\.clipNorm' must be a finite number > 0, received 0/);
    const typo = new train.ModelTrainer({ models: { model }, loss, optimizer: sgd, lossWeights: { mes: 2 } });
    await expect(typo.fit([batch], { steps: 1 })).rejects.toThrow(/argument 'config\.lossWeights\.mes' must name a term of config\.loss \(mse\), received an unknown term/);
    const notScalar = new train.ModelTrainer({ models: { model }, optimizer: sgd, loss: ({ x }, { models }) => ({ out: models['model']!.apply(x) as tf.Scalar }) });
    await expect(notScalar.fit([batch], { steps: 1 })).rejects.toThrow(/^train\.ModelTrainer\.fit: argument 'config\.loss' must return a float32 scalar for term 'out', received float32 tensor of shape \[2,1\]/);
    // Nothing was applied by the failed steps.
    expectClose(weightOf(model), 1);
  });
});

describe.each(TEST_BACKENDS)('train.ModelTrainer: a user-defined classifier on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  it('learns three separable classes, and 20 steps + checkpoint + new objects + resume + 20 steps = 40 straight, bit for bit', async () => {
    const batches = classBatches(7, 16, 3); // step 20 is mid-epoch: the resumed run skips 6 batches
    const straight = classifierTrainer(1);
    const h = train.history();
    await straight.trainer.fit(batches, { steps: 40, callbacks: [h] });
    // Chance is 1/3 (cross-entropy log 3 ≈ 1.10); separated classes are learnt within 40 steps.
    const accuracy = h.series()['accuracy']!;
    expect(accuracy.slice(-7).every((a) => a > 0.9)).toBe(true);
    expect(h.series()['crossEntropy']![39]).toBeLessThan(0.5);

    const store = memoryStore();
    const first = classifierTrainer(1);
    await first.trainer.fit(batches, { steps: 20, callbacks: [train.checkpoint({ store, every: 1000 })] });
    const resumed = classifierTrainer(2); // other initial weights: everything must come from the checkpoint
    expect(await resumed.trainer.resume(store)).toBe(true);
    await resumed.trainer.fit(batches, { steps: 40 });
    expect(resumed.net.getWeights().map(values)).toEqual(straight.net.getWeights().map(values));
    expect(resumed.trainer.ema!.variables.map(values)).toEqual(straight.trainer.ema!.variables.map(values));
    expect([resumed.trainer.step, resumed.trainer.epoch, resumed.trainer.batchInEpoch]).toEqual([40, 5, 5]);
    tf.dispose(batches.flatMap((b) => [b.x, b.y]));
  });

  it('leaves numTensors where the first step left it over 1,000 steps', async () => {
    const batches = classBatches(4, 8, 9);
    const { trainer } = classifierTrainer(3);
    const counts: number[] = [];
    const count = { onStepEnd: (step: number) => void ((step === 1 || step === 1000) && counts.push(tf.memory().numTensors)) };
    // Keras-style hooks and a tf.CustomCallback ride along: their logs must not hold tensors either.
    const keras = new tfl.CustomCallback({ onBatchEnd: async () => {}, onEpochEnd: async () => {} });
    await trainer.fit(batches, { steps: 1000, callbacks: [count, keras, train.history()] });
    expect(counts).toHaveLength(2);
    expect(counts[1]).toBe(counts[0]);
    tf.dispose(batches.flatMap((b) => [b.x, b.y]));
  });
});
