/**
 * Loads a generator saved by one of the GAN examples, or a diffusion model saved by the
 * diffusion example, and writes a grid of new samples: the save/load path a user's app takes.
 *
 *   npm run example:generate -- [--model out/mnist-gan/generator] [--count 64] [--seed 7]
 *                               [--label 3] [--out out/generated.png]
 *
 * `--label` is for generators with a label input: with mnist-cgan's every sample is that digit,
 * with mnist-gan's (conditioned on k-means clusters) that cluster. Without it, mnist-gan's draws
 * clusters with their frequencies in the data and mnist-cgan's cycles through the digits.
 * A diffusion model (`--model out/mnist-diffusion/model`, a folder with diffusion.json) samples
 * with the settings saved beside it; a conditional one draws the --label digit or cycles through
 * the digits.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

import * as tf from '@tensorflow/tfjs-core';
import { backends } from 'genblocks';
import { loadModel, writeImageGrid } from 'genblocks/node';

import { drawDiffusionSamples, readDiffusionSettings } from '../shared/diffusion.js';
import { drawLabels, labelCount, readLabelFrequencies } from '../shared/labels.js';

export interface GenerateOptions {
  model: string;
  count: number;
  seed: number;
  label?: number;
  out: string;
  backend: backends.BackendName;
}

export function parseOptions(argv: string[]): GenerateOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string', default: 'out/mnist-gan/generator' },
      count: { type: 'string', default: '64' },
      seed: { type: 'string', default: '7' },
      label: { type: 'string' },
      out: { type: 'string', default: 'out/generated.png' },
      backend: { type: 'string', default: 'wasm' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: npm run example:generate -- [--model out/mnist-gan/generator] [--count 64] [--seed 7] [--label 3] [--out out/generated.png] [--backend wasm]',
    );
    process.exit(0);
  }
  const count = Number(values.count);
  if (!Number.isInteger(count) || count < 1) throw new Error(`generate: --count must be a positive integer, received '${values.count}'`);
  const label = values.label === undefined ? undefined : Number(values.label);
  if (label !== undefined && !Number.isInteger(label)) throw new Error(`generate: --label must be an integer, received '${values.label}'`);
  return {
    model: resolve(values.model!),
    count,
    seed: Number(values.seed),
    label,
    out: resolve(values.out!),
    backend: values.backend as backends.BackendName,
  };
}

export async function main(options: GenerateOptions): Promise<{ file: string }> {
  await backends.use(options.backend);
  const generator = await loadModel(options.model);
  const settings = readDiffusionSettings(options.model);
  if (settings !== undefined) return generateDiffusion(generator, settings, options);
  const inputs = generator.inputs;
  const latentDim = inputs[0]!.shape[1]!;
  // A generator with two inputs takes a label next to the noise: a digit (mnist-cgan) or a
  // k-means cluster (mnist-gan); its label embedding says how many there are. Without --label,
  // draw clusters with the frequencies saved next to the generator, or cycle through the digits.
  const categories = inputs.length === 2 ? labelCount(generator) : undefined;
  const frequencies = categories !== undefined && options.label === undefined ? readLabelFrequencies(options.model) : undefined;
  if (categories !== undefined && options.label !== undefined && (options.label < 0 || options.label >= categories)) {
    throw new Error(`generate: --label must be in [0, ${categories}) for this generator, received ${options.label}`);
  }

  const samples = tf.tidy(() => {
    const z = tf.randomNormal([options.count, latentDim], 0, 1, 'float32', options.seed);
    const labels = frequencies
      ? drawLabels(frequencies, options.count, options.seed)
      : tf.tensor1d(
          Array.from({ length: options.count }, (_, i) => options.label ?? i % categories!),
          'int32',
        );
    const feed = categories !== undefined ? [z, tf.reshape(labels, [options.count, 1])] : z;
    return generator.predict(feed) as tf.Tensor4D;
  });
  await writeImageGrid(samples, options.out, { range: '[-1,1]' });
  samples.dispose();
  generator.dispose();
  console.log(`wrote ${options.out} (${options.count} samples from ${options.model})`);
  return { file: options.out };
}

/** Samples a saved diffusion model with the settings saved beside it. */
async function generateDiffusion(
  model: Awaited<ReturnType<typeof loadModel>>,
  settings: NonNullable<ReturnType<typeof readDiffusionSettings>>,
  options: GenerateOptions,
): Promise<{ file: string }> {
  const classes = settings.numClasses;
  if (options.label !== undefined && (classes === null || options.label < 0 || options.label >= classes)) {
    model.dispose();
    throw new Error(
      classes === null
        ? `generate: --label needs a class-conditional model; ${options.model} is unconditional`
        : `generate: --label must be in [0, ${classes}) for this model, received ${options.label}`,
    );
  }
  const labels = options.label === undefined ? undefined : new Array<number>(options.count).fill(options.label);
  const { samples } = await drawDiffusionSamples(model, settings, { count: options.count, seed: options.seed, labels });
  await writeImageGrid(samples as tf.Tensor4D, options.out, { range: '[-1,1]' });
  samples.dispose();
  model.dispose();
  console.log(
    `wrote ${options.out} (${options.count} samples from ${options.model}, ${settings.sampler.sampler.toUpperCase()} in ${settings.sampler.steps} steps)`,
  );
  return { file: options.out };
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
