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
import { Reparameterize } from './layers/reparameterize.js';
import { SpectralNormalization } from './layers/spectral-normalization.js';

// Custom layers (src/layers): saved as `genblocks>Name`, found again by tf.loadLayersModel.
serialization.registerClass(SpectralNormalization, 'genblocks', 'SpectralNormalization');
serialization.registerClass(Reparameterize, 'genblocks', 'Reparameterize');

// Zero gradients for comparison/logical ops, so gradient penalties can be differentiated again
// (idempotent: skips kernels that already have a gradient).
registerSecondOrderGradients();
