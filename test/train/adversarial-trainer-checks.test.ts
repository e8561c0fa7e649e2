/**
 * train.AdversarialTrainer's construction and batch checks (issue 17, item 11): the generator,
 * discriminator, labels and latent size must fit together before the first step; float,
 * out-of-range and missing labels, empty batches and unknown config keys fail with errors
 * naming the function, the argument, what was expected and what was received; labels and
 * InfoGAN codes are not read back synchronously at every step (at most once per tensor).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it, vi } from 'vitest';

import { ConfigError, DTypeError, losses, nets, ShapeError, train } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { mlpDiscriminator, mlpGenerator } from './fixtures.js';

const optimizers = () => ({ generatorOptimizer: tf.train.sgd(0.1), discriminatorOptimizer: tf.train.sgd(0.1) });
const conditionalG = (numClasses = 3) => nets.mlpGenerator({ latentDim: 2, outputShape: [2], widths: [4], numClasses });
const projectionD = (numClasses = 3) => nets.mlpDiscriminator({ inputShape: [2], widths: [4], head: 'projection', numClasses });
const acganD = (numClasses = 3) => nets.mlpDiscriminator({ inputShape: [2], widths: [4], head: 'acgan', numClasses });
/** An InfoGAN generator `[noise [null,2], code int32 [null,1]] → [null,2]` (code embedded, concatenated). */
const codeG = (categories: number) => {
  const z = tfl.input({ shape: [2] });
  const c = tfl.input({ shape: [1], dtype: 'int32' });
  const embedded = tfl.layers.flatten().apply(tfl.layers.embedding({ inputDim: categories, outputDim: 2 }).apply(c)) as tfl.SymbolicTensor;
  const joined = tfl.layers.concatenate().apply([z, embedded]) as tfl.SymbolicTensor;
  return tfl.model({ inputs: [z, c], outputs: tfl.layers.dense({ units: 2 }).apply(joined) as tfl.SymbolicTensor });
};
/** An InfoGAN discriminator `[null,2] → [logit [null,1], codeLogits [null,categories]]`. */
const codeD = (categories: number) => {
  const x = tfl.input({ shape: [2] });
  const features = tfl.layers.dense({ units: 4, activation: 'relu' }).apply(x) as tfl.SymbolicTensor;
  const heads = [tfl.layers.dense({ units: 1 }), tfl.layers.dense({ units: categories })].map(
    (d) => d.apply(features) as tfl.SymbolicTensor,
  );
  return tfl.model({ inputs: x, outputs: heads });
};
const make = (config: Partial<train.AdversarialTrainerConfig>) =>
  new train.AdversarialTrainer({
    generator: mlpGenerator(2, 2, 4, 1),
    discriminator: mlpDiscriminator(2, 4, 2),
    loss: losses.gan.nonSaturating,
    ...optimizers(),
    seed: 1,
    ...config,
  });

