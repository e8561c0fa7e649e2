/**
 * layers.GroupNormalization, layers.TimeEmbedding and layers.SpatialAttention (and the pure
 * functions they wrap), against float64 references written out here.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { ConfigError, ShapeError, layers } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { expectClose, expectNoLeak, values } from '../helpers/memory.js';

/** Saves to memory and loads back with plain tfjs-layers. */
async function roundTrip(model: tfl.LayersModel): Promise<tfl.LayersModel> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
}

/** Group normalization in float64 over [batch, positions, channels] (Wu & He 2018, eqs. 1-3). */
function groupNormReference(x: number[], batch: number, positions: number, channels: number, groups: number, eps: number, gamma: number[], beta: number[]): number[] {
  const out = new Array<number>(x.length);
  const size = channels / groups;
  for (let n = 0; n < batch; n++) {
    for (let g = 0; g < groups; g++) {
      const idx: number[] = [];
      for (let p = 0; p < positions; p++) for (let c = g * size; c < (g + 1) * size; c++) idx.push((n * positions + p) * channels + c);
      const mean = idx.reduce((s, i) => s + x[i]!, 0) / idx.length;
      const variance = idx.reduce((s, i) => s + (x[i]! - mean) ** 2, 0) / idx.length;
      for (const i of idx) out[i] = gamma[i % channels]! * ((x[i]! - mean) / Math.sqrt(variance + eps)) + beta[i % channels]!;
    }
  }
  return out;
}

