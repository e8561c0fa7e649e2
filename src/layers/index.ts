/**
 * The `layers` family of genblocks: the custom tfjs-layers layers the builders compose, each
 * registered for serialization under the `genblocks>` prefix by the file that defines it (a saved
 * model containing them loads with `tf.loadLayersModel`), and the pure functions they wrap.
 * Exports are listed by name.
 *
 * - {@link SpectralNormalization}: wraps a Dense, Conv2D or Embedding layer and divides its
 *   kernel by its largest singular value (also `nets.SpectralNormalization`).
 * - {@link Reparameterize}: `[mean, logVar] -> z`, the VAE's sampling step (also `vae.Reparameterize`).
 * - Autoregressive blocks: causal self-attention with a key/value cache, the pre-LN transformer
 *   block, token + position embeddings with a tied output head, masked and causal convolutions.
 * - Diffusion blocks: group normalization, SiLU, the sinusoidal time embedding, spatial self-attention.
 *
 * @module
 */
export { CausalConv1D } from './causal-conv1d.js';
export type { CausalConv1DArgs } from './causal-conv1d.js';
export { attentionStep, causalSelfAttention, CausalSelfAttention } from './causal-self-attention.js';
export type {
  AttentionStepResult,
  AttentionWeights,
  CausalSelfAttentionArgs,
  CausalSelfAttentionOptions,
  KeyValueCache,
} from './causal-self-attention.js';
export { GatedActivation } from './gated-activation.js';
export type { GatedActivationArgs } from './gated-activation.js';
export { GroupNormalization, groupNormalization } from './group-normalization.js';
export type { GroupNormalizationArgs, GroupNormalizationOptions } from './group-normalization.js';
export { LayerNorm } from './layer-norm.js';
export type { LayerNormArgs } from './layer-norm.js';
export { convolutionMask, MaskedConv2D } from './masked-conv2d.js';
export type { MaskedConv2DArgs, MaskType } from './masked-conv2d.js';
export { Reparameterize } from './reparameterize.js';
export type { ReparameterizeArgs } from './reparameterize.js';
export { SiLU, silu } from './silu.js';
export type { SiLUArgs } from './silu.js';
export { SpatialAttention, spatialSelfAttention } from './spatial-attention.js';
export type { SpatialAttentionArgs, SpatialAttentionWeights } from './spatial-attention.js';
export { SpectralNormalization } from './spectral-normalization.js';
export type { SpectralNormalizationArgs } from './spectral-normalization.js';
export { TimeEmbedding, sinusoidalEmbedding } from './time-embedding.js';
export type { TimeEmbeddingArgs } from './time-embedding.js';
export { TokenPositionEmbedding } from './token-position-embedding.js';
export type { TokenPositionEmbeddingArgs } from './token-position-embedding.js';
export { TransformerBlock, transformerBlock, transformerBlockStep } from './transformer-block.js';
export type { TransformerBlockArgs, TransformerBlockOptions, TransformerBlockWeights } from './transformer-block.js';
