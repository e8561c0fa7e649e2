/**
 * Batched products whose sizes do not fit the heap gemm's 4x8 tiles (a UNet's attention at 7×7:
 * 49 positions) on the heap gemm with overlapping edge strips: parity with cpu, forward and
 * backward, for every transpose combination; bit-identical results with the heap threads on and
 * off; and the heap path really taken.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { heapKernelsReady, setHeapThreadsEnabled } from '../../../src/backends/wasm/heap-kernels.js';
import { HeapPool } from '../../../src/backends/wasm/heap-pool.js';
import type { WasmBackend } from '../../../src/backends/wasm/types.js';
import { useTestBackend } from '../../helpers/backends.js';
import { expectParity, randomArray, rng, runOn } from '../parity.js';

beforeAll(async () => {
  await useTestBackend('wasm');
});

const COMBOS = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
] as const;

/** `[batch, M, K, N]`: attention at 7×7 (q·kᵀ, att·v), odd rows and columns, the 4x8 minimum with tails. */
const SHAPES: [number, number, number, number][] = [
  [3, 49, 64, 49],
  [2, 49, 49, 64],
  [2, 5, 3, 9],
  [3, 7, 11, 8],
  [2, 4, 6, 13],
  [2, 13, 1, 23],
];

/** `matMul(A, B, ta, tb)` and both gradients of `Σ matMul(A, B)·sin(i)` over batched `[batch, ·, ·]` operands. */
function productAndGradients(a: Float32Array, b: Float32Array, [batch, M, K, N]: number[], ta: boolean, tb: boolean) {
  return () => {
    const A = tf.tensor(a, [batch!, ...(ta ? [K!, M!] : [M!, K!])]);
    const B = tf.tensor(b, [batch!, ...(tb ? [N!, K!] : [K!, N!])]);
    const weights = tf.sin(tf.reshape(tf.range(0, batch! * M! * N!), [batch!, M!, N!]));
    const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, ta, tb), weights));
    return [tf.matMul(A, B, ta, tb), ...tf.grads(f)([A, B])];
  };
}

describe('batched products with edge tiles on the heap gemm', () => {
  afterEach(() => setHeapThreadsEnabled(true));

  it.each(COMBOS)('match cpu to 1e-4 forward and backward, transposeA=%s transposeB=%s', async (ta, tb) => {
    const r = rng(70 + (ta ? 2 : 0) + (tb ? 1 : 0));
    for (const shape of SHAPES) {
      const [batch, M, K, N] = shape;
      const a = randomArray(r, batch * M * K);
      const b = randomArray(r, batch * K * N);
      await expectParity(`[${shape}] tA=${ta} tB=${tb}`, productAndGradients(a, b, shape, ta, tb));
    }
  });

  it('a rank-4 batch ([2, 3] entries) of 49x49·49x64 matches cpu', async () => {
    const r = rng(77);
    const a = randomArray(r, 6 * 49 * 49);
    const b = randomArray(r, 6 * 49 * 64);
    await expectParity('[2, 3, 49, 49]·[2, 3, 49, 64]', () => tf.matMul(tf.tensor(a, [2, 3, 49, 49]), tf.tensor(b, [2, 3, 49, 64])));
  });

  it.each(COMBOS)('runs on the heap gemm, bit-identical with the heap threads on and off, transposeA=%s transposeB=%s', async (ta, tb) => {
    // 64 entries of 49x64·64x49 (q·kᵀ at 7×7, batch 64): 9.8M multiply-adds, shared out by entries.
    const r = rng(80 + (ta ? 2 : 0) + (tb ? 1 : 0));
    const a = randomArray(r, 64 * 49 * 64);
    const b = randomArray(r, 64 * 64 * 49);
    const f = () => {
      const A = tf.tensor(a, [64, ...(ta ? [64, 49] : [49, 64])]);
      const B = tf.tensor(b, [64, ...(tb ? [49, 64] : [64, 49])]);
      return tf.matMul(A, B, ta, tb);
    };
    const threads = await heapKernelsReady(tf.engine().findBackend('wasm') as unknown as WasmBackend);
    setHeapThreadsEnabled(false);
    const single = await runOn('wasm', f);
    setHeapThreadsEnabled(true);
    const spy = vi.spyOn(HeapPool.prototype, 'run');
    const threaded = await runOn('wasm', f);
    const ops = spy.mock.calls.map((call) => call[0]);
    spy.mockRestore();
    // The stock path (XNNPACK per entry) never reaches the heap pool.
    if (threads > 1) expect(ops).toContain('gemmBatch');
    const bits = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    expect(bits(threaded[0]!).equals(bits(single[0]!))).toBe(true);
    // And against cpu.
    const expected = await runOn('cpu', f);
    let err = 0;
    let scale = 0;
    expected[0]!.forEach((v, i) => {
      err = Math.max(err, Math.abs(v - single[0]![i]!));
      scale = Math.max(scale, Math.abs(v));
    });
    expect(err / scale).toBeLessThan(1e-5);
  });

  it('frees its intermediates', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const A = tf.randomNormal([4, 49, 64]);
    const B = tf.randomNormal([4, 49, 64]);
    const step = () => tf.tidy(() => tf.matMul(A, B, false, true));
    tf.dispose(step());
    const tensors = tf.memory().numTensors;
    const ids = backend.numDataIds();
    for (let i = 0; i < 3; i++) tf.dispose(step());
    expect(tf.memory().numTensors).toBe(tensors);
    expect(backend.numDataIds()).toBe(ids);
    tf.dispose([A, B]);
  });
});
