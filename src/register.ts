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
import { GroupNormalization } from './layers/group-normalization.js';
import { SpatialAttention } from './layers/spatial-attention.js';
import { TimeEmbedding } from './layers/time-embedding.js';
import { SpectralNormalization } from './nets/spectral-normalization.js';
import { Reparameterize } from './vae/reparameterize-layer.js';

// Custom layers (nets, vae): saved as `genblocks>Name`, found again by tf.loadLayersModel.
serialization.registerClass(SpectralNormalization, 'genblocks', 'SpectralNormalization');
serialization.registerClass(Reparameterize, 'genblocks', 'Reparameterize');
// Custom layers (layers): group normalization, time embedding, spatial attention.
serialization.registerClass(GroupNormalization, 'genblocks', 'GroupNormalization');
serialization.registerClass(TimeEmbedding, 'genblocks', 'TimeEmbedding');
serialization.registerClass(SpatialAttention, 'genblocks', 'SpatialAttention');

// Zero gradients for comparison/logical ops, so gradient penalties can be differentiated again
// (idempotent: skips kernels that already have a gradient).
registerSecondOrderGradients();
