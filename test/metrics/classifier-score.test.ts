import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { metrics } from '../../src/index.js';
import { useTestBackend } from '../helpers/backends.js';
import { expectClose, expectNoLeak } from '../helpers/memory.js';

const oneHot = (classes: number[], k: number) => tf.cast(tf.oneHot(tf.tensor1d(classes, 'int32'), k), 'float32') as tf.Tensor2D;

describe('metrics.classifierScore', () => {
  beforeAll(() => useTestBackend('cpu'));

  it('is 1 for uniform predictions (every KL term is 0)', async () => {
    const { mean } = await metrics.classifierScore(tf.fill([8, 10], 0.1) as tf.Tensor2D);
    expectClose(mean, 1, 1e-6);
  });

  it('is numClasses for confident predictions spread evenly over the classes', async () => {
    // KL(onehot ‖ uniform) = log 10 for every example, exp(log 10) = 10.
    const { mean } = await metrics.classifierScore(oneHot([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 10));
    expectClose(mean, 10, 1e-6);
  });

  it('gives the hand-computed value for p₁ = [1, 0], p₂ = [½, ½]', async () => {
    // p(y) = [¾, ¼]; KL₁ = log(4/3); KL₂ = ½ log(⅔) + ½ log 2 = ½ log(4/3);
    // score = exp(¾ log(4/3)) = (4/3)^0.75.
    const { mean, values } = await metrics.classifierScore(
      tf.tensor2d([
        [1, 0],
        [0.5, 0.5],
      ]),
    );
    expectClose(mean, (4 / 3) ** 0.75, 1e-6);
    expect(values).toHaveLength(1);
  });

  it('computes one score per split with their mean and population std', async () => {
    // Split 1: classes {0, 0} → score 1; split 2: classes {0, 1} → score 2. Mean 1.5, std 0.5.
    const r = await metrics.classifierScore(oneHot([0, 0, 0, 1], 2), { splits: 2 });
    expectClose(r.values, [1, 2], 1e-6);
    expectClose([r.mean, r.std], [1.5, 0.5], 1e-6);
  });

  it('rejects logits, bad shapes and bad options', async () => {
    await expect(
      metrics.classifierScore(
        tf.tensor2d([
          [2, -1],
          [0, 3],
        ]),
      ),
    ).rejects.toThrow(/metrics\.classifierScore: argument 'probabilities' must hold probabilities in \[0, 1\] \(apply tf\.softmax/);
    await expect(metrics.classifierScore(tf.tensor2d([[0.5, 0.6]]))).rejects.toThrow(
      /must have rows that sum to 1.*received a sum of 1\.1/,
    );
    await expect(metrics.classifierScore(tf.tensor1d([0.5, 0.5]) as unknown as tf.Tensor2D)).rejects.toThrow(
      /must have shape \[n, numClasses\].*received shape \[2\]/,
    );
    await expect(metrics.classifierScore(oneHot([0, 1], 2), { splits: 3 })).rejects.toThrow(
      /options\.splits' must be at most the number of examples \(2\), received 3/,
    );
  });

  it('leaves no tensors behind', async () => {
    const p = oneHot([0, 1, 1], 3);
    await expectNoLeak(() => metrics.classifierScore(p));
    p.dispose();
  });
});

describe('metrics.classDistribution', () => {
  beforeAll(() => useTestBackend('cpu'));

  it('counts labels: shares, entropy, normalized entropy and coverage', async () => {
    const r = await metrics.classDistribution(tf.tensor1d([0, 0, 1, 2], 'int32'), { numClasses: 4 });
    expect(r.counts).toEqual([2, 1, 1, 0]);
    expectClose(r.shares, [0.5, 0.25, 0.25, 0], 1e-12);
    // H = −(½ log ½ + 2 · ¼ log ¼) = 1.5 log 2; normalized by log 4 = 2 log 2 → 0.75.
    expectClose(r.entropy, 1.5 * Math.LN2, 1e-12);
    expectClose(r.normalizedEntropy, 0.75, 1e-12);
    expect(r.classesCovered).toBe(3);
    expect(r.total).toBe(4);
    expect(r.numClasses).toBe(4);
  });

  it('assigns probabilities by argmax (default) or softly', async () => {
    const p = tf.tensor2d([
      [0.7, 0.2, 0.1],
      [0.6, 0.3, 0.1],
      [0.1, 0.1, 0.8],
    ]);
    const hard = await metrics.classDistribution(p);
    expect(hard.counts).toEqual([2, 0, 1]);
    expect(hard.classesCovered).toBe(2);
    const soft = await metrics.classDistribution(p, { assignment: 'soft' });
    expectClose(soft.counts, [1.4, 0.6, 1.0], 1e-6);
    expectClose(soft.shares, [1.4 / 3, 0.2, 1 / 3], 1e-6);
  });

  it('reports full collapse as entropy 0 and one class covered', async () => {
    const r = await metrics.classDistribution(tf.tensor1d([3, 3, 3], 'int32'), { numClasses: 10 });
    expect([r.entropy, r.normalizedEntropy, r.classesCovered]).toEqual([0, 0, 1]);
  });

  it('rejects invalid input', async () => {
    const fn = metrics.classDistribution;
    await expect(fn(tf.tensor1d([0, 1], 'int32'))).rejects.toThrow(
      /metrics\.classDistribution: argument 'options\.numClasses' must be given when predictions are labels/,
    );
    await expect(fn(tf.tensor1d([0, 5], 'int32'), { numClasses: 3 })).rejects.toThrow(
      /must hold labels in \[0, 2\], received 5 at index 1/,
    );
    await expect(fn(tf.tensor1d([0, 1]), { numClasses: 3 })).rejects.toThrow(/must be int32 labels when of rank 1, received float32/);
    await expect(fn(tf.tensor2d([[0.5, 0.5]]), { numClasses: 3 })).rejects.toThrow(
      /options\.numClasses' must equal the width of 'predictions' \(2\), received 3/,
    );
    await expect(fn(tf.zeros([2, 2, 2]) as never)).rejects.toThrow(/must have rank 1 \(int32 labels \[n\]\) or 2/);
    await expect(fn(tf.tensor2d([[0.5, 0.5]]), { assignment: 'max' as never })).rejects.toThrow(
      /options\.assignment' must be one of 'argmax', 'soft', received 'max'/,
    );
  });
});
