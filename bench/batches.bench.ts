/**
 * One shuffled epoch of `data.batches` over an MNIST-sized dataset (gather by index per batch)
 * against copying the whole dataset into the epoch's order first (`tf.gather(images,
 * permutation)`), then taking consecutive batches out of the copy. (Taking them with `tf.slice`
 * is not an option on wasm: its Slice kernel copies the whole input on every call, about
 * 300 ms per batch at MNIST size.)
 */
import * as tf from '@tensorflow/tfjs-core';

import { data } from '../src/index.js';
import { compare, type BenchSuite } from './harness.js';

const suite: BenchSuite = {
  name: 'batches',
  async run(ctx) {
    const n = ctx.quick ? 2048 : 60000;
    const batchSize = 64;
    const images = tf.randomUniform([n, 28, 28, 1]);
    const labels = tf.randomUniform([n], 0, 10, 'int32');
    const source = data.batches(images, { labels, batchSize, shuffle: true, seed: 1 });

    const epochByIndex = async () => {
      let last: tf.Tensor | undefined;
      for (const { x, y } of source) {
        last?.dispose();
        y?.dispose();
        last = x;
      }
      await last!.data();
      last!.dispose();
    };
    let epoch = 0;
    const epochByCopy = async () => {
      const order = tf.tensor1d(data.epochOrder(n, 1, epoch++), 'int32');
      const shuffledX = tf.gather(images, order);
      const shuffledY = tf.gather(labels, order);
      let last: tf.Tensor | undefined;
      for (let start = 0; start < n; start += batchSize) {
        const size = Math.min(batchSize, n - start);
        last?.dispose();
        tf.tidy(() => {
          const rows = tf.range(start, start + size, 1, 'int32');
          tf.gather(shuffledY, rows);
          last = tf.keep(tf.gather(shuffledX, rows));
        });
      }
      await last!.data();
      tf.dispose([last!, order, shuffledX, shuffledY]);
    };

    const result = await compare(
      'data.batches epoch (gather per batch)',
      epochByIndex,
      'copy dataset per epoch, then take batches',
      epochByCopy,
      {
        warmup: 1,
        runs: ctx.quick ? 2 : 3,
        size: `${n}×28×28×1, batch ${batchSize}`,
      },
    );
    tf.dispose([images, labels]);
    return [result];
  },
};

export default suite;
