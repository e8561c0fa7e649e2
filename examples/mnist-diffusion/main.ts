/**
 * A denoising diffusion model on real MNIST: a small UNet (nets.unet), trained with
 * diffusion.trainingLoss and sampled with DDIM or DDPM, optionally class-conditional with
 * classifier-free guidance.
 *
 *   npm run example:diffusion -- [--steps 2800 | --epochs E] [--batch-size 32] [--lr 2e-3]
 *     [--warmup-steps 100] [--final-lr 1e-4] [--schedule cosine] [--prediction v]
 *     [--min-snr-gamma 5] [--base-channels 8] [--channel-multipliers 1,2,4] [--attention-at 7]
 *     [--groups 4] [--sampler ddim] [--sampler-steps 20] [--eta 0] [--conditional]
 *     [--label-dropout 0.1] [--guidance-scale 4] [--ema-decay 0.995] [--samples 100]
 *     [--grid-every 500] [--backend wasm] [--seed 1] [--out out/mnist-diffusion]
 *
 * The defaults are chosen to train and sample within 30 minutes on a 2-core machine (wasm, two
 * threads; 12 minutes measured idle): see the recipe in docs/diffusion.md for what they reach and what else was tried.
 *
 * Trains with train.DiffusionTrainer (gradients clipped to norm 1, an EMA of the weights with
 * warm-up for sampling and for the saved model).
 *
 * Writes sample grids from fixed noise during training (samples-step-N.png, one row per digit
 * when conditional), the final samples (samples.png), a denoising strip (denoising.png: each
 * row one sample from x_T on the left to x_0 on the right), the loss curve (losses.csv,
 * losses.svg) and the model (model/, with diffusion.json holding the schedule and sampler
 * settings), and prints where everything went and how the time split between training and
 * sampling.
 */
import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { backends, data, diffusion, nets, train } from 'genblocks';
import { loadMnist, saveModel, writeImageGrid, writeLossCsv, writeLossPlot } from 'genblocks/node';

export interface DiffusionExampleOptions {
  /** Training steps (batches); default 2,800 (about 1.5 epochs at batch 32) unless `epochs` is given. */
  steps?: number;
  /** Training epochs, instead of `steps`. */
  epochs?: number;
  batchSize: number;
  learningRate: number;
  /** Learning-rate warm-up steps (linear from 0), then a cosine decay to `finalLearningRate`. */
  warmupSteps: number;
  /** Learning rate at the last step (cosine decay); equal to `learningRate` for a constant rate. */
  finalLearningRate: number;
  schedule: 'linear' | 'cosine' | 'sigmoid';
  timesteps: number;
  prediction: 'epsilon' | 'v' | 'x0';
  minSnrGamma?: number;
  baseChannels: number;
  /** Channels of each UNet level as multiples of `baseChannels`. */
  channelMultipliers: number[];
  /** Resolutions with self-attention (`[]`: none). */
  attentionAt: number[];
  /** Groups of the UNet's GroupNormalization layers. */
  groups: number;
  sampler: 'ddim' | 'ddpm';
  samplerSteps: number;
  eta: number;
  conditional: boolean;
  labelDropout: number;
  guidanceScale: number;
  /** EMA decay of the weights used for sampling (0: off). */
  emaDecay: number;
  samples: number;
  gridEvery: number;
  backend: backends.BackendName;
  seed: number;
  out: string;
  /** Use only the first `limit` training images (smoke tests). */
  limit?: number;
  quiet?: boolean;
}

/**
 * Default training length: 2,800 steps of 32 (about 1.5 epochs), which trains in about 15-25
 * minutes on a 2-core machine (see docs/diffusion.md for the measured time and quality).
 */
const DEFAULT_STEPS = 2800;

const USAGE =
  'usage: npm run example:diffusion -- [--steps 2800 | --epochs E] [--batch-size 32] [--lr 2e-3] [--schedule cosine] [--timesteps 1000] ' +
  '[--warmup-steps 100] [--final-lr 1e-4] [--prediction v] [--min-snr-gamma 5] [--base-channels 8] [--channel-multipliers 1,2,4] [--attention-at 7] [--groups 4] ' +
  '[--sampler ddim] [--sampler-steps 20] [--eta 0] [--conditional|--no-conditional] ' +
  '[--label-dropout 0.1] [--guidance-scale 4] [--ema-decay 0.995] [--samples 100] [--grid-every 500] [--backend wasm] [--seed 1] [--out out/mnist-diffusion]';

