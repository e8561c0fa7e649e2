/**
 * Mini-batches over an in-memory dataset, reshuffled each epoch without copying the data.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { ArgumentError, ShapeError } from '../errors.js';
import { mulberry32 } from '../random.js';
import { assertMinRank, assertNumber, assertOptionsObject, assertPositiveInt, assertTensor, describe, formatShape } from '../validation.js';

const FN = 'data.batches';

/** Options of {@link batches}. @category Data */
export interface BatchesOptions {
  /** Per-example targets (class labels, conditions), `[n, ...]`, aligned with `images`. Default: none. */
  labels?: tf.Tensor;
  /** Examples per batch. */
  batchSize: number;
  /** Draw a new random order of the examples every epoch. Default: `false` (dataset order). */
  shuffle?: boolean;
  /**
   * Seed of the shuffling: epoch `e`'s order is a function of `(seed, e)` only, so a run is
   * reproducible and can resume at any epoch. Default: a random seed drawn once per
   * `batches()` call.
   */
  seed?: number;
  /** Skip the last batch of an epoch when it has fewer than `batchSize` examples. Default: `false`. */
  dropRemainder?: boolean;
}

/**
 * One mini-batch. Its tensors are new: the consumer (a trainer, or your loop) owns them and
 * must dispose them (`tf.dispose(batch)`) when done.
 *
 * @category Data
 */
export interface Batch<X extends tf.Tensor = tf.Tensor, Y extends tf.Tensor = tf.Tensor> {
  /** The examples, `[b, ...]` where `b ≤ batchSize`. */
  x: X;
  /** Their labels, `[b, ...]`, when `labels` was given. */
  y?: Y;
}

/**
 * splitmix32-style integer hash (public-domain constants from SplitMix64 / MurmurHash3's
 * finalizer, cut to 32 bits): mixes the seed and epoch into an independent stream seed.
 */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * The order of the examples in epoch `epoch`: the identity, or a Fisher–Yates shuffle seeded
 * by `(seed, epoch)`. Exported for tests and for users who batch their own data.
 *
 * @param n Number of examples.
 * @param seed Shuffle seed (any finite number; its integer bits are used), or `undefined` for dataset order.
 * @param epoch 0-based epoch index.
 * @returns A permutation of `0 … n-1`.
 * @example
 * ```ts
 * data.epochOrder(5, 1, 0); // e.g. Int32Array [3, 0, 4, 1, 2]
 * ```
 * @category Data
 */
