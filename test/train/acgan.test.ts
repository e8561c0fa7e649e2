/**
 * AC-GAN (`auxiliaryClassifier`) in train.adversarialStep and AdversarialTrainer: one SGD step
 * against a hand-derived float64 reference of Odena et al. 2017, eq. 2-3 (the discriminator
 * minimizes its GAN loss + λ·L_C on real and fake images, the generator its GAN loss + λ·L_C on
 * fakes), the trainer's logs, samples and memory, a toy problem, and the checks.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { losses, nets, train } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { expectClose, expectNoLeak, values } from '../helpers/memory.js';
import { normal, rng } from './fixtures.js';

/** G(z, y) = a·z + e[y]: a bias-free dense on z plus a 1-D embedding of the label. */
function labelGenerator(a: number, e: number[]): tfl.LayersModel {
  const z = tfl.input({ shape: [1] });
  const y = tfl.input({ shape: [1], dtype: 'int32' });
  const dense = tfl.layers.dense({ units: 1, useBias: false });
  const embedding = tfl.layers.embedding({ inputDim: e.length, outputDim: 1 });
  const fromZ = dense.apply(z) as tfl.SymbolicTensor;
  const fromY = tfl.layers.flatten().apply(embedding.apply(y) as tfl.SymbolicTensor) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: [z, y], outputs: tfl.layers.add().apply([fromZ, fromY]) as tfl.SymbolicTensor });
  dense.setWeights([tf.tensor2d([[a]])]);
  embedding.setWeights([tf.tensor2d(e, [e.length, 1])]);
  return model;
}

/** D(x) = [w·x + b, x·q + r]: a real/fake logit and K class logits on a 1-D input. */
function classDiscriminator(w: number, b: number, q: number[], r: number[]): tfl.LayersModel {
  const x = tfl.input({ shape: [1] });
  const logitLayer = tfl.layers.dense({ units: 1 });
  const classLayer = tfl.layers.dense({ units: q.length });
  const model = tfl.model({ inputs: x, outputs: [logitLayer.apply(x) as tfl.SymbolicTensor, classLayer.apply(x) as tfl.SymbolicTensor] });
  logitLayer.setWeights([tf.tensor2d([[w]]), tf.tensor1d([b])]);
  classLayer.setWeights([tf.tensor2d([q]), tf.tensor1d(r)]);
  return model;
}

/** [dense kernel, embedding table] of {@link labelGenerator}'s model. */
function weightsOf(generator: tfl.LayersModel): tf.Tensor[] {
  const dense = generator.layers.find((l) => l.getClassName() === 'Dense')!;
  const embedding = generator.layers.find((l) => l.getClassName() === 'Embedding')!;
  return [dense.getWeights()[0]!, embedding.getWeights()[0]!];
}

const softplus = (x: number) => Math.log1p(Math.exp(x));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
const softmax = (ls: number[]) => {
  const m = Math.max(...ls);
  const e = ls.map((l) => Math.exp(l - m));
  const s = e.reduce((a, v) => a + v, 0);
  return e.map((v) => v / s);
};

