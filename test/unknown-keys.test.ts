/**
 * Every public config or options object of the builders, losses, metrics, data helpers, IO and
 * training helpers rejects an unknown (misspelled) key, naming it and, where one is close, the
 * key that was meant (issue 17, item 10). Keras rejects unknown keyword arguments likewise.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ArgumentError, backends, data, losses, metrics, nets, train, vae } from '../src/index.js';
import { loadMnist, saveModel, writeImageGrid, writeLossPlot } from '../src/node.js';
import { useTestBackend } from './helpers/backends.js';

let tensors: tf.Tensor[] = [];
const keep = <T extends tf.Tensor>(t: T): T => {
  tensors.push(t);
  return t;
};

beforeAll(async () => {
  await useTestBackend('cpu');
});
afterAll(() => {
  tf.dispose(tensors);
  tensors = [];
});

const logits = () => keep(tf.tensor1d([0.5, -1]));
const images = () => keep(tf.fill([2, 4, 4, 1], 0.5) as tf.Tensor4D);
const activations = () => ({ data: [0, 1, 2, 3, 1, 0], shape: [3, 2] as [number, number] });
const probabilities = () =>
  keep(
    tf.tensor2d([
      [0.2, 0.8],
      [0.6, 0.4],
    ]),
  );
const critic = () => nets.mlpDiscriminator({ inputShape: [2], widths: [3] });
const encoder = () => vae.mlpEncoder({ inputShape: [4], latentDim: 2, widths: [3] });
const decoder = () => vae.mlpDecoder({ latentDim: 2, outputShape: [4], widths: [3] });
const noop = () => {};

/** [what, call with a misspelled key, the key, the suggestion (undefined: none expected)] */
type Case = [string, () => unknown, string, string | undefined];

