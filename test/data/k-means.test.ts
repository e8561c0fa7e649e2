/**
 * data.kMeans: results against hand-computed clusterings and independently computed means,
 * determinism, degenerate inputs, memory, and argument checks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { data } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { expectClose, values } from '../helpers/memory.js';
import { normal, rng } from '../train/fixtures.js';

/** Partition of the rows by `labels`, as sets of row indices: equal for any renumbering of the clusters. */
function partition(labels: ArrayLike<number>): string[] {
  const groups = new Map<number, number[]>();
  Array.from(labels).forEach((l, i) => groups.set(l, [...(groups.get(l) ?? []), i]));
  return [...groups.values()].map((g) => g.join(',')).sort();
}

describe.each(TEST_BACKENDS)('data.kMeans on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  it('splits 0, 1, 10, 11 into {0, 1} and {10, 11} with centres 0.5 and 10.5 and inertia 4 · 0.25 = 1 (by hand)', async () => {
    const x = tf.tensor2d([0, 10, 1, 11], [4, 1]);
    for (const seed of [0, 1, 2, 3]) {
      const { centroids, assignments, counts, inertia } = await data.kMeans(x, { k: 2, seed });
      expect(partition(values(assignments))).toEqual(['0,2', '1,3']);
      expect(values(centroids).sort((a, b) => a - b)).toEqual([0.5, 10.5]);
      expect(counts.sort()).toEqual([2, 2]);
      expectClose(inertia, 1, 1e-6);
      tf.dispose([centroids, assignments]);
    }
    x.dispose();
  });

  it('recovers three separated 2-D blobs in images of any rank: each cluster is one blob, each centre its mean', async () => {
    const r = rng(5);
    const centres = [
      [-5, 0],
      [5, 0],
      [0, 8],
    ];
    const blob: number[] = [];
    const points: number[] = [];
    for (let i = 0; i < 300; i++) {
      const b = i % 3;
      blob.push(b);
      points.push(centres[b]![0]! + 0.5 * normal(r), centres[b]![1]! + 0.5 * normal(r));
    }
    const x = tf.tensor4d(points, [300, 1, 2, 1]); // flattened to 2 features
    const { centroids, assignments, counts, iterations } = await data.kMeans(x, { k: 3, seed: 7 });
    const a = values(assignments);
    expect(partition(a)).toEqual(partition(blob));
    expect(counts).toEqual([100, 100, 100]);
    expect(iterations).toBeLessThan(20); // converged: the assignments stopped changing
    // Each centre is the mean of its blob's points, computed here in float64.
    const c = values(centroids);
    for (let j = 0; j < 3; j++) {
      const members = a.map((l, i) => (l === j ? i : -1)).filter((i) => i >= 0);
      const mx = members.reduce((s, i) => s + points[2 * i]!, 0) / members.length;
      const my = members.reduce((s, i) => s + points[2 * i + 1]!, 0) / members.length;
      expectClose([c[2 * j]!, c[2 * j + 1]!], [mx, my], 1e-4, 1e-4);
    }
    tf.dispose([x, centroids, assignments]);
  });

  it('is deterministic for a seed, handles fewer distinct rows than k, and leaves only what it returns', async () => {
    const x = tf.randomUniform([64, 5], -1, 1, 'float32', 3);
    const first = await data.kMeans(x, { k: 6, seed: 11 });
    const before = tf.memory().numTensors;
    const second = await data.kMeans(x, { k: 6, seed: 11 });
    expect(tf.memory().numTensors).toBe(before + 2);
    expect(values(second.assignments)).toEqual(values(first.assignments));
    expect(values(second.centroids)).toEqual(values(first.centroids));
    tf.dispose([first.centroids, first.assignments, second.centroids, second.assignments]);

    // Two distinct rows, k = 3: finite centres, every row at distance 0, inertia 0.
    const twins = tf.tensor2d([1, 1, 2, 2, 1, 1, 2, 2], [4, 2]);
    const { centroids, assignments, inertia } = await data.kMeans(twins, { k: 3, seed: 0 });
    expect(values(centroids).every(Number.isFinite)).toBe(true);
    expect(inertia).toBe(0);
    expect(partition(values(assignments))).toEqual(['0,2', '1,3']);
    tf.dispose([x, twins, centroids, assignments]);
  });
});

describe('data.kMeans argument checks', () => {
  beforeAll(async () => {
    await useTestBackend('cpu');
  });

  it('names the argument, what it expected and what it got', async () => {
    const x = tf.zeros([4, 2]);
    await expect(data.kMeans(x, { k: 5 })).rejects.toThrow(
      /data\.kMeans: argument 'options\.k' must be at most the number of rows \(4\), received 5/,
    );
    await expect(data.kMeans(x, { k: 0 })).rejects.toThrow(/argument 'options\.k'/);
    await expect(data.kMeans(x, { k: 2, iterations: 1.5 })).rejects.toThrow(/argument 'options\.iterations'/);
    await expect(data.kMeans(tf.zeros([4]), { k: 2 })).rejects.toThrow(/argument 'x' must have rank 2 or more/);
    await expect(data.kMeans(tf.zeros([4, 2], 'int32'), { k: 2 })).rejects.toThrow(/argument 'x'/);
    await expect(data.kMeans(x, undefined as never)).rejects.toThrow(/argument 'options'/);
    x.dispose();
  });
});
