/**
 * Class-conditional networks: label embedding in the generators, AC-GAN and projection heads
 * in the discriminators.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { nets } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { expectClose, values } from '../helpers/memory.js';

describe.each(TEST_BACKENDS)('conditional networks on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  it.each([
    ['mlpGenerator', () => nets.mlpGenerator({ latentDim: 3, outputShape: [4], widths: [8], numClasses: 5 })],
    [
      'dcganGenerator',
      () => nets.dcganGenerator({ latentDim: 3, outputShape: [4, 4, 1], widths: [4, 2], stages: 2, kernelSize: 3, numClasses: 5 }),
    ],
  ])('%s: the label changes the sample, the same label reproduces it', (_name, build) => {
    const generator = build();
    expect(generator.inputs.map((i) => [i.shape, i.dtype])).toEqual([
      [[null, 3], 'float32'],
      [[null, 1], 'int32'],
    ]);
    const z = tf.tile(tf.randomNormal([1, 3], 0, 1, 'float32', 5), [3, 1]);
    // predict accepts labels of shape [batch] (tfjs-layers expands them to [batch, 1]).
    const out = generator.predict([z, tf.tensor1d([0, 0, 4], 'int32')]) as tf.Tensor;
    const rows = tf.unstack(tf.reshape(out, [3, -1])).map(values);
    expect(rows[0]).toEqual(rows[1]);
    expect(rows[0]).not.toEqual(rows[2]);
    const embedding = generator.layers.find((l) => l.getClassName() === 'Embedding')!;
    expect(embedding.getConfig()['inputDim']).toBe(5);
    tf.dispose([z, out]);
    generator.dispose();
  });

  it('projection head: logit(x, y) = ψ(φ(x)) + embed(y)·φ(x)', () => {
    const discriminator = nets.mlpDiscriminator({ inputShape: [5], widths: [6], head: 'projection', numClasses: 3 });
    const dot = discriminator.layers.find((l) => l.getClassName() === 'Dot')!;
    const featureModel = tfl.model({ inputs: discriminator.inputs[0]!, outputs: (dot.input as tfl.SymbolicTensor[])[1]! });
    const embedding = discriminator.layers.find((l) => l.getClassName() === 'Embedding')!;
    // Known embedding rows: class 0 zeros, class 1 = e1, class 2 = e2.
    const e1 = [0.5, -1, 2, 0, 0.25, 1];
    const e2 = [-2, 0.5, 0, 1, 1, -0.75];
    embedding.setWeights([tf.tensor2d([[0, 0, 0, 0, 0, 0], e1, e2])]);
    const x = tf.randomNormal([2, 5], 0, 1, 'float32', 11);
    const logit = (label: number) => values(discriminator.predict([x, tf.fill([2, 1], label, 'int32')]) as tf.Tensor);
    const features = featureModel.predict(x) as tf.Tensor;
    const phi = tf.unstack(features).map(values);
    const dotJs = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i]!, 0);
    const [base, with1, with2] = [logit(0), logit(1), logit(2)];
    // Expected: the difference to class 0 is the dot product with the class's embedding row,
    // computed here in float64 from the features φ(x).
    expectClose(
      with1.map((v, i) => v - base[i]!),
      phi.map((p) => dotJs(p, e1)),
      1e-4,
      1e-5,
    );
    expectClose(
      with2.map((v, i) => v - base[i]!),
      phi.map((p) => dotJs(p, e2)),
      1e-4,
      1e-5,
    );
    tf.dispose([x, features]);
    discriminator.dispose();
  });

  it('AC-GAN head: a real/fake logit and class logits from the same features', () => {
    const discriminator = nets.dcganDiscriminator({
      inputShape: [8, 8, 1],
      widths: [4],
      kernelSize: 3,
      head: 'acgan',
      numClasses: 7,
      dropout: 0,
    });
    expect(discriminator.inputs).toHaveLength(1);
    const x = tf.randomUniform([3, 8, 8, 1], -1, 1, 'float32', 2);
    const [logit, classLogits] = discriminator.predict(x) as tf.Tensor[];
    expect(logit!.shape).toEqual([3, 1]);
    expect(classLogits!.shape).toEqual([3, 7]);
    const heads = discriminator.outputLayers.map((l) => l.getConfig());
    expect(heads.map((c) => [c['units'], c['activation']])).toEqual([
      [1, 'linear'],
      [7, 'linear'],
    ]);
    tf.dispose([x, logit!, classLogits!]);
    discriminator.dispose();
  });
});