describe('train.AdversarialTrainer: networks, labels and latent size fit together', () => {
  beforeAll(async () => {
    await useTestBackend('cpu');
  });

  it('rejects a latentDim that is not the generator noise input, for one- and two-input generators', () => {
    expect(() => make({ latentDim: 3 })).toThrow(
      /^train\.AdversarialTrainer: argument 'config\.latentDim' must match the generator's noise input \[null,2\], received 3\. Leave latentDim out/,
    );
    expect(() => make({ generator: conditionalG(), discriminator: projectionD(), latentDim: 5 })).toThrow(
      /argument 'config\.latentDim' must match the generator's noise input \[null,2\], received 5/,
    );
    expect(make({ generator: conditionalG(), discriminator: projectionD(), latentDim: 2 }).latentDim).toBe(2);
  });

  it('rejects an unconditional generator with a conditional discriminator', () => {
    expect(() => make({ discriminator: projectionD() })).toThrow(
      /argument 'config\.discriminator' must take the sample alone, like the generator \(which takes no labels\), received a discriminator with 2 inputs \[x, label\]\. Give the generator the labels too/,
    );
    expect(() => make({ discriminator: projectionD(), conditional: true })).toThrow(
      /argument 'config\.generator' must take two inputs \[noise, label\] with config\.conditional, received a generator with 1 input/,
    );
  });

  it('rejects a conditional generator whose discriminator never sees the labels', () => {
    expect(() => make({ generator: conditionalG() })).toThrow(
      /argument 'config\.discriminator' must see the labels when the generator is conditional: a label input \(the projection head\) or an auxiliary classifier, received a discriminator with 1 input and 1 output\. Build it with head: 'projection'/,
    );
    // An AC-GAN head without the classifier terms would train the class logits on nothing.
    expect(() => make({ generator: conditionalG(), discriminator: acganD() })).toThrow(
      /received a discriminator with 1 input and 2 outputs\. Its two outputs look like an AC-GAN head: set config\.auxiliaryClassifier/,
    );
    expect(() => make({ generator: conditionalG(), discriminator: projectionD(), conditional: false })).toThrow(
      /argument 'config\.conditional' must be true \(or left out\) with a generator taking \[noise, label\], received false/,
    );
  });

  it('rejects networks that disagree on the number of classes', () => {
    expect(() => make({ generator: conditionalG(3), discriminator: projectionD(4) })).toThrow(
      /argument 'config\.discriminator' must agree on the number of classes with config\.generator \(3\), received 4 classes/,
    );
    expect(() => make({ generator: conditionalG(3), discriminator: acganD(3), auxiliaryClassifier: { numClasses: 3 } })).not.toThrow();
    const spectral = nets.mlpDiscriminator({ inputShape: [2], widths: [4], head: 'projection', numClasses: 5, spectralNorm: true });
    expect(() => make({ generator: conditionalG(3), discriminator: spectral })).toThrow(
      /must agree on the number of classes with config\.generator \(3\), received 5 classes/,
    );
  });

  it('rejects a label-conditional discriminator with an InfoGAN code', () => {
    expect(() => make({ generator: conditionalG(3), discriminator: projectionD(3), latentCode: { categories: 3 } })).toThrow(
      /argument 'config\.discriminator' must return \[logit, codeLogits \[null,3\]\] with latentCode/,
    );
  });

  it('rejects unknown config keys with the likely intended key', () => {
    expect(() => make({ discriminatorStep: 5 } as never)).toThrow(ConfigError);
    expect(() => make({ discriminatorStep: 5 } as never)).toThrow(
      /^train\.AdversarialTrainer: argument 'config\.discriminatorStep' must be one of the known config fields \(.*\), received an unknown key\. Did you mean 'discriminatorSteps'\?/,
    );
    expect(() => make({ emaDecay: 0.99 } as never)).toThrow(/argument 'config\.emaDecay'/);
  });
});

