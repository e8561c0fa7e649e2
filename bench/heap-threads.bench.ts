/**
 * genblocks' heap kernels on the threaded wasm build: split across their worker pool against
 * the same kernels on the calling thread alone, toggled in the same process and timed
 * interleaved. Rows only where the wasm backend runs with more than one thread
 * (`backends.use('wasm', { threads })`); the results are bit-identical either way (tested).
 */
import * as tf from '@tensorflow/tfjs-core';

import { train } from '../src/index.js';
import { heapKernelsReady, setHeapThreadsEnabled } from '../src/internal.js';
import { makeGanStep } from './gan-step-common.js';
import { compare, type BenchResult, type BenchSuite } from './harness.js';
import { D_UNITS, G_UNITS, mlp } from './mlp-gan-step.bench.js';

/** `f` with the heap kernels' worker threads on (candidate) and off (baseline), interleaved. */
function poolAgainstOneThread(name: string, f: () => Promise<void>, options: { warmup: number; runs: number; size: string }) {
  return compare(
    name,
    () => {
      setHeapThreadsEnabled(true);
      return f();
    },
    'heap kernels on the calling thread',
    () => {
      setHeapThreadsEnabled(false);
      return f();
    },
    options,
  ).finally(() => setHeapThreadsEnabled(true));
}

const suite: BenchSuite = {
  name: 'heap-threads',
  backends: ['wasm'],
  async run(ctx) {
    const threads = await heapKernelsReady(tf.backend() as never);
    if (threads < 2) {
      console.log('  (skipped: the wasm backend runs one thread; start it with backends.use("wasm", { threads: 2 }))');
      return [];
    }
    const results: BenchResult[] = [];
    const n = ctx.quick ? 256 : 512;
    const a = tf.randomNormal([n, n]);
    const b = tf.randomNormal([n, n]);
    // transposeB: always the heap gemm (never handed over to XNNPACK).
    const product = async () => {
      const c = tf.matMul(a, b, false, true);
      await c.data();
      c.dispose();
    };
    const gemm = await poolAgainstOneThread(`heap gemm, matMul ${n}x${n}x${n} transposeB`, product, {
      warmup: ctx.warmup,
      runs: ctx.runs,
      size: `${threads} threads`,
    });
    gemm.extra = { 'GFLOP/s': (2 * n * n * n) / (gemm.timing.medianMs * 1e6) };
    results.push(gemm);
    tf.dispose([a, b]);

    const x = tf.randomNormal([ctx.quick ? 1 << 18 : 1 << 20]);
    const tanh = async () => {
      const y = tf.tanh(x);
      await y.data();
      y.dispose();
    };
    results.push(
      await poolAgainstOneThread(`tanh of ${x.size} elements`, tanh, { warmup: ctx.warmup, runs: ctx.runs, size: `${threads} threads` }),
    );
    x.dispose();

    const generator = mlp(G_UNITS, 'leakyrelu', 'tanh');
    const discriminator = mlp(D_UNITS, 'leakyrelu', 'linear');
    const batch = ctx.quick ? 16 : 64;
    const { step, dispose } = makeGanStep(generator, discriminator, 100, batch, [784], () =>
      train.fusedAdam({ learningRate: 2e-4, beta1: 0.5 }),
    );
    results.push(
      await poolAgainstOneThread('MLP GAN step (train.fusedAdam)', step, {
        warmup: ctx.warmup,
        runs: ctx.runs,
        size: `batch ${batch}, ${threads} threads`,
      }),
    );
    dispose();
    generator.dispose();
    discriminator.dispose();
    return results;
  },
};

export default suite;
