/**
 * A minimal in-page test harness: `check(name, fn)` runs one check and records a JSON result
 * that the Node runner (`test-browser/run.ts`) reads back from `window.__genblocksResults`.
 */
import * as tf from '@tensorflow/tfjs-core';

/** One check's outcome; `info` carries measurements the runner prints (never asserted on time). */
export interface CheckResult {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
  info?: Record<string, unknown>;
}

declare global {
  interface Window {
    /** Set by the suite page when it is done; read by test-browser/run.ts. */
    __genblocksResults?: { env: Record<string, unknown>; results: CheckResult[]; fatal?: string };
  }
}

export const results: CheckResult[] = [];
let prefix = '';

/** Names the group of the checks that follow (e.g. the backend). */
export function group(name: string): void {
  prefix = name;
}

/** Runs one check; a thrown error fails it. The function may return information to print. */
export async function check(name: string, fn: () => unknown): Promise<void> {
  const start = performance.now();
  const full = prefix ? `${prefix} › ${name}` : name;
  try {
    const info = (await fn()) as Record<string, unknown> | undefined;
    results.push({ name: full, ok: true, ms: performance.now() - start, ...(info ? { info } : {}) });
  } catch (e) {
    const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    results.push({ name: full, ok: false, ms: performance.now() - start, error });
  }
}

export class AssertionFailed extends Error {
  override name = 'AssertionFailed';
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionFailed(message);
}

export function assertEqual<T>(actual: T, expected: T, label: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new AssertionFailed(`${label}: expected ${e}, received ${a}`);
}

/** |a - e| <= atol + rtol·|e| element-wise (same rule as test/helpers/memory.ts expectClose). */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number, label: string): void {
  assert(actual.length === expected.length, `${label}: length ${actual.length} != ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const tol = atol + rtol * Math.abs(e);
    if (!(Math.abs(a - e) <= tol)) throw new AssertionFailed(`${label}: element ${i}: ${a} is not within ${tol.toExponential(2)} of ${e}`);
  }
}

/** Largest relative error max |a - e| / max(|e|, tiny) (for reports). */
export function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const e = expected[i]!;
    const err = Math.abs(actual[i]! - e) / Math.max(Math.abs(e), 1e-30);
    worst = Math.max(worst, Number.isNaN(err) ? Infinity : err);
  }
  return worst;
}

/** Reads a tensor (and disposes it). */
export async function read(t: tf.Tensor): Promise<number[]> {
  const v = Array.from(await t.data());
  t.dispose();
  return v;
}

/**
 * Runs `fn` `warmup` times, then `repeats` times, and fails when `tf.memory().numTensors`
 * moved during the repeats (what `fn` returns is disposed).
 */
export async function assertNoLeak(fn: () => unknown, label: string, { warmup = 1, repeats = 3 } = {}): Promise<{ numTensors: number }> {
  const run = async () => tf.dispose((await fn()) as tf.TensorContainer);
  for (let i = 0; i < warmup; i++) await run();
  const before = tf.memory().numTensors;
  for (let i = 0; i < repeats; i++) await run();
  const after = tf.memory().numTensors;
  assert(after === before, `${label}: tf.memory().numTensors went from ${before} to ${after} over ${repeats} repeats`);
  return { numTensors: after };
}
