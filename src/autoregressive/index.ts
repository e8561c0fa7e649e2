/**
 * The `autoregressive` family of genblocks: sampling tokens from logits (temperature, top-k,
 * nucleus), generation with a key/value cache (collected or streamed), and pixel-by-pixel
 * PixelCNN sampling.
 *
 * @module
 */
export { CachedDecoder } from './cached-decoder.js';
export type { CachedDecoderOptions } from './cached-decoder.js';
export { generate, generateStream } from './generate.js';
export type { GenerateOptions } from './generate.js';
export { pixelTargets, samplePixels } from './sample-pixels.js';
export type { SamplePixelsOptions } from './sample-pixels.js';
export { sampleToken, tokenDistribution } from './sample-token.js';
export type { SampleTokenDrawOptions, SampleTokenOptions } from './sample-token.js';
