/**
 * SpectralNormalization: the normalized weight, the power-iteration state, serialization.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { ConfigError, nets } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { expectClose, expectNoLeak, values } from '../helpers/memory.js';

/** Largest singular value of a row-major matrix, float64 power iteration on WᵀW (independent oracle). */
function topSingularValue(w: number[][]): number {
  const cols = w[0]!.length;
  let v = Array.from({ length: cols }, (_, i) => 1 + i / 7);
  let sigma = 0;
  for (let it = 0; it < 2000; it++) {
    const wv = w.map((row) => row.reduce((s, x, j) => s + x * v[j]!, 0));
    const wtwv = Array.from({ length: cols }, (_, j) => w.reduce((s, row, i) => s + row[j]! * wv[i]!, 0));
    const norm = Math.hypot(...wtwv);
    v = wtwv.map((x) => x / norm);
    sigma = Math.sqrt(norm);
  }
  return sigma;
}

async function saveAndLoad(model: tfl.LayersModel): Promise<tfl.LayersModel> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
}

describe.each(TEST_BACKENDS)('SpectralNormalization on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  it('divides a dense kernel by its largest singular value once the power iteration converges', () => {
    const kernel = [
      [1, -2, 0.5],
      [0.3, 1.5, -1],
      [2, 0, 1],
      [-0.5, 0.7, 0.2],
    ];
    const layer = new nets.SpectralNormalization({ layer: tfl.layers.dense({ units: 3, useBias: false }), seed: 1 });
    const input = tfl.input({ shape: [4] });
    const model = tfl.model({ inputs: input, outputs: layer.apply(input) as tfl.SymbolicTensor });
    layer.layer.setWeights([tf.tensor2d(kernel)]);
    const identity = tf.eye(4);
    for (let i = 0; i < 60; i++) tf.dispose(model.apply(identity, { training: true }) as tf.Tensor);
    // identity · (W / σ) = W / σ; σ from an independent float64 power iteration.
    const sigma = topSingularValue(kernel);
    const out = model.predict(identity) as tf.Tensor;
    expectClose(
      values(out),
      kernel.flat().map((x) => x / sigma),
      1e-4,
      1e-5,
    );
    tf.dispose([identity, out]);
    model.dispose();
  });

  it('updates u only in training calls', () => {
    const layer = new nets.SpectralNormalization({ layer: tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same' }) });
    const input = tfl.input({ shape: [5, 5, 2] });
    const model = tfl.model({ inputs: input, outputs: layer.apply(input) as tfl.SymbolicTensor });
    const x = tf.randomNormal([2, 5, 5, 2], 0, 1, 'float32', 3);
    const u = () => values(layer.nonTrainableWeights.find((w) => w.name.endsWith('/u'))!.read());
    const u0 = u();
    tf.dispose(model.predict(x) as tf.Tensor);
    expect(u()).toEqual(u0);
    tf.dispose(model.apply(x, { training: true }) as tf.Tensor);
    const u1 = u();
    expect(u1).not.toEqual(u0);
    tf.dispose(model.apply(x, { training: false }) as tf.Tensor);
    expect(u()).toEqual(u1);
    tf.dispose(x);
    model.dispose();
  });

  it('at inference, computes conv2d(x, W / σ) + b with σ = ||û Wᵀ|| from the stored u', () => {
    const conv = tfl.layers.conv2d({ filters: 3, kernelSize: 2, strides: 2, padding: 'valid', biasInitializer: 'ones' });
    const layer = new nets.SpectralNormalization({ layer: conv });
    const input = tfl.input({ shape: [4, 4, 2] });
    const model = tfl.model({ inputs: input, outputs: layer.apply(input) as tfl.SymbolicTensor });
    const x = tf.randomNormal([1, 4, 4, 2], 0, 1, 'float32', 4);
    tf.dispose(model.apply(x, { training: true }) as tf.Tensor);
    // Independent computation in float64 from the raw weights.
    const [kernel, bias] = conv.getWeights();
    const w = values(kernel!);
    const rows = w.length / 3;
    const matrix = Array.from({ length: rows }, (_, i) => w.slice(3 * i, 3 * i + 3));
    const uRaw = values(layer.nonTrainableWeights.find((v) => v.name.endsWith('/u'))!.read());
    const uNorm = Math.hypot(...uRaw);
    const uHat = uRaw.map((v) => v / uNorm);
    const sigma = Math.hypot(...matrix.map((row) => row.reduce((s, v, j) => s + v * uHat[j]!, 0)));
    const expected = tf.tidy(() => tf.add(tf.conv2d(x as tf.Tensor4D, tf.div(kernel!, sigma) as tf.Tensor4D, 2, 'valid'), bias!));
    const out = model.predict(x) as tf.Tensor;
    expectClose(values(out), values(expected), 1e-4, 1e-5);
    tf.dispose([x, out, expected]); // kernel and bias are the layer's own variables
    model.dispose();
  });

  it('saves and loads (memory handler) with identical outputs and the same u', async () => {
    const x = tfl.input({ shape: [4, 4, 1] });
    let h = new nets.SpectralNormalization({ layer: tfl.layers.conv2d({ filters: 2, kernelSize: 3, strides: 2, padding: 'same' }) }).apply(
      x,
    ) as tfl.SymbolicTensor;
    h = tfl.layers.flatten().apply(h) as tfl.SymbolicTensor;
    const out = new nets.SpectralNormalization({ layer: tfl.layers.dense({ units: 1 }), powerIterations: 2 }).apply(
      h,
    ) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: x, outputs: out });
    const input = tf.randomNormal([3, 4, 4, 1], 0, 1, 'float32', 5);
    for (let i = 0; i < 3; i++) tf.dispose(model.apply(input, { training: true }) as tf.Tensor);
    const loaded = await saveAndLoad(model);
    expect(loaded.layers[1]).toBeInstanceOf(nets.SpectralNormalization);
    expect((loaded.layers.at(-1) as nets.SpectralNormalization).powerIterations).toBe(2);
    // Same weights, u included (names as saved: the process already has the originals).
    expect(loaded.weights.map((w) => w.originalName)).toEqual(model.weights.map((w) => w.originalName));
    expect(loaded.weights.map((w) => values(w.read()))).toEqual(model.weights.map((w) => values(w.read())));
    const [a, b] = [model.predict(input) as tf.Tensor, loaded.predict(input) as tf.Tensor];
    expect(values(b)).toEqual(values(a));
    tf.dispose([input, a, b]);
    model.dispose();
    loaded.dispose();
  });

  it('leaks no tensors in training and inference calls', async () => {
    const layer = new nets.SpectralNormalization({ layer: tfl.layers.dense({ units: 2 }) });
    const input = tfl.input({ shape: [3] });
    const model = tfl.model({ inputs: input, outputs: layer.apply(input) as tfl.SymbolicTensor });
    const x = tf.ones([2, 3]);
    await expectNoLeak(() => model.apply(x, { training: true }) as tf.Tensor);
    await expectNoLeak(() => model.predict(x));
    x.dispose();
    model.dispose();
  });

  it('freezes with trainable: false, and keeps that through save/load', async () => {
    const layer = new nets.SpectralNormalization({ layer: tfl.layers.dense({ units: 2 }) });
    const input = tfl.input({ shape: [3] });
    const model = tfl.model({ inputs: input, outputs: layer.apply(input) as tfl.SymbolicTensor });
    expect(layer.trainableWeights.map((w) => w.originalName.split('/').at(-1))).toEqual(['kernel', 'bias']);
    layer.trainable = false;
    expect(layer.trainableWeights).toEqual([]);
    expect(layer.nonTrainableWeights.map((w) => w.originalName.split('/').at(-1))).toEqual(['kernel', 'bias', 'u']);
    const loaded = await saveAndLoad(model);
    expect(loaded.layers[1]!.trainable).toBe(false);
    expect(loaded.trainableWeights).toEqual([]);
    model.dispose();
    loaded.dispose();
  });

  it('rejects layers it cannot normalize', () => {
    expect(() => new nets.SpectralNormalization({ layer: tfl.layers.flatten() })).toThrow(ConfigError);
    expect(() => new nets.SpectralNormalization({ layer: tfl.layers.flatten() })).toThrow(
      /nets\.SpectralNormalization: argument 'config\.layer' must be one of the layers Dense, .*received a Flatten layer/,
    );
    expect(() => new nets.SpectralNormalization({ layer: tfl.layers.dense({ units: 1 }), powerIterations: 0 })).toThrow(
      /'config\.powerIterations' must be a positive integer/,
    );
  });
});
