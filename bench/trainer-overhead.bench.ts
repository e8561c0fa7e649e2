/**
 * Overhead of `train.AdversarialTrainer.fit` over a hand-written tfjs loop doing the same
 * work per step (D update, G update, Adam, non-saturating loss, one `await data()`): the
 * trainer adds validation, the non-finite snapshot (old values held until the step is known
 * good), the finiteness check of the new weights and optimizer slots, callbacks and the
 * event-loop yield. Target: ratio ≥ 0.97 (at most 3% slower). Both loops run `steps` steps per
 * timed call, interleaved ABBA (see `compare`: work one call leaves behind is billed to both
 * sides alike), in two like-for-like pairs: both yielding to the event loop on the trainer's
 * default cadence, and both never yielding. (A loop that never yields, timed against one that
 * does, measures the event loop rather than the trainer: deferred engine work runs at whichever
 * yield comes next. A loop that never yields also leaves the garbage collector's scheduled work
 * to the untimed drain between calls, so the yielding pair is the one to judge by.) Each row
 * also reports CPU time (medians per call): of every thread of the process, and, where Linux
 * reports it, of the calling thread alone, where the trainer's own work runs; both move less
 * than wall time with the load of other processes on the cores.
 *
 * The statistic to judge by is `paired overhead %` with its `95% CI` (see `comparePaired`): each
 * timed round's trainer call and the hand-written call beside it (same machine state: drift of
 * the machine's speed, another process's load, cancels within the pair) give one ratio, and the
 * row reports the median of those ratios with the distribution-free order-statistic 95% interval
 * of that median (exact for any distribution of the ratios, deterministic). The target holds
 * when the interval's upper end is at most 3; an interval that straddles 3 has not resolved it,
 * whatever the median says, and an interval below 0 (a trainer faster than the same work by
 * hand) flags noise or a difference in the work, not a result. Beside it, `HL overhead %` and
 * `HL 95% CI` give the Hodges–Lehmann estimate of the same pairs' overhead with its signed-rank
 * interval (on the log ratios): about a fifth narrower for the same pairs where the noise is
 * symmetric (it hits either side of a pair alike, which the ABBA order makes likely), but valid
 * only then; where the two intervals disagree the sign-test one, which assumes nothing, stands.
 * The unpaired `overhead %` (ratio of the two sides' medians) and the CPU-time columns stay for
 * comparison; the main-thread CPU time is paired the same way. Nothing of the trainer's cost is
 * left out: every call is a whole `fit` of `steps` steps, setup included, and nothing is dropped
 * except the `warmup` rounds before each comparison.
 *
 * Garbage: `npm run bench` starts Node with `--expose-gc`, and `comparePaired` then collects
 * the young generation before every timed call, untimed, so that no call inherits the other
 * side's short-lived garbage (a collection brought on by the call before lands, a few ms long,
 * in a call of a few hundred). Not a full collection: after a forced mark-compact V8 ran the
 * next few hundred ms about 1.4 times slower, on both sides alike, which diluted the ratio (see
 * `comparePaired`). The trainer's own garbage is still billed to it: it is allocated inside its
 * timed call, and every collection it brings on while the call runs is timed; what is not timed
 * is the collection of what is left when a call ends, for both sides alike, whose cost is that
 * of the live heap (the same networks and optimizers on both sides: V8 copies or marks live
 * objects, and dead ones cost nothing to free). The `GC ms/call` and `baseline GC ms/call` columns give the time each side
 * spent collecting inside its calls (Node's `PerformanceObserver` `'gc'` entries), so more
 * garbage on the trainer's side shows there too. Started without `--expose-gc` the collector
 * runs when it will, billed to whichever call it interrupts (both sides alike over the ABBA
 * order, with a wider spread).
 */
import { readFileSync } from 'node:fs';

import { defaultYieldIntervalMs, nextMacrotask } from '../src/internal.js';
import { comparePaired, formatInterval, median, pairedOverhead, type BenchResult, type BenchSuite } from './harness.js';
import { overheadSides } from './train-bench-common.js';

const SIZES = [
  { name: 'MLP 8-64-64-2 / 2-64-64-1', latent: 8, g: [8, 64, 64, 2], d: [2, 64, 64, 1], batch: 64 },
  { name: 'MLP 64-256-512-784 / 784-512-256-1', latent: 64, g: [64, 256, 512, 784], d: [784, 512, 256, 1], batch: 64 },
];

/**
 * `f`, recording the process CPU time (user + system, every thread: the wasm backend's workers
 * included) of each call, in ms. On a shared machine the CPU time of a call moves less than its
 * wall time with the load of other processes, so the ratio of CPU times is the steadier number.
 */
function cpuTimed(f: () => Promise<unknown>): { run: () => Promise<void>; ms: number[]; mainMs: number[] } {
  const ms: number[] = [];
  const mainMs: number[] = [];
  const run = async () => {
    const start = process.cpuUsage();
    const mainStart = mainThreadCpuMs();
    await f();
    const mainEnd = mainThreadCpuMs();
    const { user, system } = process.cpuUsage(start);
    ms.push((user + system) / 1000);
    if (mainStart !== undefined && mainEnd !== undefined) mainMs.push(mainEnd - mainStart);
  };
  return { run, ms, mainMs };
}

/**
 * CPU time of the process's main thread so far (ms), from Linux's `/proc/<pid>/task/<pid>/schedstat`
 * (nanoseconds on the CPU, its first field); `undefined` elsewhere.
 */
