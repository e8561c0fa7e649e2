/**
 * `tf.matMul` on wasm for every transpose combination and a batched product: genblocks'
 * BatchMatMul against the stock wasm kernel, toggled in the same process and timed interleaved.
 */
import * as tf from '@tensorflow/tfjs-core';

import { installWasmKernels, uninstallWasmKernels } from '../src/internal.js';
import { compare, type BenchResult, type BenchSuite } from './harness.js';

const KERNELS = ['BatchMatMul', '_FusedMatMul'];

const suite: BenchSuite = {
  name: 'matmul',
  backends: ['wasm'],
  async run(ctx) {
    const [M, K, N] = ctx.quick ? [128, 512, 512] : [256, 1024, 1024];
    const results: BenchResult[] = [];
    const combos: Array<[boolean, boolean, number]> = [
      [false, false, 1],
      [false, true, 1],
      [true, false, 1],
      [true, true, 1],
      [false, false, 8],
    ];
    for (const [ta, tb, batch] of combos) {
      const lead = batch > 1 ? [batch] : [];
      const a = tf.randomNormal([...lead, ...(ta ? [K, M] : [M, K])]);
      const b = tf.randomNormal([...lead, ...(tb ? [N, K] : [K, N])]);
      const once = async () => {
        const c = tf.matMul(a, b, ta, tb);
        await c.data();
        c.dispose();
      };
      const r = await compare(
        `matMul transposeA=${ta} transposeB=${tb}`,
        async () => {
          installWasmKernels(KERNELS);
          await once();
        },
        'stock wasm BatchMatMul',
        async () => {
          uninstallWasmKernels(KERNELS);
          await once();
        },
        { warmup: ctx.warmup, runs: ctx.quick ? 3 : 8, size: `${batch > 1 ? `${batch}x` : ''}${M}x${K}x${N}` },
      );
      const flops = 2 * batch * M * K * N;
      r.extra = { 'GFLOP/s': flops / (r.timing.medianMs * 1e6), 'stock GFLOP/s': flops / (r.baseline!.timing.medianMs * 1e6) };
      results.push(r);
      tf.dispose([a, b]);
    }
    installWasmKernels();
    return results;
  },
};

export default suite;
