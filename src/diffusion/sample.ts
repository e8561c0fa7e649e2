/**
 * The sampling loop: x_T ~ N(0, I), then one sampler step per timestep, with optional
 * classifier-free guidance.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { ArgumentError } from '../errors.js';
import { nextMacrotask } from '../train/yield.js';
import {
  assertFloatTensor,
  assertKnownKeys,
  assertNumber,
  assertOneOf,
  assertPositiveInt,
  assertPositiveIntArray,
  assertSameShape,
  assertTensor,
  describe,
  formatShape,
} from '../validation.js';
import { assertPrediction, assertSchedule, type Prediction } from './common.js';
import { guide } from './guidance.js';
import type { NoiseSchedule } from './schedule.js';
import { SPACINGS, samplingTimesteps, type TimestepSpacing } from './spacing.js';
import { ddimStep, ddpmStep } from './steps.js';
import { firstTensor, type DenoisingModel } from './training-loss.js';

const FN = 'diffusion.sample';

/** What {@link sample} reports after each step. @category Diffusion */
export interface SampleStepInfo {
  /** Steps done so far (1 … steps). */
  step: number;
  /** Total number of steps. */
  steps: number;
  /** The timestep just denoised. */
  t: number;
  /** The sample after this step (owned by the sampler: read it, do not dispose it). */
  x: tf.Tensor;
}

/** Options of {@link sample}. @category Diffusion */
export interface SampleOptions {
  /** The noise schedule the model was trained with (required). */
  schedule: NoiseSchedule;
  /** Shape of the batch to draw, `[n, ...dataShape]` (required). */
  shape: number[];
  /** Sampler: `'ddim'` (default) or `'ddpm'` (ancestral). */
  sampler?: 'ddim' | 'ddpm';
  /** Number of sampling steps (at most T). Default 50 (T when T < 50). */
  steps?: number;
  /** Timestep spacing (see {@link samplingTimesteps}). Default `'trailing'`. */
  spacing?: TimestepSpacing;
  /** DDIM's η. Default 0 (deterministic). */
  eta?: number;
  /** DDPM's variance, `'small'` (default) or `'large'`. */
  variance?: 'small' | 'large';
  /** What the model predicts. Default `'epsilon'`. */
  prediction?: Prediction;
  /** Clip predicted x₀ to `[-clipSample, clipSample]` at each step. Default: no clipping. */
  clipSample?: number;
  /** Seed: x_T uses `seed`, step k's noise `seed + 1 + k`. Default: unseeded. */
  seed?: number;
  /** x_T itself, shape `shape` (fixed noise for sample grids). Default: drawn with `seed`. */
  noise?: tf.Tensor;
  /** Class labels, one per sample (`[n]` tensor or numbers), for a conditional model. */
  labels?: tf.Tensor | readonly number[] | Int32Array;
  /**
   * Classifier-free guidance scale w of {@link guide} (`(1 + w) cond - w uncond`): 0 (default)
   * is the plain conditional model, with one model call per step; otherwise each step also runs
   * the model with `nullLabel`.
   */
  guidanceScale?: number;
  /** The "no label" class id (for {@link nets.unet}: `numClasses`). Required with `guidanceScale`. */
  nullLabel?: number;
  /** Also return every intermediate sample, x_T first, x₀ last (steps + 1 tensors). Default `false`. */
  trajectory?: boolean;
  /** Called after each step (awaited). */
  onStep?: (info: SampleStepInfo) => void | Promise<void>;
}

/** What {@link sample} returns. @category Diffusion */
export interface SampleResult {
  /** The samples x₀, shape `options.shape` (the caller disposes it). */
  samples: tf.Tensor;
  /** With `trajectory: true`: x_T, then the sample after each step (x₀ last). The caller disposes them. */
  trajectory?: tf.Tensor[];
}

const KNOWN = [
  'schedule',
  'shape',
  'sampler',
  'steps',
  'spacing',
  'eta',
  'variance',
  'prediction',
  'clipSample',
  'seed',
  'noise',
  'labels',
  'guidanceScale',
  'nullLabel',
  'trajectory',
  'onStep',
] as const;

