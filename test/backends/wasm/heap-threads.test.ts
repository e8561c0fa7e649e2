/**
 * genblocks' heap kernels on the threaded wasm build (`backends.use('wasm', { threads: 2 })`),
 * where large calls are split across a worker pool (`heap-pool.ts`): parity with the cpu
 * backend (forward and backward, odd shapes), results bit-identical to the same kernels on one
 * thread (no split touches a summation order), calls that really were split, errors in a worker
 * that surface as a BackendError instead of hanging, and a pool that stops with its backend and
 * lets a script end. This file runs in its own process (vitest forks per file).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { HEAP_KERNELS_WASM_BASE64 } from '../../../src/backends/wasm/heap-kernels-binary.js';
import {
  heapKernels,
  heapKernelsReady,
  heapKernelThreads,
  setHeapPoolSpin,
  setHeapThreadsEnabled,
  type HeapKernels,
  withSharedMemory,
} from '../../../src/backends/wasm/heap-kernels.js';
import { HeapPool, type PoolOp } from '../../../src/backends/wasm/heap-pool.js';
import type { WasmBackend } from '../../../src/backends/wasm/types.js';
import { FUSED_ADAM_KERNEL } from '../../../src/backends/fused-adam-kernel.js';
import { isKnownFinite } from '../../../src/backends/variable-values.js';
import { BackendError } from '../../../src/errors.js';
import { layerNorm } from '../../../src/layers/ops.js';
import { backends, train } from '../../../src/index.js';
import { expectParity, randomArray, rng, runOn } from '../parity.js';

const wasmBackend = () => tf.engine().findBackend('wasm') as unknown as WasmBackend;

beforeAll(async () => {
  expect((await backends.use('wasm', { threads: 2 })).threads).toBe(2);
  expect(await heapKernelsReady(wasmBackend())).toBe(2);
});

afterEach(() => {
  setHeapThreadsEnabled(true);
  vi.restoreAllMocks();
});

/** The operations the pool ran (split calls) while `f` ran on wasm. */
async function splitOps(f: () => tf.Tensor | tf.Tensor[]): Promise<{ values: Float32Array[]; ops: PoolOp[] }> {
  const spy = vi.spyOn(HeapPool.prototype, 'run');
  const values = await runOn('wasm', f);
  const ops = spy.mock.calls.map((call) => call[0]);
  spy.mockRestore();
  return { values, ops };
}

/**
 * `f` on cpu and on wasm with threads agree to 1e-4 relative; on wasm, the threaded run used the
 * pool for each of `expectedOps` and equals the one-thread run bit for bit.
 */
async function check(label: string, f: () => tf.Tensor | tf.Tensor[], expectedOps: PoolOp[], tol = 1e-4): Promise<void> {
  await expectParity(label, f, tol);
  setHeapThreadsEnabled(false);
  const single = await splitOps(f);
  setHeapThreadsEnabled(true);
  const threaded = await splitOps(f);
  expect(single.ops, `${label}: one thread splits nothing`).toEqual([]);
  for (const op of expectedOps) expect(threaded.ops, `${label}: ${op} split across threads`).toContain(op);
  expect(threaded.values.length).toBe(single.values.length);
  threaded.values.forEach((v, i) => {
    // Bit-identical: compare the float32 bit patterns (NaN-safe, and -0 differs from 0).
    expect(
      Buffer.from(v.buffer, v.byteOffset, v.byteLength).equals(
        Buffer.from(single.values[i]!.buffer, single.values[i]!.byteOffset, single.values[i]!.byteLength),
      ),
      `${label}: output ${i} identical to one thread`,
    ).toBe(true);
  });
}

const COMBOS = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
] as const;

