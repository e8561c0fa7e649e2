import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { metrics } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { expectClose, expectNoLeak, values } from '../helpers/memory.js';

/** A separable toy task on 12x12 images: class 0 is bright on the left half, class 1 on the right. */
function toyData(n: number, seed: number): { images: tf.Tensor4D; labels: tf.Tensor1D } {
  let s = seed >>> 0;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const pixels = new Float32Array(n * 144);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 2;
    for (let y = 0; y < 12; y++)
      for (let x = 0; x < 12; x++) {
        const bright = x < 6 === (labels[i] === 0);
        pixels[i * 144 + y * 12 + x] = (bright ? 0.5 : -0.5) + 0.6 * (u() - 0.5);
      }
  }
  return { images: tf.tensor4d(pixels, [n, 12, 12, 1]), labels: tf.tensor1d(labels, 'int32') };
}

const toyConfig = { inputShape: [12, 12, 1] as [number, number, number], filters: [4], featureDim: 8, numClasses: 2, dropout: 0 };

describe('metrics.mnistFeatureNet', () => {
  beforeAll(() => useTestBackend('cpu'));

  it('maps [n, 28, 28, 1] to 10 logits through a 128-unit ReLU layer named "features"', () => {
    const net = metrics.mnistFeatureNet();
    expect(net.outputs[0]!.shape).toEqual([null, 10]);
    expect(net.getLayer(metrics.FEATURE_LAYER_NAME).outputShape).toEqual([null, 128]);
    const x = tf.randomUniform([3, 28, 28, 1], -1, 1, 'float32', 1);
    const features = metrics.featureExtractor(net)(x);
    expect(features.shape).toEqual([3, 128]);
    expect(Math.min(...values(features))).toBeGreaterThanOrEqual(0);
    // Logits = features · W + b of the last dense layer (dropout is inactive at inference):
    // the extractor returns the penultimate activations.
    const [kernel, bias] = net.getLayer('logits').getWeights();
    const expected = tf.add(tf.matMul(features, kernel!), bias!);
    expectClose(values(net.predict(x) as tf.Tensor), values(expected), 1e-4, 1e-5);
    net.dispose();
  });

  it('accepts a custom config and rejects invalid ones', () => {
    const net = metrics.mnistFeatureNet({ ...toyConfig, name: 'toy' });
    expect(net.name).toBe('toy');
    expect(net.outputs[0]!.shape).toEqual([null, 2]);
    expect(net.getLayer('features').outputShape).toEqual([null, 8]);
    net.dispose();
    expect(() => metrics.mnistFeatureNet({ featureDim: 0 })).toThrow(
      /metrics\.mnistFeatureNet: argument 'config\.featureDim' must be a positive integer, received 0/,
    );
    expect(() => metrics.mnistFeatureNet({ filters: [] })).toThrow(/argument 'config\.filters' must hold at least one filter count/);
    expect(() => metrics.mnistFeatureNet({ inputShape: [12, 12, 1] })).toThrow(
      /argument 'config\.inputShape' must be large enough for 2 5x5 valid convolutions/,
    );
    expect(() => metrics.mnistFeatureNet({ dropout: 1 })).toThrow(
      /argument 'config\.dropout' must be a finite number >= 0 and < 1, received 1/,
    );
  });

  it('featureExtractor rejects unknown layers and non-models', () => {
    const net = metrics.mnistFeatureNet(toyConfig);
    expect(() => metrics.featureExtractor(net, { layerName: 'nope' })).toThrow(
      /metrics\.featureExtractor: argument 'options\.layerName' must name a layer of the model \(.*'features'.*\), received 'nope'/,
    );
    expect(() => metrics.featureExtractor({} as never)).toThrow(/argument 'model' must be a tf\.LayersModel/);
    net.dispose();
  });
});

