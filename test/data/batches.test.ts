/**
 * data.batches: every example once per epoch, seeded and reproducible orders that change per
 * epoch, labels aligned with images, remainder handling, ownership and memory.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { data } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { expectNoLeak, values } from '../helpers/memory.js';

/** Dataset whose image i is the row [i, 1000 + i] and whose label is 100 + i, so any batch reveals its indices. */
function dataset(n: number): { images: tf.Tensor2D; labels: tf.Tensor1D } {
  const rows = Array.from({ length: n }, (_, i) => [i, 1000 + i]);
  return {
    images: tf.tensor2d(rows),
    labels: tf.tensor1d(
      rows.map((r) => 100 + r[0]!),
      'int32',
    ),
  };
}

/** Indices of one epoch, batch by batch, checking alignment of x rows and y along the way. */
function epochIndices(it: Iterable<data.Batch>): number[][] {
  const out: number[][] = [];
  for (const { x, y } of it) {
    const xs = values(x);
    const idx = xs.filter((_, k) => k % 2 === 0);
    expect(xs.filter((_, k) => k % 2 === 1)).toEqual(idx.map((i) => 1000 + i));
    if (y) expect(values(y)).toEqual(idx.map((i) => 100 + i));
    out.push(idx);
    tf.dispose([x, y as tf.Tensor]);
  }
  return out;
}

describe.each(TEST_BACKENDS)('data.batches on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  it('without shuffling yields the dataset in order, the last batch partial', () => {
    const { images, labels } = dataset(10);
    const b = data.batches(images, { labels, batchSize: 4 });
    expect(b.length).toBe(3);
    expect(b.batchesPerEpoch).toBe(3);
    expect(epochIndices(b)).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    tf.dispose([images, labels]);
  });

  it('with shuffling covers every index exactly once per epoch, labels aligned', () => {
    const { images, labels } = dataset(23);
    const b = data.batches(images, { labels, batchSize: 5, shuffle: true, seed: 7 });
    for (let epoch = 0; epoch < 3; epoch++) {
      const batchesOfEpoch = epochIndices(b);
      expect(batchesOfEpoch.map((x) => x.length)).toEqual([5, 5, 5, 5, 3]);
      expect(batchesOfEpoch.flat().sort((p, q) => p - q)).toEqual(Array.from({ length: 23 }, (_, i) => i));
    }
    tf.dispose([images, labels]);
  });

  it('is reproducible for a seed, differs between epochs and between seeds', () => {
    const { images } = dataset(30);
    const a = data.batches(images, { batchSize: 30, shuffle: true, seed: 1 });
    const b = data.batches(images, { batchSize: 30, shuffle: true, seed: 1 });
    const c = data.batches(images, { batchSize: 30, shuffle: true, seed: 2 });
    const a0 = epochIndices(a).flat();
    const a1 = epochIndices(a).flat();
    expect(epochIndices(b).flat()).toEqual(a0);
    expect(epochIndices(b).flat()).toEqual(a1);
    expect(a1).not.toEqual(a0);
    expect(epochIndices(c).flat()).not.toEqual(a0);
    expect(a0).not.toEqual(Array.from({ length: 30 }, (_, i) => i));
    // epoch(k) replays epoch k without moving the epoch counter.
    expect(a.epochIndex).toBe(2);
    expect(epochIndices(a.epoch(1)).flat()).toEqual(a1);
    expect(a.epochIndex).toBe(2);
    images.dispose();
  });

  it('dropRemainder skips the partial batch (and every example is still seen at most once)', () => {
    const { images, labels } = dataset(10);
    const b = data.batches(images, { labels, batchSize: 4, shuffle: true, seed: 3, dropRemainder: true });
    expect(b.length).toBe(2);
    const seen = epochIndices(b);
    expect(seen.map((x) => x.length)).toEqual([4, 4]);
    expect(new Set(seen.flat()).size).toBe(8);
    tf.dispose([images, labels]);
  });

  it('keeps the trailing shape and dtype of images and labels', () => {
    const images = tf.zeros([5, 3, 2, 1]);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4], 'int32'), 5);
    const [first] = data.batches(images, { labels, batchSize: 2, shuffle: true, seed: 0 });
    expect(first!.x.shape).toEqual([2, 3, 2, 1]);
    expect(first!.x.dtype).toBe('float32');
    expect(first!.y!.shape).toEqual([2, 5]);
    expect(first!.y!.dtype).toBe('int32');
    tf.dispose([images, labels, first!.x, first!.y!]);
    const [onlyX] = data.batches(tf.ones([2, 1]), { batchSize: 2 });
    expect(onlyX!.y).toBeUndefined();
    onlyX!.x.dispose();
  });

  it('seekTo(epoch, batch) makes the next epoch start there, in a fresh object too (resuming a run)', () => {
    const { images, labels } = dataset(23);
    const straight = data.batches(images, { labels, batchSize: 5, shuffle: true, seed: 7 });
    const epochs = [epochIndices(straight), epochIndices(straight), epochIndices(straight)];
    // A new object, as in a new process: its own counter starts at epoch 0.
    const resumed = data.batches(images, { labels, batchSize: 5, shuffle: true, seed: 7 });
    resumed.seekTo(1, 2);
    expect(resumed.epochIndex).toBe(1);
    expect(epochIndices(resumed)).toEqual(epochs[1]!.slice(2));
    // The following epoch starts from its first batch again.
    expect(epochIndices(resumed)).toEqual(epochs[2]);
    // Seeking back replays an epoch; seeking to its end yields nothing of it.
    resumed.seekTo(0, 0);
    expect(epochIndices(resumed)).toEqual(epochs[0]);
    resumed.seekTo(2, 5);
    expect(epochIndices(resumed)).toEqual([]);
    expect(() => resumed.seekTo(1, 6)).toThrow(/Batches\.seekTo: argument 'batchInEpoch' must be an integer >= 0 and <= 5, received 6/);
    expect(() => resumed.seekTo(-1, 0)).toThrow(/Batches\.seekTo: argument 'epoch' must be/);
    tf.dispose([images, labels]);
  });

  it('works with for await', async () => {
    const { images } = dataset(5);
    const seen: number[] = [];
    for await (const { x } of data.batches(images, { batchSize: 2, shuffle: true, seed: 9 })) {
      seen.push(...values(x).filter((_, k) => k % 2 === 0));
      x.dispose();
    }
    expect(seen.sort()).toEqual([0, 1, 2, 3, 4]);
    images.dispose();
  });

  it('leaks nothing: a full epoch or an early break leaves only the batches the caller holds', async () => {
    const { images, labels } = dataset(20);
    const b = data.batches(images, { labels, batchSize: 6, shuffle: true, seed: 4 });
    await expectNoLeak(() => {
      for (const batch of b) tf.dispose(batch as unknown as tf.TensorContainer);
    });
    await expectNoLeak(() => {
      for (const batch of b) {
        tf.dispose(batch as unknown as tf.TensorContainer);
        break;
      }
    });
    // Each batch is exactly two new tensors (x and y), owned by the caller, and allocates only
    // their bytes: 6 rows × 2 float32 + 6 int32 = 72 bytes (no copy of the dataset).
    const before = tf.memory().numTensors;
    const bytesBefore = tf.memory().numBytes;
    const [held] = b;
    expect(tf.memory().numTensors - before).toBe(2);
    expect(tf.memory().numBytes - bytesBefore).toBe(6 * 2 * 4 + 6 * 4);
    tf.dispose([held!.x, held!.y!]);
    tf.dispose([images, labels]);
  });
});