describe('heap kernels with threads: 2', () => {
  it('the pool runs: a heap-kernel call may use 2 threads, and 1 with threads turned off', () => {
    expect(heapKernelThreads(wasmBackend())).toBe(2);
    setHeapThreadsEnabled(false);
    expect(heapKernelThreads(wasmBackend())).toBe(1);
  });

  // [M, K, N]: 136·168·203 = 4.6M and 512·24·353 = 4.3M multiply-adds, at least 2^21 for each
  // of two threads. M and N are multiples of 8, so both the direct form and the transposed-B form
  // (Cᵀ = B·Aᵀ) take the gemm; 21 column tiles are split by columns, 3 (N = 24) by rows, and the
  // transposed-B form of the second (512 columns) by columns again. K is odd.
  const SHAPES = [
    [136, 203, 168],
    [512, 353, 24],
  ] as const;
  describe.each(SHAPES)('matMul %ix%i·(%i columns)', (M, K, N) => {
    it.each(COMBOS)('transposeA=%s transposeB=%s, forward and backward', async (ta, tb) => {
      const r = rng(700 + M + (ta ? 2 : 0) + (tb ? 1 : 0));
      const a = randomArray(r, M * K);
      const b = randomArray(r, K * N);
      const w = randomArray(r, M * N);
      await check(
        `matMul ${M}x${K}x${N} tA=${ta} tB=${tb}`,
        () => {
          const A = tf.tensor2d(a, ta ? [K, M] : [M, K]);
          const B = tf.tensor2d(b, tb ? [N, K] : [K, N]);
          const f = (x: tf.Tensor, y: tf.Tensor) =>
            tf.sum(tf.mul(tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D, ta, tb), tf.tensor2d(w, [M, N])));
          const [dA, dB] = tf.grads(f)([A, B]);
          return [tf.matMul(A, B, ta, tb), dA!, dB!];
        },
        ['gemmBatch'],
      );
    });
  });

  // 522·509 = 265 698 elements of A (over two threads' 2^17 each): A is packed by row blocks on
  // both threads (packA), then the product split; a transposed A or B is read where it lies.
  it.each(COMBOS)('a product whose A is packed across threads (522x509·509x40), transposeA=%s transposeB=%s', async (ta, tb) => {
    const [M, K, N] = [522, 509, 40];
    const r = rng(740 + (ta ? 2 : 0) + (tb ? 1 : 0));
    const a = randomArray(r, M * K);
    const b = randomArray(r, K * N);
    await check(
      `packed A ${M}x${K}x${N} tA=${ta} tB=${tb}`,
      () => tf.matMul(tf.tensor2d(a, ta ? [K, M] : [M, K]), tf.tensor2d(b, tb ? [N, K] : [K, N]), ta, tb),
      ['packA', 'gemmBatch'],
    );
  });

  it('a product off the 4x8 tiles (262x160·160x98, a GPT head) runs padded and split, forward and backward', async () => {
    // Padded to 264 x 104: 264·104·160 = 4.4M multiply-adds, two shares of 2^21.
    const [M, K, N] = [262, 160, 98];
    const r = rng(705);
    const a = randomArray(r, M * K);
    const b = randomArray(r, K * N);
    await check(
      'padded head',
      () => {
        const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D)));
        const [A, B] = [tf.tensor2d(a, [M, K]), tf.tensor2d(b, [K, N])];
        return [tf.matMul(A, B), ...tf.grads(f)([A, B])];
      },
      ['gemmBatch'],
    );
  });

  it('fused matMul with bias and relu split by columns (12x201·201x2048)', async () => {
    // 3 row tiles against 256 column tiles: the columns are split, and the bias with them.
    const [M, K, N] = [12, 201, 2048];
    const r = rng(710);
    const a = randomArray(r, M * K);
    const b = randomArray(r, K * N);
    const bias = randomArray(r, N);
    await check(
      'fused matMul columns',
      () => tf.fused.matMul({ a: tf.tensor2d(a, [M, K]), b: tf.tensor2d(b, [K, N]), bias: tf.tensor1d(bias), activation: 'relu' }),
      ['gemmBatch'],
    );
  });

  it.each(COMBOS)(
    'batched matMul split by batch entries (16 x 64x53·53x80), transposeA=%s transposeB=%s, forward and backward',
    async (ta, tb) => {
      const [batch, M, K, N] = [16, 64, 53, 80];
      const r = rng(720 + (ta ? 2 : 0) + (tb ? 1 : 0));
      const a = randomArray(r, batch * M * K);
      const b = randomArray(r, batch * K * N);
      await check(
        `batched matMul tA=${ta} tB=${tb}`,
        () => {
          const A = tf.tensor3d(a, ta ? [batch, K, M] : [batch, M, K]);
          const B = tf.tensor3d(b, tb ? [batch, N, K] : [batch, K, N]);
          const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x as tf.Tensor3D, y as tf.Tensor3D, ta, tb)));
          const [dA, dB] = tf.grads(f)([A, B]);
          return [tf.matMul(A, B, ta, tb), dA!, dB!];
        },
        ['gemmBatch'],
      );
    },
  );

  it("a discriminator's 1-channel first conv: input and filter gradients (im2col and col2im products) split", async () => {
    // dW: [64, 32·14·14]·[32·14·14, 16] (6.4M multiply-adds); dx: [32·14·14, 64]·[64, 16].
    const r = rng(730);
    const x = randomArray(r, 32 * 28 * 28);
    const w = randomArray(r, 4 * 4 * 64);
    await check(
      'conv grads',
      () => {
        const f = (xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.square(tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 2, 'same')));
        return tf.grads(f)([tf.tensor4d(x, [32, 28, 28, 1]), tf.tensor4d(w, [4, 4, 1, 64])]);
      },
      ['gemmBatch'],
    );
  });

  // 100 003 elements (two shares of at least 2^15, an odd tail): every element-wise heap kernel.
  const n = 100_003;
  const r = rng(740);
  const xs = randomArray(r, n);
  const ys = randomArray(r, n);
  xs[5] = 0;

  it.each([
    ['sqrt', (x: tf.Tensor) => tf.sqrt(tf.abs(x)), 'sqrt'],
    ['tanh', (x: tf.Tensor) => tf.tanh(tf.mul(x, 4)), 'tanh'],
    ['erf', (x: tf.Tensor) => tf.erf(tf.mul(x, 3)), 'erf'],
    ['leakyRelu', (x: tf.Tensor) => tf.leakyRelu(x, 0.2), 'leakyRelu'],
  ] as const)('%s splits by ranges', async (label, f, op) => {
    await check(label, () => f(tf.tensor1d(xs)), [op]);
  });

  it('the leakyRelu gradient (Greater, Select) splits by ranges', async () => {
    await check('leakyRelu grad', () => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.leakyRelu(x, 0.2), tf.tensor1d(ys))))(tf.tensor1d(xs)), [
      'greater',
      'select',
    ]);
  });

  it('Maximum splits by columns (same shapes), by rows (a column against rows), and Tile by rows', async () => {
    await check('maximum same shapes', () => tf.maximum(tf.tensor1d(xs), tf.tensor1d(ys)), ['binary']);
    const [rows, cols] = [300, 333]; // 99 900 elements
    await check(
      'maximum column',
      () => tf.maximum(tf.tensor2d(xs.subarray(0, rows * cols), [rows, cols]), tf.tensor2d(ys.subarray(0, rows), [rows, 1])),
      ['binary'],
    );
    await check('tile', () => tf.tile(tf.tensor2d(xs.subarray(0, cols), [1, cols]), [rows, 1]), ['binary']);
  });

  // Transposes are copies: split by matrices of a batch, by blocks of 4 rows of one matrix (odd
  // R and C: the last block and the last columns take the element-wise edges), or along the
  // outermost axis of copyRuns; each at least two shares of 2^15 elements.
  it.each([
    ['one matrix by row blocks', [331, 203], [1, 0], 'transposeStrided'],
    ['a batch of two by row blocks of each', [2, 331, 203], [0, 2, 1], 'transposeStrided'],
    ['a batch by matrices (attention kᵀ)', [48, 64, 31], [0, 2, 1], 'transpose'],
    ['a head split (copyRuns, by its 3 outer indices and then the next axis)', [12, 64, 3, 4, 32], [2, 0, 3, 1, 4], 'copyRuns'],
    ['a head merge (copyRuns, by its 12 outer indices and then the next axis)', [12, 4, 64, 33], [0, 2, 1, 3], 'copyRuns'],
    ['copyRuns with 48 outer indices (split along them alone)', [48, 64, 3, 32], [0, 2, 1, 3], 'copyRuns'],
  ] as const)('Transpose splits: %s %j perm %j', async (label, shape, perm, op) => {
    const size = shape.reduce((p, d) => p * d, 1);
    const x = randomArray(rng(745 + (size % 97)), size);
    await check(`transpose ${label}`, () => tf.transpose(tf.tensor(x, [...shape]), [...perm]), [op]);
  });

  it("a GPT block's layer norm (768 x 128) splits its forward pass by rows, forward and backward", async () => {
    // 98 304 elements: three shares of 2^15. The gradient runs whole (it sums dγ, dβ over rows).
    const [rows, C] = [768, 128];
    const r = rng(748);
    const x = randomArray(r, rows * C);
    const gamma = randomArray(r, C);
    const beta = randomArray(r, C);
    const dy = randomArray(r, rows * C);
    await check(
      'layer norm',
      () => {
        const [X, G, B] = [tf.tensor2d(x, [rows, C]), tf.tensor1d(gamma), tf.tensor1d(beta)];
        const f = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
          tf.sum(tf.mul(layerNorm(xx, gg as tf.Tensor1D, bb as tf.Tensor1D, 1e-5), tf.tensor2d(dy, [rows, C])));
        return [layerNorm(X, G, B, 1e-5), ...tf.grads(f)([X, G, B])];
      },
      ['layerNorm'],
    );
  });

  it('train.fusedAdam with threads equals tf.train.adam bit for bit (its kernel split by ranges)', async () => {
    await tf.setBackend('wasm');
    const size = [317, 331]; // 104 927 parameters
    const init = randomArray(rng(750), 317 * 331);
    const target = randomArray(rng(751), 317 * 331);
    const run = (optimizer: tf.Optimizer): Float32Array => {
      const v = tf.variable(tf.tensor2d(init, size as [number, number]));
      const t = tf.tensor2d(target, size as [number, number]);
      for (let k = 0; k < 5; k++) optimizer.minimize(() => tf.sum(tf.sin(tf.mul(tf.sub(v, t), v))), false, [v]);
      const out = v.dataSync() as Float32Array;
      tf.dispose([v, t]);
      optimizer.dispose();
      return out;
    };
    const spy = vi.spyOn(HeapPool.prototype, 'run');
    const fused = run(train.fusedAdam({ learningRate: 0.01, beta1: 0.5, beta2: 0.9 }));
    expect(spy.mock.calls.filter((c) => (c[0] as string) === 'adam').length).toBe(5);
    const stock = run(tf.train.adam(0.01, 0.5, 0.9));
    expect(Array.from(fused)).toEqual(Array.from(stock));
    expect(fused.some((v, i) => v !== init[i])).toBe(true);
  });

  it('train.adamW with a gradient scale (0.3) and decay (1 − 0.01·0.5) split by ranges equals one thread and the stock operations, bit for bit', async () => {
    await tf.setBackend('wasm');
    // 104 927 parameters ≥ 2·8192 (ADAM_MIN_PER_THREAD): the kernel splits across both threads.
    const size = [317, 331] as [number, number];
    const init = randomArray(rng(752), 317 * 331);
    const target = randomArray(rng(753), 317 * 331);
    const [lr, wd, epsilon] = [0.01, 0.5, 1e-3];
    // Three steps of AdamW on L = Σ sin((v − t) ⊙ v) with every gradient times s = 0.3:
    // `applyGradients(grads, s)`, or (stock) v ← v·(1 − α·λ), then tf.train.adam on g·s.
    let runs = 0;
    const run = (fused: boolean): Float32Array => {
      const v = tf.variable(tf.tensor2d(init, size), true, `threads_adamw_${runs++}/kernel`);
      const t = tf.tensor2d(target, size);
      const s = tf.scalar(0.3);
      const adamW = train.adamW({ learningRate: lr, weightDecay: wd, epsilon });
      const stock = tf.train.adam(lr, 0.9, 0.999, epsilon);
      for (let k = 0; k < 3; k++) {
        tf.tidy(() => {
          const { grads } = tf.variableGrads(() => tf.sum(tf.sin(tf.mul(tf.sub(v, t), v))), [v]);
          if (fused) {
            adamW.applyGradients(grads, s);
          } else {
            v.assign(tf.mul(v, 1 - lr * wd));
            stock.applyGradients({ [v.name]: tf.mul(grads[v.name]!, s) });
          }
        });
      }
      const out = v.dataSync() as Float32Array;
      tf.dispose([v, t, s]);
      adamW.dispose();
      stock.dispose();
      return out;
    };
    const bits = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
    setHeapThreadsEnabled(false);
    const single = run(true);
    setHeapThreadsEnabled(true);
    const spy = vi.spyOn(HeapPool.prototype, 'run');
    const threaded = run(true);
    expect(spy.mock.calls.filter((c) => (c[0] as string) === 'adam').length).toBe(3);
    spy.mockRestore();
    expect(bits(threaded).equals(bits(single))).toBe(true);
    expect(bits(threaded).equals(bits(run(false)))).toBe(true);
    expect(threaded.some((x, i) => x !== init[i])).toBe(true);
  });

  it('a split Adam marks its outputs finite only when every chunk wrote finite values', async () => {
    await tf.setBackend('wasm');
    // One step from w = 1, m = v = 0 (c1 = 1 − 0.9, c2 = 1 − 0.999) over 100 003 parameters: a
    // gradient of 1e20 at one index overflows g² (v' = +Infinity) in the chunk holding it only.
    const n = 100_003;
    const step = (at: number | null): tf.Tensor[] => {
      const g = new Float32Array(n).fill(0.5);
      if (at !== null) g[at] = 1e20;
      const inputs = {
        value: tf.fill([n], 1),
        firstMoment: tf.zeros([n]),
        secondMoment: tf.zeros([n]),
        gradient: tf.tensor1d(g),
        oneMinusAccBeta1: tf.scalar(1 - 0.9),
        oneMinusAccBeta2: tf.scalar(1 - 0.999),
      };
      const outs = tf.engine().runKernel(FUSED_ADAM_KERNEL, inputs, { beta1: 0.9, beta2: 0.999, epsilon: 1e-7, learningRate: 1e-3 });
      tf.dispose(Object.values(inputs));
      return outs as tf.Tensor[];
    };
    const spy = vi.spyOn(HeapPool.prototype, 'run');
    const finite = step(null);
    expect(spy.mock.calls.map((c) => c[0])).toEqual(['adam']);
    expect(finite.map(isKnownFinite)).toEqual([true, true, true]);
    tf.dispose(finite);
    // The bad element in the first chunk, the last, and one in between.
    for (const at of [3, 50_001, n - 1]) {
      const outs = step(at);
      expect(outs[2]!.dataSync()[at]).toBe(Number.POSITIVE_INFINITY);
      expect(outs.map(isKnownFinite), `1e20 at ${at}`).toEqual([false, false, false]);
      tf.dispose(outs);
    }
  });

  it('setHeapPoolSpin changes the running pool (defaults: workers 0 ms, calling thread up to 0.5 ms) and returns the previous settings', async () => {
    expect(setHeapPoolSpin({ workerMs: 0.2, callerMs: 0 })).toEqual({ workerMs: 0, callerMs: 0.5 });
    // Split calls still give the one-thread results with the workers spinning and the caller not.
    await check('sqrt with spin settings', () => tf.sqrt(tf.abs(tf.tensor1d(xs))), ['sqrt']);
    expect(setHeapPoolSpin({ workerMs: 0, callerMs: 0.5 })).toEqual({ workerMs: 0.2, callerMs: 0 });
  });

  it('small calls are not split', async () => {
    const spy = vi.spyOn(HeapPool.prototype, 'run');
    // 64·64·64 = 262 144 multiply-adds and 1 000 elements: below one share each.
    await runOn('wasm', () => [tf.matMul(tf.ones([64, 64]), tf.ones([64, 64]), false, true), tf.sqrt(tf.ones([1000]))]);
    expect(spy).not.toHaveBeenCalled();
  });
});

