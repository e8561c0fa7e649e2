import * as tf from '@tensorflow/tfjs-core';
import { backends, losses } from 'genblocks';

await backends.use('wasm');
const realLogits = tf.tensor2d([[2.5], [0.3], [-1]]); // [batch, 1]
const fakeLogits = tf.tensor2d([[-3], [0.8]]); // another batch size is fine

const dLoss = losses.gan.nonSaturating.discriminator(realLogits, fakeLogits, { labelSmoothing: 0.1 });
const gLoss = losses.gan.nonSaturating.generator(fakeLogits);
const perLogit = losses.gan.hinge.generator(fakeLogits, { reduction: 'none' }); // [2, 1]
console.log(await dLoss.data(), await gLoss.data(), perLogit.shape);

// Any loss of losses.gan is a value: pick it at run time.
const loss: losses.GanLoss = losses.gan.leastSquares;
loss.discriminator(realLogits, fakeLogits).print();