export function parseOptions(argv: string[]): DiffusionExampleOptions {
  const { values } = parseArgs({
    args: argv,
    allowNegative: true,
    options: {
      steps: { type: 'string' },
      epochs: { type: 'string' },
      'batch-size': { type: 'string', default: '32' },
      lr: { type: 'string', default: '2e-3' },
      'warmup-steps': { type: 'string', default: '100' },
      'final-lr': { type: 'string', default: '1e-4' },
      schedule: { type: 'string', default: 'cosine' },
      timesteps: { type: 'string', default: '1000' },
      prediction: { type: 'string', default: 'v' },
      'min-snr-gamma': { type: 'string', default: '5' },
      'base-channels': { type: 'string', default: '8' },
      'channel-multipliers': { type: 'string', default: '1,2,4' },
      'attention-at': { type: 'string', default: '7' },
      groups: { type: 'string', default: '4' },
      sampler: { type: 'string', default: 'ddim' },
      'sampler-steps': { type: 'string', default: '20' },
      eta: { type: 'string', default: '0' },
      conditional: { type: 'boolean', default: true },
      'label-dropout': { type: 'string', default: '0.1' },
      'guidance-scale': { type: 'string', default: '4' },
      'ema-decay': { type: 'string', default: '0.995' },
      samples: { type: 'string', default: '100' },
      'grid-every': { type: 'string', default: '500' },
      backend: { type: 'string', default: 'wasm' },
      seed: { type: 'string', default: '1' },
      out: { type: 'string', default: 'out/mnist-diffusion' },
      limit: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (name: string, v: string | undefined) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`mnist-diffusion: --${name} must be a positive integer, received '${v}'`);
    return n;
  };
  const num = (name: string, v: string | undefined, min = 0) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`mnist-diffusion: --${name} must be a number >= ${min}, received '${v}'`);
    return n;
  };
  const oneOf = <T extends string>(name: string, v: string | undefined, allowed: readonly T[]): T => {
    if (!allowed.includes(v as T)) throw new Error(`mnist-diffusion: --${name} must be one of ${allowed.join(', ')}, received '${v}'`);
    return v as T;
  };
  const gamma = num('min-snr-gamma', values['min-snr-gamma']);
  const intList = (name: string, v: string | undefined, allowEmpty: boolean) => {
    const parts = v === undefined || v.trim() === '' ? [] : v.split(',').map((p) => p.trim());
    if ((!allowEmpty && parts.length === 0) || parts.some((p) => !/^[1-9][0-9]*$/.test(p))) {
      throw new Error(
        `mnist-diffusion: --${name} must be a comma-separated list of positive integers${allowEmpty ? " (or '' for none)" : ''}, received '${v}'`,
      );
    }
    return parts.map(Number);
  };
  const learningRate = num('lr', values.lr);
  if (values.steps !== undefined && values.epochs !== undefined) {
    throw new Error(`mnist-diffusion: give --steps or --epochs, not both (received --steps ${values.steps} --epochs ${values.epochs})`);
  }
  return {
    steps: values.steps === undefined ? undefined : int('steps', values.steps),
    epochs: values.epochs === undefined ? undefined : int('epochs', values.epochs),
    batchSize: int('batch-size', values['batch-size']),
    learningRate,
    warmupSteps: values['warmup-steps'] === '0' ? 0 : int('warmup-steps', values['warmup-steps']),
    finalLearningRate: num('final-lr', values['final-lr']),
    schedule: oneOf('schedule', values.schedule, ['linear', 'cosine', 'sigmoid'] as const),
    timesteps: int('timesteps', values.timesteps),
    prediction: oneOf('prediction', values.prediction, ['epsilon', 'v', 'x0'] as const),
    minSnrGamma: gamma === 0 ? undefined : gamma,
    baseChannels: int('base-channels', values['base-channels']),
    channelMultipliers: intList('channel-multipliers', values['channel-multipliers'], false),
    attentionAt: intList('attention-at', values['attention-at'], true),
    groups: int('groups', values.groups),
    sampler: oneOf('sampler', values.sampler, ['ddim', 'ddpm'] as const),
    samplerSteps: int('sampler-steps', values['sampler-steps']),
    eta: num('eta', values.eta),
    conditional: values.conditional!,
    labelDropout: num('label-dropout', values['label-dropout']),
    guidanceScale: num('guidance-scale', values['guidance-scale'], -1),
    emaDecay: num('ema-decay', values['ema-decay']),
    samples: int('samples', values.samples),
    gridEvery: int('grid-every', values['grid-every']),
    backend: values.backend as backends.BackendName,
    seed: int('seed', values.seed),
    out: resolve(values.out!),
    limit: values.limit === undefined ? undefined : int('limit', values.limit),
    quiet: values.quiet,
  };
}