describe('HeapPool errors', () => {
  // The heap kernels on a 1-page (64 KiB) shared memory of their own, with one worker.
  const module = new WebAssembly.Module(withSharedMemory(Buffer.from(HEAP_KERNELS_WASM_BASE64, 'base64')));
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true });
  const local = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as HeapKernels;

  it('a worker runs the chunks in place (the calling thread claiming none)', async () => {
    const pool = await HeapPool.start(module, memory, 2, { callerClaims: false });
    const f = new Float32Array(memory.buffer, 0, 64);
    f.set(Array.from({ length: 64 }, (_, i) => i * i));
    // Four chunks of 16 elements (64 bytes apart), all run by the worker.
    pool.run(
      'sqrt',
      () => expect.unreachable('the calling thread claims no chunk'),
      [0, 1, 2, 3].map((c) => [64 * c, 64 * c, 16]),
    );
    expect(Array.from(f)).toEqual(Array.from({ length: 64 }, (_, i) => i)); // √(i²) = i exactly
    pool.terminate();
    expect(pool.threads).toBe(1);
  });

  it.each([0, 50])('back-to-back jobs reach a worker that spins between them (spinMs %i) or sleeps', async (spinMs) => {
    const pool = await HeapPool.start(module, memory, 2, { callerClaims: false, spinMs });
    const f = new Float32Array(memory.buffer, 0, 64);
    // 200 jobs, each the square root of 64 values in place, all run by the worker.
    f.set(Array.from({ length: 64 }, (_, i) => i % 3));
    for (let t = 0; t < 200; t++) {
      pool.run(
        'sqrt',
        () => expect.unreachable('the calling thread claims no chunk'),
        [0, 1].map((c) => [128 * c, 128 * c, 32]),
      );
    }
    // √0 = 0 and √1 = 1 stay; 2 rooted k times is 2^(2^−k), which rounds to 1 in float32 from
    // k = 24 on (1 + 4.1e-8 is within half an ulp of 1): every job ran, in order, on the worker.
    expect(Array.from(f)).toEqual(Array.from({ length: 64 }, (_, i) => (i % 3 === 0 ? 0 : 1)));
    pool.terminate();
  });

  it('the calling thread and a worker share the chunks', async () => {
    const pool = await HeapPool.start(module, memory, 2);
    const f = new Float32Array(memory.buffer, 0, 4096);
    f.set(Array.from({ length: 4096 }, (_, i) => i * i));
    pool.run(
      'sqrt',
      local.sqrt,
      Array.from({ length: 64 }, (_, c) => [256 * c, 256 * c, 64]),
    );
    expect(Array.from(f)).toEqual(Array.from({ length: 4096 }, (_, i) => i));
    pool.terminate();
  });

  it('a chunk of more arguments than a table row holds (19), or chunks of different lengths, throw a BackendError before anything runs', async () => {
    const pool = await HeapPool.start(module, memory, 2);
    const f = new Float32Array(memory.buffer, 0, 8);
    const squares = [0, 1, 4, 9, 16, 25, 36, 49];
    f.set(squares);
    // sqrt(x, out, n) in place over 4 values, padded with zeros to `length` arguments (a wasm
    // function ignores arguments past its own).
    const chunk = (byte: number, length: number) => [byte, byte, 4, ...new Array<number>(length - 3).fill(0)];
    let error: unknown = null;
    try {
      pool.run('sqrt', local.sqrt, [chunk(0, 20), chunk(16, 20)]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BackendError);
    expect((error as Error).message).toBe(
      'heapKernels: a pool call of sqrt takes at most 19 arguments per chunk, the same in every chunk, received chunks of 20',
    );
    expect(() => pool.run('sqrt', local.sqrt, [chunk(0, 3), chunk(16, 4)])).toThrow(/received chunks of 3 and 4$/);
    expect(Array.from(f)).toEqual(squares); // nothing ran
    // 19 arguments, the most a row holds (gemmBatch's count), still run.
    pool.run('sqrt', local.sqrt, [chunk(0, 19), chunk(16, 19)]);
    expect(Array.from(f)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    pool.terminate();
  });

  it("a trap in a worker's chunk throws a BackendError with the trap's message", async () => {
    const pool = await HeapPool.start(module, memory, 2, { callerClaims: false });
    // The second chunk runs past the end of the 64 KiB memory.
    expect(() =>
      pool.run('sqrt', local.sqrt, [
        [0, 0, 16],
        [65_536 - 16, 65_536 - 16, 64],
      ]),
    ).toThrow(/heapKernels: worker thread 1 failed running sqrt: memory access out of bounds/);
    // The pool still runs afterwards.
    expect(pool.threads).toBe(2);
    pool.terminate();
  });

  it('a worker that does not finish in time makes the call throw, and the pool shuts down', async () => {
    const pool = await HeapPool.start(module, memory, 2, { timeoutMs: 200, callerClaims: false });
    // 10^8 tiny gemms on the worker: seconds.
    const long = [1e8, 0, 0, 0, 0, 0, 4096, 0, 4, 8, 1, 1, 1, 8, 8, 1, 0];
    const short = [1, 0, 0, 0, 0, 0, 4096, 0, 4, 8, 1, 1, 1, 8, 8, 1, 0];
    let error: unknown = null;
    try {
      pool.run('gemmBatch', () => undefined, [short, long]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BackendError);
    expect((error as Error).message).toMatch(/a worker thread did not finish its part of gemmBatch within 200 ms/);
    expect(pool.threads).toBe(1);
    // Later calls run every chunk on the calling thread.
    const f = new Float32Array(memory.buffer, 0, 8);
    f.set([0, 1, 4, 9, 16, 25, 36, 49]);
    pool.run('sqrt', local.sqrt, [
      [0, 0, 4],
      [16, 16, 4],
    ]);
    expect(Array.from(f)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});

describe('lifetime', () => {
  const run = promisify(execFile);
  const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

  it('a script that used the pool exits by itself', async () => {
    // The timeout is a guard: a child kept alive by the workers is killed and the test fails.
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test/backends/fixtures/heap-threads-exit.mts'], {
      cwd: repoRoot,
      timeout: 120_000,
    });
    // ones([136, 200])·ones([168, 200])ᵀ: every entry is 200 (by hand).
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({ threads: 2, split: true, entries: 136 * 168, allEqual200: true });
  }, 180_000);

  it('removing the wasm backend stops the pool', () => {
    const backend = wasmBackend();
    expect(heapKernels(backend)).not.toBeNull();
    expect(heapKernelThreads(backend)).toBe(2);
    tf.removeBackend('wasm');
    expect(heapKernelThreads(backend)).toBe(1);
  });
});
