/**
 * The `layers` family of genblocks: custom tfjs-layers layers and the pure functions they wrap,
 * registered under the `genblocks>` prefix so that models containing them save and load.
 *
 * @module
 */
export { GroupNormalization, groupNormalization } from './group-normalization.js';
export type { GroupNormalizationArgs, GroupNormalizationOptions } from './group-normalization.js';
export { SpatialAttention, spatialSelfAttention } from './spatial-attention.js';
export type { SpatialAttentionArgs, SpatialAttentionWeights } from './spatial-attention.js';
export { TimeEmbedding, sinusoidalEmbedding } from './time-embedding.js';
export type { TimeEmbeddingArgs } from './time-embedding.js';
