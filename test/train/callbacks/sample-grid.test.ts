/**
 * train.sampleGrid asks the trainer for samples (any trainer with a sampler, latent or not),
 * with the same seed every time, and lays image samples out with the trainer's range.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { train } from '../../../src/index.js';
import { useTestBackend } from '../../helpers/backends.js';
import { values } from '../../helpers/memory.js';

describe('train.sampleGrid', () => {
  beforeAll(async () => {
    await useTestBackend('cpu');
  });

  it("draws with trainer.sample(count, { seed }) and maps the trainer's sampleRange to [0, 1]", async () => {
    const model = tfl.sequential({ layers: [tfl.layers.dense({ units: 1, inputShape: [1] })] });
    const requests: [number, number | undefined][] = [];
    const trainer = new train.ModelTrainer({
      models: { model },
      optimizer: tf.train.sgd(0.01),
      loss: ({ x }, { models }) => ({ mse: tf.mean(tf.square(models.model.apply(x) as tf.Tensor)) as tf.Scalar }),
      // A sampler that is not one predict: constant images of -1 (black in [-1, 1]) and 1 (white).
      sample: async (n, { seed }) => {
        requests.push([n, seed]);
        return tf.tidy(() => tf.concat([tf.fill([n - 1, 2, 2, 1], -1), tf.ones([1, 2, 2, 1])]));
      },
      sampleRange: '[-1,1]',
    });
    const grids: number[][] = [];
    const shapes: number[][] = [];
    const batch = tf.ones([2, 1]);
    const before = tf.memory().numTensors;
    await trainer.fit([batch], {
      steps: 2,
      callbacks: [
        train.sampleGrid({
          every: 1,
          atEnd: false,
          count: 2,
          columns: 2,
          seed: 9,
          write: (g) => void (grids.push(values(g)), shapes.push(g.shape)),
        }),
      ],
    });
    expect(requests).toEqual([
      [2, 9],
      [2, 9],
    ]);
    // Two 2×2 tiles side by side (imageGrid's layout, no padding assumed: read the tiles' values only):
    // -1 maps to 0 and 1 to 1 under '[-1,1]'.
    expect(shapes[0]![2]).toBe(1);
    expect(new Set(grids[0])).toEqual(new Set([0, 1]));
    // Grids are disposed once written; the trainer's own tensors stay put.
    expect(tf.memory().numTensors).toBe(before);
  });
});
