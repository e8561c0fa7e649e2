/**
 * The adversarial step as named terms: train.adversarialObjectives lists them, a term of your
 * own joins an objective (checked against a hand-derived float64 update), each term is reported
 * by name, named random streams, and the checks on terms, configs and inputs.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { losses, train } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { expectClose, expectNoLeak, values } from '../helpers/memory.js';
import { mlpDiscriminator, mlpGenerator, ringBatches } from './fixtures.js';

/** Dense(1) on a 1-D input: y = k·x + b. */
function linear(k: number, b: number): tfl.LayersModel {
  const model = tfl.sequential({ layers: [tfl.layers.dense({ units: 1, inputShape: [1] })] });
  model.setWeights([tf.tensor2d([[k]]), tf.tensor1d([b])]);
  return model;
}

const softplus = (x: number) => Math.log1p(Math.exp(x));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const sgdConfig = (lr: number) => ({
  generator: linear(0.5, 0.1),
  discriminator: linear(0.3, -0.2),
  loss: losses.gan.nonSaturating,
  generatorOptimizer: tf.train.sgd(lr),
  discriminatorOptimizer: tf.train.sgd(lr),
});

describe('train.adversarialObjectives', () => {
  beforeAll(async () => {
    await useTestBackend('cpu');
  });

  it('lists the built-in terms of each objective in the order they are summed, then the extra ones', () => {
    const names = (o: train.AdversarialObjectives) => [o.discriminator.map((t) => t.name), o.generator.map((t) => t.name)];
    const base = sgdConfig(0);
    expect(names(train.adversarialObjectives(base))).toEqual([['discriminator'], ['generator']]);
    expect(names(train.adversarialObjectives({ ...base, penalty: losses.gan.gradientPenalty }))).toEqual([
      ['discriminator', 'penalty'],
      ['generator'],
    ]);
    expect(
      names(train.adversarialObjectives({ ...base, penalty: losses.gan.gradientPenalty, latentCode: { categories: 3, weight: 2 } })),
    ).toEqual([
      ['discriminator', 'code', 'penalty'],
      ['generator', 'code'],
    ]);
    const acgan = train.adversarialObjectives({ ...base, auxiliaryClassifier: { numClasses: 4, weight: 0.5 } });
    expect(names(acgan)).toEqual([
      ['discriminator', 'classReal', 'classFake'],
      ['generator', 'classFake'],
    ]);
    // λ is each classification term's weight (Odena et al. 2017 use λ = 1; here 0.5); the GAN losses have weight 1.
    expect(acgan.discriminator.map((t) => t.weight ?? 1)).toEqual([1, 0.5, 0.5]);
    const extra: train.AdversarialTerm = { name: 'r1', value: (c) => losses.gan.r1Penalty(c.critic, c.real) };
    expect(
      names(train.adversarialObjectives({ ...base, discriminatorTerms: [extra], generatorTerms: [{ ...extra, name: 'other' }] })),
    ).toEqual([
      ['discriminator', 'r1'],
      ['generator', 'other'],
    ]);
  });
});

