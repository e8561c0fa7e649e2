/**
 * The `backends` family: choosing a tfjs backend and giving it what it lacks for training.
 *
 * @module
 */
export { describeBackend } from './describe.js';
export type { BackendDescription } from './describe.js';
export { enableTraining } from './enable-training.js';
export type { EnableTrainingOptions, TrainingSupport } from './enable-training.js';
export { use } from './use.js';
export type { BackendName, UseOptions } from './use.js';
export { registerSecondOrderGradients, ZERO_GRADIENT_KERNELS } from './gradients.js';
