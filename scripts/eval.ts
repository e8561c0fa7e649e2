/**
 * `npm run eval`: sample-quality metrics for a saved MNIST generator or diffusion model.
 *
 *   npm run eval -- <run folder or model folder> [options]
 *       Loads the generator (`<dir>/model.json`, or `<dir>/generator/model.json` as the GAN
 *       example writes it) or the diffusion model (`<dir>/model/model.json` with diffusion.json
 *       beside it, as the diffusion example writes it), draws N samples and prints FID and KID
 *       against N real MNIST images, the classifier score and the class distribution, all under
 *       the MNIST feature network. A diffusion model samples with its saved sampler settings
 *       (--sampler-steps and --guidance-scale override them); a class-conditional one asks for
 *       each digit in turn (N/10 each) and the report adds the share classified as the digit
 *       asked for.
 *   npm run eval -- --train-feature-net [--feature-net DIR] [--epochs 2]
 *       Trains metrics.mnistFeatureNet with the documented recipe, prints its test accuracy and
 *       saves it to DIR.
 *   npm run eval -- --baseline [--real-split test]
 *       FID/KID of real MNIST test images against N training images: the floor that generated
 *       samples are compared against.
 *
 * Options: --feature-net DIR (default out/mnist-feature-net; trained and saved there when
 * missing), --samples N (10000), --batch-size B (500), --seed S (0), --backend wasm|cpu (wasm),
 * --real-split test|train (test), --epochs E (2), --train-limit N (training images used; all),
 * --threads T (wasm XNNPACK threads, experimental), --sampler-steps K and --guidance-scale W
 * (diffusion models).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import { backends, metrics } from '../src/index.js';
import { loadMnist, loadModel, saveModel } from '../src/node.js';
import { askedForShares, drawDiffusionSamples, readDiffusionSettings } from '../examples/shared/diffusion.js';
import { drawLabels, labelCount, readLabelFrequencies } from '../examples/shared/labels.js';

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'feature-net': { type: 'string', default: 'out/mnist-feature-net' },
    samples: { type: 'string', default: '10000' },
    'batch-size': { type: 'string', default: '500' },
    seed: { type: 'string', default: '0' },
    backend: { type: 'string', default: 'wasm' },
    'real-split': { type: 'string', default: 'test' },
    epochs: { type: 'string', default: '2' },
    'train-limit': { type: 'string' },
    threads: { type: 'string' },
    'sampler-steps': { type: 'string' },
    'guidance-scale': { type: 'string' },
    'train-feature-net': { type: 'boolean', default: false },
    baseline: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const usage = `usage: npm run eval -- <run or model folder> [--feature-net DIR] [--samples N] [--seed S] [--backend wasm|cpu] [--sampler-steps K] [--guidance-scale W]
       npm run eval -- --train-feature-net [--feature-net DIR] [--epochs E]
       npm run eval -- --baseline [--samples N]`;

function int(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, received '${value}'`);
  return n;
}

const samples = int('samples', opts.samples);
const batchSize = int('batch-size', opts['batch-size']);
const seed = int('seed', opts.seed);
const featureDir = opts['feature-net']!;
const realSplit = opts['real-split'] === 'train' ? 'train' : 'test';

const seconds = (t0: number) => `${((performance.now() - t0) / 1000).toFixed(1)} s`;

async function trainFeatureNet(): Promise<tfl.LayersModel> {
  const epochs = int('epochs', opts.epochs);
  const limit = opts['train-limit'] === undefined ? undefined : int('train-limit', opts['train-limit']);
  const train = await loadMnist({ split: 'train', limit });
  const test = await loadMnist({ split: 'test' });
  const net = metrics.mnistFeatureNet();
  console.log(`training metrics.mnistFeatureNet on ${train.count} images for ${epochs} epochs (${tf.getBackend()})`);
  const t0 = performance.now();
  await metrics.trainMnistFeatureNet(net, {
    images: train.images,
    labels: train.labels,
    epochs,
    seed,
    validation: { images: test.images, labels: test.labels },
    onEpoch: (epoch, logs) =>
      console.log(
        `  epoch ${epoch + 1}: loss ${logs.loss.toFixed(4)}, test accuracy ${(100 * logs.validationAccuracy!).toFixed(2)}% (${seconds(t0)})`,
      ),
  });
  const accuracy = await metrics.classifierAccuracy(net, test.images, test.labels);
  console.log(`feature net test accuracy: ${(100 * accuracy).toFixed(2)}% after ${seconds(t0)}`);
  tf.dispose([train.images, train.labels, test.images, test.labels]);
  await saveModel(net, featureDir);
  console.log(`saved to ${featureDir}`);
  return net;
}

async function featureNet(): Promise<tfl.LayersModel> {
  if (existsSync(join(featureDir, 'model.json'))) return loadModel(featureDir);
  console.log(`no feature net in ${featureDir}: training one first (npm run eval -- --train-feature-net)`);
  return trainFeatureNet();
}

function generatorDir(path: string): string {
  if (existsSync(join(path, 'model.json'))) return path;
  for (const sub of ['generator', 'model']) if (existsSync(join(path, sub, 'model.json'))) return join(path, sub);
  throw new Error(`${path}: no model.json there or in ${join(path, 'generator')} or ${join(path, 'model')}`);
}

/** Draws `count` images `[count, 28, 28, 1]` in [-1, 1] from a (possibly class-conditional) generator. */
function generate(generator: tfl.LayersModel, count: number, frequencies?: number[]): tf.Tensor4D {
  const latentDim = generator.inputs[0]!.shape[1] as number;
  // A second input is a label: a k-means cluster (the GAN example), drawn with the frequencies
  // saved next to the generator, or a class (the conditional example), cycled through.
  const categories = generator.inputs.length > 1 ? labelCount(generator) : undefined;
  const drawn = categories !== undefined && frequencies ? drawLabels(frequencies, count, seed) : undefined;
  const drawnValues = drawn ? Array.from(drawn.dataSync()) : undefined;
  drawn?.dispose();
  const parts: tf.Tensor[] = [];
  for (let start = 0; start < count; start += batchSize) {
    const size = Math.min(batchSize, count - start);
    parts.push(
      tf.tidy(() => {
        const z = tf.randomNormal([size, latentDim], 0, 1, 'float32', seed + start);
        const labels = Array.from({ length: size }, (_, i) => drawnValues?.[start + i] ?? (start + i) % categories!);
        const inputs = categories !== undefined ? [z, tf.tensor2d(labels, [size, 1], 'int32')] : z;
        const out = generator.predict(inputs) as tf.Tensor;
        return tf.reshape(out, [size, 28, 28, 1]);
      }),
    );
  }
  const images = tf.concat(parts) as tf.Tensor4D;
  tf.dispose(parts);
  return images;
}

