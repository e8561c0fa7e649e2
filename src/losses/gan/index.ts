/**
 * GAN losses on logits and the gradient penalties: `losses.gan`.
 *
 * @module
 */
export { gradientPenalty } from './gradient-penalty.js';
export { hinge } from './hinge.js';
export { leastSquares } from './least-squares.js';
export { minimax } from './minimax.js';
export { nonSaturating } from './non-saturating.js';
export { r1Penalty } from './r1-penalty.js';
export { relativisticAverage } from './relativistic-average.js';
export { wasserstein } from './wasserstein.js';
export type { GradientPenaltyOptions } from './gradient-penalty.js';
export type { R1PenaltyOptions } from './r1-penalty.js';
export type { Critic, CriticModel } from './critic.js';
export type { AnyGanLoss, GanLoss, GanLossOptions, RelativisticGanLoss, SigmoidDiscriminatorOptions } from './types.js';
