import { backends, metrics } from 'genblocks';
import { loadMnist, saveModel } from 'genblocks/node';

await backends.use('wasm'); // installs the convolution gradients wasm lacks
const trainSet = await loadMnist({ split: 'train', limit: 256 });
const testSet = await loadMnist({ split: 'test', limit: 100 });

const net = metrics.mnistFeatureNet();
await metrics.trainMnistFeatureNet(net, {
  images: trainSet.images,
  labels: trainSet.labels,
  epochs: 1, // the default, as are batchSize 128 and Adam 1e-3
  validation: { images: testSet.images, labels: testSet.labels },
  onEpoch: (epoch, logs) => console.log(`epoch ${epoch}`, logs), // { loss, validationAccuracy }
});
console.log('test accuracy', await metrics.classifierAccuracy(net, testSet.images, testSet.labels));
await saveModel(net, 'out/models/mnist-feature-net');