describe.each(TEST_BACKENDS)('auxiliaryClassifier (AC-GAN) on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  it('adds λ·L_C (real and fake) to the discriminator and λ·CE on fakes to the generator (float64 reference, Odena et al. eq. 2-3)', () => {
    const [a, w, b, lr, lambda] = [0.5, 0.3, -0.2, 0.1, 0.7];
    const e = [0.4, -0.6, 0.2];
    const q = [0.7, -0.2, 0.3];
    const r = [0.1, 0.05, -0.1];
    const real = [1, 2, -1, 0.5];
    const z = [0.5, -1, 0.25, 1.5];
    const y = [0, 1, 2, 1];
    const n = real.length;
    const K = q.length;
    const delta = (i: number, k: number) => (y[i] === k ? 1 : 0);
    const fake = z.map((zi, i) => a * zi + e[y[i]!]!);

    // Discriminator update: L_S (non-saturating, on the logit head) + λ·[CE(C(x), y) + CE(C(x̃), y)].
    const lr_ = real.map((x) => w * x + b);
    const lf = fake.map((x) => w * x + b);
    const dLoss = mean(lr_.map((l) => softplus(-l))) + mean(lf.map((l) => softplus(l)));
    const dw = mean(real.map((x, i) => -sigmoid(-lr_[i]!) * x)) + mean(fake.map((x, i) => sigmoid(lf[i]!) * x));
    const db = mean(lr_.map((l) => -sigmoid(-l))) + mean(lf.map((l) => sigmoid(l)));
    const pReal = real.map((x) => softmax(q.map((qk, k) => qk * x + r[k]!)));
    const pFake = fake.map((x) => softmax(q.map((qk, k) => qk * x + r[k]!)));
    const classReal = mean(pReal.map((p, i) => -Math.log(p[y[i]!]!)));
    // ∂CE/∂logit_ik = (p_ik − [k = y_i]) / n, for the real and the fake half alike.
    const dq = Array.from(
      { length: K },
      (_, k) =>
        (lambda / n) *
        (real.reduce((s, x, i) => s + (pReal[i]![k]! - delta(i, k)) * x, 0) +
          fake.reduce((s, x, i) => s + (pFake[i]![k]! - delta(i, k)) * x, 0)),
    );
    const dr = Array.from(
      { length: K },
      (_, k) =>
        (lambda / n) *
        (real.reduce((s, _x, i) => s + pReal[i]![k]! - delta(i, k), 0) + fake.reduce((s, _x, i) => s + pFake[i]![k]! - delta(i, k), 0)),
    );
    const [w1, b1] = [w - lr * dw, b - lr * db];
    const q1 = q.map((v, k) => v - lr * dq[k]!);
    const r1 = r.map((v, k) => v - lr * dr[k]!);

    // Generator update against the updated discriminator: L_G + λ·CE(C(G(z, y)), y) (the real half of L_C is constant in G).
    const lg = fake.map((x) => w1 * x + b1);
    const gLoss = mean(lg.map((l) => softplus(-l)));
    const p1 = fake.map((x) => softmax(q1.map((qk, k) => qk * x + r1[k]!)));
    const classFake = mean(p1.map((p, i) => -Math.log(p[y[i]!]!)));
    // ∂L/∂x̃_i = (−σ(−l_i)·w1 + λ·Σ_k (p_ik − [k = y_i])·q1_k) / n; x̃_i = a·z_i + e[y_i].
    const dx = fake.map((_, i) => (-sigmoid(-lg[i]!) * w1 + lambda * q1.reduce((s, qk, k) => s + (p1[i]![k]! - delta(i, k)) * qk, 0)) / n);
    const a1 = a - lr * dx.reduce((s, d, i) => s + d * z[i]!, 0);
    const e1 = e.map((v, k) => v - lr * dx.reduce((s, d, i) => s + (y[i] === k ? d : 0), 0));

    const generator = labelGenerator(a, e);
    const discriminator = classDiscriminator(w, b, q, r);
    const out = train.adversarialStep(
      {
        generator,
        discriminator,
        loss: losses.gan.nonSaturating,
        auxiliaryClassifier: { numClasses: K, weight: lambda },
        generatorOptimizer: tf.train.sgd(lr),
        discriminatorOptimizer: tf.train.sgd(lr),
      },
      { real: tf.tensor2d(real, [n, 1]), noise: tf.tensor2d(z, [n, 1]), labels: tf.tensor1d(y, 'int32') },
    );
    expect(Object.keys(out).sort()).toEqual(['classFake', 'classReal', 'discriminator', 'generator']);
    expectClose(values(out.discriminator!), dLoss, 1e-5);
    expectClose(values(out.classReal!), classReal, 1e-5);
    expectClose(values(out.generator!), gLoss, 1e-5);
    expectClose(values(out.classFake!), classFake, 1e-5); // the generator update's, with the updated classifier
    const [dk, dbias, qk, qbias] = [...discriminator.layers[1]!.getWeights(), ...discriminator.layers[2]!.getWeights()];
    expectClose(values(dk!), w1, 1e-5);
    expectClose(values(dbias!), b1, 1e-5);
    expectClose(values(qk!), q1, 1e-5);
    expectClose(values(qbias!), r1, 1e-5);
    const [gk, emb] = weightsOf(generator);
    expectClose(values(gk!), a1, 1e-5);
    expectClose(values(emb!), e1, 1e-5);
  });

  it('the trainer feeds the batch labels to the generator only, logs both class terms, samples by label and leaks nothing', async () => {
    const generator = labelGenerator(0.5, [0.4, -0.6, 1.2]);
    const discriminator = classDiscriminator(0.3, -0.2, [0.7, -0.2, 0.1], [0, 0, 0]);
    const trainer = new train.AdversarialTrainer({
      generator,
      discriminator,
      loss: losses.gan.nonSaturating,
      auxiliaryClassifier: { numClasses: 3 },
      generatorOptimizer: tf.train.adam(1e-2),
      discriminatorOptimizer: tf.train.adam(1e-2),
      seed: 5,
    });
    expect(trainer.conditional).toBe(true);
    const batches = Array.from({ length: 4 }, (_, i) => ({
      x: tf.tensor2d([i, i + 1, i - 1, 0.5], [4, 1]),
      y: tf.tensor1d([0, 1, 2, 1], 'int32'),
    }));
    await trainer.fit(batches.slice(0, 1), { epochs: 1 }); // Adam creates its slots on the first update
    const before = tf.memory().numTensors;
    const result = await trainer.fit(batches, { epochs: 2 });
    expect(tf.memory().numTensors).toBe(before);
    expect(Object.keys(result.logs!).sort()).toEqual(['classFake', 'classReal', 'discriminator', 'generator']);
    // A 3-way cross-entropy is positive (log 3 ≈ 1.1 for uniform predictions).
    expect(result.logs!['classReal']).toBeGreaterThan(0);
    // G(z, y) = a·z + e[y] with the trained weights.
    const [gk, emb] = weightsOf(generator).map(values);
    const samples = values(await trainer.sample(tf.tensor2d([1, 0, -2], [3, 1]), { labels: tf.tensor1d([2, 0, 1], 'int32') }));
    expectClose(samples, [gk![0]! + emb![2]!, emb![0]!, -2 * gk![0]! + emb![1]!], 1e-5);
    const labels = tf.tensor1d([0, 1, 2, 0], 'int32');
    await expectNoLeak(() => trainer.sample(4, { labels, seed: 1 }), { warmup: 1, repeats: 3 });
    tf.dispose([labels, ...batches.map((batch) => [batch.x, batch.y]).flat()]);
  });
});

