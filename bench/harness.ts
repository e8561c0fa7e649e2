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

/**
 * The module this process was started with `--import` (its TypeScript loader, e.g.
 * `./bench/loader/register.mjs` or `tsx`), or `undefined`. Child processes pass it on, and
 * `run.ts` records it with the results.
 */
export function importedLoader(): string | undefined {
  const i = process.execArgv.indexOf('--import');
  if (i >= 0) return process.execArgv[i + 1];
  return process.execArgv.find((a) => a.startsWith('--import='))?.slice('--import='.length);
}

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

/** One timed call of each side, adjacent in time (in either order): the unit of a paired comparison. */
export interface TimedPair {
  candidateMs: number;
  baselineMs: number;
}

/**
 * The order of the sides in each of `runs` rounds: `'AB'` (candidate first) on even rounds,
 * `'BA'` on odd ones, so the sequence reads A B, B A, A B, B A, ... (ABBA).
 */
export function abbaOrder(runs: number): Array<'AB' | 'BA'> {
  return Array.from({ length: runs }, (_, i) => (i % 2 === 0 ? 'AB' : 'BA'));
}

/**
 * Runs `warmup` untimed rounds, then `runs` timed rounds of one call of each side in
 * {@link abbaOrder}; each round's two calls make one {@link TimedPair}. The event loop is drained
 * before every timed call (untimed), the same for both sides; `betweenPairs` (untimed) runs
 * before each timed round, and `beforeCall` (untimed) before each timed call, after the drain.
 */
export async function interleave(
  candidate: () => unknown,
  baseline: () => unknown,
  {
    warmup = 2,
    runs = 10,
    betweenPairs,
    beforeCall,
  }: { warmup?: number; runs?: number; betweenPairs?: () => unknown; beforeCall?: () => unknown } = {},
): Promise<TimedPair[]> {
  for (let i = 0; i < warmup; i++) {
    await candidate();
    await baseline();
  }
  const timed = async (f: () => unknown): Promise<number> => {
    await drainEventLoop();
    await beforeCall?.();
    const t0 = performance.now();
    await f();
    return performance.now() - t0;
  };
  const pairs: TimedPair[] = [];
  for (const order of abbaOrder(runs)) {
    await betweenPairs?.();
    if (order === 'AB') {
      const candidateMs = await timed(candidate);
      pairs.push({ candidateMs, baselineMs: await timed(baseline) });
    } else {
      const baselineMs = await timed(baseline);
      pairs.push({ candidateMs: await timed(candidate), baselineMs });
    }
  }
  return pairs;
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
  return resultOf(name, baselineName, size, await interleave(candidate, baseline, { warmup, runs }));
}

function resultOf(name: string, baselineName: string, size: string | undefined, pairs: TimedPair[]): BenchResult {
  const timing = summarize(pairs.map((p) => p.candidateMs));
  const base = summarize(pairs.map((p) => p.baselineMs));
  return { name, size, timing, baseline: { name: baselineName, timing: base }, ratio: base.medianMs / timing.medianMs };
}

/** The median of `values` (the mean of the middle two for an even count); `NaN` for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  return quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

/**
 * Distribution-free confidence interval of a median from order statistics: with the `n` values
 * sorted, `[x₍ₖ₎, x₍ₙ₊₁₋ₖ₎]` (1-based ranks) covers the population median with probability
 * `1 − 2·P(X ≤ k − 1)`, `X ~ Binomial(n, ½)` (the sign-test interval), and `k` is the largest
 * rank that keeps that coverage at least `level`. Exact for any continuous distribution, no
 * resampling, so deterministic. `undefined` when `n` is too small for `level` (n < 6 for 95%).
 *
 * @see https://en.wikipedia.org/wiki/Median#Confidence_intervals (order-statistic interval)
 */
export function medianConfidenceInterval(
  values: readonly number[],
  level = 0.95,
): { low: number; high: number; lowRank: number; highRank: number; coverage: number } | undefined {
  const n = values.length;
  if (!(level > 0 && level < 1)) throw new RangeError(`medianConfidenceInterval: level must be in (0, 1), received ${level}`);
  if (n > 1000) throw new RangeError(`medianConfidenceInterval: at most 1000 values, received ${n}`);
  // cdf[j] = P(X ≤ j) for X ~ Binomial(n, ½); terms C(n, i)·2⁻ⁿ by the ratio C(n, i+1)/C(n, i) = (n − i)/(i + 1).
  const tail = (1 - level) / 2;
  let term = 0.5 ** n;
  let cdf = term;
  let k = 0;
  for (let j = 0; cdf <= tail + 1e-12 && j < n; j++) {
    k = j + 1; // P(X ≤ k − 1) = cdf ≤ tail: rank k keeps the coverage.
    term = (term * (n - j)) / (j + 1);
    cdf += term;
  }
  if (k === 0) return undefined;
  // Coverage 1 − 2·P(X ≤ k − 1), recomputed exactly for the chosen k.
  let below = 0;
  let t = 0.5 ** n;
  for (let i = 0; i < k; i++) {
    below += t;
    t = (t * (n - i)) / (i + 1);
  }
  const sorted = [...values].sort((a, b) => a - b);
  return { low: sorted[k - 1]!, high: sorted[n - k]!, lowRank: k, highRank: n + 1 - k, coverage: 1 - 2 * below };
}

