/**
 * vae.reparameterize and the Reparameterize layer.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { ArgumentError, ConfigError, DTypeError, ShapeError, vae } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { expectClose, expectNoLeak, values } from '../helpers/memory.js';

describe.each(TEST_BACKENDS)('vae.reparameterize on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  it('returns mean when epsilon is zero', () => {
    const mean = tf.tensor2d([
      [1, -2],
      [0.5, 3],
    ]);
    const logVar = tf.tensor2d([
      [0.3, -1],
      [2, 0],
    ]);
    const z = vae.reparameterize(mean, logVar, { epsilon: tf.zerosLike(mean) });
    expect(values(z)).toEqual([1, -2, 0.5, 3]);
    tf.dispose([mean, logVar, z]);
  });

  it('computes mean + exp(0.5 logVar) * epsilon', () => {
    const m = [0.5, -1, 2];
    const lv = [0, 1.2, -3];
    const e = [1, -0.5, 2];
    const z = vae.reparameterize(tf.tensor1d(m), tf.tensor1d(lv), { epsilon: tf.tensor1d(e) });
    // Hand formula in float64.
    expectClose(
      values(z),
      m.map((mi, i) => mi + Math.exp(0.5 * lv[i]!) * e[i]!),
      1e-6,
      1e-6,
    );
    z.dispose();
  });

  it('is reproducible with a seed, and different seeds give different noise', () => {
    const mean = tf.zeros([4, 3]);
    const logVar = tf.zeros([4, 3]);
    const a = values(vae.reparameterize(mean, logVar, { seed: 42 }));
    const b = values(vae.reparameterize(mean, logVar, { seed: 42 }));
    const c = values(vae.reparameterize(mean, logVar, { seed: 43 }));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    tf.dispose([mean, logVar]);
  });

  it('samples have mean `mean` and variance exp(logVar)', () => {
    const n = 20000;
    const m = [1.5, -2];
    const lv = [0.5, -1];
    const mean = tf.tile(tf.tensor2d([m]), [n, 1]);
    const logVar = tf.tile(tf.tensor2d([lv]), [n, 1]);
    const z = vae.reparameterize(mean, logVar, { seed: 7 });
    const samples = values(z);
    for (let j = 0; j < 2; j++) {
      const column = samples.filter((_, i) => i % 2 === j);
      const mu = column.reduce((s, v) => s + v, 0) / n;
      const variance = column.reduce((s, v) => s + (v - mu) ** 2, 0) / (n - 1);
      const sigma2 = Math.exp(lv[j]!);
      // Tolerances of 5 standard errors: the sample mean has standard error sqrt(σ²/n), the
      // sample variance of a normal sqrt(2σ⁴/(n-1)); a correct sampler fails a 5-SE check with
      // probability < 1e-6 (and the seed is fixed), a wrong scale (e.g. exp(logVar) used as
      // the standard deviation) misses by tens of standard errors.
      expect(Math.abs(mu - m[j]!)).toBeLessThan(5 * Math.sqrt(sigma2 / n));
      expect(Math.abs(variance - sigma2)).toBeLessThan(5 * Math.sqrt((2 * sigma2 ** 2) / (n - 1)));
    }
    tf.dispose([mean, logVar, z]);
  });

  it('has the analytic gradients: ∂z/∂mean = 1, ∂z/∂logVar = 0.5·exp(0.5·logVar)·ε', () => {
    const lv = [0.4, -1, 2];
    const e = [1.5, -0.5, 0.25];
    const epsilon = tf.tensor1d(e);
    const [dMean, dLogVar] = tf.grads((mean: tf.Tensor, logVar: tf.Tensor) => tf.sum(vae.reparameterize(mean, logVar, { epsilon })))([
      tf.tensor1d([0.1, 0.2, 0.3]),
      tf.tensor1d(lv),
    ]);
    expect(values(dMean!)).toEqual([1, 1, 1]);
    expectClose(
      values(dLogVar!),
      lv.map((v, i) => 0.5 * Math.exp(0.5 * v) * e[i]!),
      1e-5,
      1e-6,
    );
    tf.dispose([epsilon, dMean!, dLogVar!]);
  });

  it('leaks no tensors', async () => {
    const mean = tf.zeros([2, 2]);
    const logVar = tf.zeros([2, 2]);
    await expectNoLeak(() => vae.reparameterize(mean, logVar, { seed: 1 }));
    tf.dispose([mean, logVar]);
  });

  it('rejects mismatched shapes, int tensors and bad options', () => {
    const mean = tf.zeros([2, 3]);
    expect(() => vae.reparameterize(mean, tf.zeros([2, 2]))).toThrow(ShapeError);
    expect(() => vae.reparameterize(mean, tf.zeros([2, 2]))).toThrow(
      /vae\.reparameterize: argument 'logVar' must have the same shape as 'mean' \[2,3\], received shape \[2,2\]/,
    );
    expect(() => vae.reparameterize(tf.zeros([2, 3], 'int32'), mean)).toThrow(DTypeError);
    expect(() => vae.reparameterize(mean, mean, { epsilon: tf.zeros([3]) })).toThrow(
      /argument 'options\.epsilon' must have the same shape as 'mean'/,
    );
    expect(() => vae.reparameterize(mean, mean, { seed: NaN })).toThrow(ArgumentError);
    mean.dispose();
  });
});

describe.each(TEST_BACKENDS)('vae.Reparameterize layer on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  const build = (args: ConstructorParameters<typeof vae.Reparameterize>[0]) => {
    const mean = tfl.input({ shape: [3] });
    const logVar = tfl.input({ shape: [3] });
    const layer = new vae.Reparameterize(args);
    return tfl.model({ inputs: [mean, logVar], outputs: layer.apply([mean, logVar]) as tfl.SymbolicTensor });
  };
  const mean = () =>
    tf.tensor2d([
      [1, 2, 3],
      [-1, 0, 4],
    ]);
  const logVar = () => tf.fill([2, 3], -2);

  it("samples in training, returns the mean at inference with inference: 'mean'", () => {
    const model = build({ inference: 'mean', seed: 3 });
    const [m, lv] = [mean(), logVar()];
    const trained = model.apply([m, lv], { training: true }) as tf.Tensor;
    const inferred = model.predict([m, lv]) as tf.Tensor;
    expect(values(inferred)).toEqual(values(m));
    expect(values(trained)).not.toEqual(values(m));
    tf.dispose([m, lv, trained, inferred]);
  });

  it("samples at inference by default ('sample'), reproducibly with a seed", () => {
    const [m, lv] = [mean(), logVar()];
    const a = build({ seed: 9 });
    const b = build({ seed: 9 });
    const a1 = values(a.predict([m, lv]) as tf.Tensor);
    const a2 = values(a.predict([m, lv]) as tf.Tensor);
    const b1 = values(b.predict([m, lv]) as tf.Tensor);
    expect(a1).not.toEqual(values(m));
    expect(b1).toEqual(a1); // same seed, same first call
    expect(a2).not.toEqual(a1); // successive calls use seed + k
    tf.dispose([m, lv]);
  });

  it('is registered under the genblocks prefix and round-trips through save/load', async () => {
    expect(vae.Reparameterize.className).toBe('genblocks>Reparameterize');
    const model = build({ inference: 'mean', seed: 5 });
    const layer = model.layers.at(-1) as InstanceType<typeof vae.Reparameterize>;
    expect(layer.getConfig()).toMatchObject({ inference: 'mean', seed: 5 });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (x) => ((artifacts = x), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })),
    );
    expect(JSON.stringify(artifacts!.modelTopology)).toContain('"class_name":"genblocks>Reparameterize"');
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
    const again = loaded.layers.at(-1) as InstanceType<typeof vae.Reparameterize>;
    expect(again).toBeInstanceOf(vae.Reparameterize);
    expect([again.inference, again.seed]).toEqual(['mean', 5]);
  });

  it('rejects a bad inference mode', () => {
    expect(() => new vae.Reparameterize({ inference: 'mode' as never })).toThrow(ConfigError);
    expect(() => new vae.Reparameterize({ inference: 'mode' as never })).toThrow(
      /vae\.Reparameterize: argument 'config\.inference' must be one of 'mean', 'sample'/,
    );
  });
});
