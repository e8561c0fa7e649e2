/**
 * train.adversarialStep: the update it applies (against a hand-derived float64 reference),
 * its variable lists, its memory behaviour and its argument checks.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { losses, train } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { expectClose, expectNoLeak, values } from '../helpers/memory.js';

/** Dense(1) on a 1-D input: y = k·x + b. */
function linear(k: number, b: number): tfl.LayersModel {
  const model = tfl.sequential({ layers: [tfl.layers.dense({ units: 1, inputShape: [1] })] });
  model.setWeights([tf.tensor2d([[k]]), tf.tensor1d([b])]);
  return model;
}

const softplus = (x: number) => Math.log1p(Math.exp(x));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe.each(TEST_BACKENDS)('train.adversarialStep on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  it('applies one SGD step to D, then one to G against the updated D (float64 reference)', () => {
    // G(z) = a·z + c, D(x) = w·x + b, non-saturating loss, SGD with rate lr.
    const [a, c, w, b, lr] = [0.5, 0.1, 0.3, -0.2, 0.1];
    const real = [1, 2];
    const z = [0.5, -1];
    const fake = z.map((zi) => a * zi + c);
    // L_D = mean softplus(-D(x)) + mean softplus(D(x̃)); dL/dw = mean(-σ(-l_r)·x) + mean(σ(l_f)·x̃), dL/db likewise without x.
    const lr_ = real.map((x) => w * x + b);
    const lf = fake.map((x) => w * x + b);
    const dw = mean(real.map((x, i) => -sigmoid(-lr_[i]!) * x)) + mean(fake.map((x, i) => sigmoid(lf[i]!) * x));
    const db = mean(lr_.map((l) => -sigmoid(-l))) + mean(lf.map((l) => sigmoid(l)));
    const dLoss = mean(lr_.map((l) => softplus(-l))) + mean(lf.map((l) => softplus(l)));
    const w1 = w - lr * dw;
    const b1 = b - lr * db;
    // L_G = mean softplus(-D(G(z))) with the updated D; dL/da = mean(-σ(-l)·w1·z), dL/dc = mean(-σ(-l)·w1).
    const lg = fake.map((x) => w1 * x + b1);
    const gLoss = mean(lg.map((l) => softplus(-l)));
    const da = mean(lg.map((l, i) => -sigmoid(-l) * w1 * z[i]!));
    const dc = mean(lg.map((l) => -sigmoid(-l) * w1));

    const generator = linear(a, c);
    const discriminator = linear(w, b);
    const out = train.adversarialStep(
      {
        generator,
        discriminator,
        loss: losses.gan.nonSaturating,
        generatorOptimizer: tf.train.sgd(lr),
        discriminatorOptimizer: tf.train.sgd(lr),
      },
      { real: tf.tensor2d(real, [2, 1]), noise: tf.tensor2d(z, [2, 1]) },
    );
    expectClose(values(out.discriminator!), dLoss, 1e-5);
    expectClose(values(out.generator!), gLoss, 1e-5);
    expect(out.penalty).toBeUndefined();
    const [dk, dbias] = discriminator.getWeights();
    expectClose(values(dk!), w1, 1e-5);
    expectClose(values(dbias!), b1, 1e-5);
    const [gk, gbias] = generator.getWeights();
    expectClose(values(gk!), a - lr * da, 1e-5);
    expectClose(values(gbias!), c - lr * dc, 1e-5);
  });

  it("update: 'discriminator' leaves the generator's weights untouched, and 'generator' the discriminator's", () => {
    const generator = linear(0.5, 0.1);
    const discriminator = linear(0.3, -0.2);
    const config = {
      generator,
      discriminator,
      loss: losses.gan.hinge,
      generatorOptimizer: tf.train.sgd(0.1),
      discriminatorOptimizer: tf.train.sgd(0.1),
    };
    const inputs = { real: tf.tensor2d([1, 2], [2, 1]), noise: tf.tensor2d([0.5, -1], [2, 1]) };
    const out = train.adversarialStep(config, { ...inputs, update: 'discriminator' });
    expect(out.generator).toBeUndefined();
    expect(values(generator.getWeights()[0]!)).toEqual([0.5]);
    expect(values(discriminator.getWeights()[0]!)).not.toEqual([Math.fround(0.3)]);
    const dBefore = values(discriminator.getWeights()[0]!);
    const out2 = train.adversarialStep(config, { ...inputs, update: 'generator' });
    expect(out2.discriminator).toBeUndefined();
    expect(values(discriminator.getWeights()[0]!)).toEqual(dBefore);
    expect(values(generator.getWeights()[0]!)).not.toEqual([0.5]);
  });

  it('adds the penalty to the discriminator loss and reports it apart', () => {
    const generator = linear(0.5, 0.1);
    const discriminator = linear(0.3, -0.2);
    // D(x) = w·x + b has ∇ₓD = w everywhere, so the gradient penalty is weight·(|w| − 1)² = 10·0.49 (paper's formula).
    const out = train.adversarialStep(
      {
        generator,
        discriminator,
        loss: losses.gan.wasserstein,
        penalty: losses.gan.gradientPenalty,
        generatorOptimizer: tf.train.sgd(0),
        discriminatorOptimizer: tf.train.sgd(0),
      },
      { real: tf.tensor2d([1, 2], [2, 1]), noise: tf.tensor2d([0.5, -1], [2, 1]), penaltySeed: 3 },
    );
    expectClose(values(out.penalty!), 10 * (0.3 - 1) ** 2, 1e-4);
  });

  it('leaves only its returned scalars', async () => {
    const config = {
      generator: linear(0.5, 0.1),
      discriminator: linear(0.3, -0.2),
      loss: losses.gan.leastSquares,
      penalty: losses.gan.gradientPenalty,
      generatorOptimizer: tf.train.adam(1e-3),
      discriminatorOptimizer: tf.train.adam(1e-3),
    };
    const real = tf.tensor2d([1, 2], [2, 1]);
    const noise = tf.tensor2d([0.5, -1], [2, 1]);
    await expectNoLeak(() => train.adversarialStep(config, { real, noise }), { warmup: 1, repeats: 5 });
  });

  it('passes relativistic losses the real logits too', () => {
    const out = train.adversarialStep(
      {
        generator: linear(0.5, 0.1),
        discriminator: linear(0.3, -0.2),
        loss: losses.gan.relativisticAverage,
        generatorOptimizer: tf.train.sgd(0),
        discriminatorOptimizer: tf.train.sgd(0),
      },
      { real: tf.tensor2d([1, 2], [2, 1]), noise: tf.tensor2d([0.5, -1], [2, 1]) },
    );
    // Relativistic average (Jolicoeur-Martineau 2018): L_G = mean softplus(-(l_f − mean l_r)) + mean softplus(l_r − mean l_f).
    const lr_ = [0.3 * 1 - 0.2, 0.3 * 2 - 0.2];
    const lf = [0.5 * 0.5 + 0.1, 0.5 * -1 + 0.1].map((x) => 0.3 * x - 0.2);
    const expected = mean(lf.map((l) => softplus(-(l - mean(lr_))))) + mean(lr_.map((l) => softplus(l - mean(lf))));
    expectClose(values(out.generator!), expected, 1e-5);
  });
});

