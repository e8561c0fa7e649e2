/**
 * Models saved to and loaded from IndexedDB give identical outputs (a generator, and a VAE
 * containing the `Reparameterize` layer), and the Reparameterize layer's round trip.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { nets, vae } from '../../../src/index.js';
import { assert, assertClose, assertEqual, check, read } from '../harness.js';

async function outputsOf(model: tfl.LayersModel, input: tf.Tensor): Promise<number[][]> {
  const out = model.predict(input);
  return Promise.all((Array.isArray(out) ? out : [out]).map(read));
}

export async function ioChecks(backend: string): Promise<void> {
  const url = (name: string) => `indexeddb://genblocks-browser-test-${backend}-${name}`;

  await check('a DCGAN generator saved to IndexedDB loads with identical outputs', async () => {
    const generator = nets.dcganGenerator({ latentDim: 8, outputShape: [8, 8, 1], stages: 1, widths: [8, 4], kernelSize: 3 });
    const noise = tf.randomNormal([3, 8], 0, 1, 'float32', 11);
    const expected = await outputsOf(generator, noise);
    const saved = await generator.save(url('generator'));
    assert(saved.modelArtifactsInfo.weightDataBytes! > 0, 'weights were written');
    const listed = await tf.io.listModels();
    assert(url('generator') in listed, `tf.io.listModels lists ${url('generator')}`);
    const loaded = await tfl.loadLayersModel(url('generator'));
    const actual = await outputsOf(loaded, noise);
    assertEqual(actual, expected, 'outputs after the IndexedDB round trip');
    await tf.io.removeModel(url('generator'));
    tf.dispose(noise);
    generator.dispose();
    loaded.dispose();
    return { weightBytes: saved.modelArtifactsInfo.weightDataBytes };
  });

  await check('a VAE with vae.Reparameterize saved to IndexedDB loads with identical outputs', async () => {
    const encoder = vae.mlpEncoder({ inputShape: [16], latentDim: 4, widths: [16] });
    const decoder = vae.mlpDecoder({ latentDim: 4, outputShape: [16], widths: [16] });
    // inference 'mean': predict is deterministic, so outputs can be compared exactly.
    const model = vae.assemble({ encoder, decoder, inference: 'mean', seed: 4 });
    const x = tf.randomUniform([2, 16], 0, 1, 'float32', 12);
    const expected = await outputsOf(model, x);
    await model.save(url('vae'));
    const loaded = await tfl.loadLayersModel(url('vae'));
    const layer = loaded.layers.find((l) => l instanceof vae.Reparameterize) as InstanceType<typeof vae.Reparameterize> | undefined;
    assert(layer !== undefined, 'the loaded model contains a vae.Reparameterize layer');
    assertEqual([layer.inference, layer.seed], ['mean', 4], 'layer config after loading');
    const actual = await outputsOf(loaded, x);
    assertEqual(actual.length, 3, 'outputs [logits, mean, logVar]');
    assertEqual(actual, expected, 'outputs after the IndexedDB round trip');
    await tf.io.removeModel(url('vae'));
    tf.dispose(x);
    model.dispose();
    loaded.dispose();
  });

  await check('vae.Reparameterize layer: className, getConfig and save/load round trip; z = mean + exp(logVar/2)·ε', async () => {
    assertEqual(vae.Reparameterize.className, 'genblocks>Reparameterize', 'className');
    const mean = tfl.input({ shape: [3] });
    const logVar = tfl.input({ shape: [3] });
    const layer = new vae.Reparameterize({ inference: 'sample', seed: 9 });
    const model = tfl.model({ inputs: [mean, logVar], outputs: layer.apply([mean, logVar]) as tfl.SymbolicTensor });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })),
    );
    assert(
      JSON.stringify(artifacts!.modelTopology).includes('"class_name":"genblocks>Reparameterize"'),
      'topology names genblocks>Reparameterize',
    );
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
    const again = loaded.layers.at(-1) as InstanceType<typeof vae.Reparameterize>;
    assert(again instanceof vae.Reparameterize, 'loaded layer is a vae.Reparameterize');
    assertEqual([again.inference, again.seed], ['sample', 9], 'config after loading');
    // Same seed, same first call: the original and the loaded model draw the same z.
    const m = tf.tensor2d([
      [1, 2, 3],
      [-1, 0, 4],
    ]);
    const lv = tf.fill([2, 3], -2);
    const a = await read(model.predict([m, lv]) as tf.Tensor);
    const b = await read(loaded.predict([m, lv]) as tf.Tensor);
    assertEqual(b, a, 'first draws of the original and the loaded layer');
    // Hand formula in float64 with a pinned ε.
    const mv = [0.5, -1, 2];
    const lvv = [0, 1.2, -3];
    const e = [1, -0.5, 2];
    const z = await read(tf.tidy(() => vae.reparameterize(tf.tensor1d(mv), tf.tensor1d(lvv), { epsilon: tf.tensor1d(e) })));
    assertClose(
      z,
      mv.map((mi, i) => mi + Math.exp(0.5 * lvv[i]!) * e[i]!),
      1e-6,
      1e-6,
      'z',
    );
    tf.dispose([m, lv]);
    model.dispose();
    loaded.dispose();
  });
}
