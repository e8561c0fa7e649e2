/**
 * The label input of the examples' generators: drawing k-means clusters (the GAN example) with
 * their frequencies in the training data, which the example saves next to the generator and
 * `npm run eval` and the generate example read from there, and the number of labels a saved
 * generator takes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

/** File, inside a saved generator's folder, holding `{ "frequencies": [...] }`. */
export const LABEL_FREQUENCIES_FILE = 'label-frequencies.json';

/**
 * `n` labels, int32 `[n]`, label `j` drawn with probability `frequencies[j]` (stratified: the
 * `i`-th of `n` evenly spaced quantiles, shuffled by `seed` unless `sorted`).
 */
export function drawLabels(frequencies: readonly number[], n: number, seed: number, options: { sorted?: boolean } = {}): tf.Tensor1D {
  const total = frequencies.reduce((a, b) => a + b, 0);
  const labels: number[] = [];
  let cumulative = 0;
  let j = 0;
  for (let i = 0; i < n; i++) {
    const u = ((i + 0.5) / n) * total;
    while (j < frequencies.length - 1 && cumulative + frequencies[j]! < u) cumulative += frequencies[j++]!;
    labels.push(j);
  }
  if (!options.sorted) {
    // Fisher-Yates with mulberry32(seed).
    let a = seed >>> 0;
    const random = () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    for (let i = n - 1; i > 0; i--) {
      const k = Math.floor(random() * (i + 1));
      [labels[i], labels[k]] = [labels[k]!, labels[i]!];
    }
  }
  return tf.tensor1d(labels, 'int32');
}

/** The label frequencies saved next to the generator in `dir`, if any. */
export function readLabelFrequencies(dir: string): number[] | undefined {
  const file = join(dir, LABEL_FREQUENCIES_FILE);
  if (!existsSync(file)) return undefined;
  const { frequencies } = JSON.parse(readFileSync(file, 'utf8')) as { frequencies?: unknown };
  if (!Array.isArray(frequencies) || !frequencies.every((f) => typeof f === 'number' && f >= 0)) {
    throw new Error(`${file}: expected { "frequencies": [non-negative numbers] }`);
  }
  return frequencies as number[];
}

/**
 * How many labels a generator with a label input takes: the rows of its label embedding (digits
 * for mnist-cgan, clusters for mnist-gan).
 */
export function labelCount(generator: tfl.LayersModel): number {
  const size = generator.layers.find((layer) => layer.getClassName() === 'Embedding')?.getConfig()['inputDim'];
  if (typeof size !== 'number')
    throw new Error('this generator has two inputs but no label embedding: cannot tell how many labels it takes');
  return size;
}