describe('auxiliaryClassifier on a toy problem (cpu)', () => {
  beforeAll(async () => {
    await useTestBackend('cpu');
  });

  it('learns to draw each class where its data lies: class 0 at −2, class 1 at +2', async () => {
    // Real data: x = ±2 + 0.1·noise with label 0 for −2 and 1 for +2. An unconditional-looking
    // generator (labels only through the embedding) must learn from the classifier term which
    // side each label belongs to: the two labels' sample means end up on opposite sides.
    const r = rng(7);
    const batches = Array.from({ length: 200 }, () => {
      const labels = Array.from({ length: 32 }, () => (r() < 0.5 ? 0 : 1));
      return {
        x: tf.tensor2d(
          labels.map((l) => (l === 0 ? -2 : 2) + 0.1 * normal(r)),
          [32, 1],
        ),
        y: tf.tensor1d(labels, 'int32'),
      };
    });
    const generator = nets.mlpGenerator({
      latentDim: 2,
      outputShape: [1],
      widths: [32],
      numClasses: 2,
      labelEmbeddingDim: 4,
      outputActivation: 'linear',
      normalization: 'none',
    });
    const discriminator = nets.mlpDiscriminator({ inputShape: [1], widths: [32], head: 'acgan', numClasses: 2 });
    const trainer = new train.AdversarialTrainer({
      generator,
      discriminator,
      loss: losses.gan.nonSaturating,
      auxiliaryClassifier: { numClasses: 2 },
      generatorOptimizer: tf.train.adam(5e-3, 0.5),
      discriminatorOptimizer: tf.train.adam(5e-3, 0.5),
      seed: 1,
    });
    const history = train.history();
    await trainer.fit(batches, { epochs: 1, callbacks: [history] });
    const classReal = history.series()['classReal']!;
    expect(mean(classReal.slice(-20))).toBeLessThan(0.1); // the classifier separates ±2 (log 2 ≈ 0.69 by chance)
    const means: number[] = [];
    for (const k of [0, 1]) means.push(mean(values(await trainer.sample(200, { labels: tf.fill([200], k, 'int32'), seed: 2 }))));
    expect(means[0]).toBeLessThan(-1);
    expect(means[1]).toBeGreaterThan(1);
    tf.dispose(batches.map((batch) => [batch.x, batch.y]).flat());
  }, 60_000);
});

