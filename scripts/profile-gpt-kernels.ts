/**
 * Where a GPT training step's time goes on wasm, kernel by kernel (as
 * scripts/profile-unet-kernels.ts does for the UNet): nanoGPT's CPU configuration (nets.gpt:
 * 4 layers, 4 heads, width 128, block 64, batch 12, vocabulary 98), cross entropy, gradients
 * clipped to global norm 1 and train.adamW, as bench/transformer-step.bench.ts. Every registered
 * wasm kernel is wrapped with timers (top-level calls only); per kernel (or per kernel and input
 * shapes with `--shapes`) it prints the share of the calling thread's CPU time (Linux schedstat:
 * time spent waiting for a core is not counted, so this holds on a busy machine) and the calls
 * per step. Without `--kernels` it times the unwrapped step only (calling-thread CPU ms per step,
 * median, and kernels per step), the number to compare before and after a change.
 *
 *   node --import tsx scripts/profile-gpt-kernels.ts [steps] [--kernels] [--shapes]
 */
import { readFileSync } from 'node:fs';

import * as tf from '@tensorflow/tfjs-core';

import { backends, losses, nets, train } from '../src/index.js';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const steps = Number(args[0] ?? 20);
const wrapKernels = process.argv.includes('--kernels');
const byShape = process.argv.includes('--shapes');
const SCHED = `/proc/self/task/${process.pid}/schedstat`;
/** The calling thread's CPU time in ms. */
const threadMs = (): number => Number(readFileSync(SCHED, 'utf8').split(' ')[0]) / 1e6;

const info = await backends.use('wasm', process.env.GPT_THREADS ? { threads: Number(process.env.GPT_THREADS) } : {});
const [vocab, block, layers, heads, width, batch] = [98, 64, 4, 4, 128, 12];
const gpt = nets.gpt({ vocabSize: vocab, blockSize: block, layers, heads, width, seed: 1 });
const variables = gpt.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
const optimizer: tf.Optimizer = train.adamW({ learningRate: 1e-3, beta2: 0.99, weightDecay: 0.1 });
const x = tf.randomUniformInt([batch, block], 0, vocab, 1);
const y = tf.randomUniformInt([batch, block], 0, vocab, 2);
const step = async (): Promise<number> => {
  const [value, norm] = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(
      () => losses.autoregressive.crossEntropy(gpt.apply(x, { training: true }) as tf.Tensor, y),
      variables,
    );
    const clipped = train.clipByGlobalNorm(grads, 1);
    optimizer.applyGradients(clipped.grads);
    return [value, clipped.norm];
  });
  const loss = (await value!.data())[0]!;
  await norm!.data();
  tf.dispose([value!, norm!]);
  return loss;
};
for (let i = 0; i < 3; i++) await step();

interface Stat {
  thread: number;
  wall: number;
  calls: number;
}
const stats = new Map<string, Stat>();
let kernelCalls = 0;
let depth = 0;
const profiler = tf.engine() as unknown as { runKernel: (name: string, inputs: tf.NamedTensorMap, attrs: object) => unknown };
const runKernel = profiler.runKernel.bind(profiler);
profiler.runKernel = (name, inputs, attrs) => {
  if (depth === 0) kernelCalls++;
  return runKernel(name, inputs, attrs);
};
if (wrapKernels) {
  for (const kernel of tf.getKernelsForBackend('wasm')) {
    const original = kernel.kernelFunc;
    tf.unregisterKernel(kernel.kernelName, 'wasm');
    tf.registerKernel({
      ...kernel,
      kernelFunc: ((call: Parameters<tf.KernelFunc>[0]) => {
        if (depth > 0) return original(call);
        depth++;
        const t0 = threadMs();
        const w0 = performance.now();
        try {
          return original(call);
        } finally {
          const wall = performance.now() - w0;
          const thread = threadMs() - t0;
          depth--;
          const shapes = Object.values(call.inputs as Record<string, tf.TensorInfo | undefined>)
            .map((t) => t?.shape?.join('x') ?? '')
            .join(',');
          const key = byShape ? `${kernel.kernelName} ${shapes}` : kernel.kernelName;
          const s = stats.get(key) ?? { thread: 0, wall: 0, calls: 0 };
          s.thread += thread;
          s.wall += wall;
          s.calls++;
          stats.set(key, s);
        }
      }) as tf.KernelFunc,
    });
  }
}
const times: number[] = [];
const calls0 = kernelCalls;
const t0 = threadMs();
let loss = 0;
for (let i = 0; i < steps; i++) {
  const s = threadMs();
  loss = await step();
  times.push(threadMs() - s);
}
const thread = threadMs() - t0;
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;
console.log(
  `GPT step on wasm (${info.threads} threads), ${steps} steps: calling-thread CPU median ${median.toFixed(1)} ms ` +
    `(min ${times[0]!.toFixed(1)}), engine.runKernel calls per step ${((kernelCalls - calls0) / steps).toFixed(0)}, ` +
    `tensors ${tf.memory().numTensors}, loss ${loss.toFixed(4)}, load ${(await import('node:os')).loadavg()[0]!.toFixed(2)}`,
);
if (wrapKernels) {
  const rows = [...stats.entries()].sort((a, b) => b[1].thread - a[1].thread);
  let inKernels = 0;
  for (const [, s] of rows) inKernels += s.thread;
  console.log(`in kernels ${((inKernels / thread) * 100).toFixed(1)}% of the calling thread`);
  const per = (ms: number) => (ms / steps).toFixed(2).padStart(7);
  for (const [name, s] of rows) {
    console.log(
      `${name.padEnd(byShape ? 70 : 28)} ${((s.thread / thread) * 100).toFixed(1).padStart(5)}% ${per(s.thread)} ms  wall ${per(s.wall)} ms  calls ${(s.calls / steps).toFixed(0)}`,
    );
  }
}
