/**
 * VAE losses: `losses.vae`.
 *
 * @module
 */
export { elbo } from './elbo.js';
export { gaussianKl } from './gaussian-kl.js';
export { bernoulliReconstruction, gaussianReconstruction } from './reconstruction.js';
export type { ElboFunction, ElboOptions, ElboTerms } from './elbo.js';
export type { GaussianReconstructionOptions } from './reconstruction.js';