/** Prints the metrics; `asked` (one label per sample) adds the share classified as the class asked for. */
async function report(net: tfl.LayersModel, real: tf.Tensor4D, fake: tf.Tensor4D, label: string, asked?: number[]): Promise<void> {
  const features = metrics.featureExtractor(net);
  const t0 = performance.now();
  const realActivations = await metrics.computeActivations(features, real, { batchSize });
  const fakeActivations = await metrics.computeActivations(features, fake, { batchSize });
  const fid = await metrics.frechetDistanceFromActivations(realActivations, fakeActivations);
  const kid = await metrics.kernelDistance(realActivations, fakeActivations, {
    subsets: 100,
    subsetSize: Math.min(1000, real.shape[0], fake.shape[0]),
    seed,
  });
  const probabilities = tf.tidy(() => {
    const parts: tf.Tensor[] = [];
    for (let start = 0; start < fake.shape[0]; start += batchSize) {
      const size = Math.min(batchSize, fake.shape[0] - start);
      parts.push(tf.softmax(net.predict(tf.slice(fake, start, size)) as tf.Tensor));
    }
    return tf.concat(parts) as tf.Tensor2D;
  });
  const splits = Math.min(10, fake.shape[0]); // 10, or one per sample for tiny runs
  const score = await metrics.classifierScore(probabilities, { splits });
  const classes = await metrics.classDistribution(probabilities);
  // Share of samples the classifier labels with confidence >= 0.9 (the GAN example's target).
  const confidentShare = tf.tidy(() => tf.mean(tf.cast(tf.greaterEqual(tf.max(probabilities, 1), 0.9), 'float32')));
  const confident = (await confidentShare.data())[0]!;
  const askedFor = asked === undefined ? undefined : await askedForShares(probabilities, asked);
  tf.dispose([probabilities, confidentShare]);
  console.log(`\n${label} (${fake.shape[0]} samples vs ${real.shape[0]} real MNIST ${realSplit} images, features: ${featureDir})`);
  console.log(`  FID              ${fid.toFixed(3)}`);
  console.log(`  KID              ${kid.mean.toFixed(5)} ± ${kid.standardError.toFixed(5)} (100 subsets of ${kid.subsetSize})`);
  console.log(`  classifier score ${score.mean.toFixed(3)} ± ${score.std.toFixed(3)} (${splits} splits; max 10)`);
  console.log(`  confident        ${(100 * confident).toFixed(1)}% of samples labelled with confidence >= 0.9`);
  console.log(`  classes          ${classes.shares.map((s, c) => `${c}:${(100 * s).toFixed(1)}%`).join(' ')}`);
  console.log(
    `  class entropy    ${classes.entropy.toFixed(4)} nats (normalized ${classes.normalizedEntropy.toFixed(4)}), ${classes.classesCovered}/10 classes covered`,
  );
  if (askedFor !== undefined) {
    console.log(`  asked-for digit  ${(100 * askedFor.overall).toFixed(1)}% of samples classified as the digit asked for`);
    console.log(
      `  per digit        ${askedFor.perClass.map((s, c) => `${c}:${Number.isNaN(s) ? '-' : `${(100 * s).toFixed(0)}%`}`).join(' ')}`,
    );
  }
  console.log(`  (metrics computed in ${seconds(t0)})`);
}

