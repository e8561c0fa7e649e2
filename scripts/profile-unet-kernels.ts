/**
 * Where a UNet training step's time goes on wasm, kernel by kernel: every registered wasm kernel
 * is wrapped with timers (top-level calls only: kernels a kernel runs count in their caller), and
 * a few steps of `diffusion.trainingLoss` + `train.fusedAdam` (as bench/unet-step.bench.ts) are
 * run. Per kernel it prints the share of the calling thread's CPU time (Linux: read from
 * /proc/self/task/<pid>/schedstat, so time the thread spent waiting for a core is not counted:
 * on a busy machine this is the closest to an idle run's wall time), the whole process's CPU
 * time (every thread), their ratio (`par`: about 1 for a kernel on one thread, up to the thread
 * count for one split across them) and the wall time.
 *
 *   node --import ./bench/loader/register.mjs scripts/profile-unet-kernels.ts [example|bench] [steps] [--shapes] [--threads=N]
 *
 * `example`: the mnist-diffusion example's default UNet (base 8, multipliers 1,2,4, groups 4,
 * class-conditional, batch 32, v prediction, min-SNR 5); `bench`: the kernels issue's (base 32,
 * [1, 2, 2], 2 residual blocks, groups 8, batch 64). `--shapes` splits each kernel by input
 * shapes. Reading schedstat costs about 40 µs of the calling thread per kernel call (visible
 * as the time of `Identity` and `Reshape`, which do nothing).
 */
import { readFileSync } from 'node:fs';

import * as tf from '@tensorflow/tfjs-core';

import { backends, diffusion, nets, train } from '../src/index.js';
import { heapKernelsReady } from '../src/internal.js';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const which = args[0] === 'bench' ? 'bench' : 'example';
const steps = Number(args[1] ?? 10);
const byShape = process.argv.includes('--shapes');
const threadsArg = process.argv.find((a) => a.startsWith('--threads='));
const SCHED = `/proc/self/task/${process.pid}/schedstat`;
/** The calling thread's CPU time in ms. */
const threadMs = (): number => Number(readFileSync(SCHED, 'utf8').split(' ')[0]) / 1e6;
const processMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const info = await backends.use('wasm', threadsArg ? { threads: Number(threadsArg.slice('--threads='.length)) } : {});
const cfg =
  which === 'bench'
    ? { base: 32, multipliers: [1, 2, 2], blocks: 2, batch: 64, groups: 8, classes: undefined }
    : { base: 8, multipliers: [1, 2, 4], blocks: 1, batch: 32, groups: 4, classes: 10 };
const model = nets.unet({
  imageShape: [28, 28, 1],
  baseChannels: cfg.base,
  channelMultipliers: cfg.multipliers,
  residualBlocks: cfg.blocks,
  attentionAt: [7],
  groups: cfg.groups,
  numClasses: cfg.classes,
  seed: 1,
});
const variables = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
const schedule = diffusion.noiseSchedule({ kind: which === 'bench' ? 'linear' : 'cosine', timesteps: 1000 });
const optimizer = train.fusedAdam({ learningRate: 5e-4 });
const x0 = tf.randomUniform([cfg.batch, 28, 28, 1], -1, 1, 'float32', 1);
const labels = cfg.classes === undefined ? undefined : tf.randomUniform([cfg.batch], 0, cfg.classes, 'int32', 2);
const lossOptions: diffusion.TrainingLossOptions =
  which === 'bench' ? { schedule } : { schedule, prediction: 'v', minSnrGamma: 5, ...(labels ? { labels } : {}) };
let seed = 0;
const step = async (): Promise<void> => {
  const loss = optimizer.minimize(() => diffusion.trainingLoss(model, x0, { ...lossOptions, seed: seed++ }), true, variables)!;
  await loss.data();
  loss.dispose();
};
await step();
// The heap kernels' worker pool starts in the background: a loop that only awaits `data()`
// (microtasks) never lets it finish starting, where the benches drain the event loop.
const heapThreads = await heapKernelsReady(tf.backend() as never);
await step();

interface Stat {
  thread: number;
  process: number;
  wall: number;
  calls: number;
}
const stats = new Map<string, Stat>();
let depth = 0;
for (const kernel of tf.getKernelsForBackend('wasm')) {
  const original = kernel.kernelFunc;
  tf.unregisterKernel(kernel.kernelName, 'wasm');
  tf.registerKernel({
    ...kernel,
    kernelFunc: ((call: Parameters<tf.KernelFunc>[0]) => {
      if (depth > 0) return original(call);
      depth++;
      const t0 = threadMs();
      const p0 = processMs();
      const w0 = performance.now();
      try {
        return original(call);
      } finally {
        const wall = performance.now() - w0;
        const proc = processMs() - p0;
        const thread = threadMs() - t0;
        depth--;
        const shapes = Object.values(call.inputs as Record<string, tf.TensorInfo | undefined>)
          .map((t) => t?.shape?.join('x') ?? '')
          .join(',');
        const key = byShape ? `${kernel.kernelName} ${shapes}` : kernel.kernelName;
        const s = stats.get(key) ?? { thread: 0, process: 0, wall: 0, calls: 0 };
        s.thread += thread;
        s.process += proc;
        s.wall += wall;
        s.calls++;
        stats.set(key, s);
      }
    }) as tf.KernelFunc,
  });
}
const t0 = threadMs();
const p0 = processMs();
const w0 = performance.now();
for (let i = 0; i < steps; i++) await step();
const wall = performance.now() - w0;
const thread = threadMs() - t0;
const proc = processMs() - p0;
const per = (ms: number) => (ms / steps).toFixed(1).padStart(7);
console.log(
  `${which} UNet step on wasm (${info.threads} threads, heap kernels ${heapThreads}), ${steps} steps: wall ${per(wall)} ms, calling thread CPU ${per(thread)} ms, ` +
    `all threads CPU ${per(proc)} ms per step`,
);
const rows = [...stats.entries()].sort((a, b) => b[1].thread - a[1].thread);
for (const [name, s] of rows) {
  console.log(
    `${name.padEnd(byShape ? 62 : 28)} thread ${((s.thread / thread) * 100).toFixed(1).padStart(5)}% ${per(s.thread)} ms` +
      `  all ${per(s.process)} ms  par ${(s.process / Math.max(s.thread, 1e-9)).toFixed(2)}  wall ${per(s.wall)} ms  calls ${(s.calls / steps).toFixed(0)}`,
  );
}
