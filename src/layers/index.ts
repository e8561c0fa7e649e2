/**
 * The `layers` family of genblocks: the custom tfjs-layers layers the builders compose,
 * registered for serialization under the `genblocks>` prefix by importing `genblocks` (a saved
 * model containing them loads with `tf.loadLayersModel`). Exports are listed by name.
 *
 * - {@link SpectralNormalization}: wraps a Dense, Conv2D or Embedding layer and divides its
 *   kernel by its largest singular value (also `nets.SpectralNormalization`).
 * - {@link Reparameterize}: `[mean, logVar] -> z`, the VAE's sampling step (also `vae.Reparameterize`).
 *
 * @module
 */
export { Reparameterize } from './reparameterize.js';
export type { ReparameterizeArgs } from './reparameterize.js';
export { SpectralNormalization } from './spectral-normalization.js';
export type { SpectralNormalizationArgs } from './spectral-normalization.js';
