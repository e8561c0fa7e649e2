/**
 * The `nets` family of genblocks: builders returning plain `tf.LayersModel`s (generators and
 * discriminators, MLP and DCGAN, optionally class-conditional), the diffusion {@link unet}, and the
 * {@link SpectralNormalization} layer wrapper.
 *
 * @module
 */
export { dcganDiscriminator } from './dcgan-discriminator.js';
export type { DcganDiscriminatorConfig } from './dcgan-discriminator.js';
export { dcganGenerator } from './dcgan-generator.js';
export type { DcganGeneratorConfig } from './dcgan-generator.js';
export { GPT_PRESETS, gpt } from './gpt.js';
export type { GptConfig, GptPreset, GptSize } from './gpt.js';
export { mlpDiscriminator } from './mlp-discriminator.js';
export type { MlpDiscriminatorConfig } from './mlp-discriminator.js';
export { pixelCnn } from './pixel-cnn.js';
export type { PixelCnnConfig } from './pixel-cnn.js';
export { mlpGenerator } from './mlp-generator.js';
export type { MlpGeneratorConfig } from './mlp-generator.js';
export { unet } from './unet.js';
export type { UnetConfig } from './unet.js';
export { SpectralNormalization } from '../layers/spectral-normalization.js';
export type { SpectralNormalizationArgs } from '../layers/spectral-normalization.js';
export type { Activation, Normalization, OutputActivation } from './common.js';
export type { DiscriminatorConditioning, DiscriminatorHead } from './discriminator-head.js';
export type { GeneratorConditioning } from './generator-input.js';
