/**
 * diffusion.ddpmStep, ddimStep, samplingTimesteps, guide and sample.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { ArgumentError, diffusion } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { expectClose, expectNoLeak, values } from '../helpers/memory.js';

// A short linear schedule with hand formulas: βₜ = 1e-3 + (0.2 - 1e-3) t / (T - 1), ᾱₜ = Π (1 - βₛ).
const T = 50;
const betaAt = (t: number) => 1e-3 + ((0.2 - 1e-3) * t) / (T - 1);
const alphaBarAt = (t: number) => {
  let p = 1;
  for (let s = 0; s <= t; s++) p *= 1 - betaAt(s);
  return p;
};

/** A model that knows the data: it returns the exact ε (or v, x₀) for x0 at any (xₜ, t). */
function perfectModel(x0: tf.Tensor, prediction: 'epsilon' | 'v' | 'x0' = 'epsilon') {
  const calls: number[][] = [];
  return {
    calls,
    apply(inputs: tf.Tensor[]) {
      const [xt, tIn] = inputs as [tf.Tensor, tf.Tensor];
      const t = tIn.dataSync()[0]!;
      calls.push(inputs.slice(1).flatMap((x) => values(x)));
      const a = Math.sqrt(alphaBarAt(t));
      const s = Math.sqrt(1 - alphaBarAt(t));
      return tf.tidy(() => {
        const epsilon = tf.div(tf.sub(xt, tf.mul(a, x0)), s);
        if (prediction === 'epsilon') return epsilon;
        if (prediction === 'x0') return tf.clone(x0);
        return tf.sub(tf.mul(a, epsilon), tf.mul(s, x0));
      });
    },
  };
}

describe('diffusion.samplingTimesteps (diffusers spacings, Lin et al. 2023 Table 2)', () => {
  it('leading, trailing and linspace', () => {
    // leading: k · ⌊1000/10⌋ = 900, 800, …, 0.
    expect(diffusion.samplingTimesteps(1000, 10, 'leading')).toEqual([900, 800, 700, 600, 500, 400, 300, 200, 100, 0]);
    // trailing: round(1000 - 100k) - 1 = 999, 899, …, 99.
    expect(diffusion.samplingTimesteps(1000, 10)).toEqual([999, 899, 799, 699, 599, 499, 399, 299, 199, 99]);
    // linspace: round(k · 999/9) = 0, 111, …, 999.
    expect(diffusion.samplingTimesteps(1000, 10, 'linspace')).toEqual([999, 888, 777, 666, 555, 444, 333, 222, 111, 0]);
    // Rounding half to even as NumPy: 1000 - 3 · 62.5 = 812.5 → 812 → 811 (Math.round would give 812).
    expect(diffusion.samplingTimesteps(1000, 16)[3]).toBe(811);
    expect(diffusion.samplingTimesteps(50, 50)).toEqual(Array.from({ length: 50 }, (_, i) => 49 - i));
    expect(() => diffusion.samplingTimesteps(10, 11)).toThrow(/diffusion.samplingTimesteps: argument 'steps' must be at most the training timesteps \(10\), received 11/);
  });
});

