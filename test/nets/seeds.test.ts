/**
 * Builder seeds (issue 17, item 12): the same `seed` builds identical initial weights, a
 * different seed different ones, for every builder of nets and vae, including label
 * embeddings, projection heads and spectral normalization's `u`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { ConfigError, metrics, nets, vae } from '../../src/index.js';
import { useTestBackend } from '../helpers/backends.js';

beforeAll(async () => {
  await useTestBackend('cpu');
});

const BUILDERS: Array<[string, (seed?: number) => tfl.LayersModel]> = [
  [
    'nets.mlpGenerator',
    (seed) => nets.mlpGenerator({ latentDim: 3, outputShape: [6], widths: [8], numClasses: 3, labelEmbeddingDim: 4, seed }),
  ],
  [
    'nets.dcganGenerator',
    (seed) => nets.dcganGenerator({ latentDim: 3, outputShape: [8, 8, 1], widths: [4, 2], kernelSize: 3, numClasses: 2, seed }),
  ],
  [
    'nets.mlpDiscriminator',
    (seed) => nets.mlpDiscriminator({ inputShape: [5], widths: [4], spectralNorm: true, head: 'projection', numClasses: 3, seed }),
  ],
  [
    'nets.dcganDiscriminator',
    (seed) => nets.dcganDiscriminator({ inputShape: [8, 8, 1], widths: [2, 3], kernelSize: 3, head: 'acgan', numClasses: 3, seed }),
  ],
  ['vae.mlpEncoder', (seed) => vae.mlpEncoder({ inputShape: [6], latentDim: 2, widths: [4], numClasses: 2, seed })],
  ['vae.mlpDecoder', (seed) => vae.mlpDecoder({ latentDim: 2, outputShape: [6], widths: [4], numClasses: 2, seed })],
  ['vae.convEncoder', (seed) => vae.convEncoder({ inputShape: [4, 4, 1], latentDim: 2, widths: [2], seed })],
  ['vae.convDecoder', (seed) => vae.convDecoder({ latentDim: 2, outputShape: [4, 4, 1], widths: [2], seed })],
  [
    'metrics.mnistFeatureNet',
    (seed) => metrics.mnistFeatureNet({ inputShape: [12, 12, 1], filters: [2], featureDim: 4, numClasses: 3, seed }),
  ],
];

/** Every weight's values, by the weight's position in the model (names carry global counters). */
function weightValues(model: tfl.LayersModel): number[][] {
  return model.weights.map((w) => Array.from(w.read().dataSync()));
}

/** Whether a weight starts random (not the constant zeros/ones of biases and batch norm). */
const isRandom = (values: number[]) => new Set(values).size > 1;

describe.each(BUILDERS)('%s seed', (_name, build) => {
  it('the same seed gives identical weights; another seed changes every random weight', () => {
    const [a, b, c] = [build(5), build(5), build(6)];
    const [va, vb, vc] = [weightValues(a), weightValues(b), weightValues(c)];
    expect(vb).toEqual(va);
    const random = va.map((_, i) => i).filter((i) => isRandom(va[i]!));
    // Kernels, embeddings and spectral norm's u: at least two random weights per model.
    expect(random.length).toBeGreaterThanOrEqual(2);
    for (const i of random) expect(vc[i]).not.toEqual(va[i]);
    // Two layers of one model never share a seed: no two random weights of equal size are equal.
    for (const i of random) for (const j of random) if (i < j && va[i]!.length === va[j]!.length) expect(va[i]).not.toEqual(va[j]);
    tf.dispose([a, b, c].flatMap((m) => m.weights.map((w) => w.read())));
  });

  it('rejects a seed that is not a non-negative integer', () => {
    for (const seed of [-1, 1.5, Number.NaN, '3' as never])
      expect(() => build(seed)).toThrow(/argument 'config\.seed' must be a non-negative integer/);
    expect(() => build(-1)).toThrow(ConfigError);
  });
});

describe('assemble seed', () => {
  it('is validated like the builders', () => {
    const encoder = vae.mlpEncoder({ inputShape: [6], latentDim: 2, widths: [4] });
    const decoder = vae.mlpDecoder({ latentDim: 2, outputShape: [6], widths: [4] });
    expect(() => vae.assemble({ encoder, decoder, seed: -2 })).toThrow(
      /vae\.assemble: argument 'config\.seed' must be a non-negative integer, received -2/,
    );
  });
});