/**
 * The candidate's overhead over the baseline from paired runs: each pair's ratio
 * `candidateMs / baselineMs − 1` (in %), their median, and the order-statistic 95% interval of
 * that median ({@link medianConfidenceInterval}; the transform is monotone, so it is the interval
 * of the median ratio). Adjacent runs share the machine's state, so a drift of its speed cancels
 * within each pair instead of widening both sides' spreads. `spreadPercent` is a robust σ of the
 * per-pair overheads (interquartile range / 1.349): the interval's half-width is about
 * `1.96 · 1.25 · σ / √n`, so `n ≈ (2.45 · σ / h)²` pairs give a half-width `h`.
 */
export function pairedOverhead(pairs: readonly TimedPair[]): {
  medianPercent: number;
  ciLowPercent: number | undefined;
  ciHighPercent: number | undefined;
  coverage: number | undefined;
  spreadPercent: number;
} {
  const overheads = pairs.map((p) => (p.candidateMs / p.baselineMs - 1) * 100);
  const ci = medianConfidenceInterval(overheads);
  const sorted = [...overheads].sort((a, b) => a - b);
  // A robust σ of the per-pair overheads: the interquartile range over 1.349, that of a normal law.
  const spreadPercent = overheads.length === 0 ? Number.NaN : (quantile(sorted, 0.75) - quantile(sorted, 0.25)) / 1.349;
  return { medianPercent: median(overheads), ciLowPercent: ci?.low, ciHighPercent: ci?.high, coverage: ci?.coverage, spreadPercent };
}

/**
 * The lower critical value of the Wilcoxon signed-rank statistic: the largest `c` with
 * `P(T⁺ ≤ c) ≤ (1 − level)/2`, where `T⁺` is the sum of the ranks `1 … n` that carry a plus sign
 * when each sign is a fair coin (the null distribution of the signed-rank test); -1 when no `c`
 * qualifies (n < 6 at 95%). Exact: `P(T⁺ = s)` by dynamic programming over the ranks (each rank
 * is in the sum or not with probability ½), kept below the distribution's mean, where the lower
 * tail lies.
 *
 * @see https://en.wikipedia.org/wiki/Wilcoxon_signed-rank_test
 */
export function signedRankCriticalValue(n: number, level = 0.95): number {
  if (!(level > 0 && level < 1)) throw new RangeError(`signedRankCriticalValue: level must be in (0, 1), received ${level}`);
  if (!Number.isInteger(n) || n < 0 || n > 1000)
    throw new RangeError(`signedRankCriticalValue: n must be an integer in [0, 1000], received ${n}`);
  const cap = Math.floor((n * (n + 1)) / 4); // the mean of T⁺: the lower tail lies below it
  let p = new Float64Array(cap + 1);
  p[0] = 1;
  for (let rank = 1; rank <= n; rank++) {
    const next = new Float64Array(cap + 1);
    for (let s = 0; s <= cap; s++) next[s] = 0.5 * (p[s]! + (s >= rank ? p[s - rank]! : 0));
    p = next;
  }
  const tail = (1 - level) / 2;
  let cdf = 0;
  let c = -1;
  for (let s = 0; s <= cap; s++) {
    cdf += p[s]!;
    if (cdf > tail + 1e-12) break;
    c = s;
  }
  return c;
}

/**
 * The Hodges–Lehmann estimate of the center of `values` and its confidence interval from the
 * signed-rank test: with the `N = n(n+1)/2` Walsh averages `(xᵢ + xⱼ)/2` (i ≤ j) sorted, the
 * estimate is their median and the interval `[W₍c+1₎, W₍N−c₎]` (1-based), `c` the
 * {@link signedRankCriticalValue}. It covers the center of any distribution symmetric about it
 * with probability at least `level`, exactly (no resampling), and is narrower than the sign-test
 * interval of the median ({@link medianConfidenceInterval}) when the values are near normal (its
 * asymptotic efficiency is 0.955 against the mean's, the median's 0.64: the same width from
 * about two thirds of the values). `undefined` when `n` is too small for `level`.
 *
 * @see https://en.wikipedia.org/wiki/Hodges%E2%80%93Lehmann_estimator
 */
