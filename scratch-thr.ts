import * as tf from '@tensorflow/tfjs-core';
import { backends } from './src/index.js';
const n = Number(process.argv[2] ?? 2);
console.log(await backends.use('wasm', n > 1 ? { threads: n } : {}));
const a = tf.randomNormal([512, 1024]), b = tf.randomNormal([1024, 1024]);
for (let i = 0; i < 3; i++) tf.matMul(a, b).dataSync();
const t0 = performance.now(); for (let i = 0; i < 10; i++) { const c = tf.matMul(a, b); c.dataSync(); c.dispose(); }
console.log('GFLOP/s', (2 * 512 * 1024 * 1024 / ((performance.now() - t0) / 10) / 1e6).toFixed(1), typeof URL.createObjectURL, (await import('node:os')).cpus().length);
