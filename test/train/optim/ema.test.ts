/**
 * train.ExponentialMovingAverage: diffusers' warm-up formula and the averaging step against
 * hand-computed values, swapping the average in, and ModelTrainer's `ema` option.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { train } from '../../../src/index.js';
import { useTestBackend } from '../../helpers/backends.js';
import { expectClose, expectNoLeak, values } from '../../helpers/memory.js';

describe('train.ExponentialMovingAverage', () => {
  beforeAll(async () => {
    await useTestBackend('cpu');
  });

  it('warms the decay up as diffusers EMAModel does: 0 at t = 0, then min(decay, (1 + t)/(10 + t))', () => {
    const w = tf.variable(tf.scalar(0));
    const ema = new train.ExponentialMovingAverage([w], { decay: 0.5, warmup: true });
    // (1+1)/(10+1) = 2/11; (1+2)/(10+2) = 1/4; (1+7)/(10+7) = 8/17 ≈ 0.4706 < 0.5; (1+8)/(10+8) = 1/2; t = 100: 101/110 > 0.5 → 0.5.
    expectClose(
      [0, 1, 2, 7, 8, 100].map((t) => ema.decayAt(t)),
      [0, 2 / 11, 1 / 4, 8 / 17, 0.5, 0.5],
      1e-12,
      0,
    );
    const plain = new train.ExponentialMovingAverage([w], { decay: 0.5 });
    expect([0, 1, 100].map((t) => plain.decayAt(t))).toEqual([0.5, 0.5, 0.5]);
    tf.dispose([w]);
    ema.dispose();
    plain.dispose();
  });

  it('averages ema ← d_t·ema + (1 − d_t)·w (hand-computed for w = 2, 4, 0)', () => {
    const w = tf.variable(tf.tensor1d([2]));
    const warm = new train.ExponentialMovingAverage([w], { decay: 0.9, warmup: true });
    const plain = new train.ExponentialMovingAverage([w], { decay: 0.9 });
    warm.update(0);
    plain.update(0);
    // Warm-up: d_0 = 0 copies w: 2. Plain: 0.9·2 + 0.1·2 = 2 (the average starts at the initial weights).
    expectClose(values(warm.variables[0]!), [2]);
    w.assign(tf.tensor1d([4]));
    warm.update(1);
    plain.update(1);
    // d_1 = 2/11: 2/11·2 + 9/11·4 = 40/11. Plain: 0.9·2 + 0.1·4 = 2.2.
    expectClose(values(warm.variables[0]!), [40 / 11]);
    expectClose(values(plain.variables[0]!), [2.2]);
    w.assign(tf.tensor1d([0]));
    warm.update(2);
    // d_2 = 3/12 = 1/4: 1/4 · 40/11 + 3/4 · 0 = 10/11.
    expectClose(values(warm.variables[0]!), [10 / 11]);
    expect(values(w)).toEqual([0]); // the source is never written by update
    tf.dispose(w);
    warm.dispose();
    plain.dispose();
  });

  it('withAverage swaps the average in for sync and async work, and always puts the training values back', async () => {
    const model = tfl.sequential({ layers: [tfl.layers.dense({ units: 1, inputShape: [1], useBias: false, kernelInitializer: 'ones' })] });
    const ema = new train.ExponentialMovingAverage(model, { decay: 0.5 });
    (model.trainableWeights[0]!.read() as tf.Variable).assign(tf.tensor2d([[3]]));
    ema.update(); // 0.5·1 + 0.5·3 = 2
    const x = tf.tensor2d([[1]]);
    expect(values(ema.withAverage(() => model.predict(x) as tf.Tensor))).toEqual([2]);
    expect(values(model.predict(x) as tf.Tensor)).toEqual([3]);
    const seen = await ema.withAverage(async () => {
      await new Promise((r) => setTimeout(r, 1));
      return values(model.predict(x) as tf.Tensor);
    });
    expect(seen).toEqual([2]);
    expect(() =>
      ema.withAverage(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    await expect(
      ema.withAverage(async () => {
        throw new Error('later');
      }),
    ).rejects.toThrow('later');
    expect(values(model.predict(x) as tf.Tensor)).toEqual([3]);
    await expectNoLeak(() => {
      ema.update(5);
      return ema.withAverage(() => model.predict(x));
    });
    ema.dispose();
  });

  it('rejects bad options with messages that name them', () => {
    const w = tf.variable(tf.scalar(0));
    expect(() => new train.ExponentialMovingAverage([w], { decay: 1 })).toThrow(
      /^train\.ExponentialMovingAverage: argument 'options\.decay' must be/,
    );
    expect(() => new train.ExponentialMovingAverage([w], { decay: 0.9, warmUp: true } as never)).toThrow(
      /argument 'options\.warmUp' must be one of the known options .*Did you mean 'warmup'\?/,
    );
    expect(() => new train.ExponentialMovingAverage([], { decay: 0.9 })).toThrow(
      /argument 'source' must be a non-empty array of tf\.Variable or a network with trainable weights/,
    );
    w.dispose();
  });

  it('ModelTrainer: ema averages the trained weights, samples with them and saves them in checkpoints', async () => {
    const model = tfl.sequential({
      layers: [tfl.layers.dense({ units: 1, inputShape: [1], useBias: false, kernelInitializer: tfl.initializers.constant({ value: 2 }) })],
    });
    const trainer = new train.ModelTrainer({
      models: { model },
      optimizer: tf.train.sgd(0.1),
      // d mse/dw = mean(2·w·x²) for x = [1, 2]: 10 at w = 2 (one step: w ← 1).
      loss: ({ x }, { models }) => ({ mse: tf.mean(tf.square(models.model.apply(x) as tf.Tensor)) as tf.Scalar }),
      sample: (n, _options, t) => t.models.model.apply(tf.ones([n, 1])) as tf.Tensor,
      ema: { decay: 0.5 },
    });
    await trainer.fit([tf.tensor2d([[1], [2]])], { steps: 1 });
    // w = 1 after the step; ema = 0.5·2 + 0.5·1 = 1.5, which is what sample(·) = w·1 sees.
    expectClose(values(trainer.ema!.variables[0]!), [1.5]);
    expectClose(values(await trainer.sample(1)), [1.5]);
    expect(values(model.getWeights()[0]!)).toEqual([1]);
    const names = (await trainer.checkpoint()).tensors.map((t) => t.name);
    expect(names).toContain('ema/0');
    expect(
      () =>
        new train.ModelTrainer({
          models: { model },
          optimizer: tf.train.sgd(1),
          loss: () => ({}),
          ema: { decay: 0.9, models: ['other'] },
        } as never),
    ).toThrow(/argument 'config\.ema\.models' must be a non-empty array of names of config\.models \(model\)/);
    trainer.dispose();
  });
});
