/**
 * The `losses` family of genblocks: GAN losses and gradient penalties (`losses.gan`) and VAE
 * losses (`losses.vae`). Exports are listed by name.
 *
 * @example
 * ```ts
 * import { losses } from 'genblocks';
 * const dLoss = losses.gan.nonSaturating.discriminator(realLogits, fakeLogits);
 * const vaeLoss = losses.vae.elbo({ likelihood: 'bernoulli' });
 * ```
 * @module
 */
import * as autoregressive from './autoregressive/index.js';
import * as gan from './gan/index.js';
import * as vae from './vae/index.js';

export { autoregressive, gan, vae };
export type { Reduced, Reduction, ReductionOptions, ScalarReduction } from './reduction.js';
export type {
  AnyGanLoss,
  Critic,
  CriticModel,
  GanLoss,
  GanLossOptions,
  GradientPenaltyOptions,
  R1PenaltyOptions,
  RelativisticGanLoss,
  SigmoidDiscriminatorOptions,
} from './gan/index.js';
export type { ElboFunction, ElboOptions, ElboTerms, GaussianReconstructionOptions } from './vae/index.js';
