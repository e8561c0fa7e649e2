/**
 * InfoGAN categorical codes (`latentCode`) in train.adversarialStep and AdversarialTrainer: the
 * update against a hand-derived reference (Chen et al. 2016, eq. 5 with a softmax Q), the
 * trainer's code draws, samples and memory, the behaviour on a toy problem, and the checks.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { losses, train } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { expectClose, expectNoLeak, values } from '../helpers/memory.js';
import { normal, rng } from './fixtures.js';

/** G(z, c) = a·z + e[c]: a bias-free dense on z plus a 1-D embedding of the code. */
function codeGenerator(a: number, e: number[]): tfl.LayersModel {
  const z = tfl.input({ shape: [1] });
  const c = tfl.input({ shape: [1], dtype: 'int32' });
  const dense = tfl.layers.dense({ units: 1, useBias: false });
  const embedding = tfl.layers.embedding({ inputDim: e.length, outputDim: 1 });
  const fromZ = dense.apply(z) as tfl.SymbolicTensor;
  const fromC = tfl.layers.flatten().apply(embedding.apply(c) as tfl.SymbolicTensor) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: [z, c], outputs: tfl.layers.add().apply([fromZ, fromC]) as tfl.SymbolicTensor });
  dense.setWeights([tf.tensor2d([[a]])]);
  embedding.setWeights([tf.tensor2d(e, [e.length, 1])]);
  return model;
}

/** D(x) = [w·x + b, x·q + r]: a logit head and a K-way code head on a 1-D input. */
function codeDiscriminator(w: number, b: number, q: number[], r: number[]): tfl.LayersModel {
  const x = tfl.input({ shape: [1] });
  const logitLayer = tfl.layers.dense({ units: 1 });
  const codeLayer = tfl.layers.dense({ units: q.length });
  const model = tfl.model({ inputs: x, outputs: [logitLayer.apply(x) as tfl.SymbolicTensor, codeLayer.apply(x) as tfl.SymbolicTensor] });
  logitLayer.setWeights([tf.tensor2d([[w]]), tf.tensor1d([b])]);
  codeLayer.setWeights([tf.tensor2d([q]), tf.tensor1d(r)]);
  return model;
}

/** [dense kernel, embedding table] of {@link codeGenerator}'s model. */
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

