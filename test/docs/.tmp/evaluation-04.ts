import * as tf from '@tensorflow/tfjs-core';
import { backends, metrics } from 'genblocks';

await backends.use('wasm');
// Stand-in predictions: 1,000 confident predictions over 10 classes, class 9 never predicted.
const labels = tf.tensor1d(Array.from({ length: 1000 }, (_, i) => i % 9), 'int32');
const probabilities = tf.tidy(() => tf.softmax(tf.mul(tf.oneHot(labels, 10), 8)) as tf.Tensor2D);

const score = await metrics.classifierScore(probabilities, { splits: 10 });
const coverage = await metrics.classDistribution(probabilities);
console.log(score.mean.toFixed(2), score.std.toFixed(2)); // 8.78 0.00 (9 classes used evenly: at most 9)
console.log(coverage.classesCovered, coverage.normalizedEntropy.toFixed(3)); // 9 0.954
tf.dispose([labels, probabilities]);
