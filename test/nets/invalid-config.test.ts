/**
 * Bad configs fail when the network is built, with a ConfigError naming the field.
 */
import { beforeAll, describe, expect, it } from 'vitest';

import { ConfigError, nets } from '../../src/index.js';
import { useTestBackend } from '../helpers/backends.js';

beforeAll(async () => {
  await useTestBackend('cpu');
});

type Case = [string, () => unknown, RegExp];

const CASES: Case[] = [
  [
    'latentDim 0',
    () => nets.dcganGenerator({ latentDim: 0, outputShape: [28, 28, 1] }),
    /nets\.dcganGenerator: argument 'config\.latentDim' must be a positive integer, received 0/,
  ],
  [
    'latentDim missing',
    () => nets.mlpGenerator({ outputShape: [4] } as never),
    /nets\.mlpGenerator: argument 'config\.latentDim' must be a positive integer, received undefined/,
  ],
  [
    'negative width',
    () => nets.mlpGenerator({ latentDim: 2, outputShape: [4], widths: [8, -3] }),
    /nets\.mlpGenerator: argument 'config\.widths' must be an array of positive integers.*element 1/,
  ],
  [
    'fractional width',
    () => nets.mlpDiscriminator({ inputShape: [4], widths: [2.5] }),
    /nets\.mlpDiscriminator: argument 'config\.widths'/,
  ],
  [
    'empty conv widths',
    () => nets.dcganDiscriminator({ inputShape: [8, 8, 1], widths: [] }),
    /nets\.dcganDiscriminator: argument 'config\.widths' must have at least one entry/,
  ],
  [
    'image size that does not halve (generator)',
    () => nets.dcganGenerator({ latentDim: 2, outputShape: [27, 27, 1] }),
    /nets\.dcganGenerator: argument 'config\.outputShape' must have a height and width that halve cleanly.*received shape \[27,27,1\]/,
  ],
  [
    'image size that does not halve enough (discriminator)',
    () => nets.dcganDiscriminator({ inputShape: [28, 28, 1], widths: [8, 8, 8] }),
    /nets\.dcganDiscriminator: argument 'config\.inputShape' must have a height and width divisible by 2\^3 = 8.*received shape \[28,28,1\].*halves cleanly 2 time/,
  ],
  [
    'stages beyond the size',
    () => nets.dcganGenerator({ latentDim: 2, outputShape: [12, 12, 1], stages: 3 }),
    /'config\.outputShape' must have a height and width divisible by 2\^3 = 8 \(3 stride-2 stages, from config\.stages\)/,
  ],
  [
    'fewer widths than stages',
    () => nets.dcganGenerator({ latentDim: 2, outputShape: [16, 16, 1], widths: [8], stages: 2 }),
    /'config\.widths' must have at least 2 entries/,
  ],
  [
    'image shape of rank 2',
    () => nets.dcganDiscriminator({ inputShape: [28, 28] }),
    /'config\.inputShape' must be an array of positive integers of length 3/,
  ],
  [
    'unknown normalization',
    () => nets.mlpGenerator({ latentDim: 2, outputShape: [4], normalization: 'group' as never }),
    /'config\.normalization' must be one of 'batch', 'layer', 'none', received 'group'/,
  ],
  [
    'unknown activation',
    () => nets.mlpDiscriminator({ inputShape: [4], activation: 'swish' as never }),
    /'config\.activation' must be one of/,
  ],
  [
    'dropout 1',
    () => nets.dcganDiscriminator({ inputShape: [8, 8, 1], dropout: 1 }),
    /'config\.dropout' must be a finite number >= 0 and < 1, received 1/,
  ],
  [
    'numClasses 0',
    () => nets.dcganGenerator({ latentDim: 2, outputShape: [8, 8, 1], numClasses: 0 }),
    /'config\.numClasses' must be a positive integer, received 0/,
  ],
  [
    'projection head without numClasses',
    () => nets.mlpDiscriminator({ inputShape: [4], head: 'projection' }),
    /'config\.numClasses' must be a positive integer with head 'projection', received undefined/,
  ],
  [
    'labels without a conditional head',
    () => nets.mlpDiscriminator({ inputShape: [4], numClasses: 10 }),
    /'config\.head' must be 'acgan' or 'projection' when config\.numClasses is set/,
  ],
  [
    'unknown head',
    () => nets.dcganDiscriminator({ inputShape: [8, 8, 1], head: 'cgan' as never, numClasses: 2 }),
    /'config\.head' must be one of 'none', 'acgan', 'projection'/,
  ],
  [
    'no config',
    () => nets.mlpGenerator(undefined as never),
    /nets\.mlpGenerator: argument 'config' must be a config object, received undefined/,
  ],
  [
    'spectral norm around an unsupported layer',
    () => new nets.SpectralNormalization({ layer: {} as never }),
    /nets\.SpectralNormalization: argument 'config\.layer' must be a tfjs-layers Layer/,
  ],
];

describe('network builders reject bad configs at build time', () => {
  it.each(CASES)('%s', (_name, build, message) => {
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
