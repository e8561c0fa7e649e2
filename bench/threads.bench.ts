/**
 * What the wasm backend's second thread buys in Node: each workload of `threads-child.ts`
 * (matMul 512³, the DCGAN step, a nanoGPT-CPU transformer step, a UNet step) with 1 and with 2
 * XNNPACK threads. The thread count is fixed when the backend starts, so every measurement runs
 * in a child process of its own: the two counts alternate (1, 2, 2, 1, 1, 2) so that a change
 * in the machine's load hits both alike, and each row is the median over every child's samples,
 * 2 threads against 1 as the baseline (ratio = speed-up of 2 threads; goals from issue 18 on an
 * otherwise idle 2-core machine: matMul ≥ 1.6x, DCGAN step ≥ 1.4x). `--quick` runs one child
 * per count on small batches (a smoke run: its numbers mean little).
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

import { importedLoader, summarize, type BenchResult, type BenchSuite } from './harness.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

/** What one child prints. */
interface ChildReport {
  threads: number;
  samples: Record<string, number[]>;
}

/** Runs `threads-child.ts` with `threads` threads and returns its report. */
async function child(threads: number, quick: boolean): Promise<ChildReport> {
  // The parent's relaxed-SIMD flag (the npm script's), so that the children run the same gemm,
  // and its TypeScript loader (bench/loader, or tsx when the parent was started with it).
  const flags = process.execArgv.filter((a) => a === '--experimental-wasm-relaxed-simd');
  const { stdout } = await run(
    process.execPath,
    [
      ...flags,
      '--import',
      importedLoader() ?? pathToFileURL(join(here, 'loader', 'register.mjs')).href,
      join(here, 'threads-child.ts'),
      String(threads),
      quick ? '1' : '0',
    ],
    {
      cwd: join(here, '..'),
      maxBuffer: 16 * 2 ** 20,
      timeout: 20 * 60_000,
    },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as ChildReport;
}

/** Each workload's row: its label, size and goal (the bar, where it sets one). */
const ROWS: Record<string, { label: string; size: (quick: boolean) => string; goal?: string }> = {
  matMul: { label: 'matMul', size: () => '512x512 · 512x512', goal: '≥ 1.6' },
  dcgan: { label: 'DCGAN step (dcgan-step.bench)', size: (q) => `batch ${q ? 8 : 64}`, goal: '≥ 1.4' },
  gpt: { label: 'GPT step (4 layers, 4 heads, width 128, AdamW, clip 1)', size: (q) => `batch ${q ? 4 : 12} × 64 tokens, vocab 98` },
  unet: { label: 'UNet step (base 32, [1,2,2], 2 res blocks, GN 8, attention 7x7)', size: (q) => `batch ${q ? 4 : 64}, 28x28x1` },
};

const suite: BenchSuite = {
  name: 'threads',
  backends: ['wasm'],
  async run(ctx) {
    const order = ctx.quick ? [1, 2] : [1, 2, 2, 1, 1, 2];
    const samples: Record<1 | 2, Record<string, number[]>> = { 1: {}, 2: {} };
    const started: Record<1 | 2, Set<number>> = { 1: new Set(), 2: new Set() };
    for (const threads of order as (1 | 2)[]) {
      const report = await child(threads, ctx.quick);
      started[threads].add(report.threads);
      for (const [name, ms] of Object.entries(report.samples)) (samples[threads][name] ??= []).push(...ms);
    }
    const results: BenchResult[] = [];
    for (const [name, row] of Object.entries(ROWS)) {
      const one = summarize(samples[1][name]!);
      const two = summarize(samples[2][name]!);
      const speedUp = one.medianMs / two.medianMs;
      results.push({
        name: `${row.label}, 2 threads`,
        size: row.size(ctx.quick),
        timing: two,
        baseline: { name: '1 thread', timing: one },
        ratio: speedUp,
        extra: {
          'speed-up 2 threads vs 1': speedUp,
          ...(row.goal ? { goal: row.goal } : {}),
          // The counts the children reported (a fallback to one thread would show here).
          'threads started': `${[...started[1]].join('/')} and ${[...started[2]].join('/')}`,
          children: `${order.length / 2} per count`,
        },
      });
    }
    return results;
  },
};

export default suite;
