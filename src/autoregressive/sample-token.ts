/**
 * Drawing one token from logits: temperature, top-k and nucleus (top-p) sampling.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { ArgumentError } from '../errors.js';
import { assertKnownKeys, assertNumber, assertPositiveInt, describe } from '../validation.js';
import { mulberry32 } from '../random.js';

/** Options of {@link sampleToken} and {@link tokenDistribution}. @category Autoregressive */
export interface SampleTokenOptions {
  /** Divides the logits before the softmax; 0 picks the argmax (greedy). Default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens (ties broken by the lower id). Default: all. */
  topK?: number;
  /** Nucleus sampling: keep the smallest set of most likely tokens whose probability reaches p, in (0, 1]. Default 1 (all). */
  topP?: number;
}

/** Options of {@link sampleToken}: the distribution's plus the randomness. @category Autoregressive */
export interface SampleTokenDrawOptions extends SampleTokenOptions {
  /** Seed of the draw (one uniform number from mulberry32(seed)). Default: `Math.random`. */
  seed?: number;
  /** The uniform number in [0, 1) itself (overrides `seed`), so a caller with its own generator can pin the draw. */
  uniform?: number;
}

const KEYS = ['temperature', 'topK', 'topP'];

function readLogits(logits: ArrayLike<number>, fn: string): ArrayLike<number> {
  if (
    logits === null ||
    typeof logits !== 'object' ||
    typeof (logits as ArrayLike<number>).length !== 'number' ||
    (logits as ArrayLike<number>).length === 0
  ) {
    const hint = logits instanceof tf.Tensor ? 'Read the tensor first: await logits.data()' : undefined;
    throw new ArgumentError({
      fn,
      arg: 'logits',
      expected: 'be a non-empty array of numbers (or a typed array)',
      received: describe(logits),
      hint,
    });
  }
  return logits;
}

/** Token ids sorted by logit, largest first; ties by the lower id. */
function rankTokens(logits: ArrayLike<number>): number[] {
  return Array.from({ length: logits.length }, (_, i) => i).sort((a, b) => logits[b]! - logits[a]! || a - b);
}

/**
 * The distribution {@link sampleToken} draws from, as float64 probabilities `[V]`:
 *
 *     p ∝ exp(logits / temperature), restricted to the top k tokens, then to the smallest
 *     prefix (by probability) whose mass reaches topP, renormalised
 *
 * (Holtzman et al. 2019 for the nucleus). Temperature 0 gives all the mass to the argmax.
 *
 * @see https://arxiv.org/abs/1904.09751 (Holtzman et al. 2019, The Curious Case of Neural Text Degeneration, §3.1)
 * @param logits Logits `[V]` (an array or typed array, e.g. `await logitsTensor.data()`).
 * @param options See {@link SampleTokenOptions}.
 * @returns Probabilities `[V]` summing to 1, zero outside the kept set.
 * @example
 * ```ts
 * autoregressive.tokenDistribution([2, 1, 0], { topK: 2 }); // ≈ [0.731, 0.269, 0]
 * ```
 * @category Autoregressive
 */
export function tokenDistribution(logits: ArrayLike<number>, options: SampleTokenOptions = {}): Float64Array {
  const fn = 'autoregressive.tokenDistribution';
  assertKnownKeys(options, KEYS, 'options', fn);
  return distribution(readLogits(logits, fn), options, fn);
}

function distribution(logits: ArrayLike<number>, options: SampleTokenOptions, fn: string): Float64Array {
  const { temperature = 1, topK, topP = 1 } = options;
  assertNumber(temperature, 'options.temperature', fn, { min: 0 });
  if (topK !== undefined) assertPositiveInt(topK, 'options.topK', fn);
  assertNumber(topP, 'options.topP', fn, { min: 0, max: 1, minExclusive: true });
  for (let i = 0; i < logits.length; i++) {
    const x = logits[i]!;
    if (Number.isNaN(x) || x === Infinity)
      throw new ArgumentError({ fn, arg: 'logits', expected: 'be finite or −Infinity', received: `${x} at index ${i}` });
  }
  const ranked = rankTokens(logits);
  if (logits[ranked[0]!] === -Infinity)
    throw new ArgumentError({ fn, arg: 'logits', expected: 'have at least one finite value', received: 'only −Infinity' });
  const p = new Float64Array(logits.length);
  if (temperature === 0) {
    p[ranked[0]!] = 1;
    return p;
  }
  const kept = ranked.slice(0, Math.min(topK ?? logits.length, logits.length));
  const max = logits[kept[0]!]!;
  let total = 0;
  for (const i of kept) total += p[i] = Math.exp((logits[i]! - max) / temperature);
  for (const i of kept) p[i]! /= total;
  if (topP < 1) {
    // The smallest prefix (most likely first) whose mass reaches topP; the rest is dropped.
    let mass = 0;
    let end = 0;
    while (end < kept.length && mass < topP) mass += p[kept[end++]!]!;
    for (let j = end; j < kept.length; j++) p[kept[j]!] = 0;
    for (let j = 0; j < end; j++) p[kept[j]!]! /= mass;
  }
  return p;
}

/**
 * Draws one token id from logits with temperature, top-k and top-p (nucleus) filtering (see
 * {@link tokenDistribution}); temperature 0, or top-k 1, returns the argmax. The draw inverts
 * the cumulative distribution at one uniform number `u` (from `uniform`, else mulberry32(seed),
 * else `Math.random`), so the same seed gives the same token.
 *
 * @see https://arxiv.org/abs/1904.09751 (Holtzman et al. 2019, nucleus sampling)
 * @param logits Logits `[V]` (an array or typed array, e.g. `await logitsTensor.data()`).
 * @param options See {@link SampleTokenDrawOptions}.
 * @returns A token id in `[0, V)`.
 * @example
 * ```ts
 * autoregressive.sampleToken([0.5, 3, -1], { temperature: 0 });           // 1
 * autoregressive.sampleToken([0.5, 3, -1], { topK: 2, topP: 0.9, seed: 7 }); // 0 or 1
 * ```
 * @category Autoregressive
 */
export function sampleToken(logits: ArrayLike<number>, options: SampleTokenDrawOptions = {}): number {
  const fn = 'autoregressive.sampleToken';
  assertKnownKeys(options, [...KEYS, 'seed', 'uniform'], 'options', fn);
  const { seed, uniform } = options;
  if (seed !== undefined) assertNumber(seed, 'options.seed', fn, { integer: true });
  if (uniform !== undefined) assertNumber(uniform, 'options.uniform', fn, { min: 0, max: 1, maxExclusive: true });
  const p = distribution(readLogits(logits, fn), options, fn);
  const u = uniform ?? (seed === undefined ? Math.random() : mulberry32(seed)());
  return drawFrom(p, u);
}

/** Inverts the cumulative distribution of `p` at `u` (the last token with mass if rounding runs past 1). @internal */
export function drawFrom(p: Float64Array, u: number): number {
  let cumulative = 0;
  let last = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] === 0) continue;
    cumulative += p[i]!;
    last = i;
    if (u < cumulative) return i;
  }
  return last;
}

/** The validated sampling settings and a seeded uniform source, for the generation loops. @internal */
export function samplerFor(options: SampleTokenOptions & { seed?: number }, fn: string): (logits: ArrayLike<number>) => number {
  const random = options.seed === undefined ? Math.random : mulberry32(options.seed);
  const settings = { temperature: options.temperature, topK: options.topK, topP: options.topP };
  distribution([0], settings, fn); // validates the settings once, before any model call
  return (logits) => drawFrom(distribution(logits, settings, fn), random());
}
