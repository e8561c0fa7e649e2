import * as tf from '@tensorflow/tfjs-core';
import { backends, metrics } from 'genblocks';

await backends.use('wasm');
for (const n of [100, 400, 1600]) {
  const a = tf.randomNormal([n, 16], 0, 1, 'float32', 1) as tf.Tensor2D;
  const b = tf.randomNormal([n, 16], 0, 1, 'float32', 2) as tf.Tensor2D; // same distribution
  const fid = await metrics.frechetDistanceFromActivations(a, b);
  const kid = await metrics.kernelDistance(a, b, { subsets: 20, subsetSize: Math.min(n, 500), seed: 0 });
  console.log(n, fid.toFixed(3), kid.mean.toFixed(4)); // FID shrinks roughly like 1/n; KID stays near 0
  tf.dispose([a, b]);
}