describe('data.epochOrder', () => {
  it('draws each permutation of 3 items about equally often (Fisher–Yates is uniform)', () => {
    // 6000 epochs over 3! = 6 permutations: expected 1000 each, sd = sqrt(6000·(1/6)·(5/6)) ≈ 29;
    // ±150 is about 5 sd.
    const counts = new Map<string, number>();
    for (let epoch = 0; epoch < 6000; epoch++) {
      const key = Array.from(data.epochOrder(3, 11, epoch)).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    for (const c of counts.values()) expect(Math.abs(c - 1000)).toBeLessThan(150);
  });

  it('is the identity without a seed', () => {
    expect(Array.from(data.epochOrder(4, undefined, 3))).toEqual([0, 1, 2, 3]);
  });
});

describe('data.batches: invalid usage', () => {
  it('rejects bad arguments with messages that name them', () => {
    const images = tf.zeros([10, 2]);
    expect(() => data.batches(images, { labels: tf.zeros([9]), batchSize: 2 })).toThrow(
      /data\.batches: argument 'options\.labels' must have one row per image \(10, from 'images' \[10,2\]\), received shape \[9\]/,
    );
    expect(() => data.batches(images, { batchSize: 0 })).toThrow(/argument 'options\.batchSize' must be a positive integer, received 0/);
    expect(() => data.batches(images, { batchSize: 11, dropRemainder: true })).toThrow(
      /options\.batchSize' must be at most the number of examples \(10\) when dropRemainder is true.*received 11/,
    );
    expect(() => data.batches(images, { batchSize: 2, shuffle: 'yes' as unknown as boolean })).toThrow(
      /options\.shuffle' must be a boolean, received 'yes'/,
    );
    expect(() => data.batches(images, undefined as unknown as data.BatchesOptions)).toThrow(
      /argument 'options' must be an options object with at least batchSize/,
    );
    expect(() => data.batches([1, 2] as unknown as tf.Tensor, { batchSize: 1 })).toThrow(/argument 'images' must be a tf\.Tensor/);
    expect(() => data.batches(tf.zeros([0, 2]), { batchSize: 1 })).toThrow(
      /'images' must hold at least one example, received shape \[0,2\]/,
    );
    images.dispose();
  });

  it('fails clearly when the dataset was disposed before iterating', () => {
    const images = tf.zeros([4, 1]);
    const b = data.batches(images, { batchSize: 2 });
    images.dispose();
    expect(() => [...b]).toThrow(
      /data\.batches: argument 'images' must stay alive while its batches are iterated, received a disposed tensor/,
    );
  });
});
