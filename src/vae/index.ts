/**
 * The `vae` family of genblocks: encoders (`[mean, logVar]`), decoders (logits),
 * {@link reparameterize} and its layer {@link Reparameterize}, and {@link assemble}, which
 * wires them into one model with outputs `[logits, mean, logVar]`.
 *
 * @module
 */
export { assemble } from './assemble.js';
export type { AssembleConfig } from './assemble.js';
export type { VaeConditioning } from './conditioning.js';
export { convDecoder } from './conv-decoder.js';
export type { ConvDecoderConfig } from './conv-decoder.js';
export { convEncoder } from './conv-encoder.js';
export type { ConvEncoderConfig } from './conv-encoder.js';
export { mlpDecoder } from './mlp-decoder.js';
export type { MlpDecoderConfig } from './mlp-decoder.js';
export { mlpEncoder } from './mlp-encoder.js';
export type { MlpEncoderConfig } from './mlp-encoder.js';
export { reparameterize } from './reparameterize.js';
export type { ReparameterizeOptions } from './reparameterize.js';
export { Reparameterize } from '../layers/reparameterize.js';
export type { ReparameterizeArgs } from '../layers/reparameterize.js';