export interface DiffusionExampleResult {
  files: string[];
  losses: number[];
  trainSeconds: number;
  sampleSeconds: number;
}

export async function main(options: DiffusionExampleOptions): Promise<DiffusionExampleResult> {
  const { out, conditional } = options;
  mkdirSync(out, { recursive: true });
  const backend = await backends.use(options.backend);
  console.log(`backend ${backend.name} (SIMD ${backend.simd}, threads ${backend.threads})`);

  const mnist = await loadMnist({ split: 'train', normalize: '[-1,1]', limit: options.limit });
  const n = mnist.images.shape[0];
  console.log(`MNIST: ${n} training images`);

  const schedule = diffusion.noiseSchedule({ kind: options.schedule, timesteps: options.timesteps });
  const numClasses = conditional ? 10 : undefined;
  const model = nets.unet({
    imageShape: [28, 28, 1],
    baseChannels: options.baseChannels,
    channelMultipliers: options.channelMultipliers,
    attentionAt: options.attentionAt,
    groups: options.groups,
    numClasses,
    seed: options.seed,
  });
  const channels = options.channelMultipliers.map((m) => m * options.baseChannels).join('/');
  console.log(`UNet: ${model.countParams()} parameters (channels ${channels})${conditional ? ', class-conditional' : ''}`);
  const optimizer = train.fusedAdam({ learningRate: options.learningRate });
  const sampler = {
    sampler: options.sampler,
    steps: Math.min(options.samplerSteps, options.timesteps),
    eta: options.eta,
    clipSample: 1,
    ...(conditional ? { guidanceScale: options.guidanceScale } : {}),
  };
  // Each step: diffusion.trainingLoss (seeded t and noise, min-SNR weights, label dropout),
  // gradients clipped to norm 1; samples come from an EMA of the weights (diffusers' warm-up).
  const trainer = new train.DiffusionTrainer({
    model,
    optimizer,
    schedule,
    prediction: options.prediction,
    minSnrGamma: options.minSnrGamma,
    ...(conditional ? { labelDropout: options.labelDropout, nullLabel: 10 } : {}),
    clipNorm: 1,
    ...(options.emaDecay > 0 ? { ema: { decay: options.emaDecay, warmup: true } } : {}),
    sampler,
    seed: options.seed,
  });

  // Grids from fixed noise (the same seed each time): with labels, row r asks for digit r.
  const gridSize = Math.min(options.samples, 100);
  const perRow = Math.ceil(gridSize / 10);
  const gridLabels = conditional
    ? tf.tensor1d(
        Array.from({ length: gridSize }, (_, i) => Math.floor(i / perRow) % 10),
        'int32',
      )
    : undefined;
  let sampleSeconds = 0;
  const files: string[] = [];
  const writeGrid = async (file: string) => {
    const start = performance.now();
    const samples = await trainer.sample(gridSize, { labels: gridLabels, seed: options.seed + 1000 });
    sampleSeconds += (performance.now() - start) / 1000;
    await writeImageGrid(samples as tf.Tensor4D, file, { columns: perRow, range: '[-1,1]' });
    samples.dispose();
    files.push(file);
  };

  const batches = data.batches(mnist.images, {
    labels: mnist.labels,
    batchSize: options.batchSize,
    shuffle: true,
    seed: options.seed,
    dropRemainder: n >= options.batchSize,
  });
  const totalSteps =
    options.steps ?? (options.epochs === undefined ? DEFAULT_STEPS : options.epochs * Math.max(1, Math.floor(n / options.batchSize)));
  const history = train.history();
  const grids: train.Callback = {
    async onStepEnd(step) {
      if (step % options.gridEvery === 0 || step === totalSteps) await writeGrid(join(out, `samples-step-${step}.png`));
    },
  };
  // Linear warm-up, then a cosine decay to finalLearningRate over the remaining steps.
  const learningRate = train.learningRateSchedule(
    optimizer,
    train.cosineDecay({
      initial: options.learningRate,
      final: options.finalLearningRate,
      steps: Math.max(1, totalSteps - options.warmupSteps),
      ...(options.warmupSteps > 0 ? { warmupSteps: Math.min(options.warmupSteps, totalSteps) } : {}),
    }),
  );
  const callbacks: train.Callback[] = [history, grids, learningRate];
  if (!options.quiet) callbacks.push(train.progressBar());
  // CPU time next to wall time: on a shared machine the CPU time is what an idle one would take.
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  console.log(`load average at the start: ${load()}`);
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  await trainer.fit(batches, { steps: totalSteps, callbacks });
  const trainSeconds = (performance.now() - start) / 1000 - sampleSeconds;
  const losses = [...(history.series()['loss'] ?? [])];
  const step = trainer.step;
  const cpuSeconds = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1e6;
  console.log(
    `trained ${step} steps in ${trainSeconds.toFixed(1)} s (${(trainSeconds / step).toFixed(2)} s per step, without the grids; ` +
      `${cpuSeconds(process.cpuUsage(cpuStart)).toFixed(1)} s of CPU time with the grids)`,
  );

  // Final samples: `samples` images (10 per digit when conditional), then a denoising strip.
  const cpuSampling = process.cpuUsage();
  const startSampling = performance.now();
  const labels = conditional
    ? tf.tensor1d(
        Array.from({ length: options.samples }, (_, i) => i % 10),
        'int32',
      )
    : undefined;
  const samples = await trainer.sample(options.samples, { labels, seed: options.seed + 1 });
  const samplesFile = join(out, 'samples.png');
  await writeImageGrid(samples as tf.Tensor4D, samplesFile, { columns: 10, range: '[-1,1]' });
  tf.dispose([samples, labels]);
  files.push(samplesFile);
  const stripRows = conditional ? 10 : 8;
  const strip = await trainer.withSamplingWeights(() =>
    diffusion.sample(model, {
      ...sampler,
      ...(conditional ? { labels: Array.from({ length: stripRows }, (_, i) => i), nullLabel: 10 } : {}),
      schedule,
      prediction: options.prediction,
      shape: [stripRows, 28, 28, 1],
      seed: options.seed + 2,
      trajectory: true,
    }),
  );
  const frames = strip.trajectory!;
  const columns = Math.min(frames.length, 11);
  const picked = Array.from({ length: columns }, (_, k) => frames[Math.round((k * (frames.length - 1)) / (columns - 1))]!);
  const stripImages = tf.tidy(() => tf.reshape(tf.stack(picked, 1), [stripRows * columns, 28, 28, 1]) as tf.Tensor4D);
  const stripFile = join(out, 'denoising.png');
  await writeImageGrid(stripImages, stripFile, { columns, range: '[-1,1]' });
  tf.dispose([stripImages, strip.samples, ...frames]);
  files.push(stripFile);
  sampleSeconds += (performance.now() - startSampling) / 1000;
  console.log(
    `sampled with ${sampler.sampler.toUpperCase()} in ${sampler.steps} steps` +
      `${conditional ? `, guidance scale ${options.guidanceScale}` : ''}: ${sampleSeconds.toFixed(1)} s in all (training ${trainSeconds.toFixed(1)} s)`,
  );
  console.log(
    `final samples and strip: ${cpuSeconds(process.cpuUsage(cpuSampling)).toFixed(1)} s of CPU time; load average at the end: ${load()}`,
  );

  const csv = join(out, 'losses.csv');
  const svg = join(out, 'losses.svg');
  await writeLossCsv(csv, { loss: losses });
  await writeLossPlot(svg, { loss: losses }, { title: 'Diffusion on MNIST', xLabel: 'step' });
  files.push(csv, svg);
  const modelDir = join(out, 'model');
  // overwrite: the folder also holds the sampler settings of an earlier run, written again below.
  await trainer.withSamplingWeights(() => saveModel(model as LayersModel, modelDir, { overwrite: true })); // the EMA weights
  const settings = {
    schedule: { kind: options.schedule, timesteps: options.timesteps },
    prediction: options.prediction,
    numClasses: numClasses ?? null,
    nullLabel: conditional ? 10 : null,
    sampler: { ...sampler, guidanceScale: conditional ? options.guidanceScale : 0 },
  };
  await writeFile(join(modelDir, 'diffusion.json'), `${JSON.stringify(settings, null, 2)}\n`);
  files.push(modelDir);

  tf.dispose([mnist.images, mnist.labels, gridLabels]);
  trainer.dispose();
  model.dispose();
  optimizer.dispose();
  console.log('wrote:');
  for (const f of files) console.log(`  ${f}`);
  return { files, losses, trainSeconds, sampleSeconds };
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
