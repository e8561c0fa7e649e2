/**
 * The diffusion trainer: the denoising loss of `diffusion.trainingLoss` on the model trainer.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { ArgumentError, ConfigError, ShapeError } from '../errors.js';
import { assertPrediction, assertSchedule, type Prediction } from '../diffusion/common.js';
import { sample as diffusionSample, type SampleOptions as DiffusionSampleOptions } from '../diffusion/sample.js';
import type { NoiseSchedule } from '../diffusion/schedule.js';
import { trainingLoss } from '../diffusion/training-loss.js';
import { assertFloatTensor, assertKnownKeys, assertNumber, assertPositiveInt, assertPositiveIntArray, describe, formatShape } from '../validation.js';
import { ModelTrainer, type ModelStepContext, type ModelTrainerEmaOptions } from './model-trainer.js';
import { assertNetwork, formatSymbolic, matchesSymbolic, symbolicShape, type Network } from './network.js';
import type { SampleOptions, SampleRange, TrainerOptions, TrainingBatch } from './trainer.js';

/** How {@link DiffusionTrainer.sample} draws samples: the options of `diffusion.sample` a trainer does not fix. @category Training */
export type DiffusionSamplerOptions = Pick<DiffusionSampleOptions, 'sampler' | 'steps' | 'spacing' | 'eta' | 'variance' | 'clipSample' | 'guidanceScale'>;

/** Config of {@link DiffusionTrainer}. @category Training */
export interface DiffusionTrainerConfig extends TrainerOptions {
  /** The denoiser, e.g. `nets.unet(...)`: inputs `[x, t]`, or `[x, t, labels]` when conditional. */
  model: Network;
  /** Optimizer of the model's trainable weights. */
  optimizer: tf.Optimizer;
  /** The noise schedule (`diffusion.noiseSchedule(...)`). */
  schedule: NoiseSchedule;
  /** What the model predicts. Default `'epsilon'`. */
  prediction?: Prediction;
  /** γ of min-SNR-γ loss weighting (Hang et al. 2023 use 5). Default: unweighted. */
  minSnrGamma?: number;
  /** Probability of training a conditional model on the null label (classifier-free guidance). Default 0. */
  labelDropout?: number;
  /** The null label id (for `nets.unet`: `numClasses`). Required with `labelDropout` or `guidanceScale`. */
  nullLabel?: number;
  /** Clip each step's gradients to this global norm (logged as `gradientNorm`). Default: off. */
  clipNorm?: number;
  /**
   * Exponential moving average of the weights, used by `sample`: a decay, or `{ decay, warmup }`
   * (`warmup: true` as diffusers' `EMAModel`; `{ decay: 0.999, warmup: true }` is a good start).
   * Default: off.
   */
  ema?: number | Omit<ModelTrainerEmaOptions, 'models'>;
  /** How `sample` draws: `sampler`, `steps`, `eta`, `guidanceScale`, ... Default: DDIM, 50 steps, η = 0. */
  sampler?: DiffusionSamplerOptions;
  /** Shape of one example, when the model has no symbolic `inputs` to read it from. */
  dataShape?: number[];
  /** Range of the data and samples, for display. Default `'[-1,1]'`. */
  sampleRange?: SampleRange;
}

const FN = 'train.DiffusionTrainer';
const KNOWN_KEYS = [
  'seed',
  'onNonFinite',
  'model',
  'optimizer',
  'schedule',
  'prediction',
  'minSnrGamma',
  'labelDropout',
  'nullLabel',
  'clipNorm',
  'ema',
  'sampler',
  'dataShape',
  'sampleRange',
] as const;
const SAMPLER_KEYS = ['sampler', 'steps', 'spacing', 'eta', 'variance', 'clipSample', 'guidanceScale'] as const;

