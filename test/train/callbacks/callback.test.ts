/**
 * Keras/tfjs-style callbacks: each hook's call count and arguments (as tfjs-layers' fit passes
 * them), tf.CustomCallback instances, a tfvis-style object given without an array, and the
 * rejection of objects whose hooks would never be called.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { train } from '../../../src/index.js';
import { useTestBackend } from '../../helpers/backends.js';
import { expectClose } from '../../helpers/memory.js';

/** y = w·x, w = 1, trained with SGD on mse(w·x, 0): each step's loss is known in closed form. */
function tinyTrainer() {
  const model = tfl.sequential({ layers: [tfl.layers.dense({ units: 1, inputShape: [1], useBias: false, kernelInitializer: 'ones' })] });
  return new train.ModelTrainer({
    models: { model },
    optimizer: tf.train.sgd(0.1),
    loss: ({ x }, { models }) => ({ mse: tf.mean(tf.square(models.model.apply(x) as tf.Tensor)) as tf.Scalar }),
    seed: 1,
  });
}

describe('Keras-style callbacks', () => {
  let batches: tf.Tensor2D[];
  beforeAll(async () => {
    await useTestBackend('cpu');
    // Three batches of sizes 2, 2, 1 per epoch.
    batches = [tf.tensor2d([[1], [1]]), tf.tensor2d([[1], [1]]), tf.tensor2d([[1]])];
  });

  it('calls every hook with the arguments and logs tfjs-layers passes, plus the context last', async () => {
    const calls: [string, ...unknown[]][] = [];
    const trainer = tinyTrainer();
    const record =
      (name: string) =>
      (...args: unknown[]) =>
        void calls.push([name, ...args.slice(0, -1).map((a) => (typeof a === 'object' ? { ...(a as object) } : a))]);
    const callback: train.Callback = {
      onTrainBegin: record('trainBegin'),
      onEpochBegin: record('epochBegin'),
      onBatchBegin: record('batchBegin'),
      onBatchEnd: record('batchEnd'),
      onStepEnd: record('stepEnd'),
      onEpochEnd: record('epochEnd'),
      onTrainEnd: (logs, context) => {
        record('trainEnd')(logs, context);
        expect(context.trainer).toBe(trainer);
        expect(context.totalSteps).toBe(6);
      },
    };
    await trainer.fit(batches, { epochs: 2, callbacks: [callback] });
    const names = calls.map((c) => c[0]);
    expect(names.filter((n) => n === 'trainBegin')).toHaveLength(1);
    expect(names.filter((n) => n === 'epochBegin')).toHaveLength(2);
    expect(names.filter((n) => n === 'batchBegin')).toHaveLength(6);
    expect(names.filter((n) => n === 'batchEnd')).toHaveLength(6);
    expect(names.filter((n) => n === 'stepEnd')).toHaveLength(6);
    expect(names.filter((n) => n === 'epochEnd')).toHaveLength(2);
    expect(names.filter((n) => n === 'trainEnd')).toHaveLength(1);
    // Order and arguments of the first epoch. With x = 1 the loss is w², w ← w − 0.1·2w = 0.8w:
    // 1, 0.64, 0.4096 in epoch 0.
    expect(calls[0]).toEqual(['trainBegin', {}]);
    expect(calls[1]).toEqual(['epochBegin', 0, {}]);
    expect(calls[2]).toEqual(['batchBegin', 0, { batch: 0, size: 2 }]);
    expect(calls[3]).toEqual(['batchEnd', 0, { batch: 0, size: 2, loss: 1, mse: 1 }]);
    expect(calls[4]).toEqual(['stepEnd', 1, { loss: 1, mse: 1 }]);
    expect(calls[8]![0]).toBe('batchBegin');
    expect(calls[8]![2]).toEqual({ batch: 2, size: 1 });
    const epochEnd = calls.find((c) => c[0] === 'epochEnd')!;
    expect(epochEnd[1]).toBe(0);
    // The epoch's logs are the mean of its steps': (1 + 0.64 + 0.4096) / 3.
    expectClose((epochEnd[2] as train.Logs)['loss']!, (1 + 0.64 + 0.4096) / 3, 1e-6);
    // onTrainEnd gets the last step's values: 0.8^10 = 0.1073741824 after 5 steps.
    expectClose((calls.at(-1)![1] as train.Logs)['loss']!, 0.8 ** 10, 1e-5);
  });

  it('calls onYield(epoch, batch, logs) each time the loop yields (every step with yieldIntervalMs 0)', async () => {
    const yields: [number, number, number][] = [];
    await tinyTrainer().fit(batches, {
      epochs: 1,
      yieldIntervalMs: 0,
      callbacks: { onYield: (epoch, batch, logs) => void yields.push([epoch, batch, logs['loss']!]) },
    });
    expect(yields.map(([e, b]) => [e, b])).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
    ]);
    // The losses of the steps just run: w² for w = 1, 0.8, 0.64.
    expectClose(
      yields.map(([, , l]) => l),
      [1, 0.64, 0.4096],
      1e-5,
    );
  });

  it('drives a tf.CustomCallback and a tfvis.show.fitCallbacks-style object given without an array', async () => {
    const custom: { batch: number; loss: number }[] = [];
    const epochs: number[] = [];
    const callback = new tfl.CustomCallback({
      onBatchEnd: async (batch, logs) => void custom.push({ batch, loss: logs!['loss'] as number }),
      onEpochEnd: async (epoch) => void epochs.push(epoch),
    });
    await tinyTrainer().fit(batches, { epochs: 1, callbacks: [callback] });
    expect(custom.map((c) => c.batch)).toEqual([0, 1, 2]);
    expectClose(
      custom.map((c) => c.loss),
      [1, 0.64, 0.4096],
      1e-5,
    );
    expect(epochs).toEqual([0]);

    // What tfvis.show.fitCallbacks returns: { onBatchEnd(batch, logs), onEpochEnd(epoch, logs) } reading logs.loss.
    const curve: number[] = [];
    const fitCallbacks = {
      onBatchEnd: async (_batch: number, logs: train.Logs) => void curve.push(logs['loss']!),
      onEpochEnd: async () => {},
    };
    await tinyTrainer().fit(batches, { epochs: 1, callbacks: fitCallbacks });
    expectClose(curve, [1, 0.64, 0.4096], 1e-5);
  });

  it('rejects objects whose hooks would never be called, and unknown fit options', async () => {
    const trainer = tinyTrainer();
    await expect(trainer.fit(batches, { callbacks: [{} as train.Callback] })).rejects.toThrow(
      /^train\.ModelTrainer\.fit: argument 'options\.callbacks\[0\]' must have at least one hook \(onTrainBegin, .*onYield\), received an object without hooks/,
    );
    await expect(trainer.fit(batches, { callbacks: [train.history(), { onEpochEnded: () => {} } as train.Callback] })).rejects.toThrow(
      /argument 'options\.callbacks\[1\]\.onEpochEnded' must be one of the hooks onTrainBegin, .*, received an unknown hook, which would never be called\. Did you mean 'onEpochEnd'\?/,
    );
    await expect(trainer.fit(batches, { callbacks: { every: 10 } as train.Callback })).rejects.toThrow(
      /argument 'options\.callbacks' must have at least one hook .*received an object with keys every/,
    );
    await expect(trainer.fit(batches, { callbacks: [3 as never] })).rejects.toThrow(
      /argument 'options\.callbacks\[0\]' must be a callback object/,
    );
    await expect(trainer.fit(batches, { epoch: 2 } as never)).rejects.toThrow(
      /argument 'options\.epoch' must be one of the known options .*Did you mean 'epochs'\?/,
    );
    expect(trainer.step).toBe(0);
  });
});
