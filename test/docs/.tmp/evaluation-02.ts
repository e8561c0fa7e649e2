import * as tf from '@tensorflow/tfjs-core';
import { backends, metrics, nets } from 'genblocks';
import { loadMnist } from 'genblocks/node';

await backends.use('wasm');
const n = 200;
const real = await loadMnist({ split: 'test', limit: n }); // [n, 28, 28, 1] in [-1, 1]
const generator = nets.dcganGenerator({ latentDim: 100, outputShape: [28, 28, 1] }); // yours, trained
const fake = tf.tidy(() => generator.predict(tf.randomNormal([n, 100], 0, 1, 'float32', 1)) as tf.Tensor);

// The feature network of the previous section (untrained here, to keep the example short).
const features = metrics.featureExtractor(metrics.mnistFeatureNet());
const realFeatures = await metrics.computeActivations(features, real.images); // { data, shape: [n, 128] }
const fakeFeatures = await metrics.computeActivations(features, fake);

const fid = await metrics.frechetDistanceFromActivations(realFeatures, fakeFeatures);
const kid = await metrics.kernelDistance(realFeatures, fakeFeatures, { subsets: 10, subsetSize: 100, seed: 0 });
console.log(`FID ${fid.toFixed(2)}, KID ${kid.mean.toFixed(4)} ± ${kid.standardError.toFixed(4)} (n = ${n})`);
tf.dispose([fake, real.images, real.labels]);
