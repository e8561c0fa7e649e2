/**
 * Where a GPT training step's time goes on wasm, kernel by kernel (as
 * `profile-unet-kernels.ts` for the UNet): the step of `bench/gpt-step-common.ts` (the one
 * `transformer-step.bench.ts` and `threads-child.ts` time: nanoGPT's CPU configuration, AdamW,
 * clipping to norm 1) runs a few times with every registered wasm kernel wrapped with timers
 * (top-level calls only: kernels a kernel runs count in their caller), and genblocks' heap
 * kernels (`gemm`, `gemmBatch`, `layerNorm`, `adam`, ...) wrapped too, so that each product
 * says which path it took: `heap` (genblocks' gemm), or none (XNNPACK or the stock loop).
 *
 * Per kernel it prints the calling thread's CPU time (Linux: /proc/self/task/<pid>/schedstat,
 * so time spent waiting for a core is not counted), the whole process's CPU time (every thread),
 * their ratio `par` (about 1 for a kernel on one thread, up to the thread count for one split
 * across them), the wall time and the calls per step; then the same per heap kernel.
 *
 *   node --import ./bench/loader/register.mjs scripts/profile-gpt-kernels.ts <threads: 1 | 2> [steps] [--shapes] [--batch N] [--ab NAME] [--plain]
 *
 * First `steps` uninstrumented steps: calling-thread CPU, time waiting for a core, time blocked
 * (neither: `Atomics.wait` on the heap pool's workers), and every thread's CPU time. `--ab NAME`
 * instead alternates steps with switch `NAME` off and on (A/B in one process, same load) and
 * prints the medians of each: `threads` (the heap kernels' worker threads), `spin` (the
 * workers' spinning for the next job: 0 against 1 ms), `callerspin` (the calling thread's for
 * the workers' last chunks: 0 against up to 0.5 ms), `attention` (the causal-attention kernels
 * against the attention core composed of tfjs kernels). `--plain` stops
 * after the uninstrumented steps (for comparing builds: run it alternately in each checkout).
 * `--shapes` splits each kernel by input shapes (and a product by its transposes); heap gemms
 * are always listed by `M x K x N`. Reading schedstat costs about 40 µs of the calling thread
 * per kernel call (visible as the time of `Reshape`, which does nothing).
 */
import { readFileSync, readdirSync } from 'node:fs';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

import { makeGptStep } from '../bench/gpt-step-common.js';
import { backends } from '../src/index.js';
import {
  heapKernels,
  heapKernelsReady,
  installWasmKernels,
  uninstallWasmKernels,
  setHeapPoolSpin,
  setHeapThreadsEnabled,
  type HeapKernels,
  type WasmBackend,
} from '../src/internal.js';

const argv = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const positional = argv.filter((a, i) => !a.startsWith('--') && !['--batch', '--ab'].includes(argv[i - 1] ?? ''));
const threads = Number(positional[0] ?? 1);
const steps = Number(positional[1] ?? 10);
const byShape = argv.includes('--shapes');
const batch = Number(option('--batch') ?? 12);
const SCHED = `/proc/self/task/${process.pid}/schedstat`;
/** The calling thread's CPU time in ms. */
const threadMs = (): number => Number(readFileSync(SCHED, 'utf8').split(' ')[0]) / 1e6;
/** The calling thread's time waiting for a core (runnable, not running) in ms. */
const queuedMs = (): number => Number(readFileSync(SCHED, 'utf8').split(' ')[1]) / 1e6;
const processMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** CPU ms of every thread of the process, by thread id (a thread that has exited is left out). */
const threadTimes = (): Map<string, number> => {
  const out = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      out.set(tid, Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6);
    } catch {
      // exited
    }
  }
  return out;
};

const info = await backends.use('wasm', { threads });
const backend = tf.backend() as unknown as WasmBackend;
const heapThreads = await heapKernelsReady(backend);
const { step, dispose } = makeGptStep({ batch });
await step();
await step();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(2);

