/**
 * `genblocks/register`: registers everything genblocks registers with tfjs, in one import.
 *
 * - genblocks' custom layers, with tfjs-layers' serialization registry under the `genblocks>`
 *   prefix, so a saved model that contains them loads with plain `tf.loadLayersModel`. Each
 *   layer's own file also registers it (those files are named in `package.json`
 *   `sideEffects`), so any program whose code uses a layer has it registered; import this module
 *   to load such a model in a bundle that does not otherwise use `nets` or `vae`.
 * - the zero gradients of comparison ops that second-order differentiation needs (WGAN-GP, R1);
 *   the gradient penalties register them themselves before they differentiate.
 *
 * `genblocks/node` imports it. The `genblocks` entry does not, so that a bundle that uses
 * `losses` alone does not pull in tfjs-layers.
 *
 * @example
 * ```ts
 * import 'genblocks/register';
 * ```
 * @module genblocks/register
 */
import { serialization } from '@tensorflow/tfjs-core';

import { registerSecondOrderGradients } from './backends/gradients.js';
import { CausalConv1D } from './layers/causal-conv1d.js';
import { CausalSelfAttention } from './layers/causal-self-attention.js';
import { GatedActivation } from './layers/gated-activation.js';
import { GroupNormalization } from './layers/group-normalization.js';
import { LayerNorm } from './layers/layer-norm.js';
import { MaskedConv2D } from './layers/masked-conv2d.js';
import { Reparameterize } from './layers/reparameterize.js';
import { SiLU } from './layers/silu.js';
import { SpatialAttention } from './layers/spatial-attention.js';
import { SpectralNormalization } from './layers/spectral-normalization.js';
import { TimeEmbedding } from './layers/time-embedding.js';
import { TokenPositionEmbedding } from './layers/token-position-embedding.js';
import { TransformerBlock } from './layers/transformer-block.js';

// Custom layers (src/layers): saved as `genblocks>Name`, found again by tf.loadLayersModel.
// (Registering a class twice under the same name is harmless: the registry keeps one entry.)
serialization.registerClass(SpectralNormalization, 'genblocks', 'SpectralNormalization');
serialization.registerClass(Reparameterize, 'genblocks', 'Reparameterize');
// Autoregressive layers.
serialization.registerClass(CausalSelfAttention, 'genblocks', 'CausalSelfAttention');
serialization.registerClass(TransformerBlock, 'genblocks', 'TransformerBlock');
serialization.registerClass(TokenPositionEmbedding, 'genblocks', 'TokenPositionEmbedding');
serialization.registerClass(MaskedConv2D, 'genblocks', 'MaskedConv2D');
serialization.registerClass(CausalConv1D, 'genblocks', 'CausalConv1D');
serialization.registerClass(GatedActivation, 'genblocks', 'GatedActivation');
serialization.registerClass(LayerNorm, 'genblocks', 'LayerNorm');
// Diffusion layers.
serialization.registerClass(GroupNormalization, 'genblocks', 'GroupNormalization');
serialization.registerClass(TimeEmbedding, 'genblocks', 'TimeEmbedding');
serialization.registerClass(SpatialAttention, 'genblocks', 'SpatialAttention');
serialization.registerClass(SiLU, 'genblocks', 'SiLU');

// Zero gradients for comparison/logical ops, so gradient penalties can be differentiated again
// (idempotent: skips kernels that already have a gradient).
registerSecondOrderGradients();