describe.each(TEST_BACKENDS)('metrics.trainMnistFeatureNet (%s)', (backend) => {
  beforeAll(() => useTestBackend(backend));

  it('learns a separable toy task (accuracy ≥ 95% on held-out data)', async () => {
    const train = toyData(96, 1);
    const test = toyData(40, 2);
    const net = metrics.mnistFeatureNet(toyConfig);
    const epochs: number[] = [];
    const history = await metrics.trainMnistFeatureNet(net, {
      images: train.images,
      labels: train.labels,
      epochs: 6,
      batchSize: 16,
      optimizer: tf.train.adam(1e-2),
      validation: test,
      onEpoch: (epoch) => {
        epochs.push(epoch);
      },
    });
    expect(epochs).toEqual([0, 1, 2, 3, 4, 5]);
    expect(history.loss).toHaveLength(6);
    expect(history.loss[5]!).toBeLessThan(history.loss[0]!);
    expect(history.validationAccuracy[5]!).toBeGreaterThanOrEqual(0.95);
    expect(await metrics.classifierAccuracy(net, test.images, test.labels)).toBe(history.validationAccuracy[5]);
    tf.dispose([train.images, train.labels, test.images, test.labels]);
    net.dispose();
  });

  it('accepts one-hot labels, and classifierAccuracy counts argmax hits', async () => {
    const net = metrics.mnistFeatureNet(toyConfig);
    const { images, labels } = toyData(8, 3);
    const oneHot = tf.cast(tf.oneHot(labels, 2), 'float32') as tf.Tensor2D;
    const history = await metrics.trainMnistFeatureNet(net, { images, labels: oneHot, epochs: 1, batchSize: 4 });
    expect(Number.isFinite(history.loss[0]!)).toBe(true);
    // Independent count of argmax hits.
    const predicted = values(tf.argMax(net.predict(images) as tf.Tensor, 1));
    const truth = values(labels);
    const hits = predicted.filter((p, i) => p === truth[i]).length;
    expect(await metrics.classifierAccuracy(net, images, oneHot, { batchSize: 3 })).toBe(hits / 8);
    tf.dispose([images, labels, oneHot]);
    net.dispose();
  });

  it('rejects invalid options', async () => {
    const net = metrics.mnistFeatureNet(toyConfig);
    const { images, labels } = toyData(4, 1);
    const fn = metrics.trainMnistFeatureNet;
    await expect(fn(net, { images, labels: tf.slice(labels, 0, 3) })).rejects.toThrow(
      /metrics\.trainMnistFeatureNet: argument 'options\.labels' must be int32 \[4\] class indices or float32 one-hot \[4, 2\]/,
    );
    await expect(fn(net, { images: tf.zeros([4, 144]) as never, labels })).rejects.toThrow(/argument 'options\.images' must have rank 4/);
    await expect(fn(net, { images, labels, epochs: 0 })).rejects.toThrow(/options\.epochs' must be a positive integer, received 0/);
    await expect(fn({} as never, { images, labels })).rejects.toThrow(/argument 'model' must be a tf\.LayersModel/);
    await expect(fn(net, undefined as never)).rejects.toThrow(/argument 'options' must give images and labels/);
    tf.dispose([images, labels]);
    net.dispose();
  });

  it('leaves no tensors behind (training, features, accuracy)', async () => {
    const net = metrics.mnistFeatureNet(toyConfig);
    const { images, labels } = toyData(8, 4);
    await expectNoLeak(() => metrics.trainMnistFeatureNet(net, { images, labels, epochs: 1, batchSize: 4 }));
    const features = metrics.featureExtractor(net);
    await expectNoLeak(() => features(images));
    await expectNoLeak(() => metrics.classifierAccuracy(net, images, labels));
    tf.dispose([images, labels]);
    net.dispose();
  });

  it('survives a save/load round trip through tfjs-layers (standard layers only)', async () => {
    const net = metrics.mnistFeatureNet(toyConfig);
    let artifacts: tf.io.ModelArtifacts | undefined;
    await net.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
    const x = toyData(2, 5).images;
    expectClose(values(metrics.featureExtractor(loaded)(x)), values(metrics.featureExtractor(net)(x)), 1e-6);
    net.dispose();
    loaded.dispose();
  });
});
