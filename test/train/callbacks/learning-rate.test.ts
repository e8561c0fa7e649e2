/**
 * train.learningRateSchedule and train.cosineDecay: the schedule's values against the formula
 * worked by hand, the rate each tf.train optimizer really applies, resumption, validation and
 * memory.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { train } from '../../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../../helpers/backends.js';
import { expectClose } from '../../helpers/memory.js';
import { rng } from '../fixtures.js';
import { binaryBatches, mlpDecoder, mlpEncoder } from '../vae-fixtures.js';

describe('train.cosineDecay', () => {
  it('follows final + ½(initial − final)(1 + cos(πt/T)), held at final after T', () => {
    const s = train.cosineDecay({ initial: 1e-3, final: 1e-5, steps: 1000 });
    // t = 0: cos 0 = 1 → initial. t = T/2: cos(π/2) = 0 → (initial + final)/2 = 5.05e-4.
    // t = T/4: cos(π/4) = √2/2 → 1e-5 + 4.95e-4·(1 + 0.70711) = 8.4502e-4.
    expectClose(s(0), 1e-3, 1e-12);
    expectClose(s(500), 5.05e-4, 1e-9);
    expectClose(s(250), 1e-5 + 4.95e-4 * (1 + Math.SQRT1_2), 1e-9);
    expectClose(s(1000), 1e-5, 1e-9);
    expectClose(s(5000), 1e-5, 1e-9);
  });

  it('defaults final to initial / 100 and warms up linearly', () => {
    const s = train.cosineDecay({ initial: 0.4, steps: 10, warmupSteps: 4 });
    // Warm-up: initial·(t + 1)/4 = 0.1, 0.2, 0.3, 0.4; then the decay starts at t = 4.
    expect([0, 1, 2, 3].map(s)).toEqual([0.1, 0.2, 0.30000000000000004, 0.4].map((v) => expect.closeTo(v, 12)));
    expectClose(s(4), 0.4, 1e-12);
    expectClose(s(14), 0.004, 1e-9);
  });

  it('rejects bad options with the argument named', () => {
    expect(() => train.cosineDecay({ initial: 0, steps: 10 })).toThrow(/train\.cosineDecay.*options\.initial.*> 0/);
    expect(() => train.cosineDecay({ initial: 1e-3, steps: 0 })).toThrow(/train\.cosineDecay.*options\.steps/);
    expect(() => train.cosineDecay({ initial: 1e-3, steps: 10, final: -1 })).toThrow(/options\.final/);
    expect(() => train.cosineDecay(undefined as never)).toThrow(/train\.cosineDecay.*options.*received undefined/);
  });
});

describe.each(TEST_BACKENDS)('train.learningRateSchedule on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  const context = (step: number) => ({ trainer: { step } as train.Trainer, stop() {}, totalSteps: undefined, epochs: undefined });

  // One update of w = 1 on f(w) = w²: the gradient is 2.
  async function updateOnce(optimizer: tf.Optimizer): Promise<number> {
    const w = tf.variable(tf.scalar(1));
    optimizer.minimize(() => tf.square(w) as tf.Scalar, false, [w]);
    const v = (await w.data())[0]!;
    w.dispose();
    return v;
  }

  it('makes sgd and momentum (which cache the rate as a tensor) apply the scheduled rate', async () => {
    for (const optimizer of [tf.train.sgd(1), tf.train.momentum(1, 0.9)]) {
      train.learningRateSchedule(optimizer, () => 0.1).onTrainBegin!({}, context(0));
      // Plain SGD and momentum's first step both move by lr · gradient = 0.1 · 2.
      expectClose(await updateOnce(optimizer), 0.8, 1e-6);
      optimizer.dispose();
    }
  });

  it('makes adam, adamax, rmsprop, adagrad and adadelta apply the scheduled rate', async () => {
    // First Adam/Adamax step: m̂/√v̂ = g/|g| = 1, so w moves by the rate itself (ε is negligible).
    for (const make of [() => tf.train.adam(1), () => tf.train.adamax(1)]) {
      const optimizer = make();
      train.learningRateSchedule(optimizer, () => 0.05).onTrainBegin!({}, context(0));
      expectClose(await updateOnce(optimizer), 0.95, 1e-5);
      optimizer.dispose();
    }
    // RMSProp (ρ = 0.9, no momentum): v = 0.1·g² = 0.4, step = lr·g/√v = 0.01·2/√0.4 = 0.0316228.
    const rms = tf.train.rmsprop(1, 0.9);
    train.learningRateSchedule(rms, () => 0.01).onTrainBegin!({}, context(0));
    expectClose(await updateOnce(rms), 1 - 0.02 / Math.sqrt(0.4), 1e-5);
    rms.dispose();
    // Adagrad (initial accumulator 0.1): a = 0.1 + 4, step = lr·g/√a = 0.1·2/√4.1.
    const adagrad = tf.train.adagrad(1);
    train.learningRateSchedule(adagrad, () => 0.1).onTrainBegin!({}, context(0));
    expectClose(await updateOnce(adagrad), 1 - 0.2 / Math.sqrt(4.1), 1e-5);
    adagrad.dispose();
    const adadelta = tf.train.adadelta(1);
    const setTo = train.learningRateSchedule(adadelta, () => 0.5);
    setTo.onTrainBegin!({}, context(0));
    expect((adadelta as unknown as { learningRate: number }).learningRate).toBe(0.5);
    adadelta.dispose();
  });

  it('sets schedule(step completed) before every step, from the trainer counter after a resume', async () => {
    const optimizer = tf.train.adam(1);
    const seen: number[] = [];
    const trainer = new train.VaeTrainer({ encoder: mlpEncoder(8, 2, 8, 1), decoder: mlpDecoder(2, 8, 8, 2), optimizer, seed: 1 });
    const schedule = (step: number) => 0.001 * (step + 1);
    const probe: train.Callback = { onStepEnd: () => void seen.push((optimizer as unknown as { learningRate: number }).learningRate) };
    const batches = binaryBatches([[1, 0, 1, 0, 1, 0, 1, 0]], 4, 4, rng(1));
    // The probe runs after the schedule's onStepEnd: it sees the rate for the next step.
    await trainer.fit(batches, { steps: 3, callbacks: [train.learningRateSchedule(optimizer, schedule), probe] });
    expectClose(seen, [0.002, 0.003, 0.004], 1e-12);
    // A second fit (as after trainer.resume) starts from the counter: step 3 → 0.004.
    const begin: number[] = [];
    await trainer.fit(batches, {
      steps: 4,
      callbacks: [
        train.learningRateSchedule(optimizer, schedule),
        { onTrainBegin: () => void begin.push((optimizer as unknown as { learningRate: number }).learningRate) },
      ],
    });
    expectClose(begin, [0.004], 1e-12);
    trainer.dispose();
    optimizer.dispose();
  });

  it('applies one schedule to several optimizers', () => {
    const a = tf.train.adam(1);
    const b = tf.train.sgd(1);
    train.learningRateSchedule([a, b], (s) => 1 / (s + 2)).onStepEnd!(2, {}, context(2));
    expect((a as unknown as { learningRate: number }).learningRate).toBe(0.25);
    expect((b as unknown as { learningRate: number }).learningRate).toBe(0.25);
    a.dispose();
    b.dispose();
  });

  it('rejects what it cannot schedule, naming the argument', () => {
    expect(() => train.learningRateSchedule({} as tf.Optimizer, () => 1)).toThrow(
      /train\.learningRateSchedule.*'optimizers'.*tf\.train optimizer/,
    );
    expect(() => train.learningRateSchedule([], () => 1)).toThrow(/'optimizers'.*at least one/);
    expect(() => train.learningRateSchedule([tf.train.sgd(1), 3 as never], () => 1)).toThrow(/'optimizers\[1\]'/);
    expect(() => train.learningRateSchedule(tf.train.sgd(1), 0.1 as never)).toThrow(/'schedule'.*function/);
    const bad = train.learningRateSchedule(tf.train.sgd(1), (s) => (s < 2 ? 0.1 : Number.NaN));
    expect(() => bad.onStepEnd!(2, {}, context(2))).toThrow(/'schedule'.*finite positive learning rate \(at step 2\).*NaN/);
  });

  it('leaks no tensor when sgd refreshes its cached rate', () => {
    const optimizer = tf.train.sgd(1);
    const callback = train.learningRateSchedule(optimizer, (s) => 1 / (s + 1));
    callback.onStepEnd!(0, {}, context(0));
    const before = tf.memory().numTensors;
    for (let s = 1; s < 20; s++) callback.onStepEnd!(s, {}, context(s));
    expect(tf.memory().numTensors).toBe(before);
    optimizer.dispose();
  });
});
