/**
 * Random windows of a token sequence and their next-token targets (nanoGPT's `get_batch`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { ArgumentError } from '../errors.js';
import { mulberry32 } from '../random.js';
import { assertKnownKeys, assertNonNegativeInt, assertNumber, assertPositiveInt, describe } from '../validation.js';
import type { Batch } from './batches.js';

const FN = 'data.sequenceBatches';

/** Options of {@link sequenceBatches}. @category Data */
export interface SequenceBatchesOptions {
  /** Window length T. */
  blockSize: number;
  /** Windows per batch B. */
  batchSize: number;
  /** Seed: batch k's windows are a function of (seed, k) only, so a run can resume at any batch. Default: random. */
  seed?: number;
  /** Number of batches the iterator yields. Default: unlimited. */
  steps?: number;
}

type IntegerArray = Int32Array | Uint16Array | Uint8Array | Uint32Array | Int16Array;

/**
 * Batches of random windows over a token sequence (see {@link sequenceBatches}). Iterate it
 * (`for (const batch of batches)`, or pass it to a trainer), or ask for batch `k` directly.
 *
 * @category Data
 */
export class SequenceBatches implements Iterable<Required<Batch<tf.Tensor2D, tf.Tensor2D>>> {
  /** Window length T. */
  readonly blockSize: number;
  /** Windows per batch. */
  readonly batchSize: number;
  /** The seed. */
  readonly seed: number;
  /** Batches per iteration (Infinity: unlimited). */
  readonly steps: number;
  private readonly ids: IntegerArray;

  /** @internal */
  constructor(ids: IntegerArray, options: Required<Omit<SequenceBatchesOptions, 'steps'>> & { steps: number }) {
    this.ids = ids;
    this.blockSize = options.blockSize;
    this.batchSize = options.batchSize;
    this.seed = options.seed;
    this.steps = options.steps;
  }

  /** The window starts of batch `k`: B integers uniform in `[0, n − T − 1]` (nanoGPT's `torch.randint(len(data) − block_size, (B,))`). */
  starts(k: number): number[] {
    assertNonNegativeInt(k, 'k', `${FN}.starts`);
    const random = mulberry32((this.seed ^ Math.imul(k + 1, 0x9e3779b9)) >>> 0);
    const range = this.ids.length - this.blockSize;
    return Array.from({ length: this.batchSize }, () => Math.floor(random() * range));
  }

  /**
   * Batch `k`: `x` the windows `ids[s … s+T−1]` and `y` the same windows shifted by one,
   * `ids[s+1 … s+T]`, both int32 `[B, T]`. New tensors: the caller disposes them.
   */
  batch(k: number): Required<Batch<tf.Tensor2D, tf.Tensor2D>> {
    const t = this.blockSize;
    const x = new Int32Array(this.batchSize * t);
    const y = new Int32Array(this.batchSize * t);
    this.starts(k).forEach((s, b) => {
      // Views into the corpus: only the B·T ids of the batch are copied.
      x.set(this.ids.subarray(s, s + t), b * t);
      y.set(this.ids.subarray(s + 1, s + 1 + t), b * t);
    });
    return { x: tf.tensor2d(x, [this.batchSize, t], 'int32'), y: tf.tensor2d(y, [this.batchSize, t], 'int32') };
  }

  /** Batches 0, 1, 2, … (up to `steps`). */
  *[Symbol.iterator](): Iterator<Required<Batch<tf.Tensor2D, tf.Tensor2D>>> {
    for (let k = 0; k < this.steps; k++) yield this.batch(k);
  }
}

/**
 * Random training windows over a token sequence and their one-shifted targets, as nanoGPT's
 * `get_batch`: each batch draws B start positions `s` uniformly and returns
 *
 *     x[b] = ids[s_b … s_b + T − 1],   y[b] = ids[s_b + 1 … s_b + T]
 *
 * (`y[b][t]` is the token after `x[b][0…t]`). The corpus is read through `subarray` views,
 * never copied; pass a typed array (a `number[]` is converted once).
 *
 * @see https://github.com/karpathy/nanoGPT/blob/master/train.py (`get_batch`)
 * @param ids The token sequence (e.g. {@link TextVocabulary.encode} of a text), longer than `blockSize`.
 * @param options See {@link SequenceBatchesOptions}.
 * @returns A {@link SequenceBatches}: iterable over `{ x, y }` batches of int32 `[B, T]` tensors.
 * @example
 * ```ts
 * const ids = vocabulary.encode(text);
 * const batches = data.sequenceBatches(ids, { blockSize: 64, batchSize: 12, seed: 1 });
 * const { x, y } = batches.batch(0); // [12, 64] each
 * ```
 * @category Data
 */
export function sequenceBatches(ids: ArrayLike<number>, options: SequenceBatchesOptions): SequenceBatches {
  assertKnownKeys(options, ['blockSize', 'batchSize', 'seed', 'steps'], 'options', FN);
  if (options === undefined)
    throw new ArgumentError({ fn: FN, arg: 'options', expected: 'be an object with blockSize and batchSize', received: 'undefined' });
  const { blockSize, batchSize, seed = Math.floor(Math.random() * 2 ** 31), steps = Infinity } = options;
  assertPositiveInt(blockSize, 'options.blockSize', FN);
  assertPositiveInt(batchSize, 'options.batchSize', FN);
  assertNumber(seed, 'options.seed', FN, { integer: true });
  if (steps !== Infinity) assertPositiveInt(steps, 'options.steps', FN);
  const typed =
    ids instanceof Int32Array ||
    ids instanceof Uint16Array ||
    ids instanceof Uint8Array ||
    ids instanceof Uint32Array ||
    ids instanceof Int16Array
      ? ids
      : Array.isArray(ids)
        ? Int32Array.from(ids)
        : undefined;
  if (typed === undefined)
    throw new ArgumentError({
      fn: FN,
      arg: 'ids',
      expected: 'be an integer typed array or an array of token ids',
      received: describe(ids),
    });
  if (typed.length <= blockSize) {
    throw new ArgumentError({ fn: FN, arg: 'ids', expected: `be longer than blockSize ${blockSize}`, received: `length ${typed.length}` });
  }
  return new SequenceBatches(typed, { blockSize, batchSize, seed, steps });
}
