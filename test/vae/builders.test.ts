/**
 * Contract suite of the VAE builders and vae.assemble.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { ConfigError, vae } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { expectNoLeak, values } from '../helpers/memory.js';

const canTrainConv = () => tf.getKernel('Conv2DBackpropFilter', tf.getBackend()) !== undefined;
const labels = (n: number, k: number) =>
  tf.tensor2d(
    Array.from({ length: n }, (_, i) => i % k),
    [n, 1],
    'int32',
  );

interface VaeCase {
  name: string;
  conv: boolean;
  dataShape: number[];
  latentDim: number;
  numClasses?: number;
  encoder: () => tfl.LayersModel;
  decoder: () => tfl.LayersModel;
}

const CASES: VaeCase[] = [
  {
    name: 'mlp [4,4,1]',
    conv: false,
    dataShape: [4, 4, 1],
    latentDim: 2,
    encoder: () => vae.mlpEncoder({ inputShape: [4, 4, 1], latentDim: 2, widths: [8] }),
    decoder: () => vae.mlpDecoder({ latentDim: 2, outputShape: [4, 4, 1], widths: [8] }),
  },
  {
    name: 'mlp [6] conditional, layer norm',
    conv: false,
    dataShape: [6],
    latentDim: 3,
    numClasses: 4,
    encoder: () => vae.mlpEncoder({ inputShape: [6], latentDim: 3, widths: [8, 5], numClasses: 4, normalization: 'layer' }),
    decoder: () => vae.mlpDecoder({ latentDim: 3, outputShape: [6], widths: [5], numClasses: 4 }),
  },
  {
    name: 'conv [8,8,1]',
    conv: true,
    dataShape: [8, 8, 1],
    latentDim: 2,
    encoder: () => vae.convEncoder({ inputShape: [8, 8, 1], latentDim: 2, widths: [4, 4] }),
    decoder: () => vae.convDecoder({ latentDim: 2, outputShape: [8, 8, 1], widths: [4, 4] }),
  },
  {
    name: 'conv [8,12,3] conditional, batch norm',
    conv: true,
    dataShape: [8, 12, 3],
    latentDim: 2,
    numClasses: 3,
    encoder: () => vae.convEncoder({ inputShape: [8, 12, 3], latentDim: 2, widths: [4], numClasses: 3, normalization: 'batch' }),
    decoder: () => vae.convDecoder({ latentDim: 2, outputShape: [8, 12, 3], widths: [4, 4], numClasses: 3, activation: 'leakyRelu' }),
  },
];

describe.each(TEST_BACKENDS)('VAE builders on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  describe.each(CASES)('$name', (c) => {
    const data = (n: number) => tf.randomUniform([n, ...c.dataShape], 0, 1, 'float32', 1);
    const withLabels = (x: tf.Tensor, n: number) => (c.numClasses ? [x, labels(n, c.numClasses)] : [x]);

    it('encoder outputs [mean, logVar], each [batch, latentDim]', () => {
      const encoder = c.encoder();
      expect(encoder.inputs).toHaveLength(c.numClasses ? 2 : 1);
      const inputs = withLabels(data(3), 3);
      const out = encoder.predict(inputs) as tf.Tensor[];
      expect(out.map((t) => t.shape)).toEqual([
        [3, c.latentDim],
        [3, c.latentDim],
      ]);
      tf.dispose([...out, ...inputs]);
      encoder.dispose();
    });

    it('decoder maps a latent to logits of the data shape', () => {
      const decoder = c.decoder();
      const inputs = withLabels(tf.randomNormal([2, c.latentDim], 0, 1, 'float32', 2), 2);
      const logits = decoder.predict(inputs) as tf.Tensor;
      expect(logits.shape).toEqual([2, ...c.dataShape]);
      // The last layer with weights has no activation (logits).
      const last = decoder.layers.filter((l) => l.countParams() > 0).at(-1)!;
      expect(last.getConfig()['activation']).toBe('linear');
      tf.dispose([logits, ...inputs]);
      decoder.dispose();
    });

    it('assemble: outputs [logits, mean, logVar]; gradients reach encoder and decoder; no leaks', async (ctx) => {
      const encoder = c.encoder();
      const decoder = c.decoder();
      const model = vae.assemble({ encoder, decoder, seed: 1 });
      expect(model.inputs).toHaveLength(c.numClasses ? 2 : 1);
      const inputs = withLabels(data(2), 2);
      const [logits, mean, logVar] = model.apply(inputs, { training: true }) as tf.Tensor[];
      expect([logits!.shape, mean!.shape, logVar!.shape]).toEqual([
        [2, ...c.dataShape],
        [2, c.latentDim],
        [2, c.latentDim],
      ]);
      // The mean and logVar are the encoder's (shared weights).
      const [encoderMean] = encoder.predict(inputs) as tf.Tensor[];
      const [, inferMean] = model.predict(inputs) as tf.Tensor[];
      if (c.conv && backend === 'cpu' && c.numClasses === undefined) expect(values(inferMean!)).toEqual(values(encoderMean!));
      else expect(values(inferMean!).map((v, i) => Math.abs(v - values(encoderMean!)[i]!) < 1e-5)).not.toContain(false);
      tf.dispose([logits!, mean!, logVar!, encoderMean!, inferMean!]);
      if (c.conv && !canTrainConv()) ctx.skip(`${backend} has no Conv2DBackpropFilter kernel`);
      const { value, grads } = tf.variableGrads(() => {
        const [l, m, lv] = model.apply(inputs, { training: true }) as tf.Tensor[];
        return tf.addN([tf.mean(tf.square(l!)), tf.mean(tf.square(m!)), tf.mean(tf.exp(lv!))]) as tf.Scalar;
      });
      const trainable = [...encoder.trainableWeights, ...decoder.trainableWeights].map((w) => (w.read() as tf.Variable).name).sort();
      expect(Object.keys(grads).sort()).toEqual(trainable);
      for (const g of Object.values(grads)) expect(values(g).every(Number.isFinite)).toBe(true);
      tf.dispose([value, grads]);
      await expectNoLeak(() => model.apply(inputs, { training: true }));
      tf.dispose(inputs);
      model.dispose();
    });
  });
});

describe('VAE defaults at real image sizes', () => {
  beforeAll(async () => {
    await useTestBackend('cpu');
  });

  it.each([
    { shape: [28, 28, 1], start: [7, 7] },
    { shape: [32, 32, 3], start: [8, 8] },
    { shape: [64, 64, 3], start: [16, 16] },
  ])('convEncoder/convDecoder for $shape follow the TF CVAE tutorial layout', ({ shape, start }) => {
    // https://www.tensorflow.org/tutorials/generative/cvae: conv 32 and 64 (k3, stride 2),
    // flatten, dense heads; decoder dense to [H/4, W/4, ·], convT 64 and 32 (stride 2), convT to C.
    const encoder = vae.convEncoder({ inputShape: shape, latentDim: 2 });
    const decoder = vae.convDecoder({ latentDim: 2, outputShape: shape });
    expect(encoder.outputs.map((o) => o.shape)).toEqual([
      [null, 2],
      [null, 2],
    ]);
    const convs = encoder.layers
      .filter((l) => l.getClassName() === 'Conv2D')
      .map((l) => [l.getConfig()['filters'], (l.outputShape as number[]).slice(1, 3)]);
    expect(convs).toEqual([
      [32, [shape[0]! / 2, shape[1]! / 2]],
      [64, start],
    ]);
    const reshape = decoder.layers.find((l) => l.getClassName() === 'Reshape')!;
    expect((reshape.outputShape as number[]).slice(1)).toEqual([...start, 64]);
    expect(decoder.outputs[0]!.shape).toEqual([null, ...shape]);
    encoder.dispose();
    decoder.dispose();
  });
});

describe.each(TEST_BACKENDS)('assembled VAE save/load (memory handler) on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  const roundTrip = async (model: tfl.LayersModel) => {
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })),
    );
    return tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
  };

  it.each([
    ['inference mean', { inference: 'mean' as const }],
    ['seeded sampling', { inference: 'sample' as const, seed: 11 }],
  ])('%s: identical outputs after reload', async (_name, options) => {
    const encoder = vae.convEncoder({ inputShape: [8, 8, 1], latentDim: 2, widths: [2, 2], numClasses: 3 });
    const decoder = vae.convDecoder({ latentDim: 2, outputShape: [8, 8, 1], widths: [2, 2], numClasses: 3 });
    const model = vae.assemble({ encoder, decoder, ...options });
    // Save before any call, so both models' seeded Reparameterize layers are at call 0.
    const loaded = await roundTrip(model);
    const inputs = [tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 4), tf.tensor2d([[1], [2]], [2, 1], 'int32')];
    const a = (model.predict(inputs) as tf.Tensor[]).map(values);
    const b = (loaded.predict(inputs) as tf.Tensor[]).map(values);
    expect(b).toEqual(a);
    expect(loaded.layers.find((l) => l instanceof vae.Reparameterize)).toBeDefined();
    tf.dispose(inputs);
  });
});

describe('VAE builders reject bad configs', () => {
  beforeAll(async () => {
    await useTestBackend('cpu');
  });

  const enc = (numClasses?: number) => vae.mlpEncoder({ inputShape: [4], latentDim: 2, widths: [3], numClasses });
  const dec = (numClasses?: number, latentDim = 2) => vae.mlpDecoder({ latentDim, outputShape: [4], widths: [3], numClasses });

  it.each([
    [
      'latentDim 0',
      () => vae.convEncoder({ inputShape: [8, 8, 1], latentDim: 0 }),
      /vae\.convEncoder: argument 'config\.latentDim' must be a positive integer, received 0/,
    ],
    [
      'negative width',
      () => vae.mlpDecoder({ latentDim: 2, outputShape: [4], widths: [-1] }),
      /vae\.mlpDecoder: argument 'config\.widths' must be an array of positive integers/,
    ],
    [
      'size that does not halve',
      () => vae.convDecoder({ latentDim: 2, outputShape: [10, 10, 1], widths: [4, 4] }),
      /vae\.convDecoder: argument 'config\.outputShape' must have a height and width divisible by 2\^2 = 4/,
    ],
    [
      'odd image size',
      () => vae.convEncoder({ inputShape: [7, 7, 1], latentDim: 2 }),
      /vae\.convEncoder: argument 'config\.inputShape' must have a height and width divisible by 2\^2/,
    ],
    [
      'mismatched label counts',
      () => vae.assemble({ encoder: enc(10), decoder: dec(5) }),
      /vae\.assemble: argument 'config\.decoder' must take labels of the encoder's 10 classes, received a decoder built with numClasses 5/,
    ],
    [
      'conditional encoder, unconditional decoder',
      () => vae.assemble({ encoder: enc(10), decoder: dec() }),
      /vae\.assemble: argument 'config\.decoder' must take 2 input\(s\) \(\[z, label\]\) like the encoder/,
    ],
    [
      'latent size mismatch',
      () => vae.assemble({ encoder: enc(), decoder: dec(undefined, 3) }),
      /vae\.assemble: argument 'config\.decoder' must take a latent input of shape \[null,2\]/,
    ],
    [
      'conditional requested, encoder unconditional',
      () => vae.assemble({ encoder: enc(), decoder: dec(), conditional: true }),
      /'config\.encoder' must take 2 input\(s\)/,
    ],
    [
      'not a model',
      () => vae.assemble({ encoder: {} as never, decoder: dec() }),
      /vae\.assemble: argument 'config\.encoder' must be a tf\.LayersModel/,
    ],
  ])('%s', (_name, build, message) => {
    let error: unknown;
    try {
      build();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
  });
});