describe('auxiliaryClassifier checks', () => {
  beforeAll(async () => {
    await useTestBackend('cpu');
  });
  const optimizers = () => ({ generatorOptimizer: tf.train.sgd(0.1), discriminatorOptimizer: tf.train.sgd(0.1) });
  const inputs = () => ({ real: tf.tensor2d([1, 2], [2, 1]), noise: tf.tensor2d([0.5, -1], [2, 1]), labels: tf.tensor1d([0, 1], 'int32') });
  const base = () => ({
    generator: labelGenerator(1, [0, 0]),
    discriminator: classDiscriminator(1, 0, [1, 1], [0, 0]),
    loss: losses.gan.nonSaturating,
    ...optimizers(),
  });

  it('names the network that does not fit the classifier', () => {
    const auxiliaryClassifier = { numClasses: 2 };
    const oneInput = tfl.sequential({ layers: [tfl.layers.dense({ units: 1, inputShape: [1] })] });
    expect(() => train.adversarialStep({ ...base(), generator: oneInput, auxiliaryClassifier }, inputs())).toThrow(
      /train\.adversarialStep: argument 'config\.generator' must take two inputs \[noise, label\] with auxiliaryClassifier, received a generator with 1 input\. Build a conditional generator/,
    );
    expect(() =>
      train.adversarialStep({ ...base(), discriminator: classDiscriminator(1, 0, [1, 1, 1], [0, 0, 0]), auxiliaryClassifier }, inputs()),
    ).toThrow(
      /argument 'config\.discriminator' must return \[logit, classLogits \[null,2\]\] with auxiliaryClassifier, received a discriminator with outputs \[null,1\], \[null,3\]/,
    );
    const projection = nets.mlpDiscriminator({ inputShape: [1], widths: [4], head: 'projection', numClasses: 2 });
    expect(() => train.adversarialStep({ ...base(), discriminator: projection, auxiliaryClassifier }, inputs())).toThrow(
      /argument 'config\.discriminator' must take the image alone with auxiliaryClassifier \(it predicts the label\), received a discriminator with 2 inputs\. Use the 'acgan' head/,
    );
  });

  it('rejects bad classifier settings, missing or bad labels, and InfoGAN at once', () => {
    expect(() => train.adversarialStep({ ...base(), auxiliaryClassifier: { numClasses: 1 } }, inputs())).toThrow(
      /argument 'config\.auxiliaryClassifier\.numClasses' must be at least 2, received 1/,
    );
    expect(() => train.adversarialStep({ ...base(), auxiliaryClassifier: { numClasses: 2, weight: -1 } }, inputs())).toThrow(
      /argument 'config\.auxiliaryClassifier\.weight'/,
    );
    expect(() => train.adversarialStep({ ...base(), auxiliaryClassifier: { numClasses: 2, wieght: 1 } as never }, inputs())).toThrow(
      /argument 'config\.auxiliaryClassifier\.wieght'.*Did you mean 'weight'\?/,
    );
    expect(() =>
      train.adversarialStep({ ...base(), auxiliaryClassifier: { numClasses: 2 }, latentCode: { categories: 2 } }, inputs()),
    ).toThrow(/argument 'config\.auxiliaryClassifier' must be undefined with config\.latentCode/);
    const config = { ...base(), auxiliaryClassifier: { numClasses: 2 } };
    const { labels: _labels, ...unlabelled } = inputs();
    expect(() => train.adversarialStep(config, unlabelled)).toThrow(
      /argument 'inputs\.labels' must hold the class of every real example with config\.auxiliaryClassifier, received undefined/,
    );
    expect(() => train.adversarialStep(config, { ...inputs(), labels: tf.tensor1d([0, 2], 'int32') })).toThrow(
      /argument 'inputs\.labels' must hold class labels in \[0, 2\), received a label 2/,
    );
    expect(() => train.adversarialStep(config, { ...inputs(), labels: tf.tensor1d([0, 1]) })).toThrow(
      /argument 'inputs\.labels' must be int32 class labels, received a float32 tensor\. Cast them with tf\.cast/,
    );
    expect(() => train.adversarialStep(config, { ...inputs(), labels: tf.tensor1d([0, 1, 1], 'int32') })).toThrow(
      /argument 'inputs\.labels' must hold 2 labels, one per example, received shape \[3\]/,
    );
  });

  it('the trainer rejects a classifier whose class count differs from the generator embedding', () => {
    expect(
      () => new train.AdversarialTrainer({ ...base(), generator: labelGenerator(1, [0, 0, 0]), auxiliaryClassifier: { numClasses: 2 } }),
    ).toThrow(
      /train\.AdversarialTrainer: argument 'config\.auxiliaryClassifier\.numClasses' must agree on the number of classes with config\.generator \(3\), received 2 classes/,
    );
  });
});