describe.each(TEST_BACKENDS)('latentCode (InfoGAN) on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  it('adds λ·CE(Q(G(z, c)), c) to both updates and reports the GAN losses and the code term apart (float64 reference)', () => {
    const [a, w, b, lr, lambda] = [0.5, 0.3, -0.2, 0.1, 0.5];
    const e = [0.4, -0.6];
    const q = [0.7, -0.2];
    const r = [0.1, 0.05];
    const real = [1, 2, -1];
    const z = [0.5, -1, 0.25];
    const c = [0, 1, 1];
    const n = real.length;
    const fake = z.map((zi, i) => a * zi + e[c[i]!]!);

    // Discriminator update. The logit head sees the GAN loss only, the code head λ·CE on fakes only.
    const lr_ = real.map((x) => w * x + b);
    const lf = fake.map((x) => w * x + b);
    const dLoss = mean(lr_.map((l) => softplus(-l))) + mean(lf.map((l) => softplus(l)));
    const dw = mean(real.map((x, i) => -sigmoid(-lr_[i]!) * x)) + mean(fake.map((x, i) => sigmoid(lf[i]!) * x));
    const db = mean(lr_.map((l) => -sigmoid(-l))) + mean(lf.map((l) => sigmoid(l)));
    const p0 = fake.map((x) => softmax(q.map((qk, k) => qk * x + r[k]!)));
    // ∂CE/∂logit_ik = (p_ik − [k = c_i]) / n.
    const dq = q.map((_, k) => (lambda / n) * fake.reduce((s, x, i) => s + (p0[i]![k]! - (c[i] === k ? 1 : 0)) * x, 0));
    const dr = r.map((_, k) => (lambda / n) * fake.reduce((s, _x, i) => s + p0[i]![k]! - (c[i] === k ? 1 : 0), 0));
    const [w1, b1] = [w - lr * dw, b - lr * db];
    const q1 = q.map((v, k) => v - lr * dq[k]!);
    const r1 = r.map((v, k) => v - lr * dr[k]!);

    // Generator update against the updated discriminator.
    const lg = fake.map((x) => w1 * x + b1);
    const gLoss = mean(lg.map((l) => softplus(-l)));
    const p1 = fake.map((x) => softmax(q1.map((qk, k) => qk * x + r1[k]!)));
    const code = mean(p1.map((p, i) => -Math.log(p[c[i]!]!)));
    // ∂L/∂x̃_i = (−σ(−l_i)·w1 + λ·Σ_k (p_ik − [k = c_i])·q1_k) / n.
    const dx = fake.map(
      (_, i) => (-sigmoid(-lg[i]!) * w1 + lambda * q1.reduce((s, qk, k) => s + (p1[i]![k]! - (c[i] === k ? 1 : 0)) * qk, 0)) / n,
    );
    const a1 = a - lr * dx.reduce((s, d, i) => s + d * z[i]!, 0);
    const e1 = e.map((v, k) => v - lr * dx.reduce((s, d, i) => s + (c[i] === k ? d : 0), 0));

    const generator = codeGenerator(a, e);
    const discriminator = codeDiscriminator(w, b, q, r);
    const out = train.adversarialStep(
      {
        generator,
        discriminator,
        loss: losses.gan.nonSaturating,
        latentCode: { categories: 2, weight: lambda },
        generatorOptimizer: tf.train.sgd(lr),
        discriminatorOptimizer: tf.train.sgd(lr),
      },
      { real: tf.tensor2d(real, [n, 1]), noise: tf.tensor2d(z, [n, 1]), codes: tf.tensor1d(c, 'int32') },
    );
    expectClose(values(out.discriminator!), dLoss, 1e-5);
    expectClose(values(out.generator!), gLoss, 1e-5);
    expectClose(values(out.code!), code, 1e-5);
    const [dk, dbias, qk, qbias] = [...discriminator.layers[1]!.getWeights(), ...discriminator.layers[2]!.getWeights()];
    expectClose(values(dk!), w1, 1e-5);
    expectClose(values(dbias!), b1, 1e-5);
    expectClose(values(qk!), q1, 1e-5);
    expectClose(values(qbias!), r1, 1e-5);
    const [gk, emb] = weightsOf(generator);
    expectClose(values(gk!), a1, 1e-5);
    expectClose(values(emb!), e1, 1e-5);
  });

  it('gives the penalty the logit head only', () => {
    // D's logit is w·x + b, so ∇ₓ logit = w and the gradient penalty is 10·(|w| − 1)² (Gulrajani et al. 2017).
    const out = train.adversarialStep(
      {
        generator: codeGenerator(0.5, [0.4, -0.6]),
        discriminator: codeDiscriminator(0.3, -0.2, [5, -5], [0, 0]),
        loss: losses.gan.wasserstein,
        penalty: losses.gan.gradientPenalty,
        latentCode: { categories: 2 },
        generatorOptimizer: tf.train.sgd(0),
        discriminatorOptimizer: tf.train.sgd(0),
      },
      { real: tf.tensor2d([1, 2], [2, 1]), noise: tf.tensor2d([0.5, -1], [2, 1]), codes: tf.tensor1d([1, 0], 'int32'), penaltySeed: 3 },
    );
    expectClose(values(out.penalty!), 10 * (0.3 - 1) ** 2, 1e-4);
  });

  it('the trainer draws codes, logs the code term, samples with drawn or given codes, and leaks nothing', async () => {
    const generator = codeGenerator(0.5, [0.4, -0.6, 1.2]);
    const discriminator = codeDiscriminator(0.3, -0.2, [0.7, -0.2, 0.1], [0, 0, 0]);
    const trainer = new train.AdversarialTrainer({
      generator,
      discriminator,
      loss: losses.gan.nonSaturating,
      latentCode: { categories: 3 },
      generatorOptimizer: tf.train.adam(1e-2),
      discriminatorOptimizer: tf.train.adam(1e-2),
      seed: 5,
    });
    expect(trainer.conditional).toBe(false);
    const batches = Array.from({ length: 6 }, (_, i) => tf.tensor2d([i, i + 1, i - 1, 0.5], [4, 1]));
    await trainer.fit(batches.slice(0, 1), { epochs: 1 }); // Adam creates its slots on the first update
    const before = tf.memory().numTensors;
    const result = await trainer.fit(batches, { epochs: 2 }); // totals: one more epoch
    expect(result.step).toBe(7);
    expect(tf.memory().numTensors).toBe(before);
    expect(Object.keys(result.logs!).sort()).toEqual(['code', 'discriminator', 'generator']);
    // CE of a 3-way prediction lies in (0, ∞) and starts near log 3 for near-uniform Q logits.
    expect(result.logs!['code']).toBeGreaterThan(0);

    // Given codes reproduce G(z, c) = a·z + e[c] with the trained weights.
    const [gk, emb] = weightsOf(generator).map(values);
    const noise = tf.tensor2d([1, 0, -2], [3, 1]);
    const samples = values(await trainer.sample(noise, { labels: tf.tensor1d([2, 0, 1], 'int32') }));
    expectClose(samples, [gk![0]! * 1 + emb![2]!, 0 + emb![0]!, gk![0]! * -2 + emb![1]!], 1e-5);
    // Drawn codes: every sample is a·z + e[c] for some c, and a seed fixes the draw.
    const drawn = values(await trainer.sample(tf.zeros([30, 1]), { seed: 9 }));
    for (const v of drawn) expect(emb!.some((ek) => Math.abs(ek - v) < 1e-5)).toBe(true);
    expect(new Set(drawn.map((v) => v.toFixed(5))).size).toBeGreaterThan(1);
    expect(values(await trainer.sample(tf.zeros([30, 1]), { seed: 9 }))).toEqual(drawn);
    await expectNoLeak(() => trainer.sample(4, { seed: 1 }), { warmup: 1, repeats: 3 });
    tf.dispose(batches);
  });

  it('learns categories that the code head tells apart on two separated clusters', async () => {
    // Real data: ±2 with noise 0.1. With the information term the two codes must become
    // distinguishable from the samples: the code's cross-entropy falls from log 2 towards 0.
    const r = rng(11);
    const batches = Array.from({ length: 300 }, () =>
      tf.tensor2d(
        Array.from({ length: 32 }, () => (r() < 0.5 ? -2 : 2) + 0.1 * normal(r)),
        [32, 1],
      ),
    );
    const z = tfl.input({ shape: [2] });
    const code = tfl.input({ shape: [1], dtype: 'int32' });
    const joined = tfl.layers
      .concatenate()
      .apply([
        z,
        tfl.layers
          .flatten()
          .apply(tfl.layers.embedding({ inputDim: 2, outputDim: 4 }).apply(code) as tfl.SymbolicTensor) as tfl.SymbolicTensor,
      ]);
    const hidden = tfl.layers
      .dense({ units: 32, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) })
      .apply(joined);
    const generator = tfl.model({
      inputs: [z, code],
      outputs: tfl.layers
        .dense({ units: 1, kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) })
        .apply(hidden) as tfl.SymbolicTensor,
    });
    const x = tfl.input({ shape: [1] });
    const features = tfl.layers
      .dense({ units: 32, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 4 }) })
      .apply(x) as tfl.SymbolicTensor;
    const discriminator = tfl.model({
      inputs: x,
      outputs: [
        tfl.layers.dense({ units: 1 }).apply(features) as tfl.SymbolicTensor,
        tfl.layers.dense({ units: 2 }).apply(features) as tfl.SymbolicTensor,
      ],
    });
    const trainer = new train.AdversarialTrainer({
      generator,
      discriminator,
      loss: losses.gan.nonSaturating,
      latentCode: { categories: 2 },
      generatorOptimizer: tf.train.adam(5e-3, 0.5),
      discriminatorOptimizer: tf.train.adam(5e-3, 0.5),
      seed: 1,
    });
    const history = train.history();
    await trainer.fit(batches, { epochs: 1, callbacks: [history] });
    const codeLoss = history.series()['code']!;
    expect(mean(codeLoss.slice(0, 10))).toBeGreaterThan(0.5); // log 2 ≈ 0.69 at the start
    expect(mean(codeLoss.slice(-50))).toBeLessThan(0.1);
    // Each code's samples sit on one side: the two codes' sample means are apart.
    const means: number[] = [];
    for (const k of [0, 1]) means.push(mean(values(await trainer.sample(200, { labels: tf.fill([200], k, 'int32'), seed: 2 }))));
    expect(Math.abs(means[0]! - means[1]!)).toBeGreaterThan(1);
    tf.dispose(batches);
  });
});

