/**
 * A few adversarial and VAE training steps through the public training API (`train.*`),
 * checking finite losses, that weights move, and that `tf.memory().numTensors` does not grow.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { losses, nets, train, vae } from '../../../src/index.js';
import { assert, assertNoLeak, check, read } from '../harness.js';

const LATENT = 8;

function mlpGan() {
  const generator = nets.mlpGenerator({ latentDim: LATENT, outputShape: [16], widths: [32] });
  const discriminator = nets.mlpDiscriminator({ inputShape: [16], widths: [32] });
  return { generator, discriminator };
}

function dispose(...models: { dispose(): unknown }[]): void {
  for (const m of models) m.dispose();
}

/** Makes an Adam optimizer (the f16 page passes a larger epsilon: see main.ts). */
export type AdamFactory = (learningRate: number, beta1?: number) => tf.Optimizer;
const defaultAdam: AdamFactory = (learningRate, beta1) => tf.train.adam(learningRate, beta1);

export async function trainingChecks(adam: AdamFactory = defaultAdam): Promise<void> {
  await check('train.adversarialStep (MLP, non-saturating) leaks no tensors and moves the weights', async () => {
    const { generator, discriminator } = mlpGan();
    const config = {
      generator,
      discriminator,
      loss: losses.gan.nonSaturating,
      generatorOptimizer: adam(1e-3, 0.5),
      discriminatorOptimizer: adam(1e-3, 0.5),
    };
    const real = tf.randomUniform([8, 16], -1, 1, 'float32', 1);
    const noise = tf.randomNormal([8, LATENT], 0, 1, 'float32', 2);
    const before = await read(tf.clone(generator.trainableWeights[0]!.read()));
    let last: number[] = [];
    const info = await assertNoLeak(
      async () => {
        const out = train.adversarialStep(config, { real, noise });
        last = await read(tf.stack([out.discriminator!, out.generator!]));
        tf.dispose(out as tf.TensorContainer);
      },
      'adversarialStep',
      { warmup: 1, repeats: 3 },
    );
    const after = await read(tf.clone(generator.trainableWeights[0]!.read()));
    assert(last.every(Number.isFinite), `losses are finite: ${last}`);
    assert(
      after.some((v, i) => v !== before[i]),
      'generator weights changed',
    );
    tf.dispose([real, noise]);
    dispose(generator, discriminator, config.generatorOptimizer, config.discriminatorOptimizer);
    return { losses: last, ...info };
  });

  await check('train.adversarialStep (DCGAN conv nets, hinge) leaks no tensors', async () => {
    const generator = nets.dcganGenerator({ latentDim: LATENT, outputShape: [8, 8, 1], stages: 1, widths: [8, 4], kernelSize: 3 });
    const discriminator = nets.dcganDiscriminator({ inputShape: [8, 8, 1], widths: [4, 8], kernelSize: 3 });
    const config = {
      generator,
      discriminator,
      loss: losses.gan.hinge,
      generatorOptimizer: adam(1e-3, 0.5),
      discriminatorOptimizer: adam(1e-3, 0.5),
    };
    const real = tf.randomUniform([4, 8, 8, 1], -1, 1, 'float32', 3);
    const noise = tf.randomNormal([4, LATENT], 0, 1, 'float32', 4);
    let last: number[] = [];
    const info = await assertNoLeak(
      async () => {
        const out = train.adversarialStep(config, { real, noise });
        last = await read(tf.stack([out.discriminator!, out.generator!]));
        tf.dispose(out as tf.TensorContainer);
      },
      'adversarialStep (conv)',
      { warmup: 1, repeats: 2 },
    );
    assert(last.every(Number.isFinite), `losses are finite: ${last}`);
    tf.dispose([real, noise]);
    dispose(generator, discriminator, config.generatorOptimizer, config.discriminatorOptimizer);
    return { losses: last, ...info };
  });

  await check('tf.addN of 12 tensors is their sum (webgpu: genblocks chunks the stock AddN)', async () => {
    const xs = Array.from({ length: 12 }, (_, i) => tf.fill([3], i + 1));
    const y = tf.addN(xs);
    const values = Array.from(await y.data());
    tf.dispose([...xs, y]);
    assert(
      values.every((v) => v === 78),
      `1 + 2 + ... + 12 = 78 in every element, received ${JSON.stringify(values)}`,
    );
  });

  // Not under half-float textures: their 11 significant bits cannot hold the exact losses (57.6
  // rounds to 57.59), and there this check also stopped at step 0 on a non-finite state
  // (NonFiniteLossError naming 'm0/0'), a case not investigated yet.
  if (!tf.env().getBool('WEBGL_FORCE_F16_TEXTURES')) {
    await check('train.ModelTrainer logs the losses it minimised (hand-computed SGD on Σ (wᵢ - 3)², ten weights)', async () => {
      // Ten one-weight models (bias-free dense units, w₀ = 0) on inputs of 1: loss = Σᵢ (wᵢ - 3)²,
      // gradient 2(wᵢ - 3) each, SGD at 0.1: every wᵢ goes 0, 0.6, 1.08, 1.464, so the logged losses
      // are 90, 57.6, 36.864. Ten variables: more than a WebGPU shader may bind (8 storage
      // buffers), which tfjs' AddN does not split (its garbage reads were the trainers' logs here).
      const models: Record<string, tfl.LayersModel> = {};
      for (let i = 0; i < 10; i++) {
        models[`m${i}`] = tfl.sequential({
          layers: [tfl.layers.dense({ units: 1, inputShape: [1], useBias: false, kernelInitializer: 'zeros' })],
        });
      }
      const trainer = new train.ModelTrainer({
        models,
        optimizer: tf.train.sgd(0.1),
        clipNorm: 1e6, // large: exercises the global norm over ten gradients without clipping
        // tf.addN of ten tensors: on webgpu, genblocks' chunked AddN (the stock one returns garbage).
        loss: ({ x }, context) => ({
          squared: tf.addN(
            Object.values(context.models).map((m) => tf.mean(tf.square(tf.sub(m.apply(x, { training: true }) as tf.Tensor, 3)))),
          ) as tf.Scalar,
        }),
        seed: 1,
      });
      const logged: number[] = [];
      const x = tf.ones([4, 1]);
      await trainer.fit([x, x, x], { epochs: 1, callbacks: [{ onBatchEnd: (_batch, logs) => void logged.push(logs['squared']!) }] });
      const expected = [90, 57.6, 36.864];
      assert(
        expected.every((e, i) => Math.abs(logged[i]! - e) <= 1e-5 * e),
        `logged losses ${JSON.stringify(logged)}, expected ${JSON.stringify(expected)}`,
      );
      for (const m of Object.values(models)) {
        const w = (await m.getWeights()[0]!.data())[0]!;
        assert(Math.abs(w - 1.464) <= 1e-5, `every w after three steps is 1.464, received ${w}`);
      }
      x.dispose();
      trainer.dispose();
      for (const m of Object.values(models)) m.dispose();
      return { logged };
    });
  }

  await check('train.AdversarialTrainer.fit (WGAN-GP penalty) runs steps without leaking', async () => {
    const { generator, discriminator } = mlpGan();
    const trainer = new train.AdversarialTrainer({
      generator,
      discriminator,
      loss: losses.gan.wasserstein,
      penalty: (critic, real, fake, options) => losses.gan.gradientPenalty(critic, real, fake, { ...options, weight: 10 }),
      generatorOptimizer: adam(1e-3, 0.5),
      discriminatorOptimizer: adam(1e-3, 0.5),
      seed: 7,
    });
    const batches = [0, 1, 2].map((i) => tf.randomUniform([8, 16], -1, 1, 'float32', 10 + i));
    await trainer.fit(batches, { epochs: 1 }); // warm-up: optimizer slots are created here
    const before = tf.memory().numTensors;
    const result = await trainer.fit(batches, { epochs: 3 });
    const after = tf.memory().numTensors;
    assert(after === before, `numTensors went from ${before} to ${after} over two epochs`);
    assert(result.step === 9, `step counter is 9, received ${result.step}`);
    const logs = result.logs ?? {};
    assert(Object.values(logs).every(Number.isFinite), `finite logs: ${JSON.stringify(logs)}`);
    tf.dispose(batches);
    trainer.dispose();
    dispose(generator, discriminator);
    return { logs, numTensors: after };
  });

  await check('train.VaeTrainer.fit (MLP VAE, Reparameterize layer) runs steps without leaking', async () => {
    const encoder = vae.mlpEncoder({ inputShape: [16], latentDim: 4, widths: [32] });
    const decoder = vae.mlpDecoder({ latentDim: 4, outputShape: [16], widths: [32] });
    const model = vae.assemble({ encoder, decoder, seed: 3 });
    const trainer = new train.VaeTrainer({ model, decoder, optimizer: adam(1e-3), seed: 5 });
    const batches = [0, 1, 2].map((i) => tf.randomUniform([8, 16], 0, 1, 'float32', 20 + i));
    await trainer.fit(batches, { epochs: 1 });
    const before = tf.memory().numTensors;
    const result = await trainer.fit(batches, { epochs: 3 });
    const after = tf.memory().numTensors;
    assert(after === before, `numTensors went from ${before} to ${after} over two epochs`);
    const logs = result.logs ?? {};
    assert(
      ['loss', 'reconstruction', 'kl'].every((k) => Number.isFinite(logs[k])),
      `finite logs: ${JSON.stringify(logs)}`,
    );
    // The logged terms are the ones minimised: loss = reconstruction + β·KL, to float32 rounding
    // (half-float textures keep 11 significant bits: each term is rounded to ~5e-4 relative).
    const sum = logs['reconstruction']! + logs['beta']! * logs['kl']!;
    const rtol = tf.env().getBool('WEBGL_FORCE_F16_TEXTURES') ? 2e-3 : 1e-4;
    assert(Math.abs(logs['loss']! - sum) <= rtol * Math.abs(sum), `loss = reconstruction + β·kl: ${JSON.stringify(logs)}`);
    const samples = await trainer.sample(4, { seed: 1 });
    assert(samples.shape.join() === '4,16', `sample shape [4,16], received [${samples.shape}]`);
    samples.dispose();
    tf.dispose(batches);
    dispose(model);
    return { logs, numTensors: after };
  });
}

