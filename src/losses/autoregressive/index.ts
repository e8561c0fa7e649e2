/**
 * Autoregressive losses: `losses.autoregressive`.
 *
 * @module
 */
export { bitsPerToken, crossEntropy, perplexity } from './cross-entropy.js';
