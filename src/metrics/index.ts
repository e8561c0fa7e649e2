/**
 * The `metrics` family of genblocks: sample-quality metrics for generative models (Fréchet and
 * kernel distances on any feature function, the classifier score, class coverage), image
 * reconstruction metrics (PSNR, SSIM), and a small MNIST feature network. Exports are listed
 * by name.
 *
 * @module
 */
export { computeActivations } from './activations.js';
export type { Activations, ActivationArray, ComputeActivationsOptions, FeatureFunction } from './activations.js';
export { frechetDistance, frechetDistanceFromActivations } from './frechet-distance.js';
export type { FrechetDistanceOptions, FrechetDistanceWithFeaturesOptions } from './frechet-distance.js';
export { kernelDistance } from './kernel-distance.js';
export type { KernelDistanceOptions, KernelDistanceResult } from './kernel-distance.js';
export { classifierScore } from './classifier-score.js';
export type { ClassifierScoreOptions, ClassifierScoreResult } from './classifier-score.js';
export { classDistribution } from './class-distribution.js';
export type { ClassDistributionOptions, ClassDistributionResult } from './class-distribution.js';
export { psnr, ssim } from './image-quality.js';
export type { ImageMetricResult, ImageReduction, PsnrOptions, SsimOptions } from './image-quality.js';
export { classifierAccuracy, FEATURE_LAYER_NAME, featureExtractor, mnistFeatureNet, trainMnistFeatureNet } from './mnist-feature-net.js';
export type { MnistFeatureNetConfig, TrainMnistFeatureNetHistory, TrainMnistFeatureNetOptions } from './mnist-feature-net.js';
