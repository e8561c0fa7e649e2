/**
 * The multi-variable fused Adam on the threaded wasm build (`backends.use('wasm', { threads: 2 })`):
 * `HeapKernels.adamMany` shares every variable's update out in one pool job (or one per 64
 * ranges), and the results equal the same kernels on one thread bit for bit. This file runs in
 * its own process (vitest forks per file).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { heapKernelsReady, setHeapThreadsEnabled } from '../../../src/backends/wasm/heap-kernels.js';
import { HeapPool, MAX_CHUNKS } from '../../../src/backends/wasm/heap-pool.js';
import type { WasmBackend } from '../../../src/backends/wasm/types.js';
import { backends, train } from '../../../src/index.js';
import { randomArray, rng } from '../parity.js';

beforeAll(async () => {
  expect((await backends.use('wasm', { threads: 2 })).threads).toBe(2);
  expect(await heapKernelsReady(tf.backend() as unknown as WasmBackend)).toBe(2);
});
afterEach(() => {
  setHeapThreadsEnabled(true);
  vi.restoreAllMocks();
});

let runs = 0;

/**
 * Three AdamW steps (λ 0.5: the rank-2 variables decay) with every gradient times 0.3, on
 * L = Σ_i Σ sin((v_i − t_i) ⊙ v_i) over variables of `shapes`; the values after them, and the
 * pool jobs each step ran (`HeapPool.run` calls, by operation).
 */
function steps(shapes: number[][]): { values: Buffer[]; jobs: string[] } {
  const r = rng(960 + shapes.length);
  const id = runs++;
  const vs = shapes.map((s, i) =>
    tf.variable(
      tf.tensor(
        randomArray(
          r,
          s.reduce((a, b) => a * b, 1),
        ),
        s,
      ),
      true,
      `adam_threads_${id}_${i}/w`,
    ),
  );
  const ts = shapes.map((s) =>
    tf.tensor(
      randomArray(
        r,
        s.reduce((a, b) => a * b, 1),
      ),
      s,
    ),
  );
  const scale = tf.scalar(0.3);
  const optimizer = train.adamW({ learningRate: 0.01, weightDecay: 0.5, epsilon: 1e-3 });
  const spy = vi.spyOn(HeapPool.prototype, 'run');
  for (let k = 0; k < 3; k++) {
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.addN(vs.map((v, i) => tf.sum(tf.sin(tf.mul(tf.sub(v, ts[i]!), v))))) as tf.Scalar, vs);
      spy.mockClear();
      optimizer.applyGradients(grads, scale);
    });
  }
  const jobs = spy.mock.calls.map((call) => call[0] as string);
  spy.mockRestore();
  const values = vs.map((v) => Buffer.from((v.dataSync() as Float32Array).slice().buffer));
  tf.dispose([...vs, ...ts, scale]);
  optimizer.dispose();
  return { values, jobs };
}

describe('train.adamW on the threaded heap: one pool job for all the variables', () => {
  it("a GPT block's variables (sizes 128 to 65 536) in one job, bit for bit one thread", () => {
    // One block of nets.gpt (width 128): norms and biases, and the four matrices.
    const shapes = [[128], [128], [128, 384], [384], [128, 128], [128], [128], [128], [128, 512], [512], [512, 128], [128]];
    setHeapThreadsEnabled(false);
    const single = steps(shapes);
    setHeapThreadsEnabled(true);
    const threaded = steps(shapes);
    expect(single.jobs).toEqual([]);
    // The last step's update: one job (a job per variable would be 4 or more: every matrix is over 2·8192).
    expect(threaded.jobs).toEqual(['adam']);
    threaded.values.forEach((v, i) => expect(v.equals(single.values[i]!), `variable ${i}`).toBe(true));
  });

  it(`more ranges than the pool's table (${MAX_CHUNKS}) run as several jobs, bit for bit one thread`, () => {
    // 70 variables of 2 051 values (n mod 4 = 3): 143 570 in all, shared out as 70 whole ranges.
    const shapes = Array.from({ length: 70 }, () => [7, 293]);
    setHeapThreadsEnabled(false);
    const single = steps(shapes);
    setHeapThreadsEnabled(true);
    const threaded = steps(shapes);
    expect(threaded.jobs).toEqual(['adam', 'adam']);
    threaded.values.forEach((v, i) => expect(v.equals(single.values[i]!), `variable ${i}`).toBe(true));
  });
});