export function hodgesLehmannInterval(
  values: readonly number[],
  level = 0.95,
): { estimate: number; low: number; high: number } | undefined {
  const n = values.length;
  if (n > 1000) throw new RangeError(`hodgesLehmannInterval: at most 1000 values, received ${n}`);
  const c = signedRankCriticalValue(n, level);
  if (c < 0) return undefined;
  const walsh = new Float64Array((n * (n + 1)) / 2);
  let k = 0;
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) walsh[k++] = (values[i]! + values[j]!) / 2;
  walsh.sort();
  return { estimate: quantile(Array.from(walsh), 0.5), low: walsh[c]!, high: walsh[walsh.length - 1 - c]! };
}

/**
 * The candidate's overhead over the baseline as a Hodges–Lehmann estimate with its signed-rank
 * 95% interval ({@link hodgesLehmannInterval}), computed on the per-pair log ratios
 * `ln(candidateMs / baselineMs)` and given back as `exp(·) − 1` in %. The log makes a slowdown
 * by a factor and a speed-up by the same factor equal and opposite, so that noise hitting either
 * side of a pair alike (the ABBA order) is symmetric, as the interval needs. Where the per-pair
 * ratios are not symmetric about their center, trust the sign-test interval of
 * {@link pairedOverhead}, which assumes nothing.
 */
export function pairedOverheadHodgesLehmann(
  pairs: readonly TimedPair[],
): { estimatePercent: number; ciLowPercent: number; ciHighPercent: number } | undefined {
  const hl = hodgesLehmannInterval(pairs.map((p) => Math.log(p.candidateMs / p.baselineMs)));
  if (!hl) return undefined;
  const percent = (x: number) => (Math.exp(x) - 1) * 100;
  return { estimatePercent: percent(hl.estimate), ciLowPercent: percent(hl.low), ciHighPercent: percent(hl.high) };
}

/** The format of a confidence interval in the `extra` columns: `-0.40 … 2.10` (two decimals). */
export function formatInterval(low: number | undefined, high: number | undefined): string {
  return low === undefined || high === undefined ? 'n/a (too few pairs)' : `${low.toFixed(2)} … ${high.toFixed(2)}`;
}

/** A garbage collection as a `PerformanceObserver` of `'gc'` entries reports it: when it began and how long it took (ms, `performance.now()` time). */
export interface GcEvent {
  startMs: number;
  durationMs: number;
}

/**
 * The time each call spent in garbage collection: for each window `[startMs, endMs)` (one timed
 * call), the summed `durationMs` of the collections that began inside it. A collection that
 * began before a call (the untimed `gc()` before it, or one the call before left running) is
 * not that call's; one that began inside a call is counted whole, even where it ran past the
 * call's end (the call's time includes it then). Windows must not overlap.
 */
export function gcTimePerCall(events: readonly GcEvent[], windows: readonly { startMs: number; endMs: number }[]): number[] {
  return windows.map(({ startMs, endMs }) => {
    let total = 0;
    for (const e of events) if (e.startMs >= startMs && e.startMs < endMs) total += e.durationMs;
    return total;
  });
}

/** Records garbage collections (Node's `PerformanceObserver` `'gc'` entries) until `stop()`; records nothing where that is not available. */
function observeGc(): { events: GcEvent[]; stop: () => Promise<void> } {
  const events: GcEvent[] = [];
  const Observer = (globalThis as { PerformanceObserver?: typeof PerformanceObserver }).PerformanceObserver;
  let observer: PerformanceObserver | undefined;
  try {
    observer = Observer
      ? new Observer((list) => {
          for (const e of list.getEntries()) events.push({ startMs: e.startTime, durationMs: e.duration });
        })
      : undefined;
    observer?.observe({ entryTypes: ['gc'] });
  } catch {
    observer = undefined;
  }
  const stop = async (): Promise<void> => {
    // Entries are delivered after the collection, on a later turn of the event loop.
    await drainEventLoop();
    await drainEventLoop();
    observer?.disconnect();
  };
  return { events, stop };
}

