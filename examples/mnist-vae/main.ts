/**
 * Variational autoencoder on real MNIST.
 *
 *   npm run example:vae -- [--epochs 10] [--batch-size 128] [--latent-dim 20] [--backend wasm]
 *                          [--out out/mnist-vae] [--seed 1]
 *
 * Reports the test-set negative ELBO in nats per image after every epoch (a single-sample
 * estimate, the number pytorch/examples' VAE prints), writes reconstructions next to the
 * originals, samples from the prior, for a 2-D latent (`--latent-dim 2`) the latent-space
 * manifold, the loss curves, and saves the decoder.
 */
import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { backends, data, losses, train, vae } from 'genblocks';
import { loadMnist, saveModel, writeImageGrid, writeLossPlot } from 'genblocks/node';

export interface VaeExampleOptions {
  epochs: number;
  batchSize: number;
  latentDim: number;
  backend: backends.BackendName;
  out: string;
  seed: number;
  /** Use only the first `limit` training and test images (smoke tests). */
  limit?: number;
  /** Stop after this many steps (smoke tests). */
  steps?: number;
  quiet?: boolean;
}

export function parseOptions(argv: string[]): VaeExampleOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      epochs: { type: 'string', default: '10' },
      'batch-size': { type: 'string', default: '128' },
      'latent-dim': { type: 'string', default: '20' },
      backend: { type: 'string', default: 'wasm' },
      out: { type: 'string', default: 'out/mnist-vae' },
      seed: { type: 'string', default: '1' },
      limit: { type: 'string' },
      steps: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: npm run example:vae -- [--epochs 10] [--batch-size 128] [--latent-dim 20] [--backend wasm] [--out out/mnist-vae] [--seed 1]',
    );
    process.exit(0);
  }
  const int = (name: string, v: string | undefined) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`mnist-vae: --${name} must be a positive integer, received '${v}'`);
    return n;
  };
  return {
    epochs: int('epochs', values.epochs),
    batchSize: int('batch-size', values['batch-size']),
    latentDim: int('latent-dim', values['latent-dim']),
    backend: values.backend as backends.BackendName,
    out: resolve(values.out!),
    seed: int('seed', values.seed),
    limit: values.limit === undefined ? undefined : int('limit', values.limit),
    steps: values.steps === undefined ? undefined : int('steps', values.steps),
    quiet: values.quiet,
  };
}

/** Negative ELBO (nats per image) of `model` on `images`, in chunks, one z sample per image. */
async function testNegativeElbo(model: LayersModel, images: tf.Tensor4D): Promise<number> {
  const negativeElbo = losses.vae.elbo({ likelihood: 'bernoulli' });
  const n = images.shape[0];
  const chunk = 1000;
  let total = 0;
  for (let start = 0; start < n; start += chunk) {
    const size = Math.min(chunk, n - start);
    const loss = tf.tidy(() => {
      const x = tf.slice(images, [start, 0, 0, 0], [size, -1, -1, -1]);
      const [logits, mean, logVar] = model.predict(x) as tf.Tensor[];
      return tf.mul(negativeElbo(logits!, x, mean!, logVar!).loss, size);
    });
    total += (await loss.data())[0]!;
    loss.dispose();
  }
  return total / n;
}

