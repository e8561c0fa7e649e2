/**
 * End-to-end: GAN/VAE training steps on wasm with genblocks' kernels. Gradients of whole
 * networks match the cpu backend (same weights, same data), every layer family a GAN, VAE or
 * DCGAN uses trains, and a step leaks neither tensors nor wasm memory.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { useTestBackend } from '../helpers/backends.js';
import { randomArray, relativeError, rng } from './parity.js';

beforeAll(async () => {
  await useTestBackend('wasm');
});

/**
 * The TF DCGAN tutorial generator and discriminator (https://www.tensorflow.org/tutorials/generative/dcgan),
 * with every channel count divided by `width` (1 = the tutorial) and optional dropout.
 */
function dcgan(width: number, dropout: boolean): { generator: tfl.LayersModel; discriminator: tfl.LayersModel } {
  const c = (n: number) => Math.max(1, Math.round(n / width));
  const generator = tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [100], units: 7 * 7 * c(256), useBias: false }),
      tfl.layers.batchNormalization(),
      tfl.layers.leakyReLU({ alpha: 0.3 }),
      tfl.layers.reshape({ targetShape: [7, 7, c(256)] }),
      tfl.layers.conv2dTranspose({ filters: c(128), kernelSize: 5, strides: 1, padding: 'same', useBias: false }),
      tfl.layers.batchNormalization(),
      tfl.layers.leakyReLU({ alpha: 0.3 }),
      tfl.layers.conv2dTranspose({ filters: c(64), kernelSize: 5, strides: 2, padding: 'same', useBias: false }),
      tfl.layers.batchNormalization(),
      tfl.layers.leakyReLU({ alpha: 0.3 }),
      tfl.layers.conv2dTranspose({ filters: 1, kernelSize: 5, strides: 2, padding: 'same', useBias: false, activation: 'tanh' }),
    ],
  });
  const discriminator = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: c(64), kernelSize: 5, strides: 2, padding: 'same' }),
      tfl.layers.leakyReLU({ alpha: 0.3 }),
      ...(dropout ? [tfl.layers.dropout({ rate: 0.3 })] : []),
      tfl.layers.conv2d({ filters: c(128), kernelSize: 5, strides: 2, padding: 'same' }),
      tfl.layers.leakyReLU({ alpha: 0.3 }),
      ...(dropout ? [tfl.layers.dropout({ rate: 0.3 })] : []),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 1 }),
    ],
  });
  return { generator, discriminator };
}

/** Non-saturating GAN losses on logits (softplus form). */
function ganLosses(
  g: tfl.LayersModel,
  d: tfl.LayersModel,
  z: tf.Tensor,
  real: tf.Tensor,
): { dLoss: () => tf.Scalar; gLoss: () => tf.Scalar } {
  const logits = (x: tf.Tensor) => d.apply(x, { training: true }) as tf.Tensor;
  return {
    dLoss: () =>
      tf.add(
        tf.mean(tf.softplus(tf.neg(logits(real)))),
        tf.mean(tf.softplus(logits(g.apply(z, { training: true }) as tf.Tensor))),
      ) as tf.Scalar,
    gLoss: () => tf.mean(tf.softplus(tf.neg(logits(g.apply(z, { training: true }) as tf.Tensor)))) as tf.Scalar,
  };
}

/** Gradients of `loss` w.r.t. `vars` on backend `name`, as arrays. */
async function gradientsOn(name: string, vars: tf.Variable[], loss: () => tf.Scalar): Promise<Float32Array[]> {
  await tf.setBackend(name);
  const { grads, value } = tf.variableGrads(loss, vars);
  const out = vars.map((v) => grads[v.name]!.dataSync() as Float32Array);
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}

async function expectGradientParity(label: string, vars: tf.Variable[], loss: () => tf.Scalar, tol = 1e-4): Promise<void> {
  const expected = await gradientsOn('cpu', vars, loss);
  const actual = await gradientsOn('wasm', vars, loss);
  expect(actual.length).toBeGreaterThan(0);
  for (let i = 0; i < vars.length; i++) {
    const e = relativeError(actual[i]!, expected[i]!);
    expect(e, `${label}: gradient of ${vars[i]!.name} relative error ${e.toExponential(2)}`).toBeLessThanOrEqual(tol);
  }
}

describe('DCGAN-MNIST on wasm', () => {
  it('discriminator and generator gradients match cpu (tutorial architecture, channels / 4, batch 3)', async () => {
    const { generator, discriminator } = dcgan(4, false);
    const r = rng(11);
    const zv = randomArray(r, 3 * 100);
    const xv = randomArray(r, 3 * 28 * 28);
    const vars = (m: tfl.LayersModel) => m.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
    const lossesOf = () => ganLosses(generator, discriminator, tf.tensor2d(zv, [3, 100]), tf.tensor4d(xv, [3, 28, 28, 1]));
    await expectGradientParity('D step', vars(discriminator), () => tf.tidy(() => lossesOf().dLoss()));
    await expectGradientParity('G step', vars(generator), () => tf.tidy(() => lossesOf().gLoss()));
    generator.dispose();
    discriminator.dispose();
  });

  it('a full-size training step (Adam, dropout, batch 4) runs on wasm and leaks nothing', async () => {
    await tf.setBackend('wasm');
    const { generator, discriminator } = dcgan(1, true);
    const dOpt = tf.train.adam(2e-4, 0.5);
    const gOpt = tf.train.adam(2e-4, 0.5);
    const dVars = discriminator.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
    const gVars = generator.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const step = (): number[] =>
      tf.tidy(() => {
        const z = tf.randomNormal([4, 100]);
        const real = tf.randomUniform([4, 28, 28, 1], -1, 1);
        const { dLoss, gLoss } = ganLosses(generator, discriminator, z, real);
        const d = dOpt.minimize(dLoss, true, dVars)!;
        const g = gOpt.minimize(gLoss, true, gVars)!;
        return [d.dataSync()[0]!, g.dataSync()[0]!];
      });
    const first = step();
    expect(first.every(Number.isFinite)).toBe(true);
    const tensors = tf.memory().numTensors;
    const ids = backend.numDataIds();
    step();
    step();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(backend.numDataIds()).toBe(ids);
    generator.dispose();
    discriminator.dispose();
    dOpt.dispose();
    gOpt.dispose();
  });
});