/** The A/B switches of `--ab NAME`: what `on(false)` turns off (the old path) and `on(true)` back on. */
const SWITCHES: Record<string, (on: boolean) => void> = {
  threads: (on) => void setHeapThreadsEnabled(on),
  spin: (on) => void setHeapPoolSpin({ workerMs: on ? 1 : 0 }),
  callerspin: (on) => void setHeapPoolSpin({ callerMs: on ? 0.5 : 0 }),
  // The causal-attention kernels (off: the attention core composed of tfjs kernels).
  attention: (on) => {
    // CAUSAL_ATTENTION_KERNEL and its gradient (src/backends/causal-attention-kernel.ts).
    const kernels = ['GenblocksCausalAttention', 'GenblocksCausalAttentionGrad'];
    if (on) installWasmKernels(kernels);
    else uninstallWasmKernels(kernels);
  },
};
const abName = option('--ab');
if (abName !== undefined) {
  const toggle = SWITCHES[abName];
  if (toggle === undefined) throw new Error(`--ab: one of ${Object.keys(SWITCHES).join(', ')}, received ${abName}`);
  // Alternating steps, off then on, so that both see the same load; medians of each.
  const sample = () => ({ thread: [] as number[], wall: [] as number[], blocked: [] as number[] });
  const samples = { off: sample(), on: sample() };
  for (let i = 0; i < 2 * steps; i++) {
    const which = i % 2 === 0 ? 'off' : 'on';
    toggle(which === 'on');
    const t0 = threadMs();
    const q0 = queuedMs();
    const w0 = performance.now();
    await step();
    const wall = performance.now() - w0;
    const thread = threadMs() - t0;
    samples[which].wall.push(wall);
    samples[which].thread.push(thread);
    samples[which].blocked.push(wall - thread - (queuedMs() - q0));
  }
  toggle(true);
  for (const which of ['off', 'on'] as const) {
    console.log(
      `A/B ${abName} ${which}: ${steps} steps, median calling-thread CPU ${median(samples[which].thread)} ms, ` +
        `blocked ${median(samples[which].blocked)} ms, wall ${median(samples[which].wall)} ms (fastest ${Math.min(...samples[which].wall).toFixed(2)} ms)`,
    );
  }
  dispose();
  process.exit(0);
}

// Uninstrumented steps first: the step's own calling-thread, process and wall time, and each thread's share.
{
  const t0 = threadMs();
  const q0 = queuedMs();
  const p0 = processMs();
  const w0 = performance.now();
  const before = threadTimes();
  const perStep = { thread: [] as number[], wall: [] as number[] };
  for (let i = 0; i < steps; i++) {
    const [ts, ws] = [threadMs(), performance.now()];
    await step();
    perStep.wall.push(performance.now() - ws);
    perStep.thread.push(threadMs() - ts);
  }
  const after = threadTimes();
  const wall = performance.now() - w0;
  const thread = threadMs() - t0;
  const queued = queuedMs() - q0;
  const per = (ms: number) => (ms / steps).toFixed(2);
  // Blocked: neither running nor waiting for a core (Atomics.wait on the workers, I/O).
  console.log(
    `uninstrumented: wall ${per(wall)} ms, calling thread CPU ${per(thread)} ms, waiting for a core ${per(queued)} ms, ` +
      `blocked ${per(wall - thread - queued)} ms, ` +
      `all threads CPU ${per(processMs() - p0)} ms per step; per thread (id: CPU ms per step): ` +
      [...after.entries()]
        .map(([tid, ms]) => [tid, ms - (before.get(tid) ?? 0)] as const)
        .filter(([, ms]) => ms > 0.01 * steps)
        .map(([tid, ms]) => `${tid}${tid === String(process.pid) ? ' (main)' : ''}: ${per(ms)}`)
        .join(', '),
  );
  // On a busy machine the fastest step is the closest to an idle one.
  console.log(
    `uninstrumented medians: calling-thread CPU ${median(perStep.thread)} ms, wall ${median(perStep.wall)} ms per step ` +
      `(fastest step: wall ${Math.min(...perStep.wall).toFixed(2)} ms)`,
  );
  if (argv.includes('--plain')) {
    dispose();
    process.exit(0);
  }
}

interface Stat {
  thread: number;
  process: number;
  wall: number;
  calls: number;
  /** Heap kernels this kernel called, with their counts. */
  heap: Map<string, number>;
}
const newStat = (): Stat => ({ thread: 0, process: 0, wall: 0, calls: 0, heap: new Map() });
const stats = new Map<string, Stat>();
const heapStats = new Map<string, Stat>();
let current: Stat | null = null;

/** Runs `f` and adds its thread, process and wall time to `stat` (a new one under `key` in `into`). */
function timed<T>(into: Map<string, Stat>, key: string, f: () => T): T {
  const t0 = threadMs();
  const p0 = processMs();
  const w0 = performance.now();
  try {
    return f();
  } finally {
    const wall = performance.now() - w0;
    const proc = processMs() - p0;
    const thread = threadMs() - t0;
    const s = into.get(key) ?? newStat();
    s.thread += thread;
    s.process += proc;
    s.wall += wall;
    s.calls++;
    into.set(key, s);
  }
}

