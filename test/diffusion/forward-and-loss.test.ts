/**
 * diffusion.addNoise, target, convertPrediction, loss, minSnrWeights and trainingLoss.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { ArgumentError, DTypeError, ShapeError, diffusion } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { expectClose, expectNoLeak, values } from '../helpers/memory.js';

const T = 1000;
// Hand values of the linear schedule (Ho et al. 2020): βₜ = 1e-4 + 0.0199 t / 999, ᾱₜ = Π (1 - βₛ).
const betaAt = (t: number) => 1e-4 + (0.0199 * t) / 999;
const alphaBarAt = (t: number) => {
  let p = 1;
  for (let s = 0; s <= t; s++) p *= 1 - betaAt(s);
  return p;
};

describe.each(TEST_BACKENDS)('diffusion forward process and losses on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });
  const schedule = diffusion.noiseSchedule({ timesteps: T });

  it('addNoise: xₜ = √ᾱₜ x₀ + √(1 - ᾱₜ) ε per example (Ho et al. 2020, eq. 4)', () => {
    const x0 = tf.tensor2d([[1, -0.5], [0.25, 2]]);
    const noise = tf.tensor2d([[0.3, 1], [-2, 0.5]]);
    const xt = diffusion.addNoise(x0, noise, [0, 600], schedule);
    const a0 = alphaBarAt(0);
    const a1 = alphaBarAt(600);
    const expected = [
      Math.sqrt(a0) * 1 + Math.sqrt(1 - a0) * 0.3,
      Math.sqrt(a0) * -0.5 + Math.sqrt(1 - a0) * 1,
      Math.sqrt(a1) * 0.25 + Math.sqrt(1 - a1) * -2,
      Math.sqrt(a1) * 2 + Math.sqrt(1 - a1) * 0.5,
    ];
    expectClose(values(xt), expected, 1e-5, 1e-6);
    // At t = 0 with no noise: x₀ scaled by √ᾱ₀ = √0.9999.
    const clean = diffusion.addNoise(x0, tf.zerosLike(x0), tf.tensor1d([0, 0], 'int32'), schedule);
    expectClose(values(clean), [1, -0.5, 0.25, 2].map((v) => v * Math.sqrt(0.9999)), 1e-6, 1e-7);
    tf.dispose([x0, noise, xt, clean]);
  });

  it('target: ε, x₀ and v = √ᾱ ε - √(1 - ᾱ) x₀ (Salimans & Ho 2022, §4)', () => {
    const x0 = tf.tensor4d([1, -1, 0.5, 2], [2, 1, 2, 1]);
    const noise = tf.tensor4d([0.5, 0.5, -1, 3], [2, 1, 2, 1]);
    const v = diffusion.target(x0, noise, [100, 900], schedule, 'v');
    const [a, b] = [alphaBarAt(100), alphaBarAt(900)];
    expectClose(
      values(v),
      [
        Math.sqrt(a) * 0.5 - Math.sqrt(1 - a) * 1,
        Math.sqrt(a) * 0.5 - Math.sqrt(1 - a) * -1,
        Math.sqrt(b) * -1 - Math.sqrt(1 - b) * 0.5,
        Math.sqrt(b) * 3 - Math.sqrt(1 - b) * 2,
      ],
      1e-5,
      1e-6,
    );
    expect(values(diffusion.target(x0, noise, [100, 900], schedule, 'epsilon'))).toEqual(values(noise));
    expect(values(diffusion.target(x0, noise, [100, 900], schedule, 'x0'))).toEqual(values(x0));
    tf.dispose([x0, noise, v]);
  });

  it('convertPrediction: ε, v and x₀ convert into each other (Salimans & Ho 2022, appendix D)', () => {
    const x0 = tf.randomNormal([3, 4, 4, 1], 0, 1, 'float32', 1);
    const noise = tf.randomNormal([3, 4, 4, 1], 0, 1, 'float32', 2);
    const t = [20, 500, 980];
    const xt = diffusion.addNoise(x0, noise, t, schedule);
    const all = ['epsilon', 'v', 'x0'] as const;
    for (const from of all) {
      for (const to of all) {
        const converted = diffusion.convertPrediction(diffusion.target(x0, noise, t, schedule, from), xt, t, schedule, { from, to });
        // Float32 rounding, amplified by 1/√(1 - ᾱ) ≈ 15 at t = 20 for x₀ → ε.
        expectClose(values(converted), values(diffusion.target(x0, noise, t, schedule, to)), 1e-4, 1e-4);
      }
    }
    tf.dispose([x0, noise, xt]);
  });

  it('minSnrWeights: min(SNR, γ) in x₀ form, / SNR for ε, / (SNR + 1) for v (Hang et al. 2023, §3.4)', () => {
    const snr = (t: number) => alphaBarAt(t) / (1 - alphaBarAt(t));
    const x0w = diffusion.minSnrWeights(schedule, 'x0', 5);
    const epsw = diffusion.minSnrWeights(schedule, 'epsilon', 5);
    const vw = diffusion.minSnrWeights(schedule, 'v', 5);
    for (const t of [0, 200, 999]) {
      expectClose(x0w[t]!, Math.min(snr(t), 5), 1e-9, 0);
      expectClose(epsw[t]!, Math.min(snr(t), 5) / snr(t), 1e-9, 0);
      expectClose(vw[t]!, Math.min(snr(t), 5) / (snr(t) + 1), 1e-9, 0);
    }
    expect(epsw[0]!).toBeLessThan(1e-3); // SNR₀ ≈ 1e4 ≫ 5
    expect(epsw[999]).toBe(1); // SNR ≪ 5
    // Zero terminal SNR: the ε weight min(1, γ/0) is 1, not 0/0.
    expect(diffusion.minSnrWeights(diffusion.noiseSchedule({ zeroTerminalSnr: true }), 'epsilon', 5)[999]).toBe(1);
  });

  it('loss: per-example MSE, weighted by min-SNR-γ', () => {
    const output = tf.tensor2d([[1, 2], [0, 0]]);
    const tgt = tf.tensor2d([[0, 0], [1, 3]]);
    // MSE per example: (1 + 4)/2 = 2.5 and (1 + 9)/2 = 5.
    expectClose(values(diffusion.loss(output, tgt, [0, 999], schedule)), [3.75], 1e-6, 0);
    expectClose(values(diffusion.loss(output, tgt, [0, 999], schedule, { reduction: 'none' })), [2.5, 5], 1e-6, 0);
    expectClose(values(diffusion.loss(output, tgt, [0, 999], schedule, { reduction: 'sum' })), [7.5], 1e-6, 0);
    const snr0 = alphaBarAt(0) / (1 - alphaBarAt(0));
    const weighted = diffusion.loss(output, tgt, [0, 999], schedule, { minSnrGamma: 5, prediction: 'epsilon', reduction: 'none' });
    expectClose(values(weighted), [2.5 * (5 / snr0), 5 * 1], 1e-5, 0);
    tf.dispose([output, tgt, weighted]);
  });

  it('trainingLoss: pinned t and noise give the hand-computed loss; labels reach the model', () => {
    const x0 = tf.tensor2d([[1, -1], [0.5, 0.5]]);
    const noise = tf.tensor2d([[1, 1], [-1, 2]]);
    const seen: number[][] = [];
    const zeroModel = {
      apply(inputs: tf.Tensor[]) {
        seen.push(...inputs.slice(1).map((x) => values(x)));
        return tf.zerosLike(inputs[0]!);
      },
    };
    const eps = diffusion.trainingLoss(zeroModel, x0, { schedule, t: [3, 7], noise, labels: tf.tensor1d([4, 2]) });
    // Target ε, output 0: mean of per-example means of ε²: ((1 + 1)/2 + (1 + 4)/2)/2 = 1.75.
    expectClose(values(eps), [1.75], 1e-6, 0);
    expect(seen).toEqual([[3, 7], [4, 2]]);
    const v = diffusion.trainingLoss(zeroModel, x0, { schedule, t: [3, 7], noise, prediction: 'v' });
    const vt = (t: number, e: number, x: number) => Math.sqrt(alphaBarAt(t)) * e - Math.sqrt(1 - alphaBarAt(t)) * x;
    const expected = ((vt(3, 1, 1) ** 2 + vt(3, 1, -1) ** 2) / 2 + (vt(7, -1, 0.5) ** 2 + vt(7, 2, 0.5) ** 2) / 2) / 2;
    expectClose(values(v), [expected], 1e-5, 0);
    tf.dispose([x0, noise, eps, v]);
  });

  it('trainingLoss: seeded draws repeat, and label dropout replaces labels by nullLabel', () => {
    const n = 2000;
    const x0 = tf.zeros([n, 2]);
    let lastLabels: number[] = [];
    let lastT: number[] = [];
    const model = {
      apply(inputs: tf.Tensor[]) {
        lastT = values(inputs[1]!);
        lastLabels = inputs[2] ? values(inputs[2]) : [];
        return tf.zerosLike(inputs[0]!);
      },
    };
    const labels = tf.fill([n], 3);
    const a = values(diffusion.trainingLoss(model, x0, { schedule, seed: 5, labels, labelDropout: 0.25, nullLabel: 10 }));
    const tA = lastT;
    const labelsA = lastLabels;
    const b = values(diffusion.trainingLoss(model, x0, { schedule, seed: 5, labels, labelDropout: 0.25, nullLabel: 10 }));
    expect(b).toEqual(a);
    expect(lastT).toEqual(tA);
    expect(lastLabels).toEqual(labelsA);
    diffusion.trainingLoss(model, x0, { schedule, seed: 6 });
    expect(lastT).not.toEqual(tA);
    // Timesteps are integers in [0, T), spread over the range.
    expect(tA.every((t) => Number.isInteger(t) && t >= 0 && t < T)).toBe(true);
    expect(Math.min(...tA)).toBeLessThan(50);
    expect(Math.max(...tA)).toBeGreaterThan(950);
    // Dropped labels: Binomial(2000, 0.25) has mean 500 and sd ≈ 19.4; 5 sd either side.
    expect(labelsA.every((l) => l === 3 || l === 10)).toBe(true);
    const dropped = labelsA.filter((l) => l === 10).length;
    expect(Math.abs(dropped - 500)).toBeLessThan(5 * 19.4);
    tf.dispose([x0, labels]);
  });

  it('trainingLoss: trains a small model and leaks nothing', async () => {
    const model = tfl.sequential({ layers: [tfl.layers.dense({ units: 4, inputShape: [4] })] });
    // A model with inputs [xt, t]: concatenate and project.
    const xIn = tfl.input({ shape: [3] });
    const tIn = tfl.input({ shape: [1] });
    const out = model.apply(tfl.layers.concatenate().apply([xIn, tIn])) as tfl.SymbolicTensor;
    const net = tfl.model({ inputs: [xIn, tIn], outputs: tfl.layers.dense({ units: 3 }).apply(out) as tfl.SymbolicTensor });
    const optimizer = tf.train.adam(1e-2);
    const x0 = tf.randomNormal([8, 3], 0, 1, 'float32', 3);
    let step = 0;
    await expectNoLeak(() => optimizer.minimize(() => diffusion.trainingLoss(net, x0, { schedule, seed: step++, minSnrGamma: 5 }), true), { warmup: 2, repeats: 5 });
    const grads = tf.variableGrads(() => diffusion.trainingLoss(net, x0, { schedule, seed: 1, prediction: 'v' }));
    for (const g of Object.values(grads.grads)) expect(values(g).every(Number.isFinite)).toBe(true);
    tf.dispose([x0, grads.value, ...Object.values(grads.grads)]);
    optimizer.dispose();
  });

  it('functions leak no tensors', async () => {
    const x0 = tf.ones([2, 3]);
    const noise = tf.ones([2, 3]);
    const t = tf.tensor1d([1, 2], 'int32');
    await expectNoLeak(() => diffusion.addNoise(x0, noise, t, schedule));
    await expectNoLeak(() => diffusion.target(x0, noise, [1, 2], schedule, 'v'));
    await expectNoLeak(() => diffusion.convertPrediction(x0, noise, [1, 2], schedule, { from: 'epsilon', to: 'v' }));
    await expectNoLeak(() => diffusion.loss(x0, noise, t, schedule, { minSnrGamma: 5 }));
    tf.dispose([x0, noise, t]);
  });

  it('rejects invalid arguments', () => {
    const x = tf.ones([2, 3]);
    expect(() => diffusion.addNoise(x, x, [0, 1000], schedule)).toThrow(/diffusion.addNoise: argument 't' must hold integers in \[0, 1000\), received 1000 at index 1/);
    expect(() => diffusion.addNoise(x, x, [0], schedule)).toThrow(/argument 't' must be an int32 tensor or an array of 2 timesteps/);
    expect(() => diffusion.addNoise(x, x, tf.tensor1d([0, 1]), schedule)).toThrow(DTypeError);
    expect(() => diffusion.addNoise(x, x, tf.tensor1d([0, 1, 2], 'int32'), schedule)).toThrow(ShapeError);
    expect(() => diffusion.addNoise(x, tf.ones([2, 2]), [0, 1], schedule)).toThrow(ShapeError);
    expect(() => diffusion.addNoise(x, x, [0, 1], {} as never)).toThrow(/argument 'schedule' must be a schedule made by diffusion.noiseSchedule/);
    expect(() => diffusion.target(x, x, [0, 1], schedule, 'score' as never)).toThrow(/argument 'prediction' must be one of 'epsilon', 'v', 'x0'/);
    expect(() => diffusion.convertPrediction(x, x, [0, 1], schedule, { from: 'v', to: 'x0', too: 1 } as never)).toThrow(/options.too/);
    expect(() => diffusion.loss(x, x, [0, 1], schedule, { minSnrGamma: 0 })).toThrow(/options.minSnrGamma' must be a finite number > 0/);
    const model = { apply: (inputs: tf.Tensor[]) => inputs[0] };
    expect(() => diffusion.trainingLoss({} as never, x, { schedule })).toThrow(/diffusion.trainingLoss: argument 'model' must be a model with an apply method/);
    expect(() => diffusion.trainingLoss(model, x, { schedule, labelDropout: 0.1 })).toThrow(/options.labelDropout' must be 0 without labels/);
    expect(() => diffusion.trainingLoss(model, x, { schedule, labels: tf.ones([2]), labelDropout: 0.1 })).toThrow(/options.nullLabel' must be an integer >= 0/);
    expect(() => diffusion.trainingLoss(model, x, { schedule, labels: tf.ones([3]) })).toThrow(/options.labels' must have shape \[2\] or \[2, 1\]/);
    expect(() => diffusion.trainingLoss(model, x, { schedule, sed: 1 } as never)).toThrow(ArgumentError);
    x.dispose();
  });
});
