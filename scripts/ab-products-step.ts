/**
 * A/B of a GPT training step's products in one process: the step of `bench/gpt-step-common.ts`
 * (nanoGPT's CPU configuration, as `scripts/profile-gpt-kernels.ts` runs it) with the wasm
 * `BatchMatMul` and `_FusedMatMul` kernels of another copy of genblocks' sources (A: e.g.
 * `/work/main/src`, or `git archive <commit> src | tar -x -C /tmp/base` with a `node_modules`
 * link to the same packages, so that both use one tfjs instance) and of this checkout (B),
 * swapped step by step (every other kernel is this checkout's). Each side's products run on its
 * own heap kernels (its own `gemm`), and its Transpose calls on this checkout's `Transpose`.
 * Prints per side the median process CPU time per step (`process.cpuUsage`: with one heap
 * thread, the calling thread's work plus tfjs' and V8's background threads), the median wall
 * time.
 *
 *   [GPT_THREADS=1] node --import ./bench/loader/register.mjs scripts/ab-products-step.ts /work/main/src [steps = 30]
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';

import { makeGptStep } from '../bench/gpt-step-common.js';
import { backends } from '../src/index.js';
import * as current from '../src/internal.js';

const baseDir = process.argv[2];
if (baseDir === undefined) throw new Error('usage: ab-products-step.ts <other genblocks src dir> [steps]');
const steps = Number(process.argv[3] ?? 30);
const base = (await import(pathToFileURL(resolve(baseDir, 'internal.ts')).href)) as typeof current;
const PRODUCTS = ['BatchMatMul', '_FusedMatMul'];

const threads = Number(process.env.GPT_THREADS ?? 1);
const info = await backends.use('wasm', { threads });
/** Puts side `which`'s product kernels in place of the other's. */
function use(which: 'A' | 'B'): void {
  const [from, to] = which === 'A' ? [current, base] : [base, current];
  from.uninstallWasmKernels(PRODUCTS);
  to.installWasmKernels(PRODUCTS);
}
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;

// Matrix transposes run (every Transpose kernel is this checkout's), counted per side.
const kernels = current.heapKernels(tf.backend() as unknown as current.WasmBackend)!;
let transposes = 0;
for (const name of ['transpose', 'transposeStrided'] as const) {
  const fn = kernels[name];
  kernels[name] = (...args: Parameters<typeof fn>) => {
    transposes++;
    return (fn as (...a: number[]) => void)(...args);
  };
}
const { step, dispose } = makeGptStep({ batch: 12 });
const sample = () => ({ cpu: [] as number[], wall: [] as number[], transposes: [] as number[] });
const samples = { A: sample(), B: sample() };
for (let i = 0; i < 2 * steps + 4; i++) {
  const which = i % 2 === 0 ? 'A' : 'B';
  use(which);
  const [c0, w0, t0] = [cpuMs(), performance.now(), transposes];
  await step();
  const [cpu, wall] = [cpuMs() - c0, performance.now() - w0];
  // The first two steps of each side warm up (wasm tier-up, first allocations).
  if (i >= 4) {
    samples[which].cpu.push(cpu);
    samples[which].wall.push(wall);
    samples[which].transposes.push(transposes - t0);
  }
}
use('B');
console.log(`GPT step products A/B on wasm (${info.threads} threads), ${steps} steps each, alternated; A = ${baseDir}, B = this checkout`);
for (const which of ['A', 'B'] as const) {
  console.log(
    `${which}: median process CPU ${median(samples[which].cpu).toFixed(2)} ms, wall ${median(samples[which].wall).toFixed(2)} ms, ` +
      `${median(samples[which].transposes)} heap matrix transposes per step`,
  );
}
console.log(`B/A process CPU: ${(median(samples.B.cpu) / median(samples.A.cpu)).toFixed(3)}`);
dispose();
process.exit(0);
