/**
 * The wasm causal-attention kernels (src/backends/wasm/causal-attention.ts) behind the attention
 * core of layers.causalSelfAttention, layers.transformerBlock and nets.gpt: the output, the
 * weights and d(qkv) against a float64 attention written out here (Vaswani et al. 2017, eq. 1,
 * with the causal mask; the gradient by the chain rule through the softmax), at T a multiple of
 * 8 and not (the partial row blocks and tiles), for D a multiple of 8 and not (the 4-column
 * tiles), and by the loops in JavaScript (no heap kernels, or D not a multiple of 4), with the
 * heap kernels on one thread and split across the pool
 * (bit-identical), exact causality, the layer's use of the kernels (and its parity with the cpu
 * backend's composed path), and no leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { CAUSAL_ATTENTION_GRAD_KERNEL, CAUSAL_ATTENTION_KERNEL } from '../../../src/backends/causal-attention-kernel.js';
import {
  heapKernels,
  heapKernelsReady,
  heapKernelThreads,
  setHeapKernelsEnabled,
  setHeapThreadsEnabled,
} from '../../../src/backends/wasm/heap-kernels.js';
import type { WasmBackend } from '../../../src/backends/wasm/types.js';
import { layers } from '../../../src/index.js';
import { useTestBackend } from '../../helpers/backends.js';
import { expectClose, expectNoLeak } from '../../helpers/memory.js';
import { expectParity, randomArray, rng } from '../parity.js';

const wasmBackend = () => tf.engine().findBackend('wasm') as unknown as WasmBackend;

beforeAll(async () => {
  await useTestBackend('wasm');
  await heapKernelsReady(wasmBackend());
});
afterEach(async () => {
  setHeapKernelsEnabled(true);
  setHeapThreadsEnabled(true);
  vi.restoreAllMocks();
  await tf.setBackend('wasm');
});

/**
 * Float64 causal attention of qkv `[B, T, 3·H·D]` and the gradient of Σ O ⊙ dy: per (b, h),
 * S = q kᵀ/√D over j ≤ i, P = softmax(S), O = P v; dP = dO vᵀ, dS = P ⊙ (dP − Σ_j P dP)/√D,
 * dq = dS k, dk = dSᵀ q, dv = Pᵀ dO.
 */
function reference(qkv: ArrayLike<number>, dy: ArrayLike<number>, b: number, t: number, h: number, d: number) {
  const c = h * d;
  const out = new Float64Array(b * t * c);
  const probs = new Float64Array(b * h * t * t);
  const dqkv = new Float64Array(b * t * 3 * c);
  const s = 1 / Math.sqrt(d);
  for (let n = 0; n < b; n++) {
    for (let head = 0; head < h; head++) {
      const at = (i: number, part: number, f: number) => (n * t + i) * 3 * c + part * c + head * d + f;
      const o = (i: number, f: number) => (n * t + i) * c + head * d + f;
      for (let i = 0; i < t; i++) {
        const scores = Array.from({ length: i + 1 }, (_, j) => {
          let dot = 0;
          for (let f = 0; f < d; f++) dot += qkv[at(i, 0, f)]! * qkv[at(j, 1, f)]!;
          return dot * s;
        });
        const max = Math.max(...scores);
        const e = scores.map((v) => Math.exp(v - max));
        const sum = e.reduce((a, v) => a + v, 0);
        const p = e.map((v) => v / sum);
        p.forEach((v, j) => (probs[((n * h + head) * t + i) * t + j] = v));
        for (let f = 0; f < d; f++) out[o(i, f)] = p.reduce((a, v, j) => a + v * qkv[at(j, 2, f)]!, 0);
        // dP(j) = dO_i · v_j; dS(j) = P(j)·(dP(j) − Σ_j' P(j')·dP(j'))·s
        const dp = p.map((_, j) => {
          let dot = 0;
          for (let f = 0; f < d; f++) dot += dy[o(i, f)]! * qkv[at(j, 2, f)]!;
          return dot;
        });
        const mean = p.reduce((a, v, j) => a + v * dp[j]!, 0);
        const ds = p.map((v, j) => v * (dp[j]! - mean) * s);
        for (let j = 0; j <= i; j++) {
          for (let f = 0; f < d; f++) {
            dqkv[at(i, 0, f)] += ds[j]! * qkv[at(j, 1, f)]!;
            dqkv[at(j, 1, f)] += ds[j]! * qkv[at(i, 0, f)]!;
            dqkv[at(j, 2, f)] += p[j]! * dy[o(i, f)]!;
          }
        }
      }
    }
  }
  return { out, probs, dqkv };
}

/** The kernels' outputs on wasm: O, P and d(qkv) for dy. */
function runKernels(qkv: Float32Array, dy: Float32Array, b: number, t: number, h: number, d: number) {
  return tf.tidy(() => {
    const x = tf.tensor3d(qkv, [b, t, 3 * h * d]);
    const [out, probs] = tf.engine().runKernel(CAUSAL_ATTENTION_KERNEL, { qkv: x }, { heads: h }) as tf.Tensor[];
    const inputs = { dy: tf.tensor3d(dy, [b, t, h * d]), qkv: x, out: out!, probs: probs! };
    const dqkv = tf.engine().runKernel(CAUSAL_ATTENTION_GRAD_KERNEL, inputs, { heads: h }) as tf.Tensor;
    return [out!, probs!, dqkv].map((v) => v.dataSync() as Float32Array);
  });
}