const CASES: Case[] = [
  // Builders (config).
  ['nets.mlpGenerator', () => nets.mlpGenerator({ latentDim: 2, outputShape: [3], hiddenUnits: [4] } as never), 'hiddenUnits', 'widths'],
  [
    'nets.dcganGenerator',
    () => nets.dcganGenerator({ latentDim: 2, outputShape: [8, 8, 1], kernalSize: 3 } as never),
    'kernalSize',
    'kernelSize',
  ],
  ['nets.mlpDiscriminator', () => nets.mlpDiscriminator({ inputShape: [3], dropOut: 0.1 } as never), 'dropOut', 'dropout'],
  [
    'nets.dcganDiscriminator',
    () => nets.dcganDiscriminator({ inputShape: [8, 8, 1], spectralNorms: true } as never),
    'spectralNorms',
    'spectralNorm',
  ],
  ['vae.mlpEncoder', () => vae.mlpEncoder({ inputShape: [4], latentDim: 2, width: [3] } as never), 'width', 'widths'],
  ['vae.mlpDecoder', () => vae.mlpDecoder({ latentDims: 2, outputShape: [4] } as never), 'latentDims', 'latentDim'],
  ['vae.convEncoder', () => vae.convEncoder({ inputShape: [4, 4, 1], latentDim: 2, kernel_size: 3 } as never), 'kernel_size', 'kernelSize'],
  ['vae.convDecoder', () => vae.convDecoder({ latentDim: 2, outputshape: [4, 4, 1] } as never), 'outputshape', 'outputShape'],
  ['vae.assemble', () => vae.assemble({ encoder: encoder(), decoder: decoder(), infrence: 'mean' } as never), 'infrence', 'inference'],
  ['metrics.mnistFeatureNet', () => metrics.mnistFeatureNet({ featureDims: 8 } as never), 'featureDims', 'featureDim'],
  // Losses (options).
  ...(['hinge', 'leastSquares', 'minimax', 'nonSaturating', 'wasserstein'] as const).flatMap((name): Case[] => [
    [
      `losses.gan.${name}.discriminator`,
      () => losses.gan[name].discriminator(logits(), logits(), { reductoin: 'sum' } as never),
      'reductoin',
      'reduction',
    ],
    [`losses.gan.${name}.generator`, () => losses.gan[name].generator(logits(), { reductoin: 'sum' } as never), 'reductoin', 'reduction'],
  ]),
  [
    'losses.gan.nonSaturating.discriminator labelSmoothing',
    () => losses.gan.nonSaturating.discriminator(logits(), logits(), { labelSmoothng: 0.1 } as never),
    'labelSmoothng',
    'labelSmoothing',
  ],
  [
    'losses.gan.relativisticAverage.discriminator',
    () => losses.gan.relativisticAverage.discriminator(logits(), logits(), { labelSmooting: 0.1 } as never),
    'labelSmooting',
    'labelSmoothing',
  ],
  [
    'losses.gan.relativisticAverage.generator',
    () => losses.gan.relativisticAverage.generator(logits(), logits(), { reductoin: 'sum' } as never),
    'reductoin',
    'reduction',
  ],
  [
    'losses.gan.gradientPenalty',
    () => losses.gan.gradientPenalty(critic(), keep(tf.ones([2, 2])), keep(tf.zeros([2, 2])), { wieght: 1 } as never),
    'wieght',
    'weight',
  ],
  ['losses.gan.r1Penalty', () => losses.gan.r1Penalty(critic(), keep(tf.ones([2, 2])), { wieght: 1 } as never), 'wieght', 'weight'],
  [
    'losses.vae.gaussianKl',
    () => losses.vae.gaussianKl(keep(tf.zeros([2, 2])), keep(tf.zeros([2, 2])), { reduce: 'sum' } as never),
    'reduce',
    undefined,
  ],
  [
    'losses.vae.bernoulliReconstruction',
    () => losses.vae.bernoulliReconstruction(keep(tf.zeros([2, 2])), keep(tf.zeros([2, 2])), { reductoin: 'sum' } as never),
    'reductoin',
    'reduction',
  ],
  [
    'losses.vae.gaussianReconstruction',
    () => losses.vae.gaussianReconstruction(keep(tf.zeros([2, 2])), keep(tf.zeros([2, 2])), { logvar: 0 } as never),
    'logvar',
    'logVar',
  ],
  ['losses.vae.elbo', () => losses.vae.elbo({ betta: 2 } as never), 'betta', 'beta'],
  ['vae.reparameterize', () => vae.reparameterize(keep(tf.zeros([2, 2])), keep(tf.zeros([2, 2])), { sead: 1 } as never), 'sead', 'seed'],
  // Metrics (options).
  [
    'metrics.frechetDistanceFromActivations',
    () => metrics.frechetDistanceFromActivations(activations(), activations(), { allowUnequalCount: true } as never),
    'allowUnequalCount',
    'allowUnequalCounts',
  ],
  [
    'metrics.frechetDistance',
    () => metrics.frechetDistance((x) => x, keep(tf.ones([3, 2])), keep(tf.ones([3, 2])), { batchsize: 2 } as never),
    'batchsize',
    'batchSize',
  ],
  [
    'metrics.computeActivations',
    () => metrics.computeActivations((x) => x, keep(tf.ones([3, 2])), { batch: 2 } as never),
    'batch',
    undefined,
  ],
  ['metrics.kernelDistance', () => metrics.kernelDistance(activations(), activations(), { subset: 2 } as never), 'subset', 'subsets'],
  ['metrics.classifierScore', () => metrics.classifierScore(probabilities(), { split: 1 } as never), 'split', 'splits'],
  ['metrics.classDistribution', () => metrics.classDistribution(probabilities(), { numClass: 2 } as never), 'numClass', 'numClasses'],
  ['metrics.psnr', () => metrics.psnr(images(), images(), { maxValue: 1, reductoin: 'mean' } as never), 'reductoin', 'reduction'],
  ['metrics.ssim', () => metrics.ssim(images(), images(), { maxValue: 1, windowsize: 3 } as never), 'windowsize', 'windowSize'],
  [
    'metrics.trainMnistFeatureNet',
    () =>
      metrics.trainMnistFeatureNet(metrics.mnistFeatureNet(), {
        images: images(),
        labels: keep(tf.tensor1d([0, 1], 'int32')),
        epoch: 1,
      } as never),
    'epoch',
    'epochs',
  ],
  [
    'metrics.classifierAccuracy',
    () =>
      metrics.classifierAccuracy(
        metrics.mnistFeatureNet({ inputShape: [28, 28, 1] }),
        keep(tf.zeros([1, 28, 28, 1])),
        keep(tf.tensor1d([0], 'int32')),
        { batchsize: 2 } as never,
      ),
    'batchsize',
    'batchSize',
  ],
  ['metrics.featureExtractor', () => metrics.featureExtractor(critic(), { layername: 'x' } as never), 'layername', 'layerName'],
  // Data, IO, backends.
  ['data.imageGrid', () => data.imageGrid(images(), { column: 2 } as never), 'column', 'columns'],
  ['data.kMeans', () => data.kMeans(keep(tf.ones([4, 2])), { k: 2, iteration: 3 } as never), 'iteration', 'iterations'],
  ['data.lossPlotSvg', () => data.lossPlotSvg({ a: [1, 2] }, { smothing: 0.5 } as never), 'smothing', 'smoothing'],
  ['data.lossCsv', () => data.lossCsv({ a: [1, 2] }, { step: [1, 2] } as never), 'step', 'steps'],
  ['writeImageGrid', () => writeImageGrid(images(), '/nonexistent/x.png', { colums: 2 } as never), 'colums', 'columns'],
  ['writeLossPlot', () => writeLossPlot('/nonexistent/x.svg', { a: [1, 2] }, { tite: 'x' } as never), 'tite', 'title'],
  ['saveModel', () => saveModel(critic(), '/nonexistent/model', { overwite: true } as never), 'overwite', 'overwrite'],
  ['loadMnist', () => loadMnist({ limt: 2 } as never), 'limt', 'limit'],
  ['backends.use', () => backends.use('cpu', { thread: 2 } as never), 'thread', 'threads'],
  ['backends.enableTraining', () => backends.enableTraining('cpu', { allowUntested: true } as never), 'allowUntested', 'allowUntestedTfjs'],
  // Training helpers.
  ['train.fusedAdam', () => train.fusedAdam({ learning_rate: 0.1 } as never), 'learning_rate', 'learningRate'],
  ['train.earlyStop', () => train.earlyStop({ monitor: 'loss', patiense: 3 } as never), 'patiense', 'patience'],
  ['train.progressBar', () => train.progressBar({ evry: 2 } as never), 'evry', 'every'],
  ['train.history', () => train.history({ evry: 2 } as never), 'evry', 'every'],
  ['train.sampleGrid', () => train.sampleGrid({ write: noop, cout: 4 } as never), 'cout', 'count'],
  ['train.cosineDecay', () => train.cosineDecay({ initial: 1, steps: 10, warmupStep: 2 } as never), 'warmupStep', 'warmupSteps'],
];

describe('unknown keys are rejected everywhere', () => {
  it.each(CASES)('%s', async (_name, call, key, suggestion) => {
    const error = await (async () => call())().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ArgumentError);
    const message = (error as Error).message;
    expect(message).toMatch(
      new RegExp(`argument '(config|options)\\.${key}' must be one of the known (config fields|options) \\(.*\\), received an unknown key`),
    );
    if (suggestion === undefined) expect(message).not.toMatch(/Did you mean/);
    else expect(message).toMatch(new RegExp(`Did you mean '${suggestion}'\\?$`));
  });

  it('the issue example: mlpGenerator with hiddenUnits names it and suggests widths', () => {
    expect(() => nets.mlpGenerator({ latentDim: 2, outputShape: [3], hiddenUnits: [4] } as never)).toThrow(
      /^nets\.mlpGenerator: argument 'config\.hiddenUnits' must be one of the known config fields \(latentDim, outputShape, widths, .*\), received an unknown key\. Did you mean 'widths'\?$/,
    );
    // Control: the same config with the right key builds the 39-parameter model.
    expect(nets.mlpGenerator({ latentDim: 2, outputShape: [3], widths: [4] }).countParams()).toBe(39);
  });
});