async function main(): Promise<void> {
  if (opts.help || (!opts['train-feature-net'] && !opts.baseline && positionals.length !== 1)) {
    console.log(usage);
    process.exitCode = opts.help ? 0 : 1;
    return;
  }
  const threads = opts.threads === undefined ? undefined : int('threads', opts.threads);
  await backends.use(opts.backend as 'wasm' | 'cpu', threads ? { threads } : {});
  if (opts['train-feature-net']) {
    (await trainFeatureNet()).dispose();
    return;
  }
  const net = await featureNet();
  const real = (await loadMnist({ split: realSplit, limit: samples })).images;
  let fake: tf.Tensor4D;
  let label: string;
  let asked: number[] | undefined;
  if (opts.baseline) {
    // The floor: other real images, from the other split.
    const other = realSplit === 'test' ? 'train' : 'test';
    const data = await loadMnist({ split: other, limit: samples });
    tf.dispose(data.labels);
    fake = data.images;
    label = `baseline: real MNIST ${other} images`;
  } else {
    const dir = generatorDir(positionals[0]!);
    const generator = await loadModel(dir);
    const settings = readDiffusionSettings(dir);
    if (settings !== undefined) {
      const steps = opts['sampler-steps'] === undefined ? undefined : int('sampler-steps', opts['sampler-steps']);
      const guidanceScale = opts['guidance-scale'] === undefined ? undefined : Number(opts['guidance-scale']);
      if (guidanceScale !== undefined && !Number.isFinite(guidanceScale)) {
        throw new Error(`--guidance-scale must be a number, received '${opts['guidance-scale']}'`);
      }
      const t0 = performance.now();
      const drawn = await drawDiffusionSamples(generator, settings, { count: real.shape[0], seed, batchSize, steps, guidanceScale });
      fake = tf.reshape(drawn.samples, [real.shape[0], 28, 28, 1]);
      drawn.samples.dispose();
      asked = drawn.labels;
      const sampler = `${settings.sampler.sampler.toUpperCase()}, ${steps ?? settings.sampler.steps} steps`;
      const guidance = asked === undefined ? '' : `, guidance scale ${guidanceScale ?? settings.sampler.guidanceScale ?? 0}`;
      console.log(`drew ${real.shape[0]} samples (${sampler}${guidance}) in ${seconds(t0)}`);
      label = `diffusion model ${dir} (${sampler}${guidance})`;
    } else {
      fake = generate(generator, real.shape[0], readLabelFrequencies(dir));
      label = `generator ${dir}`;
    }
    generator.dispose();
  }
  await report(net, real, fake, label, asked);
  tf.dispose([real, fake]);
  net.dispose();
}

await main();