describe.each(TEST_BACKENDS)('named terms in train.adversarialStep on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  it("adds a weighted term of one's own to the discriminator's sum and reports it unweighted (float64 reference)", () => {
    // G(z) = a·z + c, D(x) = w·x + b, non-saturating loss, plus β·mean D(x) on the real batch.
    const [a, c, w, b, lr, beta] = [0.5, 0.1, 0.3, -0.2, 0.1, 0.25];
    const real = [1, 2, -0.5];
    const z = [0.5, -1, 2];
    const fake = z.map((zi) => a * zi + c);
    const lr_ = real.map((x) => w * x + b);
    const lf = fake.map((x) => w * x + b);
    // ∂/∂w of L_D + β·mean(w·x + b) = mean(−σ(−l_r)·x) + mean(σ(l_f)·x̃) + β·mean(x); ∂/∂b likewise with 1 for x.
    const dw = mean(real.map((x, i) => -sigmoid(-lr_[i]!) * x)) + mean(fake.map((x, i) => sigmoid(lf[i]!) * x)) + beta * mean(real);
    const db = mean(lr_.map((l) => -sigmoid(-l))) + mean(lf.map((l) => sigmoid(l))) + beta;
    const dLoss = mean(lr_.map((l) => softplus(-l))) + mean(lf.map((l) => softplus(l)));
    const [w1, b1] = [w - lr * dw, b - lr * db];
    // The generator's objective is unchanged: L_G = mean softplus(−D(G(z))) against the updated D.
    const lg = fake.map((x) => w1 * x + b1);
    const da = mean(lg.map((l, i) => -sigmoid(-l) * w1 * z[i]!));
    const dc = mean(lg.map((l) => -sigmoid(-l) * w1));

    const config = sgdConfig(lr);
    const logitMean: train.AdversarialTerm = {
      name: 'logitMean',
      weight: beta,
      value: (ctx) => tf.mean(ctx.realOutputs.logit) as tf.Scalar,
    };
    const out = train.adversarialStep(
      { ...config, discriminatorTerms: [logitMean] },
      { real: tf.tensor2d(real, [3, 1]), noise: tf.tensor2d(z, [3, 1]) },
    );
    expect(Object.keys(out).sort()).toEqual(['discriminator', 'generator', 'logitMean']);
    expectClose(values(out.discriminator!), dLoss, 1e-5);
    expectClose(values(out['logitMean']!), mean(lr_), 1e-5); // unweighted, before the update
    const [dk, dbias] = config.discriminator.getWeights();
    expectClose(values(dk!), w1, 1e-5);
    expectClose(values(dbias!), b1, 1e-5);
    const [gk, gbias] = config.generator.getWeights();
    expectClose(values(gk!), a - lr * da, 1e-5);
    expectClose(values(gbias!), c - lr * dc, 1e-5);
  });

  it('hands a generator term the differentiable fake, and a term of weight 0 is reported but not trained on', () => {
    // A generator term mean(G(z)) with weight γ adds γ·mean(z) to ∂/∂a and γ to ∂/∂c (D is frozen: lr_D = 0).
    const [a, c, w, b, lr, gamma] = [0.5, 0.1, 0.3, -0.2, 0.1, 2];
    const z = [0.5, -1];
    const lg = z.map((zi) => w * (a * zi + c) + b);
    const da = mean(lg.map((l, i) => -sigmoid(-l) * w * z[i]!)) + gamma * mean(z);
    const dc = mean(lg.map((l) => -sigmoid(-l) * w)) + gamma;
    const config = { ...sgdConfig(0), generatorOptimizer: tf.train.sgd(lr) };
    const fakeMean: train.AdversarialTerm = { name: 'fakeMean', weight: gamma, value: (ctx) => tf.mean(ctx.fake) as tf.Scalar };
    const ignored: train.AdversarialTerm = { name: 'ignored', weight: 0, value: (ctx) => tf.mul(100, tf.mean(ctx.fake)) as tf.Scalar };
    const out = train.adversarialStep(
      { ...config, generatorTerms: [fakeMean, ignored] },
      { real: tf.tensor2d([1, 2], [2, 1]), noise: tf.tensor2d(z, [2, 1]), update: 'generator' },
    );
    expectClose(values(out['fakeMean']!), mean(z.map((zi) => a * zi + c)), 1e-5);
    expectClose(values(out['ignored']!), 100 * mean(z.map((zi) => a * zi + c)), 1e-5);
    const [gk, gbias] = config.generator.getWeights();
    expectClose(values(gk!), a - lr * da, 1e-5);
    expectClose(values(gbias!), c - lr * dc, 1e-5);
  });

  it('gives each named stream its own seed, fixed by inputs.seed', () => {
    // A term drawing from two streams: equal seeds repeat the draws, the two names differ.
    const draws: number[][] = [];
    const term: train.AdversarialTerm = {
      name: 'noiseDraw',
      value: (ctx) => {
        const [s1, s2] = [ctx.seed('first'), ctx.seed('second')];
        draws.push([s1!, s2!]);
        return tf.sum(tf.randomNormal([1], 0, 1, 'float32', s1)) as tf.Scalar;
      },
    };
    const run = (seed: number | undefined) =>
      values(
        train.adversarialStep(
          { ...sgdConfig(0), discriminatorTerms: [term] },
          { real: tf.tensor2d([1, 2], [2, 1]), noise: tf.tensor2d([0.5, -1], [2, 1]), seed, update: 'discriminator' },
        )['noiseDraw']!,
      );
    const [x1, x2, x3] = [run(4), run(4), run(5)];
    expect(x2).toEqual(x1);
    expect(x3).not.toEqual(x1);
    expect(draws[0]![0]).not.toBe(draws[0]![1]);
    expect(draws[1]).toEqual(draws[0]);
    run(undefined);
    expect(draws[3]).toEqual([undefined, undefined]);
  });

  it('runs the discriminator once per input and update however many terms read its outputs, and hands out a detachable critic', () => {
    const config = sgdConfig(0);
    const d = config.discriminator;
    let calls = 0;
    const apply = d.apply.bind(d);
    // Counts the discriminator's forward passes (an own property shadows the prototype's apply).
    Object.defineProperty(d, 'apply', { value: (...args: Parameters<typeof d.apply>) => (calls++, apply(...args)), configurable: true });
    const seen: { real: number[]; fake: number[]; critic: number[] }[] = [];
    const reader: train.AdversarialTerm = {
      name: 'reader',
      weight: 0,
      value: (ctx) => {
        // Read both outputs twice, and call the critic detached from its context.
        const { critic } = ctx;
        const again = [ctx.realOutputs.logit, ctx.fakeOutputs.logit];
        expect(ctx.realOutputs).toBe(ctx.realOutputs);
        seen.push({ real: values(again[0]!), fake: values(again[1]!), critic: values(critic(ctx.real)) });
        return tf.scalar(0);
      },
    };
    const real = [1, 2];
    const z = [0.5, -1];
    train.adversarialStep(
      { ...config, discriminatorTerms: [reader] },
      { real: tf.tensor2d(real, [2, 1]), noise: tf.tensor2d(z, [2, 1]), update: 'discriminator' },
    );
    // D(real) and D(fake) once each for the loss and the reader together, plus the critic's call.
    expect(calls).toBe(3);
    // D(x) = 0.3·x − 0.2 on the real batch and on the fakes G(z) = 0.5·z + 0.1 (lr 0: nothing moved).
    expectClose(
      seen[0]!.real,
      real.map((x) => 0.3 * x - 0.2),
      1e-6,
    );
    expectClose(
      seen[0]!.fake,
      z.map((zi) => 0.3 * (0.5 * zi + 0.1) - 0.2),
      1e-6,
    );
    expectClose(seen[0]!.critic, seen[0]!.real, 1e-6);
  });

  it('leaves only its returned scalars with extra terms', async () => {
    const config = { ...sgdConfig(0.01), generatorOptimizer: tf.train.adam(1e-3), discriminatorOptimizer: tf.train.adam(1e-3) };
    const r1: train.AdversarialTerm = { name: 'r1', weight: 0.5, value: (c) => losses.gan.r1Penalty(c.critic, c.real) };
    const kept = tf.scalar(3); // a term may return a tensor it does not own: the step must not dispose it
    const constant: train.AdversarialTerm = { name: 'constant', value: () => kept };
    const real = tf.tensor2d([1, 2], [2, 1]);
    const noise = tf.tensor2d([0.5, -1], [2, 1]);
    await expectNoLeak(() => train.adversarialStep({ ...config, discriminatorTerms: [r1, constant] }, { real, noise }), {
      warmup: 1,
      repeats: 4,
    });
    expect(kept.isDisposed).toBe(false);
    expect(values(kept)).toEqual([3]);
  });
});

