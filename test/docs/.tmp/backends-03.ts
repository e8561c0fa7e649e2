import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { backends } from 'genblocks';

await tf.setBackend('wasm');
await tf.ready();
const support = backends.enableTraining();
console.log(support); // { backend: 'wasm', added: ['Conv2DBackpropFilter', ...], replaced: [...] }
