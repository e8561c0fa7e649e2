/**
 * genblocks' wasm Concat (src/backends/wasm/concat.ts) against the cpu backend, with the heap
 * kernels (one strided copy per input) and without (short parts by element loops, long ones by
 * `set`): the last axis (a UNet's skip concatenation) and others, odd widths, three inputs, an
 * empty input, forward and backward; and no leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SHORT_PART } from '../../../src/backends/wasm/concat.js';
import { setHeapKernelsEnabled } from '../../../src/backends/wasm/heap-kernels.js';
import { useTestBackend } from '../../helpers/backends.js';
import { expectNoLeak } from '../../helpers/memory.js';
import { expectParity, randomArray, rng } from '../parity.js';

beforeAll(async () => {
  await useTestBackend('wasm');
});

describe.each([true, false])('wasm Concat matches cpu (heap kernels %s)', (heap) => {
  beforeAll(() => {
    setHeapKernelsEnabled(heap);
  });
  afterAll(() => {
    setHeapKernelsEnabled(true);
  });

  it.each([
    [
      [
        [2, 5, 3, 8],
        [2, 5, 3, 8],
      ],
      3,
    ], // UNet skip: short parts
    [
      [
        [2, 4, 4, 3],
        [2, 4, 4, 40],
        [2, 4, 4, 1],
      ],
      -1,
    ], // a short, a long and a one-wide part
    [
      [
        [3, 5, 7],
        [3, 2, 7],
      ],
      1,
    ],
    [
      [
        [4, 6],
        [1, 6],
        [2, 6],
      ],
      0,
    ],
    [
      [
        [2, 3, 0],
        [2, 3, 5],
      ],
      2,
    ], // an empty part
  ] as [number[][], number][])('concat of %j on axis %i, and its gradient', async (shapes, axis) => {
    expect(SHORT_PART).toBeGreaterThan(8);
    const r = rng(shapes.length * 10 + axis + 5);
    const values = shapes.map((s) =>
      randomArray(
        r,
        s.reduce((a, b) => a * b, 1),
      ),
    );
    await expectParity(`concat ${JSON.stringify(shapes)}`, () => {
      const ts = values.map((v, k) => tf.tensor(v, shapes[k]!));
      const y = tf.concat(ts, axis);
      const w = tf.sin(tf.reshape(tf.range(0, y.size), y.shape));
      // d/dx_k Σ concat ⊙ w is the matching part of w (empty parts have no gradient to check).
      const nonEmpty = ts.filter((t) => t.size > 0);
      const grads = tf.grads((...xs: tf.Tensor[]) =>
        tf.sum(
          tf.mul(
            tf.concat(
              ts.map((t) => (t.size > 0 ? xs[nonEmpty.indexOf(t)]! : t)),
              axis,
            ),
            w,
          ),
        ),
      )(nonEmpty);
      return [y, ...grads];
    });
  });

  it('leaks nothing (tensors and wasm data ids)', async () => {
    const a = tf.ones([2, 3, 3, 8]);
    const b = tf.zeros([2, 3, 3, 4]);
    const ids = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    await expectNoLeak(() => tf.concat([a, b], 3));
    expect((tf.backend() as unknown as { numDataIds(): number }).numDataIds()).toBe(ids);
    tf.dispose([a, b]);
  });
});