describe.each(TEST_BACKENDS)('named terms in train.AdversarialTrainer on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  it('logs an extra term next to the built-in ones, trains on it, and leaks nothing', async () => {
    // An R1 penalty (Mescheder et al. 2018) added without touching the step.
    const trainer = new train.AdversarialTrainer({
      generator: mlpGenerator(2, 2, 8, 1),
      discriminator: mlpDiscriminator(2, 8, 2),
      loss: losses.gan.nonSaturating,
      discriminatorTerms: [{ name: 'r1', value: (c) => losses.gan.r1Penalty(c.critic, c.real, { weight: 10 }) }],
      generatorOptimizer: tf.train.adam(1e-2),
      discriminatorOptimizer: tf.train.adam(1e-2),
      seed: 3,
    });
    const batches = ringBatches(3, 8, 0.05, 1);
    await trainer.fit(batches, { steps: 1 });
    const before = tf.memory().numTensors;
    const history = train.history();
    await trainer.fit(batches, { steps: 6, callbacks: [history] });
    expect(tf.memory().numTensors).toBe(before);
    expect(Object.keys(history.series())).toEqual(['discriminator', 'generator', 'r1']);
    expect(history.series()['r1']!.every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
  });
});

describe('named-term checks', () => {
  beforeAll(async () => {
    await useTestBackend('cpu');
  });
  const inputs = () => ({ real: tf.tensor2d([1, 2], [2, 1]), noise: tf.tensor2d([0.5, -1], [2, 1]) });

  it('rejects terms that are not terms, repeated names and non-scalar values', () => {
    expect(() => train.adversarialStep({ ...sgdConfig(0), discriminatorTerms: {} as never }, inputs())).toThrow(
      /train\.adversarialStep: argument 'config\.discriminatorTerms' must be an array of terms \{ name, weight\?, value\(context\) \}, received/,
    );
    expect(() => train.adversarialStep({ ...sgdConfig(0), generatorTerms: [{ name: '', value: () => tf.scalar(0) }] }, inputs())).toThrow(
      /argument 'config\.generatorTerms\[0\]' must be a term \{ name, weight\?, value\(context\) \} with a non-empty name/,
    );
    const t = { name: 'x', value: () => tf.scalar(0) };
    expect(() => train.adversarialStep({ ...sgdConfig(0), generatorTerms: [t, t] }, inputs())).toThrow(
      /argument 'config\.generatorTerms\[1\]\.name' must be unique in its objective, received 'x' a second time/,
    );
    expect(() => train.adversarialStep({ ...sgdConfig(0), generatorTerms: [{ ...t, wieght: 2 } as never] }, inputs())).toThrow(
      /argument 'config\.generatorTerms\[0\]\.wieght'.*Did you mean 'weight'\?/,
    );
    expect(() => train.adversarialStep({ ...sgdConfig(0), generatorTerms: [{ ...t, weight: Number.NaN }] }, inputs())).toThrow(
      /argument 'config\.generatorTerms\[0\]\.weight'/,
    );
    const vector: train.AdversarialTerm = { name: 'vector', weight: 2, value: (c) => c.fake as tf.Scalar };
    expect(() => train.adversarialStep({ ...sgdConfig(0), discriminatorTerms: [vector] }, inputs())).toThrow(
      /train\.adversarialStep: argument 'terms\.discriminator\.vector' must return a scalar tensor, received float32 tensor of shape \[2,1\]/,
    );
  });

  it('rejects unknown keys in the config and the inputs, with the likely intended key', () => {
    expect(() => train.adversarialStep({ ...sgdConfig(0), penality: losses.gan.gradientPenalty } as never, inputs())).toThrow(
      /train\.adversarialStep: argument 'config\.penality' must be one of the known config fields \(.*\), received an unknown key\. Did you mean 'penalty'\?/,
    );
    expect(() => train.adversarialStep(sgdConfig(0), { ...inputs(), updates: 'generator' } as never)).toThrow(
      /argument 'inputs\.updates' must be one of the known options.*Did you mean 'update'\?/,
    );
    expect(() => train.adversarialStep(sgdConfig(0), { ...inputs(), seed: -1 })).toThrow(/argument 'inputs\.seed'/);
  });
});
