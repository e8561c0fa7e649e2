/**
 * The DCGAN builders at real image sizes: the TF tutorial architecture for 28x28x1, and the
 * derived defaults for 32x32x3 and 64x64x3.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { nets } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';

beforeAll(async () => {
  await useTestBackend('cpu');
});

/** `[className, outputShape without batch, params]` of each layer but the input. */
function layerTable(model: ReturnType<typeof nets.dcganGenerator>): [string, number[], number][] {
  return model.layers.slice(1).map((l) => [l.getClassName(), (l.outputShape as number[]).slice(1), l.countParams()]);
}

describe('dcganGenerator default for [28, 28, 1] is the TF DCGAN tutorial generator', () => {
  it('has its layers, shapes and parameter counts', () => {
    // Expected values from https://www.tensorflow.org/tutorials/generative/dcgan
    // (make_generator_model), by hand: dense 100·7·7·256 (no bias); BN 4·C; convT k5: 25·Cin·Cout.
    // The output layer keeps a bias (+1), which the tutorial omits.
    const model = nets.dcganGenerator({ latentDim: 100, outputShape: [28, 28, 1] });
    expect(layerTable(model)).toEqual([
      ['Dense', [12544], 100 * 12544],
      ['BatchNormalization', [12544], 4 * 12544],
      ['LeakyReLU', [12544], 0],
      ['Reshape', [7, 7, 256], 0],
      ['Conv2DTranspose', [7, 7, 128], 25 * 256 * 128],
      ['BatchNormalization', [7, 7, 128], 4 * 128],
      ['LeakyReLU', [7, 7, 128], 0],
      ['Conv2DTranspose', [14, 14, 64], 25 * 128 * 64],
      ['BatchNormalization', [14, 14, 64], 4 * 64],
      ['LeakyReLU', [14, 14, 64], 0],
      ['Conv2DTranspose', [28, 28, 1], 25 * 64 + 1],
      ['Activation', [28, 28, 1], 0],
    ]);
    expect(model.layers.at(-1)!.getConfig()['activation']).toBe('tanh');
    // The tutorial's 2,330,944 plus the output bias.
    expect(model.countParams()).toBe(2_330_945);
    model.dispose();
  });
});

describe('dcganDiscriminator default for [28, 28, 1] is the TF DCGAN tutorial discriminator', () => {
  it('has its layers, shapes and parameter counts', () => {
    // make_discriminator_model: conv 64 k5 s2, LeakyReLU, dropout 0.3, conv 128 k5 s2,
    // LeakyReLU, dropout 0.3, flatten, dense 1; 212,865 parameters in the tutorial.
    const model = nets.dcganDiscriminator({ inputShape: [28, 28, 1] });
    expect(layerTable(model)).toEqual([
      ['Conv2D', [14, 14, 64], 25 * 64 + 64],
      ['LeakyReLU', [14, 14, 64], 0],
      ['Dropout', [14, 14, 64], 0],
      ['Conv2D', [7, 7, 128], 25 * 64 * 128 + 128],
      ['LeakyReLU', [7, 7, 128], 0],
      ['Dropout', [7, 7, 128], 0],
      ['Flatten', [6272], 0],
      ['Dense', [1], 6273],
    ]);
    expect(model.countParams()).toBe(212_865);
    // layers[0] is the input layer.
    expect(model.layers[3]!.getConfig()['rate']).toBe(0.3);
    expect(model.layers[2]!.getConfig()['alpha']).toBeCloseTo(0.2);
    model.dispose();
  });
});

describe.each([
  // [shape, expected generator start size and widths, expected discriminator widths]
  { shape: [32, 32, 3], start: [4, 4], generatorWidths: [512, 256, 128, 64], discriminatorWidths: [64, 128, 256] },
  { shape: [64, 64, 3], start: [4, 4], generatorWidths: [512, 512, 256, 128, 64], discriminatorWidths: [64, 128, 256, 512] },
  // 48x32 halves 3 times keeping both sides >= 4 (6x4), so 3 stages, like 32x32.
  { shape: [48, 32, 1], start: [6, 4], generatorWidths: [512, 256, 128, 64], discriminatorWidths: [64, 128, 256] },
])('DCGAN defaults for $shape', ({ shape, start, generatorWidths, discriminatorWidths }) => {
  it('generator halves down to the expected start size and widths', () => {
    const model = nets.dcganGenerator({ latentDim: 8, outputShape: shape });
    const reshape = model.layers.find((l) => l.getClassName() === 'Reshape')!;
    expect((reshape.outputShape as number[]).slice(1)).toEqual([...start, generatorWidths[0]]);
    const convs = model.layers.filter((l) => l.getClassName() === 'Conv2DTranspose').map((l) => l.getConfig());
    expect(convs.map((c) => c['filters'])).toEqual([...generatorWidths.slice(1), shape[2]]);
    expect(model.outputs[0]!.shape).toEqual([null, ...shape]);
    model.dispose();
  });

  it('discriminator has one stride-2 convolution per halving', () => {
    const model = nets.dcganDiscriminator({ inputShape: shape });
    const convs = model.layers.filter((l) => l.getClassName() === 'Conv2D').map((l) => l.getConfig());
    expect(convs.map((c) => c['filters'])).toEqual(discriminatorWidths);
    expect(convs.every((c) => (c['strides'] as number[])[0] === 2)).toBe(true);
    expect(model.outputs[0]!.shape).toEqual([null, 1]);
    model.dispose();
  });
});

describe.each(TEST_BACKENDS)('full-size DCGAN forward on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  it('the 28x28x1 generator and discriminator run end to end', () => {
    const generator = nets.dcganGenerator({ latentDim: 100, outputShape: [28, 28, 1] });
    const discriminator = nets.dcganDiscriminator({ inputShape: [28, 28, 1] });
    const logits = tf.tidy(
      () => discriminator.predict(generator.predict(tf.randomNormal([2, 100], 0, 1, 'float32', 1)) as tf.Tensor) as tf.Tensor,
    );
    expect(logits.shape).toEqual([2, 1]);
    expect(Array.from(logits.dataSync()).every(Number.isFinite)).toBe(true);
    logits.dispose();
    generator.dispose();
    discriminator.dispose();
  });

  it('a 32x32x3 pair with custom widths runs end to end', () => {
    const generator = nets.dcganGenerator({ latentDim: 16, outputShape: [32, 32, 3], widths: [32, 16, 8], kernelSize: 3 });
    const discriminator = nets.dcganDiscriminator({ inputShape: [32, 32, 3], widths: [8, 16, 32], kernelSize: 3 });
    const images = tf.tidy(() => generator.predict(tf.randomNormal([2, 16], 0, 1, 'float32', 2)) as tf.Tensor);
    expect(images.shape).toEqual([2, 32, 32, 3]);
    const logits = discriminator.predict(images) as tf.Tensor;
    expect(logits.shape).toEqual([2, 1]);
    tf.dispose([images, logits]);
    generator.dispose();
    discriminator.dispose();
  });
});
