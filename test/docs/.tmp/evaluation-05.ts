import * as tf from '@tensorflow/tfjs-core';
import { backends, metrics } from 'genblocks';
import { loadMnist } from 'genblocks/node';

await backends.use('wasm');
const { images } = await loadMnist({ split: 'test', normalize: '[0,1]', limit: 16 });
// Stand-in reconstructions; with a trained VAE: tf.sigmoid(logits) of model.predict(images).
const reconstructions = tf.tidy(() => tf.clipByValue(tf.add(images, tf.randomNormal(images.shape, 0, 0.1, 'float32', 1)), 0, 1) as tf.Tensor4D);

const db = metrics.psnr(reconstructions, images, { maxValue: 1, reduction: 'mean' });
const perImage = metrics.ssim(reconstructions, images, { maxValue: 1 }); // [16]
console.log(`PSNR ${(await db.data())[0]!.toFixed(1)} dB, mean SSIM ${(await tf.mean(perImage).data())[0]!.toFixed(3)}`);
