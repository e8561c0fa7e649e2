/**
 * autoregressive.sampleToken / tokenDistribution: greedy, top-k, top-p against hand-computed
 * sets, a chi-square test of 20,000 draws against softmax, seeding, invalid options.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import '@tensorflow/tfjs-backend-cpu';

import { autoregressive } from '../../src/index.js';
import { expectClose } from '../helpers/memory.js';

const { sampleToken, tokenDistribution } = autoregressive;

describe('autoregressive.sampleToken', () => {
  const logits = [1, 0.5, -0.3, 2, 0, -1];

  it('temperature 0 and top-k 1 return the argmax (first of equal maxima)', () => {
    for (let seed = 0; seed < 20; seed++) {
      expect(sampleToken(logits, { temperature: 0, seed })).toBe(3);
      expect(sampleToken(logits, { topK: 1, seed })).toBe(3);
    }
    expect(sampleToken([2, 5, 5, 1], { temperature: 0 })).toBe(1);
    expect(sampleToken(new Float32Array([0, -1, 4]), { temperature: 0 })).toBe(2);
  });

  it('top-k keeps the k largest logits, renormalised (softmax over them, by hand)', () => {
    const p = tokenDistribution(logits, { topK: 2 });
    // Kept: ids 3 (logit 2) and 0 (logit 1): p = [e, 1] / (e + 1) after subtracting 2... i.e. softmax([2, 1]).
    const z = Math.exp(2) + Math.exp(1);
    expectClose(Array.from(p), [Math.exp(1) / z, 0, 0, Math.exp(2) / z, 0, 0], 1e-12, 1e-15);
  });

  it('top-p keeps the smallest most-likely set whose mass reaches p', () => {
    const probs = [0.5, 0.3, 0.15, 0.05];
    const l = probs.map(Math.log);
    // Sorted masses 0.5, 0.8, 0.95, 1: p = 0.45 → {0}; 0.7 → {0, 1}; 0.81 → {0, 1, 2}.
    expectClose(Array.from(tokenDistribution(l, { topP: 0.45 })), [1, 0, 0, 0], 1e-12, 1e-15);
    expectClose(Array.from(tokenDistribution(l, { topP: 0.7 })), [0.625, 0.375, 0, 0], 1e-12, 1e-15);
    expectClose(Array.from(tokenDistribution(l, { topP: 0.81 })), [0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0], 1e-12, 1e-15);
    expectClose(Array.from(tokenDistribution(l, { topP: 1 })), probs, 1e-12, 1e-15);
  });

  it('20,000 draws at temperature 1 match softmax (chi-square, 5 degrees of freedom, fixed seeds)', () => {
    const max = Math.max(...logits);
    const z = logits.reduce((s, x) => s + Math.exp(x - max), 0);
    const expected = logits.map((x) => (20000 * Math.exp(x - max)) / z);
    const counts = new Array<number>(logits.length).fill(0);
    for (let i = 0; i < 20000; i++) counts[sampleToken(logits, { seed: i })]!++;
    const chiSquare = counts.reduce((s, c, i) => s + (c - expected[i]!) ** 2 / expected[i]!, 0);
    // χ²(5) upper 0.1% point is 20.52: a correct sampler exceeds it with probability 0.001.
    expect(chiSquare).toBeLessThan(20.52);
    // And temperature 2 flattens: the same test against softmax(x / 2) passes, against softmax(x) fails.
    const counts2 = new Array<number>(logits.length).fill(0);
    for (let i = 0; i < 20000; i++) counts2[sampleToken(logits, { seed: i, temperature: 2 })]!++;
    const z2 = logits.reduce((s, x) => s + Math.exp((x - max) / 2), 0);
    const chi2 = counts2.reduce(
      (s, c, i) => s + (c - (20000 * Math.exp((logits[i]! - max) / 2)) / z2) ** 2 / ((20000 * Math.exp((logits[i]! - max) / 2)) / z2),
      0,
    );
    expect(chi2).toBeLessThan(20.52);
    const chiWrong = counts2.reduce((s, c, i) => s + (c - expected[i]!) ** 2 / expected[i]!, 0);
    expect(chiWrong).toBeGreaterThan(100);
  });

  it('same seed, same token; uniform pins the draw (inverse CDF)', () => {
    const draws = (seed: number) => Array.from({ length: 50 }, (_, i) => sampleToken(logits, { seed: seed + i }));
    expect(draws(3)).toEqual(draws(3));
    expect(draws(3)).not.toEqual(draws(1000));
    // softmax([1, 0.5, -0.3, 2, 0, -1]): cumulative mass before id 3 is p0+p1+p2; u just above it gives 3.
    const p = tokenDistribution(logits);
    expect(sampleToken(logits, { uniform: 0 })).toBe(0);
    expect(sampleToken(logits, { uniform: p[0]! + p[1]! + p[2]! + 1e-9 })).toBe(3);
    expect(sampleToken(logits, { uniform: 0.999999 })).toBe(5);
  });

  it('skips −Infinity logits; rejects NaN, unknown options and bad ranges', () => {
    expect(sampleToken([-Infinity, 0, -Infinity], { seed: 1 })).toBe(1);
    expect(() => sampleToken([0, Number.NaN])).toThrow(
      /sampleToken: argument 'logits' must be finite or −Infinity, received NaN at index 1/,
    );
    expect(() => sampleToken(logits, { topP: 0 })).toThrow(/options\.topP' must be a finite number > 0 and <= 1/);
    expect(() => sampleToken(logits, { temperature: -1 })).toThrow(/temperature/);
    expect(() => sampleToken(logits, { topk: 2 } as never)).toThrow(/Did you mean 'topK'/);
    expect(() => sampleToken([])).toThrow(/non-empty/);
    expect(() => sampleToken(tf.tensor1d([1, 2]) as never)).toThrow(/await logits\.data\(\)/);
  });
});