describe('train.AdversarialTrainer: batch labels and empty batches', () => {
  beforeAll(async () => {
    await useTestBackend('cpu');
  });
  const x = () => tf.randomNormal([4, 2], 0, 1, 'float32', 1);

  it('rejects float labels for an int32 label input, labels out of [0, numClasses) and a missing label batch, before any step', async () => {
    const trainer = make({ generator: conditionalG(3), discriminator: projectionD(3) });
    const error = await trainer.fit([{ x: x(), y: tf.tensor1d([0, 1, 2, 1]) }], { steps: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DTypeError);
    expect((error as Error).message).toMatch(
      /^train\.AdversarialTrainer\.fit: argument 'batch\.y' must be int32 class labels, received a float32 tensor\. Cast them with tf\.cast\(labels, 'int32'\)/,
    );
    await expect(trainer.fit([{ x: x(), y: tf.tensor1d([0, 1, 3, 1], 'int32') }], { steps: 1 })).rejects.toThrow(
      /argument 'batch\.y' must hold class labels in \[0, 3\), received a label 3/,
    );
    await expect(trainer.fit([{ x: x(), y: tf.tensor1d([0, -1, 2, 1], 'int32') }], { steps: 1 })).rejects.toThrow(
      /must hold class labels in \[0, 3\), received a label -1/,
    );
    expect(trainer.step).toBe(0);
    const result = await trainer.fit([{ x: x(), y: tf.tensor2d([0, 1, 2, 1], [4, 1], 'int32') }], { steps: 1 });
    expect(result.step).toBe(1);
  });

  it('checks AC-GAN labels against the classifier', async () => {
    const trainer = make({ generator: conditionalG(3), discriminator: acganD(3), auxiliaryClassifier: { numClasses: 3 } });
    await expect(trainer.fit([{ x: x(), y: tf.tensor1d([0, 1, 7, 1], 'int32') }], { steps: 1 })).rejects.toThrow(
      /argument 'batch\.y' must hold class labels in \[0, 3\), received a label 7/,
    );
  });

  it('accepts float labels when the networks declare a float label input (a continuous condition)', async () => {
    const net = (outDim: number) => {
      const input = tfl.input({ shape: [2] });
      const condition = tfl.input({ shape: [1] });
      const joined = tfl.layers.concatenate().apply([input, condition]) as tfl.SymbolicTensor;
      return tfl.model({ inputs: [input, condition], outputs: tfl.layers.dense({ units: outDim }).apply(joined) as tfl.SymbolicTensor });
    };
    const trainer = make({ generator: net(2), discriminator: net(1) });
    expect((await trainer.fit([{ x: x(), y: tf.tensor1d([0.5, 1.5, -2, 0]) }], { steps: 1 })).step).toBe(1);
    const out = train.adversarialStep(
      { generator: net(2), discriminator: net(1), loss: losses.gan.nonSaturating, ...optimizers() },
      { real: x(), noise: x(), labels: tf.tensor1d([0.5, 1.5, -2, 0]) },
    );
    expect(Object.keys(out).sort()).toEqual(['discriminator', 'generator']);
    // The same float labels for the builders' int32 label input are refused by the step too.
    expect(() =>
      train.adversarialStep(
        { generator: conditionalG(3), discriminator: projectionD(3), loss: losses.gan.nonSaturating, ...optimizers() },
        { real: x(), noise: x(), labels: tf.tensor1d([0.5, 1.5, -2, 0]) },
      ),
    ).toThrow(/train\.adversarialStep: argument 'inputs\.labels' must be int32 class labels, received a float32 tensor/);
  });

  it('rejects an empty batch with a ShapeError', async () => {
    const error = await make({})
      .fit([tf.zeros([0, 2])], { steps: 1 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShapeError);
    expect((error as Error).message).toMatch(
      /^train\.AdversarialTrainer\.fit: argument 'batch\.x' must hold at least one example, received an empty batch of shape \[0,2\]/,
    );
    expect(() =>
      train.adversarialStep(
        { generator: mlpGenerator(2, 2, 4, 1), discriminator: mlpDiscriminator(2, 4, 2), loss: losses.gan.nonSaturating, ...optimizers() },
        { real: tf.zeros([0, 2]), noise: tf.zeros([0, 2]) },
      ),
    ).toThrow(/train\.adversarialStep: argument 'inputs\.real' must hold at least one example, received an empty batch of shape \[0,2\]/);
  });
});

describe.each(TEST_BACKENDS)('train.AdversarialTrainer on %s: labels are checked without a synchronous read', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  /**
   * Counts synchronous reads while `f` runs: `dataSync`, `arraySync` and `bufferSync` all call
   * the engine's `readSync` (the backend's own `readSync` also serves cpu kernels and async
   * reads on cpu and wasm, so it is not counted).
   */
  async function syncReads(f: () => Promise<unknown> | void): Promise<number> {
    const spy = vi.spyOn(tf.engine(), 'readSync');
    try {
      await f();
      return spy.mock.calls.length;
    } finally {
      spy.mockRestore();
    }
  }
  const weightsOf = (trainer: train.AdversarialTrainer) =>
    [trainer.generator, trainer.discriminator].flatMap((net) => (net as tfl.LayersModel).getWeights()).map((w) => Array.from(w.dataSync()));

  it.each([
    ['projection', () => make({ generator: conditionalG(3), discriminator: projectionD(3) })],
    ['AC-GAN', () => make({ generator: conditionalG(3), discriminator: acganD(3), auxiliaryClassifier: { numClasses: 3 } })],
  ])('a %s step makes no synchronous read, and out-of-range labels still fail before any weight changes', async (_head, build) => {
    const trainer = build();
    const x = tf.randomNormal([4, 2], 0, 1, 'float32', 1);
    // A new labels tensor per batch, as data.batches gives: a per-tensor cache alone would read each one.
    const batches = () => [0, 1, 2].map((k) => ({ x, y: tf.tensor1d([k, 1, 2, 0], 'int32') }));
    await trainer.fit(batches(), { steps: 3 }); // burn-in: optimizer slots, kernels
    // The labels check used to read every batch's labels with dataSync: one read per step.
    const six = batches();
    const tensors = tf.memory().numTensors;
    expect(await syncReads(() => trainer.fit(six, { steps: 6 }))).toBe(0);
    expect(trainer.step).toBe(6);
    expect(tf.memory().numTensors, 'the clamped labels are freed with the step').toBe(tensors);

    const before = weightsOf(trainer);
    const bad = { x, y: tf.tensor1d([0, 1, 5, 2], 'int32') };
    await expect(trainer.fit([bad], { steps: 7 })).rejects.toThrow(
      /^train\.AdversarialTrainer\.fit: argument 'batch\.y' must hold class labels in \[0, 3\), received a label 5/,
    );
    expect(trainer.step).toBe(6);
    // The step ran (on clamped labels) and was rolled back: every weight is as after step 6.
    expect(weightsOf(trainer)).toEqual(before);
    await expect(trainer.fit([{ x, y: tf.tensor1d([0, 1, -2, 2], 'int32') }], { steps: 7 })).rejects.toThrow(/received a label -2/);
    expect(weightsOf(trainer)).toEqual(before);
    // And training goes on from there with good labels.
    expect((await trainer.fit(batches(), { steps: 7 })).step).toBe(7);
    expect(weightsOf(trainer)).not.toEqual(before);
    trainer.dispose();
  });

  it('adversarialStep reads a labels tensor once: a tensor found in range is not read again', async () => {
    const config = {
      generator: conditionalG(3),
      discriminator: acganD(3),
      loss: losses.gan.nonSaturating,
      auxiliaryClassifier: { numClasses: 3 },
      ...optimizers(),
    };
    const labels = tf.tensor1d([0, 1, 2, 1], 'int32');
    const inputs = { real: tf.randomNormal([4, 2], 0, 1, 'float32', 1), noise: tf.randomNormal([4, 2], 0, 1, 'float32', 2), labels };
    const step = () => tf.dispose(train.adversarialStep(config, inputs));
    step(); // burn-in, and the one read of these labels
    expect(await syncReads(() => (step(), step()))).toBe(0);
    // A tensor not seen before is read (the synchronous step has no later read to fold the check into).
    const fresh = () =>
      expect(() => train.adversarialStep(config, { ...inputs, labels: tf.tensor1d([0, 1, 3, 1], 'int32') })).toThrow(
        /^train\.adversarialStep: argument 'inputs\.labels' must hold class labels in \[0, 3\), received a label 3/,
      );
    expect(await syncReads(fresh)).toBe(1);
  });

  it('InfoGAN codes are read once per tensor by adversarialStep and sample; a variable is read every time', async () => {
    const config = {
      generator: codeG(3),
      discriminator: codeD(3),
      loss: losses.gan.nonSaturating,
      latentCode: { categories: 3 },
      ...optimizers(),
    };
    const real = tf.randomNormal([4, 2], 0, 1, 'float32', 1);
    const noise = tf.randomNormal([4, 2], 0, 1, 'float32', 2);
    const codes = tf.tensor1d([0, 1, 2, 1], 'int32');
    const step = (c: tf.Tensor) => () => tf.dispose(train.adversarialStep(config, { real, noise, codes: c }));
    step(codes)(); // burn-in, and the one read of these codes
    // Before the cache: codes and generatorCodes (the same tensor) were read in every step, 2 reads each.
    expect(await syncReads(() => (step(codes)(), step(codes)()))).toBe(0);
    // A tensor not seen before is read once (generatorCodes, the same tensor, is then known in range).
    expect(await syncReads(step(tf.tensor1d([2, 2, 0, 1], 'int32')))).toBe(1);
    const bad = () =>
      expect(step(tf.tensor1d([0, 3, 1, 1], 'int32'))).toThrow(
        /^train\.adversarialStep: argument 'inputs\.codes' must hold categories in \[0, 3\), received a code 3/,
      );
    expect(await syncReads(bad)).toBe(1);
    // A variable's values change: it is read at every check (codes and generatorCodes), and a
    // value assigned out of range is caught.
    const variable = tf.variable(tf.tensor1d([0, 1, 2, 1], 'int32'), false);
    expect(await syncReads(() => (step(variable)(), step(variable)()))).toBe(4);
    variable.assign(tf.tensor1d([0, 1, 2, 5], 'int32'));
    expect(step(variable)).toThrow(/argument 'inputs\.codes' must hold categories in \[0, 3\), received a code 5/);
    variable.dispose();

    const trainer = new train.AdversarialTrainer({ ...config, seed: 1 });
    const sample = async (labels: tf.Tensor) => (await trainer.sample(4, { labels, seed: 3 })).dispose();
    // codes were already found in [0, 3) by the steps above: not read again.
    expect(await syncReads(async () => (await sample(codes), await sample(codes)))).toBe(0);
    const fresh = tf.tensor1d([1, 0, 0, 2], 'int32');
    expect(await syncReads(async () => (await sample(fresh), await sample(fresh)))).toBe(1);
    await expect(sample(tf.tensor1d([0, 1, -1, 2], 'int32'))).rejects.toThrow(
      /^train\.AdversarialTrainer\.sample: argument 'options\.labels' must hold categories in \[0, 3\), received a code -1/,
    );
    trainer.dispose();
    tf.dispose([real, noise, codes, fresh]);
  });
});