const SHAPES: [string, number, number, number, number][] = [
  // [label, B, T, H, D]
  ['GPT-like, T = 64, D = 32', 3, 64, 4, 32],
  ['T = 13 (partial row blocks and tiles), D = 8', 2, 13, 3, 8],
  ['T = 1', 2, 1, 2, 16],
  ['T = 6, D = 4 (4-column tiles only)', 2, 6, 2, 4],
  ['T = 9, D = 12 (8- and 4-column tiles)', 1, 9, 2, 12],
  ['T = 7, D = 6 (the loops in JavaScript)', 2, 7, 2, 6],
];

describe.each([
  ['heap kernels', true],
  ['without the heap kernels (loops in JavaScript)', false],
])('causal-attention kernels, %s, match a float64 attention', (_label, heap) => {
  it.each(SHAPES)('%s', (_shape, b, t, h, d) => {
    setHeapKernelsEnabled(heap);
    const r = rng(3 + t);
    const qkv = randomArray(r, b * t * 3 * h * d).map((v) => 2 * v);
    const dy = randomArray(r, b * t * h * d);
    const expected = reference(qkv, dy, b, t, h, d);
    const [out, probs, dqkv] = runKernels(qkv, dy, b, t, h, d);
    expectClose(out!, expected.out, 1e-5, 1e-6);
    // The weights after the diagonal are exactly 0.
    expectClose(probs!, expected.probs, 1e-5, 1e-7);
    expectClose(dqkv!, expected.dqkv, 1e-4, 1e-6);
    expect(expected.dqkv.some((v) => Math.abs(v) > 1e-2)).toBe(true);
  });
});

it('a change at position t0 leaves the output and d(qkv) of the rows before t0 unchanged, exactly', () => {
  const [b, t, h, d] = [2, 20, 2, 8];
  const r = rng(5);
  const qkv = randomArray(r, b * t * 3 * h * d);
  const dy = randomArray(r, b * t * h * d);
  const [out] = runKernels(qkv, dy, b, t, h, d);
  for (const t0 of [0, 7, 12, 19]) {
    const changed = qkv.slice();
    // Every feature (q, k and v of every head) of position t0 in each batch.
    for (let n = 0; n < b; n++) for (let f = 0; f < 3 * h * d; f++) changed[(n * t + t0) * 3 * h * d + f] += 0.5;
    const [outChanged] = runKernels(changed, dy, b, t, h, d);
    for (let n = 0; n < b; n++) {
      const before = (n * t + t0) * h * d;
      expect(Array.from(outChanged!.subarray(n * t * h * d, before))).toEqual(Array.from(out!.subarray(n * t * h * d, before)));
      // ... and the changed row itself changes (the test can fail).
      expect(outChanged![before]).not.toBe(out![before]);
    }
  }
});

it('results are bit-identical on one thread and split across the pool', () => {
  expect(heapKernelThreads(wasmBackend())).toBeGreaterThan(1);
  const [b, t, h, d] = [6, 64, 4, 32];
  const r = rng(7);
  const qkv = randomArray(r, b * t * 3 * h * d);
  const dy = randomArray(r, b * t * h * d);
  const kernels = heapKernels(wasmBackend())!;
  const forward = vi.spyOn(kernels, 'causalAttention');
  const split = runKernels(qkv, dy, b, t, h, d);
  expect(forward).toHaveBeenCalled();
  setHeapThreadsEnabled(false);
  const single = runKernels(qkv, dy, b, t, h, d);
  for (let k = 0; k < 3; k++) expect(Array.from(split[k]!)).toEqual(Array.from(single[k]!));
});

describe('layers.causalSelfAttention on wasm', () => {
  const [b, t, c, heads] = [3, 12, 32, 2]; // D = 16: the kernels
  const r = rng(13);
  const x = randomArray(r, b * t * c);
  const dy = randomArray(r, b * t * c);
  const qkvKernel = randomArray(r, c * 3 * c).map((v) => 0.3 * v);
  const projectionKernel = randomArray(r, c * c).map((v) => 0.3 * v);
  const run = () => {
    const X = tf.tensor3d(x, [b, t, c]);
    const DY = tf.tensor3d(dy, [b, t, c]);
    const w1 = tf.tensor2d(qkvKernel, [c, 3 * c]);
    const w2 = tf.tensor2d(projectionKernel, [c, c]);
    const f = (xx: tf.Tensor, k1: tf.Tensor, k2: tf.Tensor) =>
      tf.sum(tf.mul(layers.causalSelfAttention(xx, { qkvKernel: k1 as tf.Tensor2D, projectionKernel: k2 as tf.Tensor2D }, { heads }), DY));
    return [...tf.grads(f)([X, w1, w2]), f(X, w1, w2)];
  };

  it('runs the kernels, one call each way', () => {
    const kernels = heapKernels(wasmBackend())!;
    const forward = vi.spyOn(kernels, 'causalAttention');
    const backward = vi.spyOn(kernels, 'causalAttentionGrad');
    tf.dispose(tf.tidy(run));
    expect(forward).toHaveBeenCalledTimes(2); // the gradient's forward pass and f itself
    expect(backward).toHaveBeenCalledTimes(1);
  });

  it("matches the cpu backend's composed path (output and gradients, 1e-5 relative)", async () => {
    await expectParity('attention', run, 1e-5);
  });

  it('leaks no tensors over repeated calls and gradients', async () => {
    await expectNoLeak(() => tf.tidy(run));
  });
});