/**
 * Reports (never asserts) what Adam with tfjs's default epsilon does under float16 textures:
 * the number of non-finite weight tensors of a small VAE after each of its first updates.
 */
export async function adamEpsilonReport(epsilons: (number | undefined)[]): Promise<void> {
  await check('f16 textures: Adam updates by epsilon (non-finite weight tensors after updates 1-4; reported only)', async () => {
    const report: Record<string, string> = {};
    const x = tf.randomUniform([8, 16], 0, 1, 'float32', 30);
    for (const epsilon of epsilons) {
      const encoder = vae.mlpEncoder({ inputShape: [16], latentDim: 4, widths: [32] });
      const decoder = vae.mlpDecoder({ latentDim: 4, outputShape: [16], widths: [32] });
      const model = vae.assemble({ encoder, decoder, seed: 3 });
      const optimizer: tf.Optimizer = tf.train.adam(1e-3, 0.9, 0.999, epsilon);
      const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const elbo = losses.vae.elbo({ likelihood: 'bernoulli' });
      const counts: number[] = [];
      for (let i = 0; i < 4; i++) {
        tf.tidy(() => {
          const { grads } = tf.variableGrads(() => {
            const [logits, mean, logVar] = model.apply(x, { training: true }) as tf.Tensor[];
            const t = elbo(logits!, x, mean!, logVar!);
            return tf.add(t.reconstruction, t.kl) as tf.Scalar;
          }, variables);
          optimizer.applyGradients(grads);
        });
        let bad = 0;
        for (const v of variables) if (!(await read(tf.clone(v))).every(Number.isFinite)) bad++;
        counts.push(bad);
      }
      report[`epsilon ${epsilon ?? 'default'}`] = `${counts.join(',')} of ${variables.length}`;
      model.dispose();
      optimizer.dispose();
    }
    x.dispose();
    return report;
  });
}
