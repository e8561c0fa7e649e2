/**
 * k-means clustering (Lloyd's algorithm with k-means++ seeding) on tensors: groups a dataset
 * into clusters without labels, e.g. to condition a GAN on the clusters of its training images
 * (a cluster-conditional, or self-conditioned, GAN).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { ArgumentError } from '../errors.js';
import { mulberry32 } from '../random.js';
import { assertFloatTensor, assertKnownKeys, assertMinRank, assertNonNegativeInt, assertPositiveInt } from '../validation.js';

/** Options of {@link kMeans}. @category Data */
export interface KMeansOptions {
  /** Number of clusters k, at most the number of rows. Required. */
  k: number;
  /** Most Lloyd iterations; stops earlier once no assignment changes. Default 20. */
  iterations?: number;
  /** Seed of the k-means++ draws. Default 0. */
  seed?: number;
}

/** What {@link kMeans} returns; the caller owns the two tensors. @category Data */
export interface KMeansResult {
  /** Cluster centres `[k, d]` (rows flattened to `d` features). */
  centroids: tf.Tensor2D;
  /** Index of each row's nearest centre, int32 `[n]`. */
  assignments: tf.Tensor1D;
  /** Rows per cluster (length k); each is at least 1 unless the data has fewer than k distinct rows. */
  counts: number[];
  /** Sum of squared distances of the rows to their centres. */
  inertia: number;
  /** Lloyd iterations run. */
  iterations: number;
}

const FN = 'data.kMeans';

/** Squared distances `[n, m]` between the rows of `x` `[n, d]` (with `xx = Σ x²` per row) and `c` `[m, d]`. */
function squaredDistances(x: tf.Tensor2D, xx: tf.Tensor2D, c: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(
    () => tf.relu(tf.add(tf.sub(xx, tf.mul(2, tf.matMul(x, c, false, true))), tf.transpose(tf.sum(tf.square(c), 1, true)))) as tf.Tensor2D,
  );
}

/**
 * Clusters the rows of `x` into `k` groups: k-means++ seeding (Arthur & Vassilvitskii 2007),
 * then Lloyd's iterations
 *
 * ```text
 * aᵢ = argmin_j ‖xᵢ − c_j‖²          (assign every row to its nearest centre)
 * c_j = mean { xᵢ : aᵢ = j }          (move every centre to the mean of its rows)
 * ```
 *
 * until no assignment changes or `iterations` have run. A centre that loses all its rows keeps
 * its place. The distances are one `[n, d]·[d, k]` product per iteration, so memory grows as
 * `n·k` floats (60,000 MNIST images and k = 50: 12 MB).
 *
 * @see https://theory.stanford.edu/~sergei/papers/kMeansPP-soda.pdf (Arthur & Vassilvitskii 2007, k-means++)
 * @see https://arxiv.org/abs/2006.10728 (Liu et al. 2020, self-conditioned GANs: conditioning a GAN on clusters)
 * @param x - float rows `[n, ...]` (every non-batch axis is flattened into the features).
 * @param options - `k` (required), `iterations` (20), `seed` (0).
 * @returns centres, assignments (the caller disposes both), cluster sizes, inertia, iterations.
 * @example
 * ```ts
 * const images = tf.randomUniform([200, 28, 28, 1], -1, 1);
 * const { centroids, assignments, counts } = await data.kMeans(images, { k: 10, seed: 1 });
 * console.log(counts); // rows per cluster
 * tf.dispose([images, centroids, assignments]);
 * ```
 * @category Data
 */
export async function kMeans(x: tf.Tensor, options: KMeansOptions): Promise<KMeansResult> {
  assertFloatTensor(x, 'x', FN);
  assertMinRank(x, 2, 'x', FN);
  assertKnownKeys(options, ['k', 'iterations', 'seed'], 'options', FN);
  if (options === undefined)
    throw new ArgumentError({ fn: FN, arg: 'options', expected: 'be an object { k, iterations?, seed? }', received: 'undefined' });
  const { k, iterations = 20, seed = 0 } = options;
  assertPositiveInt(k, 'options.k', FN);
  assertPositiveInt(iterations, 'options.iterations', FN);
  assertNonNegativeInt(seed, 'options.seed', FN);
  const n = x.shape[0]!;
  if (k > n) throw new ArgumentError({ fn: FN, arg: 'options.k', expected: `be at most the number of rows (${n})`, received: String(k) });

  const rows = tf.tidy(() => tf.reshape(x, [n, -1]) as tf.Tensor2D);
  const xx = tf.tidy(() => tf.sum(tf.square(rows), 1, true) as tf.Tensor2D);
  const random = mulberry32(seed);

  // k-means++: the first centre uniformly, each next one with probability ∝ D(x)², the squared
  // distance to the nearest centre chosen so far.
  const chosen: number[] = [Math.floor(random() * n)];
  let nearest = tf.tidy(() => squaredDistances(rows, xx, tf.gather(rows, [chosen[0]!]) as tf.Tensor2D));
  try {
    while (chosen.length < k) {
      const d2 = (await nearest.data()) as Float32Array;
      let total = 0;
      for (let i = 0; i < n; i++) total += d2[i]!;
      let pick: number;
      if (total > 0) {
        let u = random() * total;
        pick = n - 1;
        for (let i = 0; i < n; i++) {
          u -= d2[i]!;
          if (u < 0) {
            pick = i;
            break;
          }
        }
      } else {
        pick = Math.floor(random() * n); // fewer distinct rows than k: any row will do
      }
      chosen.push(pick);
      const next = tf.tidy(() => tf.minimum(nearest, squaredDistances(rows, xx, tf.gather(rows, [pick]) as tf.Tensor2D)) as tf.Tensor2D);
      nearest.dispose();
      nearest = next;
    }
  } finally {
    nearest.dispose();
  }

  let centroids = tf.tidy(() => tf.gather(rows, chosen) as tf.Tensor2D);
  let assignments: tf.Tensor1D | undefined;
  let previous: Int32Array | undefined;
  let run = 0;
  try {
    for (run = 1; run <= iterations; run++) {
      const current = tf.tidy(() => tf.cast(tf.argMin(squaredDistances(rows, xx, centroids), 1), 'int32') as tf.Tensor1D);
      assignments?.dispose();
      assignments = current;
      const values = (await current.data()) as Int32Array;
      const unchanged = previous !== undefined && values.every((v, i) => v === previous![i]);
      previous = values;
      if (unchanged) break;
      const moved = tf.tidy(() => {
        const sums = tf.unsortedSegmentSum(rows, current, k);
        const sizes = tf.unsortedSegmentSum(tf.ones([n, 1]), current, k);
        return tf.where(tf.greater(sizes, 0), tf.div(sums, tf.maximum(sizes, 1)), centroids) as tf.Tensor2D;
      });
      centroids.dispose();
      centroids = moved;
    }
    run = Math.min(run, iterations);
    // Final assignments and inertia against the final centres.
    const final = tf.tidy(() => {
      const d = squaredDistances(rows, xx, centroids);
      return [tf.cast(tf.argMin(d, 1), 'int32') as tf.Tensor1D, tf.sum(tf.min(d, 1))] as const;
    });
    assignments?.dispose();
    assignments = final[0];
    const inertia = (await final[1].data())[0]!;
    final[1].dispose();
    const counts = new Array<number>(k).fill(0);
    for (const a of (await assignments.data()) as Int32Array) counts[a]!++;
    return { centroids, assignments, counts, inertia, iterations: run };
  } catch (e) {
    tf.dispose([centroids, assignments]);
    throw e;
  } finally {
    tf.dispose([rows, xx]);
  }
}
