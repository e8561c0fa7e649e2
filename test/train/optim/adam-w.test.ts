/**
 * train.adamW against a float64 reference of PyTorch's AdamW (decay first, then the Adam step),
 * with and without the no-decay group; the default grouping; memory; invalid options.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { train } from '../../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../../helpers/backends.js';
import { expectClose, expectNoLeak, values } from '../../helpers/memory.js';

/**
 * Float64 AdamW (Loshchilov & Hutter 2019, Algorithm 2, in torch.optim.AdamW's form) on
 * L(x) = Σ a⊙x + ½ Σ x², whose gradient is a + x.
 */
function adamWReference(
  init: number[],
  a: number[],
  steps: number,
  o: { lr: number; b1: number; b2: number; eps: number; wd: number; decay: boolean },
): number[] {
  const x = init.slice();
  const m = x.map(() => 0);
  const v = x.map(() => 0);
  for (let t = 1; t <= steps; t++) {
    for (let i = 0; i < x.length; i++) {
      const g = a[i]! + x[i]!;
      if (o.decay) x[i]! *= 1 - o.lr * o.wd;
      m[i] = o.b1 * m[i]! + (1 - o.b1) * g;
      v[i] = o.b2 * v[i]! + (1 - o.b2) * g * g;
      const mHat = m[i]! / (1 - o.b1 ** t);
      const vHat = v[i]! / (1 - o.b2 ** t);
      x[i]! -= (o.lr * mHat) / (Math.sqrt(vHat) + o.eps);
    }
  }
  return x;
}

let counter = 0;

describe.each(TEST_BACKENDS)('train.adamW on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  const settings = { lr: 0.05, b1: 0.9, b2: 0.99, eps: 1e-8, wd: 0.5 };
  const kernelInit = [0.5, -1.5, 2, 0.25, -0.75, 1];
  const biasInit = [1, -2, 3];
  const embeddingInit = [0.3, -0.6, 0.9, 1.2];
  const a = [0.1, -0.2, 0.3, -0.4, 0.5, -0.6];

  function run(options: train.AdamWOptions, steps: number): number[][] {
    const id = counter++;
    const kernel = tf.variable(tf.tensor2d(kernelInit, [2, 3]), true, `dense_${id}/kernel`);
    const bias = tf.variable(tf.tensor1d(biasInit), true, `dense_${id}/bias`);
    const embedding = tf.variable(tf.tensor2d(embeddingInit, [2, 2]), true, `gpt_${id}/token_embeddings`);
    const vars = [kernel, bias, embedding];
    const coefficients = [tf.tensor2d(a, [2, 3]), tf.tensor1d(a.slice(0, 3)), tf.tensor2d(a.slice(0, 4), [2, 2])];
    const optimizer = train.adamW({ learningRate: settings.lr, beta1: settings.b1, beta2: settings.b2, epsilon: settings.eps, ...options });
    const loss = () =>
      tf.addN(vars.map((v, i) => tf.add(tf.sum(tf.mul(coefficients[i]!, v)), tf.mul(0.5, tf.sum(tf.square(v)))))) as tf.Scalar;
    for (let k = 0; k < steps; k++) optimizer.minimize(loss, false, vars);
    const out = vars.map(values);
    optimizer.dispose();
    tf.dispose([...vars, ...coefficients]);
    return out;
  }

  it('matches float64 AdamW for 5 steps: kernels decay, biases and embeddings do not (default group)', () => {
    const [kernel, bias, embedding] = run({ weightDecay: settings.wd }, 5);
    expectClose(kernel!, adamWReference(kernelInit, a, 5, { ...settings, decay: true }), 1e-5, 1e-6);
    expectClose(bias!, adamWReference(biasInit, a.slice(0, 3), 5, { ...settings, decay: false }), 1e-5, 1e-6);
    expectClose(embedding!, adamWReference(embeddingInit, a.slice(0, 4), 5, { ...settings, decay: false }), 1e-5, 1e-6);
    // The decay matters: the undecayed reference of the kernel is far from what was computed.
    const undecayed = adamWReference(kernelInit, a, 5, { ...settings, decay: false });
    expect(Math.max(...kernel!.map((x, i) => Math.abs(x - undecayed[i]!)))).toBeGreaterThan(1e-2);
  });

  it('matches float64 AdamW with every variable decayed (shouldDecay: () => true), and plain Adam with weightDecay 0', () => {
    const [kernel, bias, embedding] = run({ weightDecay: settings.wd, shouldDecay: () => true }, 4);
    expectClose(kernel!, adamWReference(kernelInit, a, 4, { ...settings, decay: true }), 1e-5, 1e-6);
    expectClose(bias!, adamWReference(biasInit, a.slice(0, 3), 4, { ...settings, decay: true }), 1e-5, 1e-6);
    expectClose(embedding!, adamWReference(embeddingInit, a.slice(0, 4), 4, { ...settings, decay: true }), 1e-5, 1e-6);
    const [plain] = run({ weightDecay: 0 }, 4);
    expectClose(plain!, adamWReference(kernelInit, a, 4, { ...settings, decay: false }), 1e-5, 1e-6);
  });

  it('a training step leaves no tensors behind; invalid options are rejected', async () => {
    const w = tf.variable(tf.ones([2, 2]), true, `leak_${counter++}/kernel`);
    const optimizer = train.adamW({ weightDecay: 0.1 });
    await expectNoLeak(() => optimizer.minimize(() => tf.sum(tf.square(w)), false, [w]), { warmup: 1, repeats: 5 });
    optimizer.dispose();
    w.dispose();
    expect(() => train.adamW({ weightDecay: -1 })).toThrow(
      /train\.adamW: argument 'options\.weightDecay' must be a finite number >= 0, received -1/,
    );
    expect(() => train.adamW({ beta1: 1 })).toThrow(/train\.adamW: argument 'options\.beta1'/);
    expect(() => train.adamW({ weight_decay: 0.1 } as never)).toThrow(/Did you mean 'weightDecay'/);
  });
});
