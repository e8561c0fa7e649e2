/**
 * Argument validation shared by every public function.
 *
 * Each helper takes the value first, then the argument's name and the calling function's name
 * (the order tfjs' `convertToTensor(x, 'argName', 'fnName')` uses), and throws a
 * {@link ArgumentError} subclass whose message names all three.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { ArgumentError, ConfigError, DTypeError, ShapeError } from './errors.js';

/** Formats a shape as `[8,1,1]` (`[]` for a scalar). @category Validation */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/**
 * Describes any value for an error message: `shape [8,1] float32 tensor`, `-3`, `'abc'`,
 * `undefined`, `array of length 2`, `object`.
 *
 * @category Validation
 */
export function describe(value: unknown): string {
  if (value instanceof tf.Tensor) {
    return value.isDisposed ? 'a disposed tensor' : `${value.dtype} tensor of shape ${formatShape(value.shape)}`;
  }
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return `array of length ${value.length}`;
  if (typeof value === 'function') return 'a function';
  return typeof value === 'object' ? `object (${value.constructor?.name ?? 'Object'})` : typeof value;
}

function listOr(values: readonly (string | number)[]): string {
  if (values.length === 1) return String(values[0]);
  return `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
}

/**
 * Asserts that `value` is a live (not disposed) `tf.Tensor`.
 *
 * @category Validation
 */
export function assertTensor(value: unknown, arg: string, fn: string): asserts value is tf.Tensor {
  if (!(value instanceof tf.Tensor) || value.isDisposed) {
    throw new ArgumentError({
      fn,
      arg,
      expected: 'be a tf.Tensor',
      received: describe(value),
      hint:
        value instanceof tf.Tensor
          ? 'The tensor was disposed before the call (keep it alive, or create it inside the same tf.tidy)'
          : undefined,
    });
  }
}

/**
 * Asserts that `t` has one of the given ranks.
 *
 * @example
 * ```ts
 * assertRank(logits, [1, 2], 'fakeLogits', 'nonSaturating.generator');
 * // nonSaturating.generator: argument 'fakeLogits' must have rank 1 or 2, received shape [8,1,1]
 * ```
 * @category Validation
 */
export function assertRank(t: tf.Tensor, ranks: number | readonly number[], arg: string, fn: string): void {
  const allowed = typeof ranks === 'number' ? [ranks] : ranks;
  if (!allowed.includes(t.rank)) {
    throw new ShapeError({ fn, arg, expected: `have rank ${listOr(allowed)}`, received: `shape ${formatShape(t.shape)}` });
  }
}

/** Asserts that `t` has rank at least `minRank`. @category Validation */
export function assertMinRank(t: tf.Tensor, minRank: number, arg: string, fn: string): void {
  if (t.rank < minRank) {
    throw new ShapeError({ fn, arg, expected: `have rank ${minRank} or more`, received: `shape ${formatShape(t.shape)}` });
  }
}

/**
 * Asserts that `a` and `b` have identical shapes (no broadcasting).
 *
 * @category Validation
 */
export function assertSameShape(a: tf.Tensor, b: tf.Tensor, argA: string, argB: string, fn: string): void {
  if (!tf.util.arraysEqual(a.shape, b.shape)) {
    throw new ShapeError({
      fn,
      arg: argB,
      expected: `have the same shape as '${argA}' ${formatShape(a.shape)}`,
      received: `shape ${formatShape(b.shape)}`,
    });
  }
}

/**
 * Asserts that `a` and `b` agree on every axis but the first (batch) axis: two batches of the
 * same kind of thing, possibly of different sizes.
 *
 * @category Validation
 */
export function assertSameShapeExceptBatch(a: tf.Tensor, b: tf.Tensor, argA: string, argB: string, fn: string): void {
  if (a.rank !== b.rank || !tf.util.arraysEqual(a.shape.slice(1), b.shape.slice(1))) {
    throw new ShapeError({
      fn,
      arg: argB,
      expected: `have the same shape as '${argA}' ${formatShape(a.shape)} on every axis but the batch axis`,
      received: `shape ${formatShape(b.shape)}`,
    });
  }
}

/** Asserts that `t` is a float32 tensor (logits, images, latents). @category Validation */
export function assertFloat(t: tf.Tensor, arg: string, fn: string): void {
  if (t.dtype !== 'float32') {
    throw new DTypeError({
      fn,
      arg,
      expected: 'be a float32 tensor',
      received: `${t.dtype} tensor of shape ${formatShape(t.shape)}`,
      hint: `Convert it with tf.cast(${arg}, 'float32')`,
    });
  }
}

/**
 * Shorthand for the checks almost every tensor argument needs: a live float32 tensor of one of
 * the allowed ranks (any rank when `ranks` is omitted).
 *
 * @category Validation
 */
export function assertFloatTensor(value: unknown, arg: string, fn: string, ranks?: number | readonly number[]): asserts value is tf.Tensor {
  assertTensor(value, arg, fn);
  assertFloat(value, arg, fn);
  if (ranks !== undefined) assertRank(value, ranks, arg, fn);
}

/**
 * Asserts that a (config) number is an integer ≥ 1. Throws {@link ConfigError} when `arg`
 * names a config field (`config.x`), {@link ArgumentError} otherwise.
 *
 * @category Validation
 */
export function assertPositiveInt(value: unknown, arg: string, fn: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw makeArgError({ fn, arg, expected: 'be a positive integer', received: describe(value) });
  }
}

/** Asserts that a number is an integer ≥ 0. @category Validation */
export function assertNonNegativeInt(value: unknown, arg: string, fn: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw makeArgError({ fn, arg, expected: 'be a non-negative integer', received: describe(value) });
  }
}

/** Bounds for {@link assertNumber}. @category Validation */
export interface NumberBounds {
  /** Smallest allowed value. */
  min?: number;
  /** Largest allowed value. */
  max?: number;
  /** Exclude `min` itself. */
  minExclusive?: boolean;
  /** Exclude `max` itself. */
  maxExclusive?: boolean;
  /** Require an integer. */
  integer?: boolean;
}

/**
 * Asserts that `value` is a finite number within the given bounds.
 *
 * @example
 * ```ts
 * assertNumber(0.3, 'config.dropout', 'nets.dcganDiscriminator', { min: 0, max: 1, maxExclusive: true });
 * ```
 * @category Validation
 */
export function assertNumber(value: unknown, arg: string, fn: string, bounds: NumberBounds = {}): asserts value is number {
  const { min, max, minExclusive = false, maxExclusive = false, integer = false } = bounds;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!integer || Number.isInteger(value)) &&
    (min === undefined || (minExclusive ? value > min : value >= min)) &&
    (max === undefined || (maxExclusive ? value < max : value <= max));
  if (!ok) {
    const parts: string[] = [];
    if (min !== undefined) parts.push(`${minExclusive ? '>' : '>='} ${min}`);
    if (max !== undefined) parts.push(`${maxExclusive ? '<' : '<='} ${max}`);
    const kind = integer ? 'an integer' : 'a finite number';
    throw makeArgError({ fn, arg, expected: `be ${kind}${parts.length ? ` ${parts.join(' and ')}` : ''}`, received: describe(value) });
  }
}

/**
 * Asserts that `value` is one of the allowed literals (a string-union option).
 *
 * @category Validation
 */
export function assertOneOf<T extends string | number | boolean>(
  value: unknown,
  allowed: readonly T[],
  arg: string,
  fn: string,
): asserts value is T {
  if (!allowed.includes(value as T)) {
    const fmt = (v: T) => (typeof v === 'string' ? `'${v}'` : String(v));
    throw makeArgError({ fn, arg, expected: `be one of ${allowed.map(fmt).join(', ')}`, received: describe(value) });
  }
}

/**
 * Asserts that `value` is an array of positive integers (a shape or a list of layer widths),
 * optionally of a given length.
 *
 * @category Validation
 */
export function assertPositiveIntArray(
  value: unknown,
  arg: string,
  fn: string,
  length?: number | readonly number[],
): asserts value is number[] {
  const lengths = length === undefined ? undefined : typeof length === 'number' ? [length] : length;
  const okArray = Array.isArray(value) && (lengths === undefined || lengths.includes(value.length));
  const bad = okArray ? (value as unknown[]).findIndex((v) => typeof v !== 'number' || !Number.isInteger(v) || v < 1) : -1;
  if (!okArray || bad >= 0) {
    const lengthText = lengths === undefined ? '' : ` of length ${listOr(lengths)}`;
    const received = Array.isArray(value)
      ? `[${value.map((v) => describe(v)).join(',')}]${bad >= 0 ? ` (element ${bad} is not a positive integer)` : ''}`
      : describe(value);
    throw makeArgError({ fn, arg, expected: `be an array of positive integers${lengthText}`, received });
  }
}

/** Asserts that `value` is a plain object (an options or config bag), or undefined. @category Validation */
export function assertOptionsObject(value: unknown, arg: string, fn: string): asserts value is object | undefined {
  if (value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value))) {
    throw new ArgumentError({ fn, arg, expected: 'be an options object or undefined', received: describe(value) });
  }
}

/** Config fields (`config.x`, `options.x`) get a ConfigError; plain arguments an ArgumentError. */
function makeArgError(details: ConstructorParameters<typeof ArgumentError>[0]): ArgumentError {
  return details.arg.startsWith('config.') ? new ConfigError(details) : new ArgumentError(details);
}

/** Levenshtein distance between two short strings (option names), for "did you mean" hints. */
function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0]!;
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j]!;
      const cost = a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1;
      previous[j] = Math.min(above + 1, previous[j - 1]! + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return previous[b.length]!;
}

/**
 * The known key closest to `key` (case-insensitive edit distance at most a third of the longer
 * name, at least 1; or the same name without `_`/`-`), or undefined when none is close.
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const squash = (s: string) => s.replace(/[_-]/g, '').toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = squash(candidate) === squash(key) ? 0 : editDistance(key, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  const limit = Math.max(1, Math.floor(Math.max(key.length, best?.length ?? 0) / 3));
  return best !== undefined && bestDistance <= limit ? best : undefined;
}

/**
 * Asserts that an options or config object (`value`, named `arg`, e.g. `'config'` or `'options'`)
 * has no keys besides `known`, as Keras rejects unknown keyword arguments. The error names the
 * unknown key and, when one is close, the key that was probably meant:
 * `nets.mlpGenerator: argument 'config.hiddenUnits' must be one of the known options (latentDim,
 * outputShape, units, ...), received an unknown key. Did you mean 'units'?`
 *
 * `undefined` passes (an omitted options bag). Also checks that `value` is a plain object.
 *
 * @category Validation
 */
export function assertKnownKeys(value: unknown, known: readonly string[], arg: string, fn: string): void {
  assertOptionsObject(value, arg, fn);
  if (value === undefined) return;
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const guess = closestKey(key, known);
    const details = {
      fn,
      arg: `${arg}.${key}`,
      expected: `be one of the known ${arg === 'config' || arg.startsWith('config.') ? 'config fields' : 'options'} (${known.join(', ')})`,
      received: 'an unknown key',
      ...(guess === undefined ? {} : { hint: `Did you mean '${guess}'?` }),
    };
    throw arg === 'config' || arg.startsWith('config.') ? new ConfigError(details) : new ArgumentError(details);
  }
}