describe.each(TEST_BACKENDS)('diffusion samplers on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });
  const schedule = diffusion.noiseSchedule({ timesteps: T, betaStart: 1e-3, betaEnd: 0.2 });

  it('ddpmStep with the true noise gives the posterior mean μ̃ₜ(xₜ, x₀) (Ho et al. 2020, eq. 7)', () => {
    const x0 = tf.tensor2d([[0.5, -1, 0.25]]);
    const eps = tf.tensor2d([[1, 0.5, -2]]);
    const z = tf.tensor2d([[0.3, -0.7, 1.1]]);
    for (const t of [1, 20, 49]) {
      const xt = diffusion.addNoise(x0, eps, [t], schedule);
      const [ab, abPrev, beta] = [alphaBarAt(t), alphaBarAt(t - 1), betaAt(t)];
      const xtv = values(xt);
      const mean = [0.5, -1, 0.25].map((x, i) => ((Math.sqrt(abPrev) * beta) / (1 - ab)) * x + ((Math.sqrt(1 - beta) * (1 - abPrev)) / (1 - ab)) * xtv[i]!);
      const m = perfectModel(x0);
      for (const prediction of ['epsilon', 'v', 'x0'] as const) {
        const out = diffusion.ddpmStep(perfectModel(x0, prediction).apply([xt, tf.fill([1, 1], t)]), xt, t, schedule, { prediction, noise: tf.zerosLike(xt) });
        expectClose(values(out), mean, 1e-4, 1e-5);
      }
      // With noise z: + σ z, σ² = β̃ₜ = βₜ (1 - ᾱₜ₋₁)/(1 - ᾱₜ) ('small') or βₜ ('large').
      const small = diffusion.ddpmStep(m.apply([xt, tf.fill([1, 1], t)]), xt, t, schedule, { noise: z });
      const large = diffusion.ddpmStep(m.apply([xt, tf.fill([1, 1], t)]), xt, t, schedule, { noise: z, variance: 'large' });
      const zv = [0.3, -0.7, 1.1];
      expectClose(values(small), mean.map((mu, i) => mu + Math.sqrt((beta * (1 - abPrev)) / (1 - ab)) * zv[i]!), 1e-4, 1e-5);
      expectClose(values(large), mean.map((mu, i) => mu + Math.sqrt(beta) * zv[i]!), 1e-4, 1e-5);
    }
    // The last step (t = 0) adds no noise and returns x̂₀: μ̃ = 1 · x₀ + 0 · x₀'s xₜ.
    const x1 = diffusion.addNoise(x0, eps, [0], schedule);
    const last = diffusion.ddpmStep(perfectModel(x0).apply([x1, tf.fill([1, 1], 0)]), x1, 0, schedule, { noise: z });
    expectClose(values(last), [0.5, -1, 0.25], 1e-4, 1e-4);
  });

  it('ddpmStep clips the predicted x₀ when asked', () => {
    // x0-prediction 3 clipped to 1 at t = 0 (μ̃ = x̂₀, no noise).
    const out = diffusion.ddpmStep(tf.fill([1, 2], 3), tf.zeros([1, 2]), 0, schedule, { prediction: 'x0', clipSample: 1 });
    expect(values(out)).toEqual([1, 1]);
  });

  it('ddimStep with η = 1 has σ² = β̃ₜ, the DDPM posterior variance (Song et al. 2020, eq. 16)', () => {
    for (const t of [1, 10, 49]) {
      // x̂₀ = 0 and xₜ = 0 make the mean 0 (ε̂ = (xₜ - √ᾱ x̂₀)/√(1-ᾱ) = 0): the output is σ · z with z = 1.
      const out = diffusion.ddimStep(tf.zeros([1, 1]), tf.zeros([1, 1]), t, schedule, { eta: 1, prediction: 'x0', noise: tf.ones([1, 1]) });
      const posterior = (betaAt(t) * (1 - alphaBarAt(t - 1))) / (1 - alphaBarAt(t));
      expectClose(values(out)[0]! ** 2, posterior, 1e-4, 1e-9);
    }
  });

  it('ddimStep with η = 1 equals the DDPM step over all steps (Song et al. 2020, §4.1)', () => {
    const x0 = tf.tensor2d([[0.5, -1], [2, 0]]);
    let x = tf.randomNormal([2, 2], 0, 1, 'float32', 3);
    // A fixed predictor that is not the true one, so both means depend on the model output.
    for (let t = T - 1; t >= 0; t--) {
      const output = tf.tidy(() => tf.add(tf.mul(0.3, x), tf.mul(0.1, x0)));
      const z = tf.randomNormal([2, 2], 0, 1, 'float32', 100 + t);
      const ddpm = diffusion.ddpmStep(output, x, t, schedule, { noise: z });
      const ddim = diffusion.ddimStep(output, x, t, schedule, { eta: 1, noise: z });
      expectClose(values(ddim), values(ddpm), 1e-4, 1e-4);
      tf.dispose([output, z, ddpm, x]);
      x = ddim;
    }
    tf.dispose([x, x0]);
  });

  it('ddimStep with η = 0 is deterministic (Song et al. 2020, eq. 12)', () => {
    const xt = tf.randomNormal([2, 3], 0, 1, 'float32', 1);
    const output = tf.randomNormal([2, 3], 0, 1, 'float32', 2);
    const a = diffusion.ddimStep(output, xt, 30, schedule, { prevT: 20, seed: 1 });
    const b = diffusion.ddimStep(output, xt, 30, schedule, { prevT: 20, seed: 2 });
    expect(values(a)).toEqual(values(b));
    // Hand eq. 12 with σ = 0: √ᾱ₂₀ x̂₀ + √(1 - ᾱ₂₀) ε̂, x̂₀ = (xₜ - √(1-ᾱ₃₀) ε̂)/√ᾱ₃₀.
    const [ab, abPrev] = [alphaBarAt(30), alphaBarAt(20)];
    const xv = values(xt);
    const ev = values(output);
    const expected = xv.map((x, i) => Math.sqrt(abPrev) * ((x - Math.sqrt(1 - ab) * ev[i]!) / Math.sqrt(ab)) + Math.sqrt(1 - abPrev) * ev[i]!);
    expectClose(values(a), expected, 1e-4, 1e-5);
    tf.dispose([xt, output, a, b]);
  });

  it.each(['epsilon', 'v'] as const)('DDIM (η = 0) with a perfect %s predictor maps x_T back to its x₀', async (prediction) => {
    const x0 = tf.tensor4d([0.5, -0.5, 1, 0, -1, 0.25, 0.75, -0.25], [2, 2, 2, 1]);
    const xT = diffusion.addNoise(x0, tf.randomNormal(x0.shape, 0, 1, 'float32', 4), [T - 1, T - 1], schedule);
    for (const steps of [T, 7]) {
      const { samples } = await diffusion.sample(perfectModel(x0, prediction), { schedule, shape: [2, 2, 2, 1], steps, noise: xT, prediction });
      expectClose(values(samples), values(x0), 1e-3, 1e-3);
      samples.dispose();
    }
    tf.dispose([x0, xT]);
  });

  it('guide: (1 + w) cond - w uncond (Ho & Salimans 2022, eq. 6)', () => {
    const cond = tf.tensor1d([1, 2]);
    const uncond = tf.tensor1d([0.5, -1]);
    expect(values(diffusion.guide(cond, uncond, 0))).toEqual([1, 2]); // w = 0: conditional
    expect(values(diffusion.guide(cond, uncond, -1))).toEqual([0.5, -1]); // w = -1: unconditional
    expectClose(values(diffusion.guide(cond, uncond, 3)), [4 * 1 - 3 * 0.5, 4 * 2 - 3 * -1], 1e-6, 0);
    tf.dispose([cond, uncond]);
  });

  it('sample: seeded, with trajectory and onStep, yields between steps, leaks nothing', async () => {
    const x0 = tf.zeros([3, 2, 2, 1]);
    const model = perfectModel(x0);
    const before = tf.memory().numTensors;
    // An immediate queued now runs only if sample returns to the event loop between steps.
    let immediateRan = false;
    setImmediate(() => (immediateRan = true));
    const ranBeforeStep: boolean[] = [];
    const seen: number[] = [];
    const result = await diffusion.sample(model, {
      schedule,
      shape: [3, 2, 2, 1],
      steps: 5,
      sampler: 'ddpm',
      seed: 7,
      trajectory: true,
      onStep: ({ t, step, steps }) => {
        ranBeforeStep.push(immediateRan);
        seen.push(t);
        expect(steps).toBe(5);
        expect(step).toBe(seen.length);
      },
    });
    expect(seen).toEqual([49, 39, 29, 19, 9]);
    expect(ranBeforeStep.slice(1)).toEqual([true, true, true, true]);
    expect(result.trajectory).toHaveLength(6);
    expect(values(result.trajectory![5]!)).toEqual(values(result.samples));
    const again = await diffusion.sample(model, { schedule, shape: [3, 2, 2, 1], steps: 5, sampler: 'ddpm', seed: 7 });
    expect(values(again.samples)).toEqual(values(result.samples));
    const xT = tf.randomNormal([3, 2, 2, 1], 0, 1, 'float32', 7);
    expect(values(result.trajectory![0]!)).toEqual(values(xT));
    tf.dispose([xT, result.samples, ...result.trajectory!, again.samples]);
    expect(tf.memory().numTensors).toBe(before);
    await expectNoLeak(async () => (await diffusion.sample(model, { schedule, shape: [3, 2, 2, 1], steps: 4, eta: 0.5, seed: 1 })).samples);
    x0.dispose();
  });

  it('sample takes 50 steps by default, or T when the schedule is shorter', async () => {
    const model = { apply: (inputs: tf.Tensor[]) => tf.zerosLike(inputs[0]!) };
    const count = async (timesteps: number) => {
      let steps = 0;
      const { samples } = await diffusion.sample(model, { schedule: diffusion.noiseSchedule({ timesteps }), shape: [1, 1], seed: 0, onStep: () => void steps++ });
      samples.dispose();
      return steps;
    };
    expect(await count(1000)).toBe(50);
    expect(await count(20)).toBe(20);
  });

  it('sample with guidance runs [cond; uncond] in one call and applies guide', async () => {
    // A model whose ε̂ depends on the label: ε̂ = 0.1 · label (broadcast), so guidance is visible.
    const calls: number[][] = [];
    const model = {
      apply(inputs: tf.Tensor[]) {
        calls.push(values(inputs[2]!));
        return tf.tidy(() => tf.mul(tf.onesLike(inputs[0]!), tf.mul(0.1, tf.reshape(inputs[2]!, [-1, 1, 1, 1]))));
      },
    };
    const noise = tf.zeros([2, 1, 1, 1]);
    const before = tf.memory().numTensors;
    const { samples } = await diffusion.sample(model, { schedule, shape: [2, 1, 1, 1], steps: 1, noise, labels: [3, 5], guidanceScale: 2, nullLabel: 10 });
    expect(calls).toEqual([[3, 5, 10, 10]]);
    // One step from t = 49 to x₀ (prevT = -1): x̂₀ = (0 - √(1-ᾱ) ε̂)/√ᾱ, ε̂ = 3 · 0.1 · label - 2 · 0.1 · 10.
    const ab = alphaBarAt(49);
    const expected = [3, 5].map((label) => -(Math.sqrt(1 - ab) * (3 * 0.1 * label - 2 * 1)) / Math.sqrt(ab));
    expectClose(values(samples), expected, 1e-4, 1e-4);
    samples.dispose();
    expect(tf.memory().numTensors).toBe(before);
    // guidanceScale 0: one conditional pass.
    calls.length = 0;
    (await diffusion.sample(model, { schedule, shape: [2, 1, 1, 1], steps: 2, noise, labels: [3, 5] })).samples.dispose();
    expect(calls).toEqual([[3, 5], [3, 5]]);
    noise.dispose();
  });

  it('rejects invalid arguments', async () => {
    const x = tf.zeros([1, 2]);
    expect(() => diffusion.ddpmStep(x, x, 50, schedule)).toThrow(/diffusion.ddpmStep: argument 't' must be an integer >= 0 and <= 49, received 50/);
    expect(() => diffusion.ddimStep(x, x, 5, schedule, { prevT: 5 })).toThrow(/diffusion.ddimStep: argument 'options.prevT' must be less than t \(5\)/);
    expect(() => diffusion.ddimStep(x, x, 5, schedule, { eta: -1 })).toThrow(/options.eta' must be a finite number >= 0/);
    expect(() => diffusion.ddpmStep(x, x, 5, schedule, { variance: 'learned' } as never)).toThrow(/options.variance' must be one of 'small', 'large'/);
    expect(() => diffusion.ddpmStep(x, x, 5, schedule, { eta: 1 } as never)).toThrow(/options.eta/);
    expect(() => diffusion.guide(x, tf.zeros([2, 2]), 1)).toThrow(/diffusion.guide/);
    const model = { apply: (inputs: tf.Tensor[]) => inputs[0] };
    await expect(diffusion.sample(model, { schedule, shape: [1, 2], steps: 51 })).rejects.toThrow(/options.steps' must be at most the schedule's 50 timesteps/);
    await expect(diffusion.sample(model, { schedule, shape: [1, 2], guidanceScale: 1 })).rejects.toThrow(/options.guidanceScale' must be 0 without labels/);
    await expect(diffusion.sample(model, { schedule, shape: [1, 2], labels: [1], guidanceScale: 1 })).rejects.toThrow(/options.nullLabel/);
    await expect(diffusion.sample(model, { schedule, shape: [1, 2], labels: [1, 2] })).rejects.toThrow(ArgumentError);
    await expect(diffusion.sample(model, { schedule, shape: [1, 2], sampler: 'euler' } as never)).rejects.toThrow(/options.sampler/);
    await expect(diffusion.sample(model, { schedule: diffusion.noiseSchedule({ zeroTerminalSnr: true }), shape: [1, 2] })).rejects.toThrow(/options.prediction' must be 'v' or 'x0' with a zero-terminal-SNR schedule/);
    const before = tf.memory().numTensors;
    const bad = { apply: () => tf.zeros([1, 3]) };
    await expect(diffusion.sample(bad, { schedule, shape: [1, 2], steps: 2, seed: 0 })).rejects.toThrow(/model output/);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