describe('train.adversarialStep argument checks', () => {
  beforeAll(async () => {
    await useTestBackend('cpu');
  });
  const base = () => ({
    generator: linear(0.5, 0.1),
    discriminator: linear(0.3, -0.2),
    loss: losses.gan.nonSaturating,
    generatorOptimizer: tf.train.sgd(0.1),
    discriminatorOptimizer: tf.train.sgd(0.1),
  });
  const inputs = () => ({ real: tf.tensor2d([1, 2], [2, 1]), noise: tf.tensor2d([0.5, -1], [2, 1]) });

  it('rejects one optimizer shared by both networks', () => {
    const opt = tf.train.sgd(0.1);
    expect(() => train.adversarialStep({ ...base(), generatorOptimizer: opt, discriminatorOptimizer: opt }, inputs())).toThrow(
      /train\.adversarialStep: argument 'config\.discriminatorOptimizer' must be a different optimizer object from generatorOptimizer, received the same object\. .*create two/,
    );
  });
  it('rejects something that is not a loss pair', () => {
    expect(() => train.adversarialStep({ ...base(), loss: losses.gan.nonSaturating.generator as never }, inputs())).toThrow(
      /argument 'config\.loss' must be a GAN loss pair/,
    );
  });
  it('rejects a real batch of rank 1 and int32 noise', () => {
    expect(() => train.adversarialStep(base(), { ...inputs(), real: tf.tensor1d([1, 2]) })).toThrow(
      /argument 'inputs\.real' must have rank 2 or more, received shape \[2\]/,
    );
    expect(() => train.adversarialStep(base(), { ...inputs(), noise: tf.tensor2d([1, 2], [2, 1], 'int32') })).toThrow(
      /argument 'inputs\.noise' must be a float32 tensor/,
    );
  });
  it('rejects a generator without trainable weights', () => {
    const generator = linear(0.5, 0.1);
    generator.trainable = false;
    expect(() => train.adversarialStep({ ...base(), generator }, inputs())).toThrow(
      /argument 'config\.generator' must have trainable weights, received a network with none/,
    );
  });
});
