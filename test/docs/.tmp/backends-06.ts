import * as tf from '@tensorflow/tfjs-core';
import { backends } from 'genblocks';

const info = await backends.use('wasm', { threads: 2 }); // 1 to 8
console.log(info.threads); // 2
// ... train ...
tf.removeBackend('wasm'); // stops the worker threads, which otherwise keep Node running
