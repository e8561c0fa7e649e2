/**
 * `backends.use('wasm', { threads: 2 })` in Node: the threaded build starts without replacing
 * any global, a script that ends exits by itself (the pthread workers are unref'd), threads are
 * the default where there are several cores (`threads: 1` opts out), and results match the cpu
 * backend. This file runs in its own process (vitest forks per file), so
 * wasm is first initialized here.
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// Imported by the host first, as most apps do: use() must still reach this package's exports.
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';

import { backends } from '../../src/index.js';
import { expectParity, randomArray, rng } from './parity.js';

const g = globalThis as unknown as Record<string, unknown>;
const before = { createObjectURL: URL.createObjectURL, Worker: g.Worker, cpus: os.cpus, Blob: g.Blob };
const run = promisify(execFile);
const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

beforeAll(async () => {
  const info = await backends.use('wasm', { threads: 2 });
  expect(info.threads).toBe(2);
});

describe("backends.use('wasm', { threads })", () => {
  it('replaces no global: URL.createObjectURL, Worker, os.cpus and Blob keep their identity', () => {
    expect(URL.createObjectURL).toBe(before.createObjectURL);
    expect(g.Worker).toBe(before.Worker);
    expect(os.cpus).toBe(before.cpus);
    expect(g.Blob).toBe(before.Blob);
  });

  // The timeout is a guard: a child kept alive by its workers is killed and the test fails.
  const child = async (threads: string) => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test/backends/fixtures/threads-exit.mts', threads], {
      cwd: repoRoot,
      timeout: 120_000,
    });
    return JSON.parse(stdout.trim().split('\n').pop()!) as unknown;
  };

  // heapThreads: the heap kernels' workers are running when use() resolves, also for a loop that never yields.
  it('a script that uses threads exits by itself', async () => {
    expect(await child('2')).toEqual({
      threads: 2,
      heapThreads: 2,
      globalsUnchanged: true,
      workerIsUndefined: true,
      product: [19, 22, 43, 50],
    });
  }, 180_000);

  it("threads: 'auto' takes every logical core (up to 8) when there are several", async () => {
    expect(await child('auto')).toEqual({
      threads: Math.min(8, cores),
      heapThreads: Math.min(8, cores),
      globalsUnchanged: true,
      workerIsUndefined: true,
      product: [19, 22, 43, 50],
    });
  }, 180_000);

  it("the default (use('wasm') without options) is 'auto', and such a script exits by itself", async () => {
    expect(await child('default')).toEqual({
      threads: Math.min(8, cores),
      heapThreads: Math.min(8, cores),
      globalsUnchanged: true,
      workerIsUndefined: true,
      product: [19, 22, 43, 50],
    });
  }, 180_000);

  it('threads: 1 opts out: the single-threaded build', async () => {
    expect(await child('1')).toEqual({
      threads: 1,
      heapThreads: 1,
      globalsUnchanged: true,
      workerIsUndefined: true,
      product: [19, 22, 43, 50],
    });
  }, 180_000);

  const fallback = async (arg: string) => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test/backends/fixtures/threads-fallback.mts', arg], {
      cwd: repoRoot,
      timeout: 120_000,
    });
    return JSON.parse(stdout.trim().split('\n').pop()!) as unknown;
  };

  it('falls back to one thread with a warning when worker threads cannot start', async () => {
    // [[1, 2], [3, 4]]·[[5, 6], [7, 8]] = [[19, 22], [43, 50]] (by hand).
    expect(await fallback('2')).toEqual({ threads: 1, warned: true, product: [19, 22, 43, 50] });
  }, 180_000);

  it('the default falls back the same way (it tries threads only where there are several cores)', async () => {
    expect(await fallback('default')).toEqual({ threads: 1, warned: cores > 1, product: [19, 22, 43, 50] });
  }, 180_000);

  it('matMul and conv gradients match cpu on the threaded build', async () => {
    const r = rng(21);
    const a = randomArray(r, 96 * 130);
    const b = randomArray(r, 130 * 70);
    await expectParity('threaded matMul', () => [tf.matMul(tf.tensor2d(a, [96, 130]), tf.tensor2d(b, [70, 130]), false, true)]);
    const x = randomArray(r, 4 * 14 * 14 * 8);
    const w = randomArray(r, 5 * 5 * 8 * 16);
    await expectParity('threaded conv grads', () =>
      tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.square(tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 2, 'same'))))([
        tf.tensor4d(x, [4, 14, 14, 8]),
        tf.tensor4d(w, [5, 5, 8, 16]),
      ]),
    );
  });

  it("genblocks' heap kernels run on the threaded build's shared heap and match cpu", async () => {
    const { heapKernels } = await import('../../src/backends/wasm/heap-kernels.js');
    await tf.setBackend('wasm');
    expect(heapKernels(tf.backend() as never)).not.toBeNull();
    const r = rng(5);
    const a = randomArray(r, 64 * 96);
    const b = randomArray(r, 96 * 64);
    await expectParity(
      'threaded heap kernels',
      () => {
        const A = tf.tensor2d(a, [64, 96]);
        const B = tf.tensor2d(b, [96, 64]);
        const y = tf.matMul(A, B); // heap gemm (M % 4 = 0, N % 8 = 0)
        return [y, tf.tanh(y), tf.maximum(y, tf.tensor2d(a.slice(0, 64), [64, 1])), tf.tile(tf.tensor2d(b.slice(0, 7), [7, 1]), [1, 9])];
      },
      1e-5,
    );
  });

  it("shortens pthreadpool's spin-waits in the threaded binary: three countdowns from 1,000,000 become 1,000", async () => {
    const { createRequire } = await import('node:module');
    const { readFileSync } = await import('node:fs');
    const { shortenSpinWaits } = await import('../../src/backends/node-threads.js');
    const require = createRequire(import.meta.url);
    const file = require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm');
    const bytes = new Uint8Array(readFileSync(file));
    const patched = shortenSpinWaits(bytes, 1000);
    const changed: number[] = [];
    for (let i = 0; i < bytes.length; i++) if (bytes[i] !== patched[i]) changed.push(i);
    // 1,000,000 = LEB128 c0 84 3d; 1,000 = e8 07, padded to three bytes: e8 87 00 (by hand).
    expect(changed).toHaveLength(9);
    for (let k = 0; k < 3; k++) {
      const at = changed[3 * k]!;
      expect(Array.from(bytes.subarray(at - 1, at + 3))).toEqual([0x41, 0xc0, 0x84, 0x3d]);
      expect(Array.from(patched.subarray(at - 1, at + 3))).toEqual([0x41, 0xe8, 0x87, 0x00]);
    }
    expect(WebAssembly.validate(patched)).toBe(true);
    // Anything else is left alone: a count the unrolled-by-5 loops would never reach, or a binary
    // without exactly three such constants.
    expect(shortenSpinWaits(bytes, 1001)).toBe(bytes);
    expect(shortenSpinWaits(patched, 1000)).toBe(patched);
  });

  it('refuses to change the thread count once wasm runs, and validates the option', async () => {
    await expect(backends.use('wasm', { threads: 4 })).rejects.toThrow(
      /option 'threads' must be given before the wasm backend is first initialized \(it already runs with 2 thread/,
    );
    await expect(backends.use('wasm', { threads: 1 })).rejects.toThrow(/already runs with 2 thread\(s\), asked for 1/);
    // The count it runs with is accepted, on an inactive backend too.
    await backends.use('cpu');
    expect((await backends.use('wasm', { threads: 2 })).threads).toBe(2);
    await expect(backends.use('wasm', { threads: 0 })).rejects.toThrow(
      /backends\.use: argument 'options\.threads' must be an integer from 1 to 8 or 'auto', received 0/,
    );
    // 'auto' and the default on a running backend keep it as it is.
    expect((await backends.use('wasm', { threads: 'auto' })).threads).toBe(2);
    expect((await backends.use('wasm')).threads).toBe(2);
  });
});
