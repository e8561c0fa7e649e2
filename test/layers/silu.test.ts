/**
 * layers.silu and layers.SiLU: values against hand-computed x·σ(x), the gradient against the
 * float64 derivative σ(x)·(1 + x·(1 − σ(x))) on cpu and on wasm (where it runs genblocks' one-pass
 * kernel), wasm against cpu on odd sizes, the same values as tfjs-layers' 'swish', saving and
 * loading, invalid input, and no leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';

import { layers } from '../../src/index.js';
import { SILU_GRAD_KERNEL } from '../../src/backends/silu-kernel.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { expectClose, expectNoLeak, values } from '../helpers/memory.js';
import { expectParity, randomArray, rng } from '../backends/parity.js';

/** float64 oracles. */
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
const siluOf = (v: number) => v * sigmoid(v);
const siluDerivative = (v: number) => sigmoid(v) * (1 + v * (1 - sigmoid(v)));

describe.each(TEST_BACKENDS)('layers.silu on %s', (backend) => {
  it('computes x·σ(x): silu(−1) = −1/(1 + e), silu(0) = 0, silu(2) = 2/(1 + e⁻²)', async () => {
    await useTestBackend(backend);
    // Hand values: 1/(1 + e) = 0.2689414, 2/(1 + e^-2) = 1.7615942.
    expectClose(values(layers.silu(tf.tensor1d([-1, 0, 2]))), [-0.2689414, 0, 1.7615942]);
  });

  it('differentiates to dy·σ(x)·(1 + x·(1 − σ(x))) (odd size: SIMD groups and a tail)', async () => {
    await useTestBackend(backend);
    const r = rng(5);
    const x = Array.from(randomArray(r, 4 * 9 + 3), (v) => 6 * v);
    const dy = Array.from(randomArray(r, x.length));
    const dx = tf.grad((t: tf.Tensor) => layers.silu(t))(tf.tensor1d(x), tf.tensor1d(dy));
    expectClose(
      values(dx),
      x.map((v, i) => dy[i]! * siluDerivative(v)),
      1e-5,
      1e-6,
    );
    if (backend === 'wasm') expect(tf.getKernel(SILU_GRAD_KERNEL, 'wasm')).toBeDefined();
  });

  it('the SiLU layer gives the same values as tfjs-layers’ swish activation, and saves and loads', async () => {
    await useTestBackend(backend);
    const input = tfl.input({ shape: [5, 3] });
    const model = tfl.model({ inputs: input, outputs: new layers.SiLU().apply(input) as tfl.SymbolicTensor });
    const x = tf.randomNormal([2, 5, 3], 0, 3, 'float32', 1);
    const swish = tfl.layers.activation({ activation: 'swish' }).apply(x) as tf.Tensor;
    expectClose(values(model.predict(x) as tf.Tensor), values(swish), 1e-6, 1e-7);
    expectClose(
      values(model.predict(x) as tf.Tensor),
      values(x).map((v) => siluOf(v)),
    );
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })),
    );
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
    expect(loaded.layers[1]!.getClassName()).toBe('genblocks>SiLU');
    expect(values(loaded.predict(x) as tf.Tensor)).toEqual(values(model.predict(x) as tf.Tensor));
  });

  it('rejects integer tensors and unknown layer config keys', async () => {
    await useTestBackend(backend);
    expect(() => layers.silu(tf.tensor1d([1, 2], 'int32'))).toThrow(/layers\.silu.*'x'/);
    expect(() => new layers.SiLU({ nmae: 'a' } as never)).toThrow(/layers\.SiLU.*nmae/);
  });

  it('leaks no tensors, forward or backward', async () => {
    await useTestBackend(backend);
    const x = tf.randomNormal([4, 7, 7, 8]);
    await expectNoLeak(() => tf.grad((t: tf.Tensor) => tf.sum(layers.silu(t)))(x));
    await expectNoLeak(() => layers.silu(x));
    x.dispose();
  });
});

describe('layers.silu on wasm (one-pass gradient kernel) matches cpu', () => {
  it.each([[[3, 5, 7]], [[2, 28, 28, 8]], [[1]]])('shape %j, forward and backward, to 1e-4', async (shape) => {
    await useTestBackend('wasm');
    const size = shape.reduce((a, b) => a * b, 1);
    const r = rng(size);
    const x = randomArray(r, size).map((v) => 5 * v);
    const dy = randomArray(r, size);
    await expectParity(`silu ${shape}`, () => {
      const X = tf.tensor(x, shape);
      return [layers.silu(X), tf.grad((t: tf.Tensor) => layers.silu(t))(X, tf.tensor(dy, shape))];
    });
  });
});
