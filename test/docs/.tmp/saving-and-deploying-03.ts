import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-webgl';
import { data } from 'genblocks';

await tf.setBackend('webgl');
const generator = await tfl.loadLayersModel('/models/generator/model.json');
const latentDim = generator.inputs[0]!.shape[1] as number;

const grid = tf.tidy(() => {
  const images = generator.predict(tf.randomNormal([16, latentDim])) as tf.Tensor4D;
  return data.imageGrid(images, { columns: 4, range: '[-1,1]' }); // [h, w, 1] in [0, 1]
});
await tf.browser.toPixels(grid, document.querySelector('canvas')!);
grid.dispose();
