/**
 * genblocks' wasm Cast (src/backends/wasm/cast.ts): a cast to the same dtype shares its input's
 * data (no copy) and stays valid after the input is disposed; casts that change the dtype
 * (int32 → float32, float32 → int32 truncating, bool → float32) match the cpu backend; the
 * Multiply gradient (which casts its operands) matches cpu; no leaks of tensors or data ids.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { useTestBackend } from '../../helpers/backends.js';
import { expectNoLeak } from '../../helpers/memory.js';
import { expectParity, randomArray, rng } from '../parity.js';

beforeAll(async () => {
  await useTestBackend('wasm');
});

describe('wasm Cast', () => {
  it('shares the data of a same-dtype cast, which outlives its input', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const x = tf.tensor1d([1.5, -2, 3]);
    const ids = backend.numDataIds();
    const y = tf.cast(x, 'float32');
    // Same data id: no new buffer.
    expect(backend.numDataIds()).toBe(ids);
    x.dispose();
    // Values from the input: [1.5, -2, 3].
    expect(Array.from(y.dataSync())).toEqual([1.5, -2, 3]);
    y.dispose();
    const ones = tf.ones([4]);
    await expectNoLeak(() => tf.cast(ones, 'float32'));
    ones.dispose();
  });

  it('converts between dtypes as cpu does, and the Multiply gradient matches', async () => {
    // int32 → float32: [3, -7, 0]; float32 → int32 truncates toward zero: [1, -2, 2]; bool → float32: [1, 0, 1].
    await expectParity('casts', () => [
      tf.cast(tf.tensor1d([3, -7, 0], 'int32'), 'float32'),
      tf.cast(tf.cast(tf.tensor1d([1.7, -2.5, 2.2]), 'int32'), 'float32'),
      tf.cast(tf.tensor1d([true, false, true], 'bool'), 'float32'),
    ]);
    const r = rng(4);
    const a = randomArray(r, 3 * 5);
    const b = randomArray(r, 5);
    await expectParity('mul gradient', () =>
      tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.sin(tf.mul(x, y))))([tf.tensor2d(a, [3, 5]), tf.tensor1d(b)]),
    );
  });
});