/**
 * Draws samples from a diffusion model: x_T ~ N(0, I), then, for the sampling timesteps
 * t₁ > t₂ > … > t_n (see {@link samplingTimesteps}), one {@link ddimStep} or {@link ddpmStep}
 * from tₖ to tₖ₊₁ (to x₀ after the last), with classifier-free guidance when `guidanceScale` is
 * set (Ho et al. 2020, Algorithm 2; Song et al. 2020; Ho & Salimans 2022, Algorithm 2).
 *
 * Async: it yields to the event loop between steps (a page stays responsive). Intermediate
 * tensors are freed each step.
 *
 * @param model - a {@link DenoisingModel}, e.g. from {@link nets.unet}.
 * @param options - `schedule` and `shape` (required); sampler, steps, guidance, etc. (see
 *   {@link SampleOptions}).
 * @returns `{ samples }` (shape `options.shape`), plus `trajectory` when asked.
 * @see https://arxiv.org/abs/2010.02502 (Song et al. 2020, DDIM)
 * @see https://arxiv.org/abs/2207.12598 (Ho & Salimans 2022, classifier-free guidance)
 * @example
 * ```ts
 * const schedule = diffusion.noiseSchedule({ timesteps: 100 });
 * const model = nets.unet({ imageShape: [8, 8, 1], baseChannels: 8, channelMultipliers: [1, 2], attentionAt: [], groups: 4 });
 * const { samples } = await diffusion.sample(model, { schedule, shape: [2, 8, 8, 1], steps: 5, seed: 0 });
 * ```
 * @category Diffusion
 */
