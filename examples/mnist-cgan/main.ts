/**
 * Class-conditional DCGAN on real MNIST: ask for a digit, get that digit.
 *
 *   npm run example:cgan -- [--epochs 2] [--batch-size 32] [--ema 0.999] [--head projection|acgan] [--backend wasm] [--out out/mnist-cgan] [--seed 1]
 *
 * The generator embeds the label and concatenates it to the latent; the discriminator uses a
 * projection head (Miyato & Koyama 2018), or with `--head acgan` an auxiliary classifier
 * (AC-GAN, Odena et al. 2017: it takes the image alone and also predicts its class). The networks and settings are the GAN example's small
 * DCGAN (see docs/training-recipes.md). Writes a grid with one row per digit class (0 to 9)
 * after every epoch and at the end, the loss curves and the generator, and reports how many of
 * 1,000 samples (100 per digit) the MNIST classifier reads as the digit asked for.
 */
import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import * as tf from '@tensorflow/tfjs-core';
import { backends, data, losses, nets, train } from 'genblocks';
import { loadMnist, saveModel, writeLossPlot, writePng } from 'genblocks/node';

import { reportSampleQuality } from '../shared/sample-quality.js';

export interface CganExampleOptions {
  epochs: number;
  batchSize: number;
  backend: backends.BackendName;
  out: string;
  seed: number;
  /** Decay of the generator weights' moving average used for sampling and saving; 0 turns it off. */
  ema: number;
  /** How the discriminator uses the labels: a projection head (default) or an AC-GAN classifier. */
  head?: 'projection' | 'acgan';
  /** Folder of a saved MNIST feature network for the closing quality report. */
  featureNet: string;
  limit?: number;
  steps?: number;
  quiet?: boolean;
}

export function parseOptions(argv: string[]): CganExampleOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      epochs: { type: 'string', default: '2' },
      'batch-size': { type: 'string', default: '32' },
      ema: { type: 'string', default: '0.999' },
      head: { type: 'string', default: 'projection' },
      'feature-net': { type: 'string', default: 'out/mnist-feature-net' },
      backend: { type: 'string', default: 'wasm' },
      out: { type: 'string', default: 'out/mnist-cgan' },
      seed: { type: 'string', default: '1' },
      limit: { type: 'string' },
      steps: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: npm run example:cgan -- [--epochs 2] [--batch-size 32] [--ema 0.999] [--head projection|acgan] [--backend wasm] [--out out/mnist-cgan] [--seed 1] [--feature-net out/mnist-feature-net]',
    );
    process.exit(0);
  }
  const int = (name: string, v: string | undefined) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`mnist-cgan: --${name} must be a positive integer, received '${v}'`);
    return n;
  };
  const ema = Number(values.ema);
  if (!(ema >= 0 && ema < 1)) throw new Error(`mnist-cgan: --ema must be a number in [0, 1), received '${values.ema}'`);
  const head = values.head;
  if (head !== 'projection' && head !== 'acgan') throw new Error(`mnist-cgan: --head must be 'projection' or 'acgan', received '${head}'`);
  return {
    epochs: int('epochs', values.epochs),
    batchSize: int('batch-size', values['batch-size']),
    backend: values.backend as backends.BackendName,
    out: resolve(values.out!),
    seed: int('seed', values.seed),
    ema,
    head,
    featureNet: resolve(values['feature-net']!),
    limit: values.limit === undefined ? undefined : int('limit', values.limit),
    steps: values.steps === undefined ? undefined : int('steps', values.steps),
    quiet: values.quiet,
  };
}

export async function main(options: CganExampleOptions): Promise<{ files: string[] }> {
  const { out, head = 'projection' } = options;
  mkdirSync(out, { recursive: true });
  const backend = await backends.use(options.backend);
  console.log(`backend ${backend.name} (SIMD ${backend.simd}, threads ${backend.threads})`);
  const mnist = await loadMnist({ split: 'train', normalize: '[-1,1]', limit: options.limit });

  // The GAN example's small DCGAN (7x7x64 -> 14x14x32 -> 28x28, 4x4 kernels) with the label
  // embedded into the generator's input and a projection head (or an AC-GAN classifier) on the discriminator.
  const generator = nets.dcganGenerator({
    latentDim: 100,
    outputShape: [28, 28, 1],
    numClasses: 10,
    widths: [64, 32],
    kernelSize: 4,
    seed: options.seed,
  });
  const discriminator = nets.dcganDiscriminator({
    inputShape: [28, 28, 1],
    head,
    numClasses: 10,
    widths: [32, 64],
    kernelSize: 4,
    dropout: 0,
    seed: options.seed + 1,
  });
  const generatorOptimizer = train.fusedAdam({ learningRate: 5e-4, beta1: 0.5 });
  const discriminatorOptimizer = train.fusedAdam({ learningRate: 5e-4, beta1: 0.5 });
  const trainer = new train.AdversarialTrainer({
    generator,
    discriminator,
    loss: losses.gan.nonSaturating,
    generatorOptimizer,
    discriminatorOptimizer,
    auxiliaryClassifier: head === 'acgan' ? { numClasses: 10 } : undefined,
    ema: options.ema > 0 ? options.ema : undefined,
    seed: options.seed,
  });

  const files: string[] = [];
  const rowLabels = tf.tensor1d(
    Array.from({ length: 100 }, (_, i) => Math.floor(i / 10)),
    'int32',
  ); // row r = digit r
  const history = train.history();
  const callbacks: train.Callback[] = [
    history,
    train.sampleGrid({
      count: 100,
      columns: 10,
      labels: rowLabels,
      seed: options.seed,
      everyEpoch: true,
      write: async (grid, { epoch, final }) => {
        const file = join(out, final ? 'digits-final.png' : `digits-epoch-${String(epoch).padStart(2, '0')}.png`);
        await writePng(grid, file);
        files.push(file);
      },
    }),
  ];
  if (!options.quiet) callbacks.push(train.progressBar());

  await trainer.fit(
    data.batches(mnist.images, {
      labels: mnist.labels,
      batchSize: options.batchSize,
      shuffle: true,
      seed: options.seed,
      dropRemainder: true,
    }),
    { epochs: options.epochs, steps: options.steps, callbacks },
  );

  const csv = join(out, 'losses.csv');
  const svg = join(out, 'losses.svg');
  await writeFile(csv, history.toCSV()); // step numbers as the trainer counts them (1 = after the first step)
  await writeLossPlot(svg, history.series(), { title: 'Conditional DCGAN on MNIST', xLabel: 'step' });
  const generatorDir = join(out, 'generator');
  await trainer.withSamplingWeights(() => saveModel(generator, generatorDir)); // the EMA weights
  files.push(csv, svg, generatorDir);

  // 1,000 samples, 100 per digit: how many does the classifier read as the digit asked for?
  const requested = tf.tensor1d(
    Array.from({ length: 1000 }, (_, i) => i % 10),
    'int32',
  );
  const fake = (await trainer.sample(1000, { labels: requested, seed: options.seed + 1 })) as tf.Tensor4D;
  await reportSampleQuality(options.featureNet, fake, { seed: options.seed, requested });

  tf.dispose([mnist.images, mnist.labels, rowLabels, requested, fake]);
  trainer.dispose();
  for (const disposable of [generator, discriminator, generatorOptimizer, discriminatorOptimizer]) disposable.dispose();
  console.log('\nwrote:');
  for (const f of files) console.log(`  ${f}`);
  return { files };
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