let depth = 0;
for (const kernel of tf.getKernelsForBackend('wasm')) {
  const original = kernel.kernelFunc;
  tf.unregisterKernel(kernel.kernelName, 'wasm');
  tf.registerKernel({
    ...kernel,
    kernelFunc: ((call: Parameters<tf.KernelFunc>[0]) => {
      if (depth > 0) return original(call);
      const shapes = Object.values(call.inputs as Record<string, tf.TensorInfo | undefined>)
        .map((t) => t?.shape?.join('x') ?? '')
        .join(',');
      const attrs = (call.attrs ?? {}) as Record<string, unknown>;
      const transposes = 'transposeA' in attrs ? ` ${attrs['transposeA'] ? 'T' : 'N'}${attrs['transposeB'] ? 'T' : 'N'}` : '';
      const key = byShape ? `${kernel.kernelName} ${shapes}${transposes}` : kernel.kernelName;
      const s = stats.get(key) ?? newStat();
      stats.set(key, s);
      depth++;
      current = s;
      try {
        return timed(stats, key, () => original(call));
      } finally {
        depth--;
        current = null;
      }
    }) as tf.KernelFunc,
  });
}

// The heap kernels' object is shared by every caller: wrapping its methods in place sees them all.
const kernels = heapKernels(backend) as unknown as Record<string, (...args: number[]) => unknown> | null;
if (kernels != null) {
  for (const name of Object.keys(kernels) as (keyof HeapKernels)[]) {
    const fn = kernels[name]!;
    kernels[name] = (...args: number[]) => {
      let key: string = name;
      if (name === 'gemm') key = `gemm ${args[4]}x${args[6]}x${args[5]}`;
      if (name === 'gemmBatch') key = `gemmBatch ${args[0]}x ${args[8]}x${args[10]}x${args[9]}`;
      if (current != null) current.heap.set(key, (current.heap.get(key) ?? 0) + 1);
      return timed(heapStats, key, () => fn(...args));
    };
  }
}

const t0 = threadMs();
const p0 = processMs();
const w0 = performance.now();
for (let i = 0; i < steps; i++) await step();
const wall = performance.now() - w0;
const thread = threadMs() - t0;
const proc = processMs() - p0;
const per = (ms: number) => (ms / steps).toFixed(2).padStart(7);
console.log(
  `GPT step (batch ${batch}) on wasm (${info.threads} threads, heap kernels ${heapThreads}), ${steps} steps: wall ${per(wall)} ms, ` +
    `calling thread CPU ${per(thread)} ms, all threads CPU ${per(proc)} ms per step`,
);
const inKernels = [...stats.values()].reduce((sum, s) => sum + s.thread, 0);
const calls = [...stats.values()].reduce((sum, s) => sum + s.calls, 0);
// Outside the kernels: tfjs' engine (tape, tidy, bookkeeping), the layers' JavaScript, the optimizer's.
console.log(
  `calling thread in kernels ${per(inKernels)} ms (${(calls / steps).toFixed(0)} top-level calls per step), outside them ${per(thread - inKernels)} ms per step`,
);
const row = (name: string, s: Stat, width: number) =>
  `${name.padEnd(width)} thread ${((s.thread / thread) * 100).toFixed(1).padStart(5)}% ${per(s.thread)} ms` +
  `  all ${per(s.process)} ms  par ${(s.process / Math.max(s.thread, 1e-9)).toFixed(2)}  wall ${per(s.wall)} ms` +
  `  calls ${(s.calls / steps).toFixed(0)}`;
for (const [name, s] of [...stats.entries()].sort((a, b) => b[1].thread - a[1].thread)) {
  if (s.calls === 0) continue;
  const heap = [...s.heap.entries()].map(([k, n]) => `${k}${n / steps !== s.calls / steps ? ` ×${(n / steps).toFixed(0)}` : ''}`);
  console.log(row(name, s, byShape ? 64 : 28) + (heap.length > 0 ? `  heap: ${heap.join(', ')}` : ''));
}
console.log('heap kernels:');
for (const [name, s] of [...heapStats.entries()].sort((a, b) => b[1].thread - a[1].thread)) console.log(row(name, s, 40));
dispose();
