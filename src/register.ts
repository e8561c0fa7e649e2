/**
 * The one side-effect module of genblocks (named in `package.json` `sideEffects`).
 *
 * Importing `genblocks` or `genblocks/node` runs it once. It registers genblocks' custom
 * layers with tfjs-layers' serialization registry under the `genblocks>` prefix, so a saved
 * model that contains them loads with plain `tf.loadLayersModel` in a process that imported
 * genblocks, and it registers the gradients tfjs lacks for second-order differentiation
 * (WGAN-GP, R1). Nothing else in the library runs code at import time.
 *
 * @module
 */
import '@tensorflow/tfjs-layers';
import { serialization } from '@tensorflow/tfjs-core';

import { registerSecondOrderGradients } from './backends/gradients.js';
import { CausalConv1D } from './layers/causal-conv1d.js';
import { CausalSelfAttention } from './layers/causal-self-attention.js';
import { GatedActivation } from './layers/gated-activation.js';
import { LayerNorm } from './layers/layer-norm.js';
import { MaskedConv2D } from './layers/masked-conv2d.js';
import { TokenPositionEmbedding } from './layers/token-position-embedding.js';
import { TransformerBlock } from './layers/transformer-block.js';
import { SpectralNormalization } from './nets/spectral-normalization.js';
import { Reparameterize } from './vae/reparameterize-layer.js';

// Custom layers (nets, vae): saved as `genblocks>Name`, found again by tf.loadLayersModel.
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

// Zero gradients for comparison/logical ops, so gradient penalties can be differentiated again
// (idempotent: skips kernels that already have a gradient).
registerSecondOrderGradients();