export function epochOrder(n: number, seed: number | undefined, epoch: number): Int32Array {
  assertNumber(n, 'n', 'data.epochOrder', { min: 0, integer: true });
  assertNumber(epoch, 'epoch', 'data.epochOrder', { min: 0, integer: true });
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (seed === undefined) return order;
  assertNumber(seed, 'seed', 'data.epochOrder');
  // Stream seed = hash(hash(seed) + (epoch + 1)·φ·2³²): nearby seeds and epochs get unrelated
  // streams. Seeds differing only in their fraction, or above 2⁶⁴, share a stream.
  const seedLow = Math.trunc(seed) | 0;
  const seedHigh = Math.trunc(seed / 4294967296) | 0;
  const seedHash = mix32(seedLow ^ mix32(seedHigh + 0x9e3779b9));
  const random = mulberry32(mix32(seedHash + Math.imul(epoch + 1, 0x9e3779b9)));
  // Fisher–Yates (Knuth, TAOCP vol. 2, Algorithm P): every permutation equally likely.
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

/**
 * The iterable {@link batches} returns. Each `for … of` (each call of `[Symbol.iterator]()`)
 * is one epoch: the first is epoch 0, the next epoch 1, and so on, each with its own order
 * when shuffling. `epoch(e)` iterates a given epoch explicitly (to resume a run). Also works
 * with `for await … of`.
 *
 * The dataset tensors are borrowed, not owned: keep `images` and `labels` alive while
 * iterating and dispose them yourself afterwards. Every batch is a set of new tensors owned by
 * the consumer.
 *
 * @category Data
 */
export class Batches<X extends tf.Tensor = tf.Tensor, Y extends tf.Tensor = tf.Tensor>
  implements Iterable<Batch<X, Y>>, AsyncIterable<Batch<X, Y>>
{
  /** Number of examples in the dataset. */
  readonly size: number;
  /** Examples per batch. */
  readonly batchSize: number;
  /** Batches in one epoch: `ceil(size / batchSize)`, or `floor(…)` with `dropRemainder`. */
  readonly batchesPerEpoch: number;
  /** Whether each epoch has its own random order. */
  readonly shuffle: boolean;
  /** Seed of the shuffling (drawn at random when not given), `undefined` when not shuffling. */
  readonly seed: number | undefined;
  /** Whether a last partial batch is skipped. */
  readonly dropRemainder: boolean;
  private readonly images: X;
  private readonly labels: Y | undefined;
  private nextEpoch = 0;
  private nextStart = 0;

  /** Use {@link batches}. @internal */
  constructor(images: X, labels: Y | undefined, batchSize: number, shuffle: boolean, seed: number | undefined, dropRemainder: boolean) {
    this.images = images;
    this.labels = labels;
    this.size = images.shape[0]!;
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.seed = shuffle ? seed : undefined;
    this.dropRemainder = dropRemainder;
    this.batchesPerEpoch = dropRemainder ? Math.floor(this.size / batchSize) : Math.ceil(this.size / batchSize);
  }

  /** Same as {@link Batches.batchesPerEpoch}, so `batches.length` reads naturally. */
  get length(): number {
    return this.batchesPerEpoch;
  }

  /** The epoch the next `for … of` will run (0-based). */
  get epochIndex(): number {
    return this.nextEpoch;
  }

  /**
   * Makes the next `for … of` run epoch `epoch` from batch `batchInEpoch` on (then
   * `epoch + 1`, … from their first batch): what the trainers call to resume a run exactly
   * (see `train.ResumableSource`). Nothing is gathered for the skipped batches.
   *
   * @param epoch - 0-based epoch.
   * @param batchInEpoch - batches of that epoch already consumed, `0 … batchesPerEpoch`.
   */
  seekTo(epoch: number, batchInEpoch = 0): void {
    assertNumber(epoch, 'epoch', 'Batches.seekTo', { min: 0, integer: true });
    assertNumber(batchInEpoch, 'batchInEpoch', 'Batches.seekTo', { min: 0, max: this.batchesPerEpoch, integer: true });
    this.nextEpoch = epoch;
    this.nextStart = batchInEpoch;
  }

  /** Starts the next epoch (at the batch given to {@link Batches.seekTo}, if any). */
  [Symbol.iterator](): Iterator<Batch<X, Y>> {
    const start = this.nextStart;
    this.nextStart = 0;
    return this.epoch(this.nextEpoch++, start);
  }

  /** Starts the next epoch, for `for await … of`. */
  [Symbol.asyncIterator](): AsyncIterator<Batch<X, Y>> {
    const it = this[Symbol.iterator]();
    return {
      next: async () => it.next(),
      return: async (value?: unknown) => (it.return ? it.return(value) : { done: true, value: undefined }),
    };
  }

  /**
   * Iterates the batches of epoch `epoch` (0-based), from batch `start` on, without changing
   * which epoch the next `for … of` runs. The order depends only on `(seed, epoch)`.
   */
  *epoch(epoch: number, start = 0): IterableIterator<Batch<X, Y>> {
    assertNumber(epoch, 'epoch', 'Batches.epoch', { min: 0, integer: true });
    assertNumber(start, 'start', 'Batches.epoch', { min: 0, max: this.batchesPerEpoch, integer: true });
    for (const [arg, t] of [
      ['images', this.images],
      ['options.labels', this.labels],
    ] as const) {
      if (t?.isDisposed) {
        throw new ArgumentError({
          fn: FN,
          arg,
          expected: 'stay alive while its batches are iterated',
          received: 'a disposed tensor',
          hint: 'Dispose the dataset only after training',
        });
      }
    }
    const order = epochOrder(this.size, this.seed, epoch);
    for (let b = start; b < this.batchesPerEpoch; b++) {
      const from = b * this.batchSize;
      const end = Math.min(from + this.batchSize, this.size);
      // Gather, also in dataset order: tfjs-backend-wasm's Slice kernel copies its whole input
      // (it reads it with readSync) on every call, about 300 ms per batch from an MNIST-sized
      // tensor, while a gather costs only the rows it returns.
      yield tf.tidy(() => {
        const indices = tf.tensor1d(order.subarray(from, end), 'int32');
        const batch: Batch<X, Y> = { x: tf.gather(this.images, indices) as X };
        if (this.labels) batch.y = tf.gather(this.labels, indices) as Y;
        return batch as unknown as tf.TensorContainer;
      }) as unknown as Batch<X, Y>;
    }
  }
}

/**
 * Splits a dataset held in tensors into mini-batches, in dataset order or reshuffled every
 * epoch, for the trainers or a hand-written loop.
 *
 * Nothing is copied per epoch: each batch gathers its rows by index (`tf.gather` with a slice
 * of the epoch's permutation, or of `0 … n-1` when not shuffling). Epoch `e`'s order is a seeded
 * Fisher–Yates shuffle of `0 … n-1` determined by `(seed, e)`, so runs are reproducible, every
 * epoch differs, and each example appears exactly once per epoch.
 *
 * Ownership: `images` and `labels` are borrowed (keep them alive while iterating); each yielded
 * batch `{ x, y }` holds new tensors that the consumer disposes.
 *
 * @param images The dataset, `[n, ...]` (e.g. `[60000, 28, 28, 1]` float32).
 * @param options `batchSize`, and optionally `labels` `[n, ...]`, `shuffle`, `seed`, `dropRemainder`.
 * @returns A re-iterable {@link Batches}: each `for … of` is one epoch of `{ x: [b, ...], y?: [b, ...] }`.
 * @example
 * ```ts
 * const mnist = await loadMnist({ split: 'train' });
 * const train = data.batches(mnist.images, { labels: mnist.labels, batchSize: 64, shuffle: true, seed: 1 });
 * for (let epoch = 0; epoch < 3; epoch++) {
 *   for (const { x, y } of train) {
 *     // ... one training step on x [64,28,28,1] and y [64] ...
 *     tf.dispose([x, y]);
 *   }
 * }
 * ```
 * @category Data
 */
export function batches<X extends tf.Tensor, Y extends tf.Tensor = tf.Tensor>(
  images: X,
  options: BatchesOptions & { labels?: Y },
): Batches<X, Y> {
  assertTensor(images, 'images', FN);
  assertMinRank(images, 1, 'images', FN);
  if (options === undefined) {
    throw new ArgumentError({ fn: FN, arg: 'options', expected: 'be an options object with at least batchSize', received: 'undefined' });
  }
  assertOptionsObject(options, 'options', FN);
  const { labels, batchSize, shuffle = false, seed, dropRemainder = false } = options;
  const n = images.shape[0]!;
  if (n < 1) {
    throw new ShapeError({ fn: FN, arg: 'images', expected: 'hold at least one example', received: `shape ${formatShape(images.shape)}` });
  }
  if (labels !== undefined) {
    assertTensor(labels, 'options.labels', FN);
    assertMinRank(labels, 1, 'options.labels', FN);
    if (labels.shape[0] !== n) {
      throw new ShapeError({
        fn: FN,
        arg: 'options.labels',
        expected: `have one row per image (${n}, from 'images' ${formatShape(images.shape)})`,
        received: `shape ${formatShape(labels.shape)}`,
      });
    }
  }
  assertPositiveInt(batchSize, 'options.batchSize', FN);
  for (const [arg, v] of [
    ['options.shuffle', shuffle],
    ['options.dropRemainder', dropRemainder],
  ] as const) {
    if (typeof v !== 'boolean') throw new ArgumentError({ fn: FN, arg, expected: 'be a boolean', received: describe(v) });
  }
  if (seed !== undefined) assertNumber(seed, 'options.seed', FN, { min: 0, integer: true });
  if (dropRemainder && batchSize > n) {
    throw new ArgumentError({
      fn: FN,
      arg: 'options.batchSize',
      expected: `be at most the number of examples (${n}) when dropRemainder is true, or an epoch has no batch`,
      received: String(batchSize),
    });
  }
  const epochSeed = shuffle ? (seed ?? Math.floor(Math.random() * 4294967296)) : undefined;
  return new Batches<X, Y>(images, labels, batchSize, shuffle, epochSeed, dropRemainder);
}