/**
 * {@link compare} for a comparison that must resolve a few percent (the trainer-overhead bench):
 * the same ABBA rounds and columns, plus the paired overhead (the median of the rounds' ratios,
 * {@link pairedOverhead}) and its 95% interval in `extra` (`'paired overhead %'`, `'95% CI'`,
 * `'pairs'`, and `'per-pair σ %'` to size the run count), and the Hodges–Lehmann estimate of the
 * same overhead with its signed-rank interval (`'HL overhead %'`, `'HL 95% CI'`,
 * {@link pairedOverheadHodgesLehmann}): narrower for the same pairs where the per-pair log ratios
 * are symmetric about their center, which noise that hits either side of a pair alike gives.
 *
 * Garbage. Where Node was started with `--expose-gc` (`npm run bench` does), a collection of the
 * young generation (`gc({ type: 'minor' })`, a scavenge) runs before every timed call, untimed,
 * so that no call inherits the short-lived garbage of the one before it (without it, a
 * collection that one side's garbage brings on lands in whichever call it interrupts, a few ms
 * on calls of a few hundred, which widens the per-pair spread). Not a full collection: a forced
 * mark-compact leaves V8 slower for a while after it (measured 2026-12-07, wasm, 2 threads, the
 * tiny MLP of the trainer-overhead bench, three interleaved pairs of processes: 7.6, 8.3 and
 * 9.1 ms per step after a full collection against 6.2, 5.3 and 5.9 after none, with a wider
 * per-pair spread, 16 to 20% against 10 to 20%), a state that a training run rarely sees and that
 * adds the same cost to both sides of a pair, so that it shrank the overhead ratio it was meant
 * to resolve. Each side's own garbage stays billed to it: allocating it, and
 * every collection it brings on while the call runs, are inside the timed call; only the
 * collection of what is left when a call ends is untimed, for both sides alike, and its cost
 * is that of the live heap (the same models on both sides), not of the garbage (V8 copies or
 * marks live objects; dead ones cost nothing to free). The time each call spent collecting is
 * reported per side (`'GC ms/call'` medians, from Node's `PerformanceObserver` `'gc'` entries),
 * so a side that makes more garbage shows it there as well as in its time.
 *
 * Returns the pairs too, for statistics of other measures taken by the sides themselves (CPU
 * time), and each timed call's GC time (`gcMs`, empty where Node does not report collections).
 */
export async function comparePaired(
  name: string,
  candidate: () => unknown,
  baselineName: string,
  baseline: () => unknown,
  { warmup = 2, runs = 10, size }: { warmup?: number; runs?: number; size?: string } = {},
): Promise<{ result: BenchResult; pairs: TimedPair[]; gcMs: { candidate: number[]; baseline: number[] } }> {
  const gc = (globalThis as { gc?: (options?: { type: 'minor' | 'major' }) => void }).gc;
  const windows = { candidate: [] as { startMs: number; endMs: number }[], baseline: [] as { startMs: number; endMs: number }[] };
  const windowed = (f: () => unknown, list: { startMs: number; endMs: number }[]) => async () => {
    const startMs = performance.now();
    await f();
    list.push({ startMs, endMs: performance.now() });
  };
  const observed = observeGc();
  let pairs: TimedPair[];
  try {
    pairs = await interleave(windowed(candidate, windows.candidate), windowed(baseline, windows.baseline), {
      warmup,
      runs,
      beforeCall: typeof gc === 'function' ? () => gc({ type: 'minor' }) : undefined,
    });
  } finally {
    await observed.stop();
  }
  const gcMs = {
    candidate: observed.events.length ? gcTimePerCall(observed.events, windows.candidate.slice(warmup)) : [],
    baseline: observed.events.length ? gcTimePerCall(observed.events, windows.baseline.slice(warmup)) : [],
  };
  const result = resultOf(name, baselineName, size, pairs);
  const paired = pairedOverhead(pairs);
  result.extra = {
    'paired overhead %': paired.medianPercent,
    '95% CI': formatInterval(paired.ciLowPercent, paired.ciHighPercent),
    pairs: pairs.length,
    'per-pair σ %': paired.spreadPercent,
  };
  const hl = pairedOverheadHodgesLehmann(pairs);
  if (hl) {
    result.extra['HL overhead %'] = hl.estimatePercent;
    result.extra['HL 95% CI'] = formatInterval(hl.ciLowPercent, hl.ciHighPercent);
  }
  result.extra['garbage collected before each call'] = typeof gc === 'function' ? 'young generation' : 'no (node without --expose-gc)';
  if (gcMs.candidate.length > 0) {
    result.extra['GC ms/call'] = median(gcMs.candidate);
    result.extra['baseline GC ms/call'] = median(gcMs.baseline);
  }
  return { result, pairs, gcMs };
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
