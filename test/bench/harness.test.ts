/**
 * The statistics of bench/harness.ts: the ABBA order, the pairing of adjacent runs, medians, the
 * order-statistic confidence interval of a median and the paired overhead. Nothing here is timed:
 * the clock (`performance.now`) is replaced by one that each fake side advances by a fixed amount.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

import {
  abbaOrder,
  compare,
  comparePaired,
  formatInterval,
  gcTimePerCall,
  hodgesLehmannInterval,
  interleave,
  median,
  medianConfidenceInterval,
  pairedOverhead,
  pairedOverheadHodgesLehmann,
  signedRankCriticalValue,
} from '../../bench/harness.js';

/** A fake clock: `advance(ms)` moves `performance.now()` forward; each side records its calls in `log`. */
function fakeClock(): { advance: (ms: number) => void; log: string[] } {
  let now = 0;
  vi.spyOn(performance, 'now').mockImplementation(() => now);
  return { advance: (ms) => void (now += ms), log: [] };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('abbaOrder', () => {
  it('alternates candidate-first and baseline-first rounds', () => {
    // A B, B A, A B, B A, A B: each side follows the other as often as it follows itself.
    expect(abbaOrder(5)).toEqual(['AB', 'BA', 'AB', 'BA', 'AB']);
    expect(abbaOrder(0)).toEqual([]);
  });
});

describe('interleave', () => {
  it('runs warm-up rounds untimed, then pairs each candidate call with the baseline call beside it', async () => {
    const clock = fakeClock();
    let a = 0;
    let b = 0;
    // Call k of the candidate takes 10 + k ms, call k of the baseline 100 + k ms (k counts from 0,
    // warm-up included), so each pair's values say which calls were paired.
    const candidate = () => (clock.log.push(`A${a}`), clock.advance(10 + a++));
    const baseline = () => (clock.log.push(`B${b}`), clock.advance(100 + b++));
    let between = 0;
    const pairs = await interleave(candidate, baseline, { warmup: 2, runs: 4, betweenPairs: () => void between++ });
    // Warm-up: A0 B0 A1 B1; then rounds AB, BA, AB, BA.
    expect(clock.log).toEqual(['A0', 'B0', 'A1', 'B1', 'A2', 'B2', 'B3', 'A3', 'A4', 'B4', 'B5', 'A5']);
    expect(pairs).toEqual([
      { candidateMs: 12, baselineMs: 102 },
      { candidateMs: 13, baselineMs: 103 },
      { candidateMs: 14, baselineMs: 104 },
      { candidateMs: 15, baselineMs: 105 },
    ]);
    expect(between).toBe(4); // once before each timed round, never in the warm-up
  });

  it('runs beforeCall before every timed call, untimed, and never in the warm-up', async () => {
    const clock = fakeClock();
    // beforeCall takes 1000 ms of the fake clock: the pairs show none of it.
    const candidate = () => (clock.log.push('A'), clock.advance(10));
    const baseline = () => (clock.log.push('B'), clock.advance(20));
    const pairs = await interleave(candidate, baseline, {
      warmup: 1,
      runs: 2,
      beforeCall: () => (clock.log.push('gc'), clock.advance(1000)),
    });
    // Warm-up A B; then round AB, round BA, each call preceded by 'gc'.
    expect(clock.log).toEqual(['A', 'B', 'gc', 'A', 'gc', 'B', 'gc', 'B', 'gc', 'A']);
    expect(pairs).toEqual([
      { candidateMs: 10, baselineMs: 20 },
      { candidateMs: 10, baselineMs: 20 },
    ]);
  });
});

describe('gcTimePerCall', () => {
  it('sums the collections that began inside each window', () => {
    // Windows [0, 10), [10, 25), [30, 40). Collections at 2 (1.5 ms) and 9.9 (0.5 ms) fall in the
    // first: 2; one at 10 (3 ms) in the second: 3 (begun inside, counted whole though it ends
    // at 13); one at 26 (4 ms) between windows: nobody's (an untimed gc()); one at 39.5 running
    // past the third window's end (2 ms): counted whole, 2; one at 40 (7 ms) is after it.
    const events = [
      { startMs: 2, durationMs: 1.5 },
      { startMs: 9.9, durationMs: 0.5 },
      { startMs: 10, durationMs: 3 },
      { startMs: 26, durationMs: 4 },
      { startMs: 39.5, durationMs: 2 },
      { startMs: 40, durationMs: 7 },
    ];
    const windows = [
      { startMs: 0, endMs: 10 },
      { startMs: 10, endMs: 25 },
      { startMs: 30, endMs: 40 },
    ];
    expect(gcTimePerCall(events, windows)).toEqual([2, 3, 2]);
    expect(gcTimePerCall([], windows)).toEqual([0, 0, 0]);
  });
});

describe('compare and comparePaired', () => {
  const sides = (clock: ReturnType<typeof fakeClock>, candidateMs: number[], baselineMs: number[]) => {
    let a = 0;
    let b = 0;
    return {
      candidate: () => clock.advance(candidateMs[a++]!),
      baseline: () => clock.advance(baselineMs[b++]!),
    };
  };

  it('compare reports both medians and their ratio, unchanged by pairing', async () => {
    const clock = fakeClock();
    // No warm-up; candidate 1, 3, 2 ms (median 2), baseline 4, 8, 6 ms (median 6): ratio 6 / 2 = 3.
    const { candidate, baseline } = sides(clock, [1, 3, 2], [4, 8, 6]);
    const r = await compare('c', candidate, 'b', baseline, { warmup: 0, runs: 3 });
    expect(r.timing.medianMs).toBe(2);
    expect(r.baseline!.timing.medianMs).toBe(6);
    expect(r.ratio).toBe(3);
    expect(r.extra).toBeUndefined();
  });

  it('comparePaired adds the median of the per-pair overheads and its 95% interval', async () => {
    const clock = fakeClock();
    // Six pairs on a machine whose speed drifts (baseline 100 ... 600 ms); per-pair overheads
    // 2, -1, 3, 0, 5, 1 % (candidate = baseline · (1 + o/100)). Sorted: -1 0 1 2 3 5, median 1.5;
    // n = 6: the 95% interval is [x(1), x(6)] = [-1, 5] (see medianConfidenceInterval below).
    const base = [100, 200, 300, 400, 500, 600];
    const overhead = [2, -1, 3, 0, 5, 1];
    const { candidate, baseline } = sides(
      clock,
      base.map((v, i) => v * (1 + overhead[i]! / 100)),
      base,
    );
    const { result, pairs } = await comparePaired('c', candidate, 'b', baseline, { warmup: 0, runs: 6 });
    expect(pairs).toHaveLength(6);
    expect(result.extra!['paired overhead %']).toBeCloseTo(1.5, 10);
    expect(result.extra!['95% CI']).toBe('-1.00 … 5.00');
    expect(result.extra!['pairs']).toBe(6);
    // Quartiles of -1 0 1 2 3 5 (linear interpolation, positions 1.25 and 3.75): 0.25 and 2.75;
    // σ = 2.5 / 1.349.
    expect(result.extra!['per-pair σ %']).toBeCloseTo(2.5 / 1.349, 10);
    // The unpaired medians are still reported: candidate 102, 198, 309, 400, 525, 606, median
    // (309 + 400) / 2 = 354.5; baseline (300 + 400) / 2 = 350.
    expect(result.timing.medianMs).toBeCloseTo(354.5, 10);
    expect(result.baseline!.timing.medianMs).toBe(350);
    expect(result.extra!['garbage collected before each call']).toMatch(/^no/);
  });

  it('comparePaired collects the young generation before every timed call where gc() is exposed, never in the warm-up', async () => {
    const clock = fakeClock();
    const { candidate, baseline } = sides(clock, [1, 1, 1, 1, 1], [2, 2, 2, 2, 2]);
    const g = globalThis as { gc?: (options?: unknown) => void };
    const had = g.gc;
    const calls: unknown[] = [];
    g.gc = (options?: unknown) => void calls.push(options);
    try {
      // One warm-up round (2 calls, no gc), then 4 timed rounds: 8 timed calls, 8 minor collections.
      const { result } = await comparePaired('c', candidate, 'b', baseline, { warmup: 1, runs: 4 });
      expect(calls).toEqual(Array.from({ length: 8 }, () => ({ type: 'minor' })));
      expect(result.extra!['garbage collected before each call']).toBe('young generation');
    } finally {
      if (had === undefined) delete g.gc;
      else g.gc = had;
    }
  });
});

describe('median', () => {
  it('is the middle value, or the mean of the middle two', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});

describe('medianConfidenceInterval', () => {
  it('n = 10: ranks 2 and 9, coverage 1 − 2·11/1024', () => {
    // P(X ≤ 1) = (1 + 10)/1024 = 0.0107 ≤ 0.025 < P(X ≤ 2) = 56/1024, X ~ Bin(10, ½): k = 2.
    const ci = medianConfidenceInterval([7, 3, 10, 1, 5, 9, 2, 8, 4, 6])!;
    expect(ci).toMatchObject({ low: 2, high: 9, lowRank: 2, highRank: 9 });
    expect(ci.coverage).toBeCloseTo(1 - 22 / 1024, 12);
  });

  it('n = 20: ranks 6 and 15 (the standard sign-test table), coverage 1 − 2·21700/2²⁰', () => {
    // P(X ≤ 5) = (1 + 20 + 190 + 1140 + 4845 + 15504)/2²⁰ = 21700/1048576 = 0.0207 ≤ 0.025;
    // P(X ≤ 6) adds C(20, 6) = 38760: 0.0577 > 0.025.
    const values = Array.from({ length: 20 }, (_, i) => (i * 7) % 20); // 0..19, shuffled
    const ci = medianConfidenceInterval(values)!;
    expect(ci).toMatchObject({ low: 5, high: 14, lowRank: 6, highRank: 15 });
    expect(ci.coverage).toBeCloseTo(1 - 43400 / 1048576, 12);
  });

  it('n = 60 (the large MLP run count): ranks 22 and 39', () => {
    // Python: sum(comb(60, j) for j in range(22)) = 15760514137668514, / 2**60 = 0.01367 ≤ 0.025,
    // and P(X ≤ 22) = 0.0259 > 0.025; coverage 1 − 2·0.01367 = 0.97266.
    const ci = medianConfidenceInterval(Array.from({ length: 60 }, (_, i) => 60 - i))!;
    expect(ci).toMatchObject({ low: 22, high: 39, lowRank: 22, highRank: 39 });
    expect(ci.coverage).toBeCloseTo(1 - (2 * 15760514137668514) / 2 ** 60, 12);
  });

  it('n = 6 is the smallest with a 95% interval: the extremes, coverage 1 − 2/64', () => {
    expect(medianConfidenceInterval([6, 1, 5, 2, 4, 3])).toMatchObject({ low: 1, high: 6, coverage: 1 - 2 / 64 });
    // n = 5: P(X = 0) = 1/32 = 0.031 > 0.025, no interval reaches 95%.
    expect(medianConfidenceInterval([1, 2, 3, 4, 5])).toBeUndefined();
  });

  it('takes another level: n = 8 at 90% gives ranks 2 and 7', () => {
    // P(X ≤ 1) = 9/256 = 0.035 ≤ 0.05 < P(X ≤ 2) = 37/256 = 0.145: k = 2, coverage 1 − 18/256.
    const ci = medianConfidenceInterval([8, 7, 6, 5, 4, 3, 2, 1], 0.9)!;
    expect(ci).toMatchObject({ low: 2, high: 7, coverage: 1 - 18 / 256 });
  });

  it('rejects a level outside (0, 1) and more than 1000 values', () => {
    expect(() => medianConfidenceInterval([1, 2, 3, 4, 5, 6], 1)).toThrow(/level must be in \(0, 1\), received 1/);
    expect(() => medianConfidenceInterval(new Array<number>(1001).fill(0))).toThrow(/at most 1000 values, received 1001/);
  });
});

describe('pairedOverhead', () => {
  it('is unmoved by a drift of the machine between pairs', () => {
    // The candidate is exactly 2% slower in every pair while the machine slows down over the run
    // (baseline 100 → 190 ms): per-pair overheads are all 2%, so the median and both ends of
    // the interval (n = 10: ranks 2 and 9) are 2.
    const pairs = Array.from({ length: 10 }, (_, i) => ({ candidateMs: (100 + 10 * i) * 1.02, baselineMs: 100 + 10 * i }));
    const p = pairedOverhead(pairs);
    expect(p.medianPercent).toBeCloseTo(2, 10);
    expect(p.ciLowPercent).toBeCloseTo(2, 10);
    expect(p.ciHighPercent).toBeCloseTo(2, 10);
    expect(p.coverage).toBeCloseTo(1 - 22 / 1024, 12);
    expect(p.spreadPercent).toBeCloseTo(0, 10);
  });

  it('has no interval with fewer than 6 pairs', () => {
    const p = pairedOverhead([{ candidateMs: 11, baselineMs: 10 }]);
    expect(p.medianPercent).toBeCloseTo(10, 10);
    expect(p.ciLowPercent).toBeUndefined();
    expect(formatInterval(p.ciLowPercent, p.ciHighPercent)).toBe('n/a (too few pairs)');
  });
});

describe('signedRankCriticalValue', () => {
  it('matches a brute-force count over every sign pattern (n = 6 … 14)', () => {
    // Oracle: enumerate the 2^n subsets of the ranks 1..n, count those whose sum is ≤ c; the
    // critical value is the largest c with count / 2^n ≤ 0.025.
    for (let n = 6; n <= 14; n++) {
      const counts = new Array<number>((n * (n + 1)) / 2 + 1).fill(0);
      for (let mask = 0; mask < 2 ** n; mask++) {
        let sum = 0;
        for (let r = 1; r <= n; r++) if (mask & (1 << (r - 1))) sum += r;
        counts[sum]!++;
      }
      let below = 0;
      let c = -1;
      for (let s = 0; s < counts.length; s++) {
        below += counts[s]!;
        if (below / 2 ** n > 0.025) break;
        c = s;
      }
      expect(signedRankCriticalValue(n), `n = ${n}`).toBe(c);
    }
  });

  it('gives the two-sided 5% table values (n = 6, 10, 20, 30) and none below n = 6', () => {
    // Standard tables of the Wilcoxon signed-rank test, two-sided α = 0.05: 0, 8, 52, 137.
    expect(signedRankCriticalValue(6)).toBe(0);
    expect(signedRankCriticalValue(10)).toBe(8);
    expect(signedRankCriticalValue(20)).toBe(52);
    expect(signedRankCriticalValue(30)).toBe(137);
    // n = 5: P(T⁺ = 0) = 1/32 = 0.031 > 0.025.
    expect(signedRankCriticalValue(5)).toBe(-1);
    expect(() => signedRankCriticalValue(10, 1)).toThrow(/level must be in \(0, 1\), received 1/);
  });
});

describe('hodgesLehmannInterval', () => {
  it('1 … 10: estimate 5.5, interval [3, 8] (the 9th smallest and largest of 55 Walsh averages)', () => {
    // Pair sums x_i + x_j (i ≤ j) of 1..10: one sum of 2, one of 3, two of 4, two of 5, three of
    // 6: the 9th smallest sum is 6 (average 3); by symmetry the 9th largest is 22 − 6 = 16 (8).
    // c = 8 for n = 10, so the interval is [W(9), W(47)]; the median of the 55 averages is 5.5.
    const hl = hodgesLehmannInterval([7, 3, 10, 1, 5, 9, 2, 8, 4, 6])!;
    expect(hl).toEqual({ estimate: 5.5, low: 3, high: 8 });
    expect(hodgesLehmannInterval([1, 2, 3, 4, 5])).toBeUndefined();
  });

  it('pairedOverheadHodgesLehmann works on log ratios: a constant 2% gives exactly 2%', () => {
    const pairs = Array.from({ length: 12 }, (_, i) => ({ candidateMs: (100 + 10 * i) * 1.02, baselineMs: 100 + 10 * i }));
    const hl = pairedOverheadHodgesLehmann(pairs)!;
    expect(hl.estimatePercent).toBeCloseTo(2, 10);
    expect(hl.ciLowPercent).toBeCloseTo(2, 10);
    expect(hl.ciHighPercent).toBeCloseTo(2, 10);
    // Ratios 1.1 and 1/1.1 (a slowdown and the same speed-up) average to 0 on the log scale.
    const symmetric = Array.from({ length: 6 }, (_, i) =>
      i % 2 === 0 ? { candidateMs: 110, baselineMs: 100 } : { candidateMs: 100, baselineMs: 110 },
    );
    expect(pairedOverheadHodgesLehmann(symmetric)!.estimatePercent).toBeCloseTo(0, 10);
  });
});
