/**
 * The `diffusion` family of genblocks: noise schedules, the forward process q(xₜ | x₀),
 * prediction targets and their conversions, the training loss (with min-SNR weighting and label
 * dropout for classifier-free guidance), DDPM and DDIM steps, guidance and the sampling loop.
 *
 * @module
 */
export { noiseSchedule } from './schedule.js';
export type { NoiseSchedule, NoiseScheduleKind, NoiseScheduleOptions } from './schedule.js';