export async function main(options: VaeExampleOptions): Promise<{ files: string[]; testNelbo: number[] }> {
  const { out, latentDim } = options;
  mkdirSync(out, { recursive: true });
  const backend = await backends.use(options.backend);
  console.log(`backend ${backend.name} (SIMD ${backend.simd}, threads ${backend.threads})`);

  const trainSet = await loadMnist({ split: 'train', normalize: '[0,1]', limit: options.limit });
  const testSet = await loadMnist({ split: 'test', normalize: '[0,1]', limit: options.limit });
  console.log(`MNIST: ${trainSet.images.shape[0]} training and ${testSet.images.shape[0]} test images`);

  // Wider and deeper than pytorch/examples' 784-400-20 VAE, which reaches about 105 nats.
  // 784-640-320-z MLPs with batch norm, which lets Adam start at 2e-3 and then decay on a cosine
  // to 1e-4 by the last step: in 10 epochs this reaches a test negative ELBO about 3 nats below
  // 784-512-256-z MLPs without batch norm at a constant 1e-3, at about 40 s per epoch on wasm
  // (docs/training-recipes.md).
  const encoder = vae.mlpEncoder({
    inputShape: [28, 28, 1],
    latentDim,
    widths: [640, 320],
    activation: 'relu',
    normalization: 'batch',
    seed: options.seed,
  });
  const decoder = vae.mlpDecoder({
    latentDim,
    outputShape: [28, 28, 1],
    widths: [320, 640],
    activation: 'relu',
    normalization: 'batch',
    seed: options.seed + 1,
  });
  const model = vae.assemble({ encoder, decoder, seed: options.seed });

  const optimizer = train.fusedAdam({ learningRate: 2e-3 });
  const trainer = new train.VaeTrainer({ model, decoder, optimizer, seed: options.seed });
  const stepsPerEpoch = Math.ceil(trainSet.images.shape[0] / options.batchSize);
  const totalSteps = options.steps ?? options.epochs * stepsPerEpoch;
  const schedule = train.learningRateSchedule(optimizer, train.cosineDecay({ initial: 2e-3, final: 1e-4, steps: totalSteps }));

  const testNelbo: number[] = [];
  const history = train.history();
  let epochStart = performance.now();
  const evaluate: train.Callback = {
    onEpochBegin() {
      epochStart = performance.now();
    },
    async onEpochEnd(epoch) {
      const value = await testNegativeElbo(model, testSet.images);
      testNelbo.push(value);
      const seconds = (performance.now() - epochStart) / 1000;
      console.log(
        `\nepoch ${epoch + 1}: test negative ELBO ${value.toFixed(2)} nats per image (${seconds.toFixed(1)} s with the test evaluation)`,
      );
    },
  };
  const callbacks: train.Callback[] = [schedule, history, evaluate];
  if (!options.quiet) callbacks.push(train.progressBar());

  const t0 = performance.now();
  await trainer.fit(data.batches(trainSet.images, { batchSize: options.batchSize, shuffle: true, seed: options.seed }), {
    epochs: options.epochs,
    steps: options.steps,
    callbacks,
  });
  const seconds = (performance.now() - t0) / 1000;
  console.log(`trained in ${seconds.toFixed(1)} s (${(seconds / options.epochs).toFixed(1)} s per epoch, including evaluation)`);

  const files: string[] = [];
  // Reconstructions: rows alternate 10 originals and their reconstructions (posterior means).
  const pairs = tf.tidy(() => {
    const x = tf.slice(testSet.images, [0, 0, 0, 0], [50, -1, -1, -1]);
    const [mean] = encoder.predict(x) as tf.Tensor[];
    const recon = tf.sigmoid(decoder.predict(mean!) as tf.Tensor);
    const rows: tf.Tensor[] = [];
    for (let r = 0; r < 5; r++) {
      rows.push(tf.slice(x, [r * 10, 0, 0, 0], [10, -1, -1, -1]), tf.slice(recon, [r * 10, 0, 0, 0], [10, -1, -1, -1]));
    }
    return tf.concat(rows) as tf.Tensor4D;
  });
  const reconFile = join(out, 'reconstructions.png');
  await writeImageGrid(pairs, reconFile, { columns: 10, range: '[0,1]' });
  pairs.dispose();
  files.push(reconFile);

  const samples = (await trainer.sample(100, { seed: options.seed })) as tf.Tensor4D;
  const samplesFile = join(out, 'samples.png');
  await writeImageGrid(samples, samplesFile, { columns: 10, range: '[0,1]' });
  samples.dispose();
  files.push(samplesFile);

  if (latentDim === 2) {
    // The decoder's means over a 20x20 grid of the latent plane, at Gaussian quantiles.
    const manifold = tf.tidy(() => {
      const k = 20;
      const q = Array.from({ length: k }, (_, i) => Math.SQRT2 * erfinv(2 * ((i + 0.5) / k) - 1));
      const z = tf.tensor2d(q.flatMap((a) => q.map((b) => [b, -a])).flat(), [k * k, 2]);
      return tf.sigmoid(decoder.predict(z) as tf.Tensor) as tf.Tensor4D;
    });
    const manifoldFile = join(out, 'manifold.png');
    await writeImageGrid(manifold, manifoldFile, { columns: 20, range: '[0,1]', padding: 0 });
    manifold.dispose();
    files.push(manifoldFile);
  }

  const csv = join(out, 'losses.csv');
  const svg = join(out, 'losses.svg');
  await writeFile(csv, history.toCSV()); // step numbers as the trainer counts them (1 = after the first step)
  await writeLossPlot(svg, history.series(), { title: 'VAE on MNIST', xLabel: 'step' });
  const decoderDir = join(out, 'decoder');
  await saveModel(decoder, decoderDir);
  files.push(csv, svg, decoderDir);

  tf.dispose([trainSet.images, trainSet.labels, testSet.images, testSet.labels]);
  trainer.dispose();
  optimizer.dispose();
  console.log('\ntest negative ELBO per epoch (nats per image):', testNelbo.map((v) => v.toFixed(2)).join(', '));
  console.log('wrote:');
  for (const f of files) console.log(`  ${f}`);
  return { files, testNelbo };
}

/** Inverse error function (Giles' single-precision approximation), for Gaussian quantiles. */
function erfinv(x: number): number {
  let w = -Math.log((1 - x) * (1 + x));
  let p: number;
  if (w < 5) {
    w -= 2.5;
    p = 2.81022636e-8;
    for (const c of [3.43273939e-7, -3.5233877e-6, -4.39150654e-6, 0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941])
      p = c + p * w;
  } else {
    w = Math.sqrt(w) - 3;
    p = -0.000200214257;
    for (const c of [0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682])
      p = c + p * w;
  }
  return p * x;
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