describe('latentCode argument checks', () => {
  beforeAll(async () => {
    await useTestBackend('cpu');
  });
  const optimizers = () => ({ generatorOptimizer: tf.train.sgd(0.1), discriminatorOptimizer: tf.train.sgd(0.1) });
  const inputs = () => ({ real: tf.tensor2d([1, 2], [2, 1]), noise: tf.tensor2d([0.5, -1], [2, 1]) });

  it('names the network that does not fit the code', () => {
    const oneInput = tfl.sequential({ layers: [tfl.layers.dense({ units: 1, inputShape: [1] })] });
    const plainD = tfl.sequential({ layers: [tfl.layers.dense({ units: 1, inputShape: [1] })] });
    const latentCode = { categories: 2 };
    expect(() =>
      train.adversarialStep(
        {
          generator: oneInput,
          discriminator: codeDiscriminator(1, 0, [1, 1], [0, 0]),
          loss: losses.gan.nonSaturating,
          latentCode,
          ...optimizers(),
        },
        inputs(),
      ),
    ).toThrow(
      /train\.adversarialStep: argument 'config\.generator' must take two inputs \[noise, code\] with latentCode, received a generator with 1 input/,
    );
    expect(() =>
      train.adversarialStep(
        { generator: codeGenerator(1, [0, 0]), discriminator: plainD, loss: losses.gan.nonSaturating, latentCode, ...optimizers() },
        inputs(),
      ),
    ).toThrow(
      /argument 'config\.discriminator' must return \[logit, codeLogits \[null,2\]\] with latentCode, received a discriminator with outputs \[null,1\]/,
    );
    expect(() =>
      train.adversarialStep(
        {
          generator: codeGenerator(1, [0, 0]),
          discriminator: codeDiscriminator(1, 0, [1, 1, 1], [0, 0, 0]),
          loss: losses.gan.nonSaturating,
          latentCode,
          ...optimizers(),
        },
        inputs(),
      ),
    ).toThrow(/codeLogits \[null,2\].*received a discriminator with outputs \[null,1\], \[null,3\]/);
  });

  it('rejects bad categories, weights and codes', () => {
    const base = {
      generator: codeGenerator(1, [0, 0]),
      discriminator: codeDiscriminator(1, 0, [1, 1], [0, 0]),
      loss: losses.gan.nonSaturating,
      ...optimizers(),
    };
    expect(() =>
      train.adversarialStep({ ...base, latentCode: { categories: 1 } }, { ...inputs(), codes: tf.tensor1d([0, 0], 'int32') }),
    ).toThrow(/argument 'config\.latentCode\.categories' must be at least 2, received 1/);
    expect(() =>
      train.adversarialStep({ ...base, latentCode: { categories: 2, weight: -1 } }, { ...inputs(), codes: tf.tensor1d([0, 0], 'int32') }),
    ).toThrow(/argument 'config\.latentCode\.weight'/);
    const config = { ...base, latentCode: { categories: 2 } };
    expect(() => train.adversarialStep(config, inputs())).toThrow(/argument 'inputs\.codes' must be/);
    expect(() =>
      train.adversarialStep(config, { ...inputs(), codes: tf.tensor1d([0, 1], 'int32'), labels: tf.tensor1d([0, 1], 'int32') }),
    ).toThrow(/argument 'inputs\.labels' must be undefined with config\.latentCode/);
    expect(() => train.adversarialStep(config, { ...inputs(), codes: tf.tensor1d([0, 2], 'int32') })).toThrow(
      /argument 'inputs\.codes' must hold categories in \[0, 2\), received a code 2/,
    );
    expect(() => train.adversarialStep(config, { ...inputs(), codes: tf.tensor1d([0, 1]) })).toThrow(
      /argument 'inputs\.codes' must be int32 codes of shape \[2\] or \[2,1\], received float32 tensor of shape \[2\]/,
    );
    expect(() => train.adversarialStep(config, { ...inputs(), codes: tf.tensor1d([0, 1, 1], 'int32') })).toThrow(
      /shape \[2\] or \[2,1\], received int32 tensor of shape \[3\]/,
    );
    expect(() =>
      train.adversarialStep(
        { ...base, discriminator: tfl.sequential({ layers: [tfl.layers.dense({ units: 1, inputShape: [1] })] }) },
        { ...inputs(), codes: tf.tensor1d([0, 1], 'int32') },
      ),
    ).toThrow(/argument 'inputs\.codes' must be given only with config\.latentCode/);
  });

  it('the trainer refuses a conditional InfoGAN and codes out of range in sample', async () => {
    const config = {
      generator: codeGenerator(1, [0, 0]),
      discriminator: codeDiscriminator(1, 0, [1, 1], [0, 0]),
      loss: losses.gan.nonSaturating,
      latentCode: { categories: 2 },
      ...optimizers(),
    };
    expect(() => new train.AdversarialTrainer({ ...config, conditional: true })).toThrow(
      /train\.AdversarialTrainer: argument 'config\.conditional' must be false or undefined with config\.latentCode, received true/,
    );
    const trainer = new train.AdversarialTrainer(config);
    await expect(trainer.sample(2, { labels: tf.tensor1d([0, 5], 'int32') })).rejects.toThrow(
      /train\.AdversarialTrainer\.sample: argument 'options\.labels' must hold categories in \[0, 2\), received a code 5/,
    );
  });
});
