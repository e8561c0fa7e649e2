/**
 * PyTorch CPU beside the step benchmarks (not a suite: no `.bench.ts` suffix). Finds a Python
 * that imports `torch` and runs `bench/pytorch/steps.py`, which times the same network and step
 * in PyTorch at 1 and 2 threads (each in a fresh process) and reports the best. Where no such
 * Python exists, every function here returns `undefined` or no columns, and the suites skip the
 * comparison silently. How to install PyTorch from Debian's packages: bench/README.md.
 *
 * The Python is, in order: `GENBLOCKS_PYTORCH_PYTHON` when set (`none` or empty: no PyTorch),
 * `python3` on PATH, `/usr/bin/python3` (Debian's interpreter, where `python3-torch` installs;
 * a pyenv or venv `python3` first on PATH usually lacks it).
 */
import { execFile, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import type * as tfl from '@tensorflow/tfjs-layers';

import type { BenchContext } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);

/** The steps `bench/pytorch/steps.py` times. */
export type PytorchNet = 'mlp-gan' | 'dcgan' | 'gpt' | 'unet' | 'unet-sample' | 'pixelcnn';

/** A step's timing at one thread count (ms). */
export interface PytorchTiming {
  medianMs: number;
  p25Ms: number;
  p75Ms: number;
  runs: number;
}

/** What `steps.py` prints. */
export interface PytorchStep {
  net: PytorchNet;
  batch: number;
  /** Trainable parameters of PyTorch's network (equal to genblocks' by construction). */
  params: number;
  /** The step PyTorch ran, in words. */
  recipe: string;
  /** `torch.__version__`. */
  torch: string;
  /** The BLAS the process loaded: 'openblas', 'reference' (about 20x slower products) or 'unknown'. */
  blas: string;
  /** Timing per thread count ('1', '2'). */
  threads: Record<string, PytorchTiming>;
  /** The faster thread count and its median. */
  best: { threads: number; medianMs: number };
}

let found: string | null | undefined;

/** The first Python that imports torch (see the module comment), or `undefined`. Cached. */
export function pytorchPython(): string | undefined {
  if (found !== undefined) return found ?? undefined;
  const override = process.env['GENBLOCKS_PYTORCH_PYTHON'];
  const candidates = override !== undefined ? (override === '' || override === 'none' ? [] : [override]) : ['python3', '/usr/bin/python3'];
  found = null;
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
    if (probe.status === 0) {
      found = python;
      break;
    }
  }
  return found ?? undefined;
}

/**
 * Times `net`'s step in PyTorch (`steps.py`, best of the thread counts), or `undefined` where no
 * Python has torch or the script fails (then with a warning on stderr).
 *
 * @param net - which step.
 * @param options - `batch` (the script's default: the suite's), `warmup`, `repeats`, `threads` ('1,2').
 */
export async function pytorchStep(
  net: PytorchNet,
  options: { batch?: number; warmup?: number; repeats?: number; threads?: string } = {},
): Promise<PytorchStep | undefined> {
  const python = pytorchPython();
  if (python === undefined) return undefined;
  const { batch, warmup = 3, repeats = 15, threads = '1,2' } = options;
  const args = [join(here, 'pytorch', 'steps.py'), net, '--warmup', String(warmup), '--repeats', String(repeats), '--threads', threads];
  if (batch !== undefined) args.push('--batch', String(batch));
  try {
    const { stdout } = await run(python, args, { maxBuffer: 1 << 20 });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as PytorchStep;
  } catch (e) {
    console.warn(`  warning: PyTorch ${net} step failed (${python}): ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    return undefined;
  }
}

/**
 * The `extra` columns a step suite prints beside its own median: PyTorch's best median, its
 * thread count and `PyTorch / genblocks` (> 1: genblocks is faster), with a warning column when
 * the parameter counts differ or PyTorch runs the reference BLAS. Empty under `--quick` and where
 * PyTorch is absent.
 *
 * @param net - which step.
 * @param genblocksMs - genblocks' median for the same step (ms).
 * @param params - genblocks' trainable parameter count of the same network.
 * @param ctx - the suite's context (`quick` skips PyTorch; `runs` and `warmup` are reused).
 * @param batch - the batch both sides run.
 */
export async function pytorchColumns(
  net: PytorchNet,
  genblocksMs: number,
  params: number,
  ctx: BenchContext,
  batch: number,
): Promise<Record<string, number | string>> {
  if (ctx.quick) return {};
  const step = await pytorchStep(net, { batch, warmup: Math.max(1, ctx.warmup), repeats: ctx.runs });
  if (step === undefined) return {};
  const columns: Record<string, number | string> = {
    [`PyTorch ${step.torch} CPU ms (best of ${Object.keys(step.threads).join(', ')} threads)`]: step.best.medianMs,
    'PyTorch threads': step.best.threads,
    'PyTorch / genblocks': step.best.medianMs / genblocksMs,
  };
  for (const [n, t] of Object.entries(step.threads)) columns[`PyTorch ms at ${n} thread${n === '1' ? '' : 's'}`] = t.medianMs;
  if (step.params !== params) columns['PyTorch WARNING'] = `network differs: ${step.params} parameters, genblocks ${params}`;
  if (step.blas !== 'openblas') columns['PyTorch BLAS'] = `${step.blas} (install libopenblas0-pthread: bench/README.md)`;
  return columns;
}

/** Trainable parameters of tfjs-layers models (the count PyTorch's `parameters()` gives; batch-norm statistics excluded). */
export function trainableParams(...models: tfl.LayersModel[]): number {
  return models.reduce((s, m) => s + m.trainableWeights.reduce((t, w) => t + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0), 0);
}
