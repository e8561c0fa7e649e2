/**
 * nets.unet: structure, inputs, conditioning, gradients and a save/load round trip.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { ConfigError, diffusion, nets } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { expectNoLeak, values } from '../helpers/memory.js';

const small = { imageShape: [8, 8, 1], baseChannels: 8, channelMultipliers: [1, 2], groups: 4, seed: 1 };

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

const count = (model: tfl.LayersModel, className: string, filter: (l: tfl.layers.Layer) => boolean = () => true) =>
  model.layers.filter((l) => l.getClassName() === className && filter(l)).length;

describe.each(TEST_BACKENDS)('nets.unet on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  it('has the DDPM layout: one stride-2 conv and one upsampling per level change, attention where asked', () => {
    const model = nets.unet({ ...small, residualBlocks: 2, attentionAt: [4] });
    expect(model.inputs.map((i) => i.shape)).toEqual([[null, 8, 8, 1], [null, 1]]);
    expect(model.outputs[0]!.shape).toEqual([null, 8, 8, 1]);
    const strides2 = (l: tfl.layers.Layer) => (l.getConfig()['strides'] as number[])[0] === 2;
    expect(count(model, 'Conv2D', strides2)).toBe(1);
    expect(count(model, 'UpSampling2D')).toBe(1);
    // Attention at 4×4: 2 down blocks + 1 middle + 3 up blocks (residualBlocks + 1).
    expect(count(model, 'genblocks>SpatialAttention')).toBe(6);
    // Residual blocks: 2 per level down (4), 2 in the middle, 3 per level up (6) = 12, each with
    // 2 GroupNorms; plus 6 before attention and 1 at the output.
    expect(count(model, 'genblocks>GroupNormalization')).toBe(12 * 2 + 6 + 1);
    expect(count(model, 'genblocks>TimeEmbedding')).toBe(1);
    expect(count(nets.unet({ ...small, attentionAt: [] }), 'genblocks>SpatialAttention')).toBe(0);
    // Default attention: the lowest resolution only (1 down, 1 middle, 2 up).
    expect(count(nets.unet(small), 'genblocks>SpatialAttention')).toBe(4);
  });

  it('depends on t and on the label; the same seed builds the same model', () => {
    const model = nets.unet({ ...small, numClasses: 3 });
    expect(model.inputs.map((i) => i.shape)).toEqual([[null, 8, 8, 1], [null, 1], [null, 1]]);
    const x = tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 1);
    const run = (m: tfl.LayersModel, t: number, label: number) => values(m.predict([x, tf.fill([2, 1], t), tf.fill([2, 1], label, 'int32')]) as tf.Tensor);
    const base = run(model, 5, 0);
    expect(run(model, 6, 0)).not.toEqual(base);
    expect(run(model, 5, 1)).not.toEqual(base);
    // Label 3 (= numClasses) is the null label: it exists in the embedding table.
    expect(run(model, 5, 3).every(Number.isFinite)).toBe(true);
    expect(run(nets.unet({ ...small, numClasses: 3 }), 5, 0)).toEqual(base);
    x.dispose();
  });

  it('every weight gets a finite gradient through diffusion.trainingLoss, and a step leaks nothing', async () => {
    const model = nets.unet({ ...small, numClasses: 2, dropout: 0.1 });
    const schedule = diffusion.noiseSchedule({ timesteps: 100 });
    const x0 = tf.randomNormal([2, 8, 8, 1], 0, 0.5, 'float32', 2);
    const labels = tf.tensor1d([0, 1], 'int32');
    const { value, grads } = tf.variableGrads(() => diffusion.trainingLoss(model, x0, { schedule, seed: 3, labels }));
    expect(Object.keys(grads)).toHaveLength(model.trainableWeights.length);
    const nonZero = Object.values(grads).filter((g) => values(g).some((v) => v !== 0)).length;
    for (const g of Object.values(grads)) expect(values(g).every(Number.isFinite)).toBe(true);
    // All but the unused label rows are trained; every tensor gets some non-zero gradient.
    expect(nonZero).toBe(model.trainableWeights.length);
    tf.dispose([value, ...Object.values(grads)]);
    const optimizer = tf.train.adam(1e-3);
    let step = 0;
    await expectNoLeak(() => optimizer.minimize(() => diffusion.trainingLoss(model, x0, { schedule, seed: step++, labels, labelDropout: 0.5, nullLabel: 2 }), true), {
      warmup: 1,
      repeats: 2,
    });
    tf.dispose([x0, labels]);
    optimizer.dispose();
  });

  it('a saved and loaded model gives identical outputs', async () => {
    const model = nets.unet({ ...small, numClasses: 2, attentionHeads: 2 });
    const loaded = await roundTrip(model);
    const inputs = [tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 4), tf.tensor2d([[3], [70]]), tf.tensor2d([[0], [2]], [2, 1], 'int32')];
    expect(values(loaded.predict(inputs) as tf.Tensor)).toEqual(values(model.predict(inputs) as tf.Tensor));
    tf.dispose(inputs);
  });

  it('rejects invalid configs', () => {
    expect(() => nets.unet({ ...small, imageShape: [6, 6, 1], channelMultipliers: [1, 2, 2] })).toThrow(
      /nets.unet: argument 'config.imageShape' must have height and width divisible by 4 \(2\^\(levels - 1\) for 3 channelMultipliers\)/,
    );
    expect(() => nets.unet({ ...small, groups: 3 })).toThrow(/config.groups' must divide every level's channels \(8, 16\)/);
    expect(() => nets.unet({ ...small, attentionAt: [2] })).toThrow(/config.attentionAt' must list resolutions among 8, 4/);
    expect(() => nets.unet({ ...small, channelMultipliers: [] })).toThrow(ConfigError);
    expect(() => nets.unet({ ...small, dropout: 1 })).toThrow(/config.dropout/);
    expect(() => nets.unet({ ...small, baseChannel: 8 } as never)).toThrow(/Did you mean 'baseChannels'/);
    expect(() => nets.unet(undefined as never)).toThrow(/nets.unet: argument 'config' must be a config object/);
  });
});