describe('other GAN/VAE building blocks train on wasm and match cpu', () => {
  it('MLP GAN (LeakyReLU, tanh) gradients match cpu', async () => {
    const g = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [16], units: 64 }),
        tfl.layers.leakyReLU({ alpha: 0.2 }),
        tfl.layers.dense({ units: 49, activation: 'tanh' }),
      ],
    });
    const d = tfl.sequential({
      layers: [tfl.layers.dense({ inputShape: [49], units: 64 }), tfl.layers.leakyReLU({ alpha: 0.2 }), tfl.layers.dense({ units: 1 })],
    });
    const r = rng(12);
    const zv = randomArray(r, 8 * 16);
    const xv = randomArray(r, 8 * 49);
    const all = [...g.trainableWeights, ...d.trainableWeights].map((w) => (w as unknown as { val: tf.Variable }).val);
    await expectGradientParity('MLP GAN', all, () =>
      tf.tidy(() => ganLosses(g, d, tf.tensor2d(zv, [8, 16]), tf.tensor2d(xv, [8, 49])).gLoss()),
    );
    g.dispose();
    d.dispose();
  });

  it('conv VAE encoder/decoder with batch norm, layer norm and an embedding (conditional) matches cpu', async () => {
    // Seeded initializers: the same weights every run (unseeded, the parity check flaked once).
    const glorot = (seed: number) => tfl.initializers.glorotUniform({ seed });
    const image = tfl.input({ shape: [14, 14, 1] });
    const label = tfl.input({ shape: [1] });
    // No bias before batch norm: BN cancels it, so its true gradient is 0 and only float noise remains.
    let h = tfl.layers
      .conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false, kernelInitializer: glorot(1) })
      .apply(image) as tfl.SymbolicTensor;
    h = tfl.layers.batchNormalization().apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.activation({ activation: 'relu' }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', depthwiseInitializer: glorot(2) }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.flatten().apply(h) as tfl.SymbolicTensor;
    const e = tfl.layers.flatten().apply(
      tfl.layers
        .embedding({
          inputDim: 10,
          outputDim: 4,
          embeddingsInitializer: tfl.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: 3 }),
        })
        .apply(label) as tfl.SymbolicTensor,
    ) as tfl.SymbolicTensor;
    h = tfl.layers.concatenate().apply([h, e]) as tfl.SymbolicTensor;
    h = tfl.layers.dense({ units: 32, kernelInitializer: glorot(4) }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.layerNormalization().apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.dense({ units: 7 * 7 * 4, activation: 'elu', kernelInitializer: glorot(5) }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.reshape({ targetShape: [7, 7, 4] }).apply(h) as tfl.SymbolicTensor;
    const logits = tfl.layers
      .conv2dTranspose({ filters: 1, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: glorot(6) })
      .apply(h) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: [image, label], outputs: logits });
    const r = rng(13);
    const xv = randomArray(r, 4 * 14 * 14).map((v) => (v + 1) / 2);
    const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
    const loss = () =>
      tf.tidy(() => {
        const x = tf.tensor4d(xv, [4, 14, 14, 1]);
        const out = model.apply([x, tf.tensor2d([1, 7, 7, 3], [4, 1])], { training: true }) as tf.Tensor;
        // Bernoulli reconstruction loss on logits: softplus(l) − x·l.
        return tf.mean(tf.sub(tf.softplus(out), tf.mul(x, out))) as tf.Scalar;
      });
    await expectGradientParity('conv VAE', vars, loss);
    model.dispose();
  });

  it.each(['adam', 'rmsprop', 'sgd'] as const)('%s steps run on wasm without leaks', async (name) => {
    await tf.setBackend('wasm');
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [8], units: 16, activation: 'relu' }),
        tfl.layers.dropout({ rate: 0.5 }),
        tfl.layers.dense({ units: 1 }),
      ],
    });
    const opt = name === 'adam' ? tf.train.adam(1e-3) : name === 'rmsprop' ? tf.train.rmsprop(1e-3) : tf.train.sgd(1e-2);
    const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
    const step = () =>
      tf.tidy(() => {
        opt.minimize(() => tf.mean(tf.square(model.apply(tf.ones([4, 8]), { training: true }) as tf.Tensor)) as tf.Scalar, false, vars);
      });
    step();
    const before = tf.memory().numTensors;
    step();
    step();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    opt.dispose();
  });
});