describe.each(TEST_BACKENDS)('custom layers on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  it('groupNormalization matches the float64 reference (Wu & He 2018, eqs. 1-3)', () => {
    const [batch, h, w, c, groups] = [2, 3, 2, 6, 3];
    const data = Array.from({ length: batch * h * w * c }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 5)));
    const gamma = [1, 2, 0.5, -1, 1.5, 3];
    const beta = [0, 0.1, -0.2, 0.3, 1, -1];
    const y = layers.groupNormalization(tf.tensor4d(data, [batch, h, w, c]), { groups, epsilon: 1e-5, gamma: tf.tensor1d(gamma), beta: tf.tensor1d(beta) });
    expectClose(values(y), groupNormReference(data, batch, h * w, c, groups, 1e-5, gamma, beta), 1e-4, 1e-5);
    // groups = channels is instance norm; groups = 1 is layer norm (Wu & He 2018, fig. 2).
    const one = layers.groupNormalization(tf.tensor4d(data, [batch, h, w, c]), { groups: 1 });
    expectClose(values(one), groupNormReference(data, batch, h * w, c, 1, 1e-5, new Array(c).fill(1), new Array(c).fill(0)), 1e-4, 1e-5);
  });

  it('groupNormalization gradient: its closed form matches float64 central differences', () => {
    const [batch, positions, c, groups] = [2, 3, 4, 2];
    const data = Array.from({ length: batch * positions * c }, (_, i) => Math.sin(i * 2.3) * (1 + (i % 3)));
    const w = Array.from({ length: data.length }, (_, i) => Math.cos(i * 0.7));
    const gamma = [1.5, -0.5, 2, 1];
    const beta = [0, 0, 0, 0];
    // L(x) = Σ w ⊙ GN(x), in float64; ∂L/∂xᵢ ≈ (L(x + h eᵢ) - L(x - h eᵢ)) / 2h.
    const lossAt = (x: number[]) => groupNormReference(x, batch, positions, c, groups, 1e-5, gamma, beta).reduce((s, v, i) => s + v * w[i]!, 0);
    const h = 1e-5;
    const numeric = data.map((_, i) => {
      const up = [...data];
      const down = [...data];
      up[i]! += h;
      down[i]! -= h;
      return (lossAt(up) - lossAt(down)) / (2 * h);
    });
    const weights = tf.tensor3d(w, [batch, positions, c]);
    const grad = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(layers.groupNormalization(x, { groups, gamma: tf.tensor1d(gamma) }), weights)))(tf.tensor3d(data, [batch, positions, c]));
    expectClose(values(grad), numeric, 1e-3, 1e-3);
  });

  it('GroupNormalization layer: trains γ and β, gradients finite, saves and loads identically', async () => {
    const input = tfl.input({ shape: [4, 4, 8] });
    const normalized = new layers.GroupNormalization({ groups: 4 }).apply(tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }).apply(input)) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: normalized });
    expect(model.trainableWeights.map((w) => w.shape)).toContainEqual([8]);
    const x = tf.randomNormal([2, 4, 4, 8], 0, 1, 'float32', 2);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(model.apply(x) as tf.Tensor, tf.randomNormal([2, 4, 4, 8], 0, 1, 'float32', 3))) as tf.Scalar);
    expect(Object.keys(grads)).toHaveLength(4);
    for (const g of Object.values(grads)) {
      const v = values(g);
      expect(v.every(Number.isFinite)).toBe(true);
      expect(v.some((e) => e !== 0)).toBe(true);
    }
    tf.dispose([value, ...Object.values(grads)]);
    // Change γ so the round trip has non-default weights to carry.
    const gnWeights = model.layers[2]!.getWeights();
    model.layers[2]!.setWeights([tf.randomNormal([8], 1, 0.5, 'float32', 4), gnWeights[1]!]);
    const loaded = await roundTrip(model);
    expect(loaded.layers[2]!.getClassName()).toBe('genblocks>GroupNormalization');
    expect(values(loaded.predict(x) as tf.Tensor)).toEqual(values(model.predict(x) as tf.Tensor));
    const affineOff = new layers.GroupNormalization({ groups: 2, affine: false });
    affineOff.apply(tfl.input({ shape: [4] }));
    expect(affineOff.getWeights()).toHaveLength(0);
    x.dispose();
  });

  it('sinusoidalEmbedding: [sin(t ωᵢ), cos(t ωᵢ)], ωᵢ = 10000^(-i/(dim/2)) (Vaswani et al. 2017, §3.5)', () => {
    const emb = layers.sinusoidalEmbedding(tf.tensor1d([0, 3, 500]), 6);
    expect(emb.shape).toEqual([3, 6]);
    const omega = [0, 1, 2].map((i) => 10000 ** (-i / 3));
    const expected = [0, 3, 500].flatMap((t) => [...omega.map((w) => Math.sin(t * w)), ...omega.map((w) => Math.cos(t * w))]);
    // float32 angles up to 500: |Δ| ≲ 500 · 6e-8.
    expectClose(values(emb), expected, 0, 1e-4);
    const layer = new layers.TimeEmbedding({ dim: 6 });
    expect(values(layer.apply(tf.tensor2d([[0], [3], [500]])) as tf.Tensor)).toEqual(values(emb));
  });

  it('spatialSelfAttention matches a float64 reference with two heads (Vaswani et al. 2017, eq. 1)', () => {
    const [b, h, w, c, heads] = [2, 2, 2, 4, 2];
    const n = h * w;
    const d = c / heads;
    const xs = Array.from({ length: b * n * c }, (_, i) => Math.cos(i * 0.9));
    const wqkv = Array.from({ length: c * 3 * c }, (_, i) => Math.sin(i * 0.37) * 0.5);
    const bqkv = Array.from({ length: 3 * c }, (_, i) => 0.01 * i);
    const wout = Array.from({ length: c * c }, (_, i) => Math.cos(i * 0.21) * 0.5);
    const bout = [0.1, -0.1, 0.2, 0];
    const expected: number[] = [];
    for (let e = 0; e < b; e++) {
      // qkv[p][j] = Σ_c x[p][c] W[c][j] + b[j]; columns 0..C-1 = Q, C..2C-1 = K, 2C..3C-1 = V, head h = columns h·d … h·d + d - 1.
      const qkv = Array.from({ length: n }, (_, p) =>
        Array.from({ length: 3 * c }, (_, j) => bqkv[j]! + Array.from({ length: c }, (_, k) => xs[(e * n + p) * c + k]! * wqkv[k * 3 * c + j]!).reduce((s, v) => s + v, 0)),
      );
      const mixed = Array.from({ length: n }, () => new Array<number>(c).fill(0));
      for (let head = 0; head < heads; head++) {
        for (let p = 0; p < n; p++) {
          const scores = Array.from({ length: n }, (_, q) => {
            let dot = 0;
            for (let k = 0; k < d; k++) dot += qkv[p]![head * d + k]! * qkv[q]![c + head * d + k]!;
            return dot / Math.sqrt(d);
          });
          const max = Math.max(...scores);
          const exps = scores.map((s) => Math.exp(s - max));
          const sum = exps.reduce((s, v) => s + v, 0);
          for (let k = 0; k < d; k++) mixed[p]![head * d + k] = exps.reduce((s, v, q) => s + (v / sum) * qkv[q]![2 * c + head * d + k]!, 0);
        }
      }
      for (let p = 0; p < n; p++) for (let j = 0; j < c; j++) expected.push(bout[j]! + mixed[p]!.reduce((s, v, k) => s + v * wout[k * c + j]!, 0));
    }
    const out = layers.spatialSelfAttention(
      tf.tensor4d(xs, [b, h, w, c]),
      { qkvKernel: tf.tensor2d(wqkv, [c, 3 * c]), qkvBias: tf.tensor1d(bqkv), outKernel: tf.tensor2d(wout, [c, c]), outBias: tf.tensor1d(bout) },
      heads,
    );
    expectClose(values(out), expected, 1e-4, 1e-5);
  });

  it('SpatialAttention layer: every weight gets a finite gradient; save/load gives identical outputs', async () => {
    const input = tfl.input({ shape: [3, 3, 4] });
    const model = tfl.model({ inputs: input, outputs: new layers.SpatialAttention({ heads: 2, seed: 3 }).apply(input) as tfl.SymbolicTensor });
    expect(model.trainableWeights.map((w) => w.shape)).toEqual([[4, 12], [12], [4, 4], [4]]);
    const x = tf.randomNormal([2, 3, 3, 4], 0, 1, 'float32', 5);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(model.apply(x) as tf.Tensor)) as tf.Scalar);
    for (const g of Object.values(grads)) expect(values(g).every(Number.isFinite)).toBe(true);
    tf.dispose([value, ...Object.values(grads)]);
    const loaded = await roundTrip(model);
    expect(loaded.layers[1]!.getClassName()).toBe('genblocks>SpatialAttention');
    expect(values(loaded.predict(x) as tf.Tensor)).toEqual(values(model.predict(x) as tf.Tensor));
    // Same seed, same initial weights.
    const again = tfl.model({ inputs: input, outputs: new layers.SpatialAttention({ heads: 2, seed: 3 }).apply(input) as tfl.SymbolicTensor });
    expect(values(again.predict(x) as tf.Tensor)).toEqual(values(model.predict(x) as tf.Tensor));
    x.dispose();
  });

  it('functions leak no tensors', async () => {
    const x = tf.randomNormal([1, 2, 2, 4]);
    const weights = { qkvKernel: tf.ones([4, 12]), qkvBias: tf.zeros([12]), outKernel: tf.eye(4), outBias: tf.zeros([4]) };
    await expectNoLeak(() => layers.groupNormalization(x, { groups: 2 }));
    const t = tf.tensor1d([0, 5, 9]);
    await expectNoLeak(() => layers.sinusoidalEmbedding(t, 8));
    t.dispose();
    await expectNoLeak(() => layers.spatialSelfAttention(x, weights, 2));
    tf.dispose([x, ...Object.values(weights)]);
  });

  it('rejects invalid usage', () => {
    expect(() => layers.groupNormalization(tf.zeros([1, 2, 2, 6]), { groups: 4 })).toThrow(
      /layers.groupNormalization: argument 'x' must have a channel count divisible by groups \(4\), received shape \[1,2,2,6\]/,
    );
    expect(() => layers.groupNormalization(tf.zeros([1, 4]), { groups: 2, gamma: tf.ones([3]) })).toThrow(/options.gamma' must have shape \[4\]/);
    expect(() => new layers.GroupNormalization({ groups: 0 })).toThrow(ConfigError);
    expect(() => new layers.GroupNormalization({ group: 2 } as never)).toThrow(/Did you mean 'groups'/);
    expect(() => new layers.GroupNormalization({ groups: 3 }).apply(tfl.input({ shape: [4, 4, 8] }))).toThrow(ShapeError);
    expect(() => layers.sinusoidalEmbedding(tf.zeros([2]), 5)).toThrow(/layers.sinusoidalEmbedding: argument 'dim' must be even, received 5/);
    expect(() => layers.sinusoidalEmbedding(tf.zeros([2, 2]), 4)).toThrow(/argument 't' must have shape \[batch\] or \[batch, 1\]/);
    expect(() => new layers.TimeEmbedding({ dim: 3 })).toThrow(/layers.TimeEmbedding: argument 'config.dim' must be even/);
    expect(() => new layers.SpatialAttention({ heads: 3 }).apply(tfl.input({ shape: [2, 2, 4] }))).toThrow(/must have shape \[batch, H, W, C\] with C divisible by heads \(3\)/);
    expect(() => layers.spatialSelfAttention(tf.zeros([1, 2, 2, 4]), { qkvKernel: tf.zeros([4, 4]), qkvBias: tf.zeros([12]), outKernel: tf.zeros([4, 4]), outBias: tf.zeros([4]) })).toThrow(
      /weights.qkvKernel' must have shape \[4,12\]/,
    );
  });
});