export async function sample(model: DenoisingModel, options: SampleOptions): Promise<SampleResult> {
  if (typeof (model as Partial<DenoisingModel> | undefined)?.apply !== 'function') {
    throw new ArgumentError({ fn: FN, arg: 'model', expected: 'be a model with an apply method (a tf.LayersModel)', received: describe(model) });
  }
  assertKnownKeys(options, KNOWN, 'options', FN);
  if (options === undefined) throw new ArgumentError({ fn: FN, arg: 'options', expected: 'be an options object with schedule and shape', received: 'undefined' });
  const {
    schedule,
    shape,
    sampler = 'ddim',
    steps = Math.min(50, (options?.schedule as NoiseSchedule | undefined)?.timesteps ?? 50),
    spacing = 'trailing',
    eta = 0,
    variance = 'small',
    prediction = 'epsilon',
    clipSample,
    seed,
    noise,
    labels,
    guidanceScale = 0,
    nullLabel,
    trajectory = false,
    onStep,
  } = options;
  assertSchedule(schedule, 'options.schedule', FN);
  assertPositiveIntArray(shape, 'options.shape', FN);
  assertOneOf(sampler, ['ddim', 'ddpm'] as const, 'options.sampler', FN);
  assertPositiveInt(steps, 'options.steps', FN);
  if (steps > schedule.timesteps) {
    throw new ArgumentError({ fn: FN, arg: 'options.steps', expected: `be at most the schedule's ${schedule.timesteps} timesteps`, received: describe(steps) });
  }
  assertOneOf(spacing, SPACINGS, 'options.spacing', FN);
  assertNumber(eta, 'options.eta', FN, { min: 0 });
  assertOneOf(variance, ['small', 'large'] as const, 'options.variance', FN);
  assertPrediction(prediction, 'options.prediction', FN);
  if (clipSample !== undefined) assertNumber(clipSample, 'options.clipSample', FN, { min: 0, minExclusive: true });
  if (seed !== undefined) assertNumber(seed, 'options.seed', FN);
  const n = shape[0]!;
  if (noise !== undefined) {
    assertFloatTensor(noise, 'options.noise', FN);
    if (noise.shape.length !== shape.length || noise.shape.some((d, i) => d !== shape[i])) {
      throw new ArgumentError({ fn: FN, arg: 'options.noise', expected: `have shape ${formatShape(shape)}`, received: `shape ${formatShape(noise.shape)}` });
    }
  }
  let labelValues: number[] | undefined;
  if (labels !== undefined) {
    if (labels instanceof tf.Tensor) {
      assertTensor(labels, 'options.labels', FN);
      if (labels.size !== n) throw new ArgumentError({ fn: FN, arg: 'options.labels', expected: `hold ${n} labels`, received: `shape ${formatShape(labels.shape)}` });
      labelValues = Array.from(await labels.data());
    } else {
      if (!(Array.isArray(labels) || labels instanceof Int32Array) || labels.length !== n) {
        throw new ArgumentError({ fn: FN, arg: 'options.labels', expected: `be ${n} labels (one per sample)`, received: describe(labels) });
      }
      labelValues = Array.from(labels);
    }
  }
  assertNumber(guidanceScale, 'options.guidanceScale', FN);
  const guided = guidanceScale !== 0;
  if (guided) {
    if (labelValues === undefined) throw new ArgumentError({ fn: FN, arg: 'options.guidanceScale', expected: 'be 0 without labels', received: describe(guidanceScale) });
    assertNumber(nullLabel, 'options.nullLabel', FN, { integer: true, min: 0 });
  }
  if (onStep !== undefined && typeof onStep !== 'function') {
    throw new ArgumentError({ fn: FN, arg: 'options.onStep', expected: 'be a function', received: describe(onStep) });
  }

  const timesteps = samplingTimesteps(schedule.timesteps, steps, spacing);
  if (prediction === 'epsilon' && schedule.alphasCumprod[timesteps[0]!] === 0) {
    throw new ArgumentError({
      fn: FN,
      arg: 'options.prediction',
      expected: "be 'v' or 'x0' with a zero-terminal-SNR schedule (ε at SNR 0 says nothing about x₀)",
      received: "'epsilon'",
      hint: 'Train with prediction: \'v\' (Lin et al. 2023, §3.2).',
    });
  }
  // Labels for the model, [n, 1] float32; with guidance the batch is [cond; uncond].
  const labelTensor =
    labelValues === undefined ? undefined : tf.tensor2d(guided ? [...labelValues, ...new Array<number>(n).fill(nullLabel!)] : labelValues, [guided ? 2 * n : n, 1], 'int32');
  const path: tf.Tensor[] = [];
  let x = noise === undefined ? tf.randomNormal(shape, 0, 1, 'float32', seed) : tf.clone(noise);
  try {
    for (let k = 0; k < timesteps.length; k++) {
      const t = timesteps[k]!;
      const prevT = k + 1 < timesteps.length ? timesteps[k + 1]! : -1;
      const current = x;
      if (trajectory) path.push(current);
      x = tf.tidy(() => {
        const batch = guided ? 2 * n : n;
        const input = guided ? tf.concat([current, current]) : current;
        const inputs = [input, tf.fill([batch, 1], t)];
        if (labelTensor !== undefined) inputs.push(labelTensor);
        let output = firstTensor(model.apply(inputs, { training: false }), FN);
        if (guided) {
          const [cond, uncond] = tf.split(output, 2);
          output = guide(cond!, uncond!, guidanceScale);
        }
        assertSameShape(output, current, 'model output', 'x', FN);
        const stepSeed = seed === undefined ? undefined : seed + 1 + k;
        return sampler === 'ddim'
          ? ddimStep(output, current, t, schedule, { prevT, eta, prediction, clipSample, seed: stepSeed })
          : ddpmStep(output, current, t, schedule, { prevT, variance, prediction, clipSample, seed: stepSeed });
      });
      if (!trajectory) current.dispose();
      if (onStep !== undefined) await onStep({ step: k + 1, steps: timesteps.length, t, x });
      await nextMacrotask();
    }
  } catch (error) {
    tf.dispose([x, ...path.filter((p) => p !== x)]);
    throw error;
  } finally {
    labelTensor?.dispose();
  }
  if (trajectory) path.push(x);
  return trajectory ? { samples: tf.clone(x), trajectory: path } : { samples: x };
}
