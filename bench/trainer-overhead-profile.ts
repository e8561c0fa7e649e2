/**
 * Attribution of the trainer's per-step overhead (not a suite: no `.bench.ts` suffix). Runs
 * `train.AdversarialTrainer.fit` and the hand-written loop of `train-bench-common.ts` in one
 * process, alternating, on the wasm backend, and prints per step for each side: CPU time of
 * the calling thread (Linux `schedstat`), kernels run, tensors made and JS heap growth. Meant to
 * be run under `node --cpu-prof` to read the self time of trainer-only functions:
 *
 * ```sh
 * nice -n 19 node --expose-gc --max-semi-space-size=64 --cpu-prof --cpu-prof-dir=/tmp/prof \
 *   --import ./bench/loader/register.mjs bench/trainer-overhead-profile.ts [micro|tiny|large] [rounds] [trainer|hand]
 * ```
 *
 * `micro` (2-4-2 / 2-4-1, batch 4) has almost no arithmetic: its steps are the frameworks' own
 * JS, so the trainer's per-step cost in microseconds shows most clearly there. `THREADS=1` runs
 * the wasm backend on one thread (no thread-pool waits in the calling thread's time). Each
 * process has its own JIT state: compare trainer and loop within one run, not across runs.
 *
 * It also prints the trainer's own parts of a step, timed directly (`profileTrainerSteps`,
 * µs per step over the timed rounds): preparing (batch checks, holding the last good values),
 * the step itself (with the in-assignment scans of large variables, and how many MiB they read),
 * the read of the losses, the state check and the release of the held values. These move with
 * the machine's speed like everything else, but need no difference of two noisy totals.
 *
 * The semi-space flag keeps the young generation large enough that a call's garbage stays in
 * it (heap growth then counts what the call allocated); `--expose-gc` collects the young
 * generation between calls (not a full collection, which slows the next few hundred ms: see
 * `comparePaired` in `harness.ts`).
 */
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-layers';

import { backends } from '../src/index.js';
import { emptyStepProfile, profileTrainerSteps } from '../src/internal.js';
import { overheadSides } from './train-bench-common.js';

const SIZES = {
  micro: { latent: 2, g: [2, 4, 2], d: [2, 4, 1], batch: 4 },
  tiny: { latent: 8, g: [8, 64, 64, 2], d: [2, 64, 64, 1], batch: 64 },
  large: { latent: 64, g: [64, 256, 512, 784], d: [784, 512, 256, 1], batch: 64 },
};

function threadCpuMs(): number {
  return Number(readFileSync(`/proc/${process.pid}/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
}

/** Counts the kernels the engine runs (every op, forward and backward, goes through `runKernelFunc`). */
function kernelCounter(): () => number {
  const engine = tf.engine() as unknown as { runKernelFunc: (...args: unknown[]) => unknown };
  const original = engine.runKernelFunc;
  let count = 0;
  engine.runKernelFunc = function (this: unknown, ...args: unknown[]) {
    count++;
    return original.apply(this, args);
  };
  return () => count;
}

/** The id the next tensor will get (tensors made since = difference). */
function nextTensorId(): number {
  const t = tf.scalar(0);
  const id = t.id;
  t.dispose();
  return id;
}

async function main(): Promise<void> {
  const which = (process.argv[2] ?? 'tiny') as keyof typeof SIZES;
  const rounds = Number(process.argv[3] ?? 20);
  const only = process.argv[4] as 'trainer' | 'hand' | undefined;
  const size = SIZES[which];
  await backends.use('wasm', process.env.THREADS ? { threads: Number(process.env.THREADS) } : {});
  const kernels = kernelCounter();
  const gc = (globalThis as { gc?: (options?: { type: 'minor' | 'major' }) => void }).gc;
  const steps = 40;
  const { real, trainer, hand, dispose } = overheadSides(size);
  let position = 0;
  const sides = {
    trainer: () => trainer.fit(real, { steps: trainer.step + steps, yieldIntervalMs: Number.POSITIVE_INFINITY }),
    hand: async () => {
      for (let i = 0; i < steps; i++, position++) await hand.step(real[position % real.length]!, position);
    },
  };
  const totals = {
    trainer: { cpu: [] as number[], kernels: 0, tensors: 0, heap: 0 },
    hand: { cpu: [] as number[], kernels: 0, tensors: 0, heap: 0 },
  };
  // The trainer's own sections, timed directly from the first timed round on.
  const sections = emptyStepProfile();
  for (let r = -2; r < rounds; r++) {
    if (r === 0) profileTrainerSteps(sections);
    for (const name of r % 2 === 0 ? (['trainer', 'hand'] as const) : (['hand', 'trainer'] as const)) {
      if (only !== undefined && name !== only) continue;
      gc?.({ type: 'minor' });
      const k0 = kernels();
      const id0 = nextTensorId();
      const heap0 = v8.getHeapStatistics().used_heap_size;
      const c0 = threadCpuMs();
      await sides[name]();
      const cpu = threadCpuMs() - c0;
      const heap = v8.getHeapStatistics().used_heap_size - heap0;
      if (r < 0) continue;
      const t = totals[name];
      t.cpu.push(cpu / steps);
      t.kernels += kernels() - k0;
      t.tensors += nextTensorId() - id0 - 1; // the probe tensor of nextTensorId
      t.heap += heap;
    }
  }
  const med = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  const n = rounds * steps;
  for (const [name, t] of Object.entries(totals)) {
    if (t.cpu.length === 0) continue;
    console.log(
      `${which} ${name}: thread CPU ${med(t.cpu).toFixed(3)} ms/step (median of ${rounds} calls), ` +
        `kernels ${(t.kernels / n).toFixed(1)}/step, tensors ${(t.tensors / n).toFixed(1)}/step, heap ${(t.heap / n / 1024).toFixed(1)} KiB/step`,
    );
  }
  profileTrainerSteps(undefined);
  if (sections.steps > 0) {
    const us = (ms: number) => ((ms / sections.steps) * 1000).toFixed(1);
    const scans = sections.assignScans;
    console.log(
      `${which} trainer sections, µs/step: prepare ${us(sections.prepareMs)}, step ${us(sections.stepMs)} ` +
        `(in-assignment scans ${us(scans.ms)}: ${(scans.bytes / sections.steps / 2 ** 20).toFixed(2)} MiB/step), ` +
        `read ${us(sections.readMs)}, state check ${us(sections.checkMs)}, release ${us(sections.releaseMs)}`,
    );
  }
  if (only !== undefined) return;
  const ratios = totals.trainer.cpu.map((c, i) => c / totals.hand.cpu[i]! - 1);
  console.log(`${which} paired thread-CPU overhead: median ${(med(ratios) * 100).toFixed(2)}%`);
  dispose();
}

await main();
process.exit(0);
