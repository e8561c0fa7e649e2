/**
 * Small configurations of every network builder, shared by the nets test files. Sizes are tiny
 * so the cpu backend (pure JS convolutions) stays fast.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import { nets } from '../../src/index.js';

export interface BuilderCase {
  name: string;
  kind: 'generator' | 'discriminator';
  conv: boolean;
  build: () => tfl.LayersModel;
  /** Inputs for a batch of `n`. */
  inputs: (n: number) => tf.Tensor[];
  /** Expected output shapes for a batch of `n`. */
  outputShapes: (n: number) => number[][];
}

const labels = (n: number, numClasses: number) =>
  tf.tensor2d(
    Array.from({ length: n }, (_, i) => i % numClasses),
    [n, 1],
    'int32',
  );
const latent = (n: number, d: number) => tf.randomNormal([n, d], 0, 1, 'float32', 7);
const images = (n: number, shape: number[]) => tf.randomUniform([n, ...shape], -1, 1, 'float32', 3);

export const GENERATOR_CASES: BuilderCase[] = [
  {
    name: 'mlpGenerator [4,4,1]',
    kind: 'generator',
    conv: false,
    build: () => nets.mlpGenerator({ latentDim: 3, outputShape: [4, 4, 1], widths: [8] }),
    inputs: (n) => [latent(n, 3)],
    outputShapes: (n) => [[n, 4, 4, 1]],
  },
  {
    name: 'mlpGenerator [5] layer norm, relu',
    kind: 'generator',
    conv: false,
    build: () => nets.mlpGenerator({ latentDim: 2, outputShape: [5], widths: [6, 7], normalization: 'layer', activation: 'relu' }),
    inputs: (n) => [latent(n, 2)],
    outputShapes: (n) => [[n, 5]],
  },
  {
    name: 'mlpGenerator conditional',
    kind: 'generator',
    conv: false,
    build: () => nets.mlpGenerator({ latentDim: 3, outputShape: [6], widths: [8], numClasses: 3, labelEmbeddingDim: 4 }),
    inputs: (n) => [latent(n, 3), labels(n, 3)],
    outputShapes: (n) => [[n, 6]],
  },
  {
    name: 'dcganGenerator [8,8,1]',
    kind: 'generator',
    conv: true,
    build: () => nets.dcganGenerator({ latentDim: 3, outputShape: [8, 8, 1], widths: [4, 2], kernelSize: 3 }),
    inputs: (n) => [latent(n, 3)],
    outputShapes: (n) => [[n, 8, 8, 1]],
  },
  {
    name: 'dcganGenerator [8,12,3] stages 2, no norm',
    kind: 'generator',
    conv: true,
    build: () =>
      nets.dcganGenerator({ latentDim: 2, outputShape: [8, 12, 3], widths: [4, 2], stages: 2, kernelSize: 3, normalization: 'none' }),
    inputs: (n) => [latent(n, 2)],
    outputShapes: (n) => [[n, 8, 12, 3]],
  },
  {
    name: 'dcganGenerator conditional [8,8,1]',
    kind: 'generator',
    conv: true,
    build: () => nets.dcganGenerator({ latentDim: 3, outputShape: [8, 8, 1], widths: [4, 2], kernelSize: 3, numClasses: 4 }),
    inputs: (n) => [latent(n, 3), labels(n, 4)],
    outputShapes: (n) => [[n, 8, 8, 1]],
  },
];

export const DISCRIMINATOR_CASES: BuilderCase[] = [
  {
    name: 'mlpDiscriminator [4,4,1]',
    kind: 'discriminator',
    conv: false,
    build: () => nets.mlpDiscriminator({ inputShape: [4, 4, 1], widths: [8, 6] }),
    inputs: (n) => [images(n, [4, 4, 1])],
    outputShapes: (n) => [[n, 1]],
  },
  {
    name: 'mlpDiscriminator [6] spectral norm, layer norm, dropout',
    kind: 'discriminator',
    conv: false,
    build: () => nets.mlpDiscriminator({ inputShape: [6], widths: [8, 6], spectralNorm: true, normalization: 'layer', dropout: 0.2 }),
    inputs: (n) => [images(n, [6])],
    outputShapes: (n) => [[n, 1]],
  },
  {
    name: 'mlpDiscriminator acgan',
    kind: 'discriminator',
    conv: false,
    build: () => nets.mlpDiscriminator({ inputShape: [4, 4, 1], widths: [8], head: 'acgan', numClasses: 3 }),
    inputs: (n) => [images(n, [4, 4, 1])],
    outputShapes: (n) => [
      [n, 1],
      [n, 3],
    ],
  },
  {
    name: 'mlpDiscriminator projection, spectral norm',
    kind: 'discriminator',
    conv: false,
    build: () => nets.mlpDiscriminator({ inputShape: [5], widths: [8], head: 'projection', numClasses: 3, spectralNorm: true }),
    inputs: (n) => [images(n, [5]), labels(n, 3)],
    outputShapes: (n) => [[n, 1]],
  },
  {
    name: 'dcganDiscriminator [8,8,1]',
    kind: 'discriminator',
    conv: true,
    build: () => nets.dcganDiscriminator({ inputShape: [8, 8, 1], widths: [4, 4], kernelSize: 3 }),
    inputs: (n) => [images(n, [8, 8, 1])],
    outputShapes: (n) => [[n, 1]],
  },
  {
    name: 'dcganDiscriminator [8,12,3] spectral norm, layer norm',
    kind: 'discriminator',
    conv: true,
    build: () =>
      nets.dcganDiscriminator({ inputShape: [8, 12, 3], widths: [4, 4], kernelSize: 3, spectralNorm: true, normalization: 'layer' }),
    inputs: (n) => [images(n, [8, 12, 3])],
    outputShapes: (n) => [[n, 1]],
  },
  {
    name: 'dcganDiscriminator acgan',
    kind: 'discriminator',
    conv: true,
    build: () => nets.dcganDiscriminator({ inputShape: [8, 8, 1], widths: [4], kernelSize: 3, head: 'acgan', numClasses: 4 }),
    inputs: (n) => [images(n, [8, 8, 1])],
    outputShapes: (n) => [
      [n, 1],
      [n, 4],
    ],
  },
  {
    name: 'dcganDiscriminator projection, spectral norm',
    kind: 'discriminator',
    conv: true,
    build: () =>
      nets.dcganDiscriminator({ inputShape: [8, 8, 1], widths: [4], kernelSize: 3, head: 'projection', numClasses: 4, spectralNorm: true }),
    inputs: (n) => [images(n, [8, 8, 1]), labels(n, 4)],
    outputShapes: (n) => [[n, 1]],
  },
];

/** Whether the active backend can take gradients of convolution filters. */
export function canTrainConv(): boolean {
  return tf.getKernel('Conv2DBackpropFilter', tf.getBackend()) !== undefined;
}
