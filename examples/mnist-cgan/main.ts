/**
 * Class-conditional DCGAN on real MNIST: ask for a digit, get that digit.
 *
 *   npm run example:cgan -- [--epochs 2] [--batch-size 64] [--backend wasm] [--out out/mnist-cgan] [--seed 1]
 *
 * The generator embeds the label and concatenates it to the latent; the discriminator uses a
 * projection head (Miyato & Koyama 2018). Writes a grid with one row per digit class (0 to 9)
 * after every epoch and at the end, the loss curves, and the generator.
 */
import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import * as tf from '@tensorflow/tfjs-core';
import { backends, data, losses, nets, train } from 'genblocks';
import { loadMnist, saveModel, writeLossPlot, writePng } from 'genblocks/node';

export interface CganExampleOptions {
  epochs: number;
  batchSize: number;
  backend: backends.BackendName;
  out: string;
  seed: number;
  limit?: number;
  steps?: number;
  quiet?: boolean;
}

export function parseOptions(argv: string[]): CganExampleOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      epochs: { type: 'string', default: '2' },
      'batch-size': { type: 'string', default: '64' },
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
    console.log('usage: npm run example:cgan -- [--epochs 2] [--batch-size 64] [--backend wasm] [--out out/mnist-cgan] [--seed 1]');
    process.exit(0);
  }
  const int = (name: string, v: string | undefined) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`mnist-cgan: --${name} must be a positive integer, received '${v}'`);
    return n;
  };
  return {
    epochs: int('epochs', values.epochs),
    batchSize: int('batch-size', values['batch-size']),
    backend: values.backend as backends.BackendName,
    out: resolve(values.out!),
    seed: int('seed', values.seed),
    limit: values.limit === undefined ? undefined : int('limit', values.limit),
    steps: values.steps === undefined ? undefined : int('steps', values.steps),
    quiet: values.quiet,
  };
}

export async function main(options: CganExampleOptions): Promise<{ files: string[] }> {
  const { out } = options;
  mkdirSync(out, { recursive: true });
  const backend = await backends.use(options.backend);
  console.log(`backend ${backend.name} (SIMD ${backend.simd}, threads ${backend.threads})`);
  const mnist = await loadMnist({ split: 'train', normalize: '[-1,1]', limit: options.limit });

  const generator = nets.dcganGenerator({ latentDim: 100, outputShape: [28, 28, 1], numClasses: 10, widths: [128, 64] });
  const discriminator = nets.dcganDiscriminator({ inputShape: [28, 28, 1], head: 'projection', numClasses: 10 });
  const trainer = new train.AdversarialTrainer({
    generator,
    discriminator,
    loss: losses.gan.nonSaturating,
    generatorOptimizer: tf.train.adam(2e-4, 0.5),
    discriminatorOptimizer: tf.train.adam(2e-4, 0.5),
    seed: options.seed,
  });

  const files: string[] = [];
  const rowLabels = tf.tensor1d(Array.from({ length: 100 }, (_, i) => Math.floor(i / 10)), 'int32'); // row r = digit r
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
    data.batches(mnist.images, { labels: mnist.labels, batchSize: options.batchSize, shuffle: true, seed: options.seed, dropRemainder: true }),
    { epochs: options.epochs, steps: options.steps, callbacks },
  );

  const csv = join(out, 'losses.csv');
  const svg = join(out, 'losses.svg');
  await writeFile(csv, history.toCSV()); // step numbers as the trainer counts them (1 = after the first step)
  await writeLossPlot(svg, history.series(), { title: 'Conditional DCGAN on MNIST', xLabel: 'step' });
  const generatorDir = join(out, 'generator');
  await saveModel(generator, generatorDir);
  files.push(csv, svg, generatorDir);

  tf.dispose([mnist.images, mnist.labels, rowLabels]);
  trainer.dispose();
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
