/**
 * A saved diffusion model of the examples: the UNet (model.json) and, next to it, the settings
 * it was trained and is sampled with (diffusion.json: schedule, prediction target, null label,
 * sampler). The MNIST diffusion example writes them; `npm run eval` and the generate example
 * read them to draw samples the way the example does.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { diffusion } from 'genblocks';

/** File, inside a saved diffusion model's folder, holding its {@link DiffusionSettings}. */
export const DIFFUSION_SETTINGS_FILE = 'diffusion.json';

/** What diffusion.json holds. */
export interface DiffusionSettings {
  /** The options of `diffusion.noiseSchedule` the model was trained with. */
  schedule: diffusion.NoiseScheduleOptions;
  prediction: 'epsilon' | 'v' | 'x0';
  /** Classes of a class-conditional model, or null. */
  numClasses: number | null;
  /** Its null label (classifier-free guidance), or null. */
  nullLabel: number | null;
  /** How to sample: `sampler`, `steps`, `eta`, `clipSample`, `guidanceScale` (0: no guidance). */
  sampler: { sampler: 'ddim' | 'ddpm'; steps: number; eta?: number; clipSample?: number; guidanceScale?: number };
}

/** The settings saved next to the diffusion model in `dir`, or undefined when `dir` holds no diffusion.json. */
export function readDiffusionSettings(dir: string): DiffusionSettings | undefined {
  const file = join(dir, DIFFUSION_SETTINGS_FILE);
  if (!existsSync(file)) return undefined;
  const settings = JSON.parse(readFileSync(file, 'utf8')) as Partial<DiffusionSettings>;
  const { schedule, prediction, numClasses, nullLabel, sampler } = settings;
  const isCount = (v: unknown) => v === null || (Number.isInteger(v) && (v as number) >= 0);
  if (
    typeof schedule !== 'object' ||
    schedule === null ||
    !['epsilon', 'v', 'x0'].includes(prediction as string) ||
    !isCount(numClasses) ||
    !isCount(nullLabel) ||
    typeof sampler !== 'object' ||
    sampler === null ||
    !['ddim', 'ddpm'].includes(sampler.sampler) ||
    !Number.isInteger(sampler.steps)
  ) {
    throw new Error(
      `${file}: expected { schedule: {...}, prediction: 'epsilon' | 'v' | 'x0', numClasses, nullLabel, sampler: { sampler: 'ddim' | 'ddpm', steps, ... } }`,
    );
  }
  return settings as DiffusionSettings;
}

/** Options of {@link drawDiffusionSamples}. */
export interface DrawOptions {
  /** Number of samples. */
  count: number;
  /** Seed: the batch starting at sample i uses `seed + i`. */
  seed: number;
  /** Samples per call of the sampler (guidance runs the model on twice as many). Default 500. */
  batchSize?: number;
  /** The class asked for, one per sample, for a conditional model. Default: cycling, i mod numClasses. */
  labels?: readonly number[];
  /** Sampler steps instead of the saved ones. */
  steps?: number;
  /** Guidance scale instead of the saved one. */
  guidanceScale?: number;
}

/**
 * Draws `count` samples `[count, ...imageShape]` from a saved diffusion model with its saved
 * sampler settings (or the `steps` and `guidanceScale` given), in batches of `batchSize`; for a
 * conditional model also returns the label asked for of each sample.
 */
export async function drawDiffusionSamples(
  model: tfl.LayersModel,
  settings: DiffusionSettings,
  options: DrawOptions,
): Promise<{ samples: tf.Tensor; labels?: number[] }> {
  const { count, seed, batchSize = 500 } = options;
  const schedule = diffusion.noiseSchedule(settings.schedule);
  const imageShape = model.inputs[0]!.shape.slice(1) as number[];
  const classes = settings.numClasses;
  if (options.labels !== undefined && options.labels.length !== count) {
    throw new Error(`drawDiffusionSamples: expected ${count} labels, received ${options.labels.length}`);
  }
  const labels = classes === null ? undefined : (options.labels ?? Array.from({ length: count }, (_, i) => i % classes));
  const { sampler, steps, eta, clipSample } = settings.sampler;
  const guidanceScale = classes === null ? 0 : (options.guidanceScale ?? settings.sampler.guidanceScale ?? 0);
  const parts: tf.Tensor[] = [];
  for (let start = 0; start < count; start += batchSize) {
    const size = Math.min(batchSize, count - start);
    const { samples } = await diffusion.sample(model, {
      schedule,
      shape: [size, ...imageShape],
      sampler,
      steps: options.steps ?? steps,
      ...(eta !== undefined ? { eta } : {}),
      ...(clipSample !== undefined ? { clipSample } : {}),
      prediction: settings.prediction,
      seed: seed + start,
      ...(labels !== undefined ? { labels: labels.slice(start, start + size) } : {}),
      ...(labels !== undefined && guidanceScale !== 0 ? { guidanceScale, nullLabel: settings.nullLabel! } : {}),
    });
    parts.push(samples);
  }
  const samples = parts.length === 1 ? parts[0]! : tf.concat(parts);
  if (parts.length > 1) tf.dispose(parts);
  return labels === undefined ? { samples } : { samples, labels: [...labels] };
}

/**
 * Per class asked for, the share of its samples the classifier labels with that class, and
 * the share over all samples: `probabilities` `[n, classes]`, `asked` the n labels asked for.
 */
export async function askedForShares(
  probabilities: tf.Tensor2D,
  asked: readonly number[],
): Promise<{ overall: number; perClass: number[] }> {
  const predicted = tf.tidy(() => tf.argMax(probabilities, 1));
  const labels = await predicted.data();
  predicted.dispose();
  const classes = probabilities.shape[1];
  const hits = new Array<number>(classes).fill(0);
  const totals = new Array<number>(classes).fill(0);
  asked.forEach((label, i) => {
    totals[label]!++;
    if (labels[i] === label) hits[label]!++;
  });
  const overall = hits.reduce((a, b) => a + b, 0) / asked.length;
  return { overall, perClass: hits.map((h, c) => (totals[c] === 0 ? Number.NaN : h / totals[c]!)) };
}