function mainThreadCpuMs(): number | undefined {
  try {
    return Number(readFileSync(`/proc/${process.pid}/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return undefined;
  }
}

/**
 * Timed pairs per comparison. The median of n per-pair overheads of spread σ has a 95%
 * half-width near 1.96 · 1.25 · σ / √n = 2.45 · σ / √n; for the interval to lie under 3 when the
 * true overhead is about 1, the half-width must be under about 2, so n ≥ (1.23 · σ)². The idle
 * spreads measured so far (wasm, 2 threads, 2 cores, garbage collected only between pairs) were
 * 7 to 14 points: n = 75 to 300. A pair costs 2 × 40 steps: about 0.6 s on the tiny MLP and
 * 2.2 s on the larger one on wasm. With the young generation collected before each call the
 * tiny MLP's spread was 10 to 13 points and the larger one's 7 to 9 (2026-12-07), so the tiny
 * MLP's yielding pair, the one to judge by, gets 500 pairs (about 5 minutes; ±1.4 at σ = 13)
 * and the larger MLP's 160 (about 6 minutes; ±1.4 at σ = 7), with fewer for the never-yielding
 * cross-checks: about 13 minutes for the suite on wasm. The row's `per-pair σ %` says whether
 * a rerun needs more. (Under a load of 7 to 10 on 2 cores σ was 27 points: no affordable n
 * resolves 3% there, and the CI says so.) The cpu reference backend runs the tiny MLP only,
 * about 1.5 s a pair, and gets the fewest.
 */
function runsFor(backend: string, net: 'tiny' | 'large', yielding: boolean): number {
  if (net === 'large') return yielding ? 160 : 20;
  if (backend !== 'wasm') return 16;
  return yielding ? 500 : 60;
}

const suite: BenchSuite = {
  name: 'trainer-overhead',
  async run(ctx) {
    const results: BenchResult[] = [];
    // Many steps per fit call, as in real use: the per-call setup (validation, callbacks,
    // iterator) is paid once per fit, and the target is about the per-step overhead.
    const steps = ctx.quick ? 5 : 40;
    // The larger MLP only on wasm: the cpu backend would take minutes for the repeated runs.
    for (const size of ctx.quick || ctx.backend !== 'wasm' ? SIZES.slice(0, 1) : SIZES) {
      const { real, trainer, hand, dispose } = overheadSides(size);
      let position = 0;
      const handLoop = (yieldIntervalMs: number) => async () => {
        let last = performance.now();
        for (let i = 0; i < steps; i++, position++) {
          await hand.step(real[position % real.length]!, position);
          if (performance.now() - last >= yieldIntervalMs) {
            await nextMacrotask();
            last = performance.now();
          }
        }
      };
      // Two like-for-like pairs: the trainer as configured by default (yielding to the event
      // loop every `yieldMs` in Node, so timers and signals run) against a hand-written loop
      // that yields on the same cadence; and both never yielding. The per-step overhead is the
      // trainer's own work: validation, the non-finite snapshot, callbacks, the loop.
      const yieldMs = defaultYieldIntervalMs();
      const pairs = [
        { label: `yielding every ${yieldMs} ms (the default)`, trainerYield: undefined, handYield: yieldMs },
        { label: 'never yielding', trainerYield: Number.POSITIVE_INFINITY, handYield: Number.POSITIVE_INFINITY },
      ];
      for (const pair of pairs) {
        const warmup = 2;
        const fit = cpuTimed(() => trainer.fit(real, { steps: trainer.step + steps, yieldIntervalMs: pair.trainerYield }));
        const loop = cpuTimed(handLoop(pair.handYield));
        const { result, pairs: timed } = await comparePaired(
          `AdversarialTrainer.fit, ${steps} steps, ${pair.label}`,
          fit.run,
          `hand-written tfjs loop, ${steps} steps, ${pair.label}`,
          loop.run,
          {
            warmup,
            runs: ctx.quick ? 3 : runsFor(ctx.backend, size.latent === 8 ? 'tiny' : 'large', pair.trainerYield === undefined),
            size: `${size.name}, batch ${size.batch}`,
          },
        );
        const fitCpu = median(fit.ms.slice(warmup));
        const loopCpu = median(loop.ms.slice(warmup));
        result.extra = {
          'overhead %': (1 / result.ratio! - 1) * 100,
          ...result.extra,
          'min-time ratio': result.baseline!.timing.minMs / result.timing.minMs,
          'trainer ms/step': result.timing.medianMs / steps,
          'CPU-time overhead %': (fitCpu / loopCpu - 1) * 100,
          'trainer CPU ms/step': fitCpu / steps,
        };
        if (fit.mainMs.length === warmup + timed.length && loop.mainMs.length === warmup + timed.length) {
          const fitMain = median(fit.mainMs.slice(warmup));
          result.extra['main-thread CPU overhead %'] = (fitMain / median(loop.mainMs.slice(warmup)) - 1) * 100;
          // The same calls' main-thread CPU times, paired as the wall times are.
          const mainPaired = pairedOverhead(
            timed.map((_, i) => ({ candidateMs: fit.mainMs[warmup + i]!, baselineMs: loop.mainMs[warmup + i]! })),
          );
          result.extra['paired main-thread CPU overhead %'] = mainPaired.medianPercent;
          result.extra['main-thread CPU 95% CI'] = formatInterval(mainPaired.ciLowPercent, mainPaired.ciHighPercent);
          result.extra['trainer main-thread CPU ms/step'] = fitMain / steps;
        }
        results.push(result);
      }
      dispose();
    }
    return results;
  },
};

export default suite;
