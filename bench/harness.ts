/**
 * Micro-benchmark harness. Every `bench/*.bench.ts` file default-exports a {@link BenchSuite};
 * `npm run bench` (bench/run.ts) runs them on each available backend and writes
 * `bench/results.json` and `bench/RESULTS.md`.
 *
 * Rules (from STYLE.md): inputs are built outside the timed region; every result is a median
 * over repeated runs after warm-up, reported with its spread, and compared to a baseline
 * measured in the same run (a ratio), never judged by a bare absolute time.
 */
import * as tf from '@tensorflow/tfjs-core';

export interface BenchContext {
  /** Active backend name. */
  backend: string;
  /** `--quick`: fewer runs and smaller sizes; the smoke test CI runs. */
  quick: boolean;
  /** Default number of timed runs (after warm-up). */
  runs: number;
  /** Default number of warm-up runs. */
  warmup: number;
}

export interface Timing {
  medianMs: number;
  p25Ms: number;
  p75Ms: number;
  minMs: number;
  maxMs: number;
  runs: number;
}

export interface BenchResult {
  /** What was timed, e.g. `'nonSaturating.discriminator + grad'`. */
  name: string;
  /** Batch size or problem size, free text. */
  size?: string;
  timing: Timing;
  /** Baseline measured in the same run, and `ratio = baseline.median / timing.median` (> 1: we are faster). */
  baseline?: { name: string; timing: Timing };
  ratio?: number;
  /** Extra numbers worth reporting (GFLOP/s, roofline ratio, ...). */
  extra?: Record<string, number | string>;
}

export interface BenchSuite {
  /** Suite name, normally the file name without `.bench.ts`. */
  name: string;
  /** Backends this suite runs on (default: every available one). */
  backends?: string[];
  run(ctx: BenchContext): Promise<BenchResult[]>;
}

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Summarizes raw samples (ms). */
export function summarize(samples: number[]): Timing {
  const s = [...samples].sort((a, b) => a - b);
  return {
    medianMs: quantile(s, 0.5),
    p25Ms: quantile(s, 0.25),
    p75Ms: quantile(s, 0.75),
    minMs: s[0]!,
    maxMs: s[s.length - 1]!,
    runs: s.length,
  };
}

/**
 * Times `fn` (sync or async): `warmup` untimed calls, then `runs` timed calls. `fn` must itself
 * wait for its results (read them with `await t.data()` or dispose them after a sync read),
 * so that the time includes the backend's work.
 */
export async function time(fn: () => unknown, { warmup = 2, runs = 10 }: { warmup?: number; runs?: number } = {}): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return summarize(samples);
}

/**
 * Lets the event loop run (timers, I/O callbacks, work the engine deferred) before a timed call,
 * outside the timed region, so that work left over by one side is never billed to the other:
 * a loop that never returns to the event loop would otherwise hand its backlog to the next one
 * that does.
 */
function drainEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Times `candidate` and `baseline` interleaved, so that load on a shared machine hits both
 * alike, and returns the result with `ratio = baseline / candidate` medians. The event loop is
 * drained before every timed call (untimed), the same for both sides. The order alternates
 * ABBA (A B, B A, A B, ...): each side follows the other as often as it follows itself, so work
 * that one call leaves behind and the drain does not absorb (a garbage collection its garbage
 * brings on, caches it filled or evicted) is billed to both sides alike rather than always to
 * the other one, and a linear drift of the machine's speed cancels.
 */
export async function compare(
  name: string,
  candidate: () => unknown,
  baselineName: string,
  baseline: () => unknown,
  { warmup = 2, runs = 10, size }: { warmup?: number; runs?: number; size?: string } = {},
): Promise<BenchResult> {
  for (let i = 0; i < warmup; i++) {
    await candidate();
    await baseline();
  }
  const a: number[] = [];
  const b: number[] = [];
  const timed = async (f: () => unknown, samples: number[]): Promise<void> => {
    await drainEventLoop();
    const t0 = performance.now();
    await f();
    samples.push(performance.now() - t0);
  };
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) {
      await timed(candidate, a);
      await timed(baseline, b);
    } else {
      await timed(baseline, b);
      await timed(candidate, a);
    }
  }
  const timing = summarize(a);
  const base = summarize(b);
  return { name, size, timing, baseline: { name: baselineName, timing: base }, ratio: base.medianMs / timing.medianMs };
}

/** Runs `f` inside tf.tidy and waits for every returned tensor's data (never returns data from tidy). */
export async function settle(f: () => tf.TensorContainer): Promise<void> {
  const out = tf.tidy(f);
  const tensors: tf.Tensor[] = [];
  const walk = (x: unknown): void => {
    if (x instanceof tf.Tensor) tensors.push(x);
    else if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === 'object') Object.values(x).forEach(walk);
  };
  walk(out);
  await Promise.all(tensors.map((t) => t.data()));
  tf.dispose(out);
}