/**
 * Trains a denoising diffusion model (Ho et al. 2020, Algorithm 1) on the {@link ModelTrainer}
 * loop (epochs or steps, callbacks, checkpoints and exact resume, non-finite handling): each
 * step is one `diffusion.trainingLoss` (seeded t and noise, min-SNR weighting, label dropout
 * for classifier-free guidance), optionally with gradient clipping; an EMA of the weights (with
 * diffusers' warm-up) is what `sample` uses. `sample` runs `diffusion.sample` with the
 * configured sampler.
 *
 * Logs `loss` (and `gradientNorm` with `clipNorm`).
 *
 * @see https://arxiv.org/abs/2006.11239 (Ho et al. 2020, Algorithms 1 and 2)
 * @see https://arxiv.org/abs/2207.12598 (Ho & Salimans 2022, classifier-free guidance)
 * @example
 * ```ts
 * const model = nets.unet({ imageShape: [28, 28, 1], numClasses: 10 });
 * const trainer = new train.DiffusionTrainer({
 *   model,
 *   optimizer: tf.train.adam(1e-3),
 *   schedule: diffusion.noiseSchedule({ kind: 'cosine' }),
 *   prediction: 'v',
 *   labelDropout: 0.1,
 *   nullLabel: 10,
 *   ema: { decay: 0.999, warmup: true },
 *   sampler: { sampler: 'ddim', steps: 25, guidanceScale: 2, clipSample: 1 },
 *   seed: 1,
 * });
 * await trainer.fit(data.batches(images, { labels, batchSize: 64, shuffle: true, seed: 1 }), { epochs: 1 });
 * const samples = await trainer.sample(10, { labels: tf.range(0, 10, 1, 'int32'), seed: 2 });
 * ```
 * @category Training
 */
export class DiffusionTrainer extends ModelTrainer {
  /** The denoiser. */
  readonly model: Network;
  /** The noise schedule. */
  readonly schedule: NoiseSchedule;
  /** What the model predicts. */
  readonly prediction: Prediction;
  /** Whether the model takes labels (three inputs). */
  readonly conditional: boolean;
  /** Shape of one example. */
  readonly dataShape: number[];
  override readonly sampleRange: SampleRange;
  protected override readonly kind = 'diffusion';
  protected override readonly fnName = FN;
  private readonly minSnrGamma: number | undefined;
  private readonly labelDropout: number;
  private readonly nullLabel: number | undefined;
  private readonly samplerOptions: DiffusionSamplerOptions;

  constructor(config: DiffusionTrainerConfig) {
    if (config === null || typeof config !== 'object') {
      throw new ConfigError({ fn: FN, arg: 'config', expected: 'be a config object { model, optimizer, schedule }', received: describe(config) });
    }
    assertKnownKeys(config, KNOWN_KEYS, 'config', FN);
    const { model, optimizer, schedule, prediction = 'epsilon', minSnrGamma, labelDropout = 0, nullLabel, clipNorm, ema, sampler = {}, sampleRange = '[-1,1]', seed, onNonFinite } = config;
    assertNetwork(model, 'config.model', FN);
    assertSchedule(schedule, 'config.schedule', FN);
    assertPrediction(prediction, 'config.prediction', FN);
    if (minSnrGamma !== undefined) assertNumber(minSnrGamma, 'config.minSnrGamma', FN, { min: 0, minExclusive: true });
    assertNumber(labelDropout, 'config.labelDropout', FN, { min: 0, max: 1 });
    if (nullLabel !== undefined) assertNumber(nullLabel, 'config.nullLabel', FN, { integer: true, min: 0 });
    assertKnownKeys(sampler, SAMPLER_KEYS, 'config.sampler', FN);
    const conditional = (model.inputs?.length ?? 2) >= 3;
    if (!conditional && labelDropout > 0) {
      throw new ConfigError({ fn: FN, arg: 'config.labelDropout', expected: 'be 0 for a model without a label input', received: describe(labelDropout) });
    }
    if ((labelDropout > 0 || (sampler.guidanceScale ?? 0) !== 0) && nullLabel === undefined) {
      throw new ConfigError({ fn: FN, arg: 'config.nullLabel', expected: 'be given with labelDropout or a guidance scale (for nets.unet: numClasses)', received: 'undefined' });
    }
    const shape = config.dataShape ?? symbolicShape(model.inputs)?.slice(1);
    if (shape === undefined || shape.some((d) => d === null)) {
      throw new ConfigError({ fn: FN, arg: 'config.dataShape', expected: "be given when the model's input shape is unknown", received: describe(config.dataShape) });
    }
    assertPositiveIntArray(shape, 'config.dataShape', FN);
    super({ models: { model }, optimizer, clipNorm, ema, sampleRange, seed, onNonFinite, kind: 'diffusion' }, FN);
    this.model = model;
    this.schedule = schedule;
    this.prediction = prediction;
    this.conditional = conditional;
    this.dataShape = shape as number[];
    this.sampleRange = sampleRange;
    this.minSnrGamma = minSnrGamma;
    this.labelDropout = labelDropout;
    this.nullLabel = nullLabel;
    this.samplerOptions = { ...sampler };
  }

