/**
 * genblocks' wasm SplitV (src/backends/wasm/split-v.ts): tf.split and the gradient of tf.concat
 * (a UNet's skip connections) against the cpu backend, on the last axis (strided heap copies,
 * uneven sizes, a part of one channel, sizes not multiples of 4) and other axes (through Slice), and
 * bit-identical results with the heap threads on and off.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { setHeapThreadsEnabled } from '../../../src/backends/wasm/heap-kernels.js';
import { useTestBackend } from '../../helpers/backends.js';
import { expectNoLeak } from '../../helpers/memory.js';
import { expectParity, randomArray, rng, runOn } from '../parity.js';

beforeAll(async () => {
  await useTestBackend('wasm');
});
afterEach(() => setHeapThreadsEnabled(true));

describe('wasm SplitV matches cpu', () => {
  it.each([
    [[2, 5, 3, 11], [4, 1, 6], -1],
    [[3, 7, 7, 24], [8, 16], 3],
    [[6, 13], [1, 5, 7], 1],
    [[4, 6, 5, 9], [2, 4], 1],
    [[10, 3, 8], [3, 7], 0],
  ] as [number[], number[], number][])('x %j split %j on axis %i, and the gradient of concat', async (shape, sizes, axis) => {
    const r = rng(shape.reduce((a, b) => a * b, 1));
    const x = randomArray(
      r,
      shape.reduce((a, b) => a * b, 1),
    );
    await expectParity(`split ${shape} ${sizes}`, () => tf.split(tf.tensor(x, shape), sizes, axis));
    // d/dparts Σ concat(parts) ⊙ w = the matching slices of w: SplitV of w.
    const parts = (() => {
      const out: Float32Array[] = [];
      const r2 = rng(3);
      for (const s of sizes) {
        const partShape = [...shape];
        partShape[axis < 0 ? shape.length + axis : axis] = s;
        out.push(
          randomArray(
            r2,
            partShape.reduce((a, b) => a * b, 1),
          ),
        );
      }
      return out;
    })();
    await expectParity(`concat gradient ${shape} ${sizes}`, () => {
      const rank = shape.length;
      const ax = axis < 0 ? rank + axis : axis;
      const ts = parts.map((p, k) => {
        const ps = [...shape];
        ps[ax] = sizes[k]!;
        return tf.tensor(p, ps);
      });
      const w = tf.sin(tf.reshape(tf.range(0, x.length), shape));
      return tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(tf.concat(xs, ax), w)))(ts);
    });
  });

  it('gives bit-identical results with the heap threads on and off, and leaks nothing', async () => {
    // [8, 28, 28, 48] split [16, 32]: 200k and 401k copied elements, split across threads.
    const x = randomArray(rng(9), 8 * 28 * 28 * 48);
    const f = () => tf.split(tf.tensor4d(x, [8, 28, 28, 48]), [16, 32], 3);
    setHeapThreadsEnabled(false);
    const single = await runOn('wasm', f);
    setHeapThreadsEnabled(true);
    const threaded = await runOn('wasm', f);
    // Independent expectation: element [n, h, w, c] of part 1 is x[n, h, w, 16 + c].
    expect(threaded[1]![5 * 32 + 7]).toBe(x[5 * 48 + 16 + 7]);
    threaded.forEach((v, i) => expect(Buffer.from(v.buffer).equals(Buffer.from(single[i]!.buffer)), `output ${i}`).toBe(true));
    const t = tf.tensor4d(x, [8, 28, 28, 48]);
    await expectNoLeak(() => tf.split(t, [16, 32], 3));
    t.dispose();
  });
});
