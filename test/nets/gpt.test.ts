/**
 * nets.gpt: shapes, parameter count, nanoGPT initialisation, whole-model causality, presets,
 * save/load, invalid configs.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { ConfigError, layers, losses, nets, train } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { expectNoLeak, values } from '../helpers/memory.js';

/** Parameters of a GPT with biases and tied head (nanoGPT's model.py, counted by hand):
 *  V·C + T·C (embeddings) + L·(12C² + 13C) (per block: 2 LN 4C, qkv 3C²+3C, proj C²+C, fc 4C²+4C, proj 4C²+C) + 2C (final LN). */
function gptParams(v: number, t: number, l: number, c: number): number {
  return v * c + t * c + l * (12 * c * c + 13 * c) + 2 * c;
}

function std(xs: ArrayLike<number>): number {
  const a = Array.from(xs);
  const mean = a.reduce((s, x) => s + x, 0) / a.length;
  return Math.sqrt(a.reduce((s, x) => s + (x - mean) ** 2, 0) / a.length);
}

describe.each(TEST_BACKENDS)('nets.gpt on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  it('maps int32 ids [B, T] to logits [B, T, V], and is exactly causal over the whole model', () => {
    const model = nets.gpt({ vocabSize: 13, blockSize: 8, layers: 2, heads: 2, width: 16, seed: 1 });
    const ids = [3, 1, 4, 1, 5, 9, 2, 6];
    const run = (seq: number[]) => tf.tidy(() => values(model.predict(tf.tensor2d([seq], [1, seq.length], 'int32')) as tf.Tensor));
    const base = run(ids);
    expect(base.length).toBe(8 * 13);
    for (let t = 0; t < ids.length; t++) {
      const changed = ids.slice();
      changed[t] = (changed[t]! + 5) % 13;
      const out = run(changed);
      for (let i = 0; i < t * 13; i++)
        if (out[i] !== base[i]) expect.fail(`logit ${i} (position ${Math.floor(i / 13)}) changed when id ${t} did`);
      expect(out.slice(t * 13).some((v, i) => v !== base[t * 13 + i])).toBe(true);
    }
  });

  it("has nanoGPT's parameter count and initialisation (0.02, residual projections 0.02/sqrt(2L))", () => {
    const [v, t, l, c] = [50, 32, 4, 128];
    const model = nets.gpt({ vocabSize: v, blockSize: t, layers: l, heads: 4, width: c, seed: 3 });
    expect(model.countParams()).toBe(gptParams(v, t, l, c));
    const block = model.layers.find((x) => x instanceof layers.TransformerBlock) as layers.TransformerBlock;
    const w = block.blockWeights();
    // Sample std of 16,384 (or 65,536) normal draws: relative error ~ 1/sqrt(2n) < 0.6%; 5% tolerance.
    expect(std(w.attention.qkvKernel.dataSync()) / 0.02).toBeCloseTo(1, 1);
    expect(std(w.mlpKernel.dataSync()) / 0.02).toBeCloseTo(1, 1);
    expect(std(w.attention.projectionKernel.dataSync()) / (0.02 / Math.sqrt(8))).toBeCloseTo(1, 1);
    expect(std(w.mlpProjectionKernel.dataSync()) / (0.02 / Math.sqrt(8))).toBeCloseTo(1, 1);
    expect(values(w.attention.qkvBias!).every((x) => x === 0)).toBe(true);
    const embedding = model.layers[1] as layers.TokenPositionEmbedding;
    expect(std(embedding.weights[0]!.read().dataSync()) / 0.02).toBeCloseTo(1, 1);
  });

  it("presets set minGPT's sizes; bias false and untied head change the parameter count as expected", () => {
    const nano = nets.gpt({ vocabSize: 10, blockSize: 4, preset: 'nano' });
    expect(nano.countParams()).toBe(gptParams(10, 4, 3, 48));
    expect(nets.GPT_PRESETS.mini).toEqual({ layers: 6, heads: 6, width: 192 });
    // No biases: per block 12C² + 2C (two LN gammas), final LN C.
    const noBias = nets.gpt({ vocabSize: 10, blockSize: 4, layers: 1, heads: 2, width: 8, bias: false });
    expect(noBias.countParams()).toBe(10 * 8 + 4 * 8 + (12 * 64 + 16) + 8);
    // Untied: an extra C·V head matrix.
    const untied = nets.gpt({ vocabSize: 10, blockSize: 4, layers: 1, heads: 2, width: 8, tieWeights: false });
    expect(untied.countParams()).toBe(gptParams(10, 4, 1, 8) + 8 * 10);
  });

  it('same seed, same model; saves and loads with identical logits; predict does not leak', async () => {
    const make = () => nets.gpt({ vocabSize: 7, blockSize: 6, layers: 1, heads: 2, width: 8, seed: 5, tieWeights: false });
    const a = make();
    const ids = tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32');
    const outA = tf.tidy(() => values(a.predict(ids) as tf.Tensor));
    expect(tf.tidy(() => values(make().predict(ids) as tf.Tensor))).toEqual(outA);
    let artifacts: tf.io.ModelArtifacts | undefined;
    await a.save(
      tf.io.withSaveHandler(async (x) => ((artifacts = x), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })),
    );
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
    expect(tf.tidy(() => values(loaded.predict(ids) as tf.Tensor))).toEqual(outA);
    await expectNoLeak(() => a.predict(ids));
    ids.dispose();
  });

  it('a training step (adamW, cross entropy, dropout) leaves no tensors behind', async () => {
    const model = nets.gpt({ vocabSize: 9, blockSize: 8, layers: 2, heads: 2, width: 8, dropout: 0.1, seed: 7 });
    const optimizer = train.adamW({ learningRate: 1e-3 });
    const variables = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
    const x = tf.tensor2d([[1, 2, 3, 4, 5, 6, 7, 8]], [1, 8], 'int32');
    const y = tf.tensor2d([[2, 3, 4, 5, 6, 7, 8, 0]], [1, 8], 'int32');
    const step = () =>
      optimizer.minimize(() => losses.autoregressive.crossEntropy(model.apply(x, { training: true }) as tf.Tensor, y), true, variables);
    await expectNoLeak(step, { warmup: 1, repeats: 5 });
    optimizer.dispose();
    tf.dispose([x, y]);
  });

  it('model.dispose() frees every weight, the tied embedding included', () => {
    const before = tf.memory().numTensors;
    const model = nets.gpt({ vocabSize: 7, blockSize: 6, layers: 1, heads: 2, width: 8, seed: 5 });
    expect(tf.memory().numTensors).toBeGreaterThan(before);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects invalid configs', () => {
    expect(() => nets.gpt({ vocabSize: 10, blockSize: 8, heads: 3, width: 16 })).toThrow(
      /nets\.gpt: argument 'config\.heads' must divide config\.width \(16\), received 3/,
    );
    expect(() => nets.gpt({ vocabSize: 0, blockSize: 8 })).toThrow(ConfigError);
    expect(() => nets.gpt({ vocabSize: 10, blockSize: 8, preset: 'huge' as never })).toThrow(
      /preset' must be one of 'nano', 'micro', 'mini'/,
    );
    expect(() => nets.gpt({ vocabSize: 10, blockSize: 8, layer: 2 } as never)).toThrow(/Did you mean 'layers'/);
  });
});
