/**
 * The `layers` family of genblocks: custom tfjs-layers layers, registered for saving and
 * loading (causal self-attention with a key/value cache, the pre-LN transformer block, token +
 * position embeddings with a tied output head, masked and causal convolutions), and the pure
 * functions they wrap.
 *
 * @module
 */
export { attentionStep, causalSelfAttention, CausalSelfAttention } from './causal-self-attention.js';
export type { AttentionStepResult, AttentionWeights, CausalSelfAttentionArgs, CausalSelfAttentionOptions, KeyValueCache } from './causal-self-attention.js';
export { CausalConv1D } from './causal-conv1d.js';
export type { CausalConv1DArgs } from './causal-conv1d.js';
export { GatedActivation } from './gated-activation.js';
export type { GatedActivationArgs } from './gated-activation.js';
export { LayerNorm } from './layer-norm.js';
export type { LayerNormArgs } from './layer-norm.js';
export { convolutionMask, MaskedConv2D } from './masked-conv2d.js';
export type { MaskedConv2DArgs, MaskType } from './masked-conv2d.js';
export { TokenPositionEmbedding } from './token-position-embedding.js';
export type { TokenPositionEmbeddingArgs } from './token-position-embedding.js';
export { TransformerBlock, transformerBlock, transformerBlockStep } from './transformer-block.js';
export type { TransformerBlockArgs, TransformerBlockOptions, TransformerBlockWeights } from './transformer-block.js';
