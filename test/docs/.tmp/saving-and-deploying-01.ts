import * as tf from '@tensorflow/tfjs-core';
import { backends, nets } from 'genblocks';
import { loadModel, saveModel } from 'genblocks/node';

await backends.use('wasm');
const generator = nets.dcganGenerator({ latentDim: 100, outputShape: [28, 28, 1] });
await saveModel(generator, 'out/models/generator');

const loaded = await loadModel('out/models/generator');
const noise = tf.randomNormal([4, 100], 0, 1, 'float32', 1);
const images = loaded.predict(noise) as tf.Tensor; // [4, 28, 28, 1] in [-1, 1]
console.log(images.shape);
