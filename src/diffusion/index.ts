/**
 * The `diffusion` family of genblocks: noise schedules, the forward process q(xₜ | x₀),
 * prediction targets and their conversions, the training loss (with min-SNR weighting and label
 * dropout for classifier-free guidance), DDPM and DDIM steps, guidance and the sampling loop.
 *
 * @module
 */
export { noiseSchedule } from './schedule.js';
export type { NoiseSchedule, NoiseScheduleKind, NoiseScheduleOptions } from './schedule.js';
export type { Prediction, Timesteps } from './common.js';
export { addNoise } from './forward.js';
export { loss, minSnrWeights } from './loss.js';
export type { DiffusionLossOptions } from './loss.js';
export { convertPrediction, target } from './targets.js';
export type { ConvertPredictionOptions } from './targets.js';
export { trainingLoss } from './training-loss.js';
export type { DenoisingModel, TrainingLossOptions } from './training-loss.js';
export { guide } from './guidance.js';
export { sample } from './sample.js';
export type { SampleOptions, SampleResult, SampleStepInfo } from './sample.js';
export { samplingTimesteps } from './spacing.js';
export type { TimestepSpacing } from './spacing.js';
export { ddimStep, ddpmStep } from './steps.js';
export type { DdimStepOptions, DdpmStepOptions, StepOptions } from './steps.js';