  protected override checkBatch(batch: TrainingBatch, fn: string): void {
    assertFloatTensor(batch.x, 'batch.x', fn);
    const expected = symbolicShape(this.model.inputs);
    if (expected && !matchesSymbolic(batch.x.shape, expected)) {
      throw new ShapeError({ fn, arg: 'batch.x', expected: `have the model's input shape ${formatSymbolic(expected)}`, received: `shape ${formatShape(batch.x.shape)}` });
    }
    if (this.conditional && batch.y === undefined) {
      throw new ArgumentError({ fn, arg: 'batch.y', expected: 'hold labels (the model is conditional)', received: 'undefined' });
    }
  }

  /** One term, `loss`: `diffusion.trainingLoss` with the step's seed. */
  protected override computeTerms(batch: TrainingBatch, context: ModelStepContext): Record<string, tf.Scalar> {
    const loss = trainingLoss(this.model, batch.x, {
      schedule: this.schedule,
      prediction: this.prediction,
      minSnrGamma: this.minSnrGamma,
      seed: context.seed(0),
      ...(this.conditional ? { labels: batch.y, labelDropout: this.labelDropout, nullLabel: this.nullLabel } : {}),
    });
    return { loss };
  }

  /**
   * Draws `n` samples with `diffusion.sample` and the configured sampler, with the EMA weights
   * when `ema` is set. A conditional model needs `labels` `[n]` (or samples with the null label
   * when `nullLabel` is set).
   *
   * @param n - number of samples.
   * @param options - `seed` (of x_T and the sampler's noise), `labels`.
   * @returns samples `[n, ...dataShape]` (the caller disposes them).
   */
  override async sample(n: number, options: SampleOptions = {}): Promise<tf.Tensor> {
    const fn = `${FN}.sample`;
    assertPositiveInt(n, 'n', fn);
    assertKnownKeys(options, ['seed', 'labels'], 'options', fn);
    let labels: tf.Tensor | number[] | undefined = options.labels;
    if (this.conditional && labels === undefined) {
      if (this.nullLabel === undefined) {
        throw new ArgumentError({ fn, arg: 'options.labels', expected: 'be given for a conditional model (or set config.nullLabel)', received: 'undefined' });
      }
      labels = new Array<number>(n).fill(this.nullLabel);
    }
    const guided = this.conditional && options.labels !== undefined;
    return this.withSamplingWeights(async () => {
      const { samples } = await diffusionSample(this.model, {
        ...this.samplerOptions,
        ...(guided ? { nullLabel: this.nullLabel } : { guidanceScale: 0 }),
        schedule: this.schedule,
        prediction: this.prediction,
        shape: [n, ...this.dataShape],
        seed: options.seed,
        labels,
      });
      return samples;
    });
  }
}
