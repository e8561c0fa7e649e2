/**
 * The `layers` namespace: the custom layers moved to src/layers keep their public names in
 * `nets` and `vae`, their registered class names (so models saved before the move load), and
 * the one label-conditioning block serves the generators, the projection discriminator and
 * the conditional VAE alike.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { layers, nets, vae } from '../../src/index.js';
import { useTestBackend } from '../helpers/backends.js';
import { values } from '../helpers/memory.js';

describe('layers namespace', () => {
  beforeAll(async () => {
    await useTestBackend('cpu');
  });

  it('exports the custom layers under their old public names too', () => {
    expect(layers.SpectralNormalization).toBe(nets.SpectralNormalization);
    expect(layers.Reparameterize).toBe(vae.Reparameterize);
    expect(Object.keys(layers)).toEqual(expect.arrayContaining(['Reparameterize', 'SpectralNormalization']));
  });

  it('keeps the registered class names, so a saved model from before the move loads', async () => {
    expect(layers.SpectralNormalization.className).toBe('genblocks>SpectralNormalization');
    expect(layers.Reparameterize.className).toBe('genblocks>Reparameterize');
    // A topology as earlier versions wrote it: the class name is all that locates the layer.
    const input = tfl.input({ shape: [3] });
    const wrapped = new layers.SpectralNormalization({ layer: tfl.layers.dense({ units: 2, kernelInitializer: 'ones' }) });
    const model = tfl.model({ inputs: input, outputs: wrapped.apply(input) as tfl.SymbolicTensor });
    const topology = model.toJSON(undefined, false) as { config: { layers: { class_name: string }[] } };
    expect(topology.config.layers.map((l) => l.class_name)).toContain('genblocks>SpectralNormalization');
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })),
    );
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
    const x = tf.tensor2d([[1, 2, 3]]);
    expect(values(loaded.predict(x) as tf.Tensor)).toEqual(values(model.predict(x) as tf.Tensor));
  });

  it('builds the label conditioning of generators and conditional VAEs with the same block: int32 label → Embedding → Flatten → Concatenate', () => {
    const chain = (model: tfl.LayersModel) => model.layers.map((l) => l.getClassName());
    const embedding = (model: tfl.LayersModel) => model.layers.find((l) => l.getClassName() === 'Embedding')!.getConfig();
    const generator = nets.mlpGenerator({ latentDim: 4, outputShape: [6], widths: [8], numClasses: 3 });
    const decoder = vae.mlpDecoder({ latentDim: 4, outputShape: [6], widths: [8], numClasses: 3 });
    for (const model of [generator, decoder]) {
      expect(model.inputs[1]!.dtype).toBe('int32');
      expect(model.inputs[1]!.shape).toEqual([null, 1]);
      expect(chain(model).slice(0, 5)).toEqual(expect.arrayContaining(['Embedding', 'Flatten', 'Concatenate']));
    }
    // Defaults differ by family (documented): 50 dimensions in the generators, numClasses in the VAE.
    expect([embedding(generator)['inputDim'], embedding(generator)['outputDim']]).toEqual([3, 50]);
    expect([embedding(decoder)['inputDim'], embedding(decoder)['outputDim']]).toEqual([3, 3]);
    const projection = nets.mlpDiscriminator({ inputShape: [6], widths: [8], head: 'projection', numClasses: 3 });
    expect(projection.inputs[1]!.dtype).toBe('int32');
  });
});
