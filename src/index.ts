/**
 * genblocks: generative-model building blocks for TensorFlow.js.
 *
 * One namespace per family: {@link backends}, {@link nets}, {@link layers}, {@link vae},
 * {@link losses}, {@link train}, {@link data}, {@link metrics}, {@link diffusion}, {@link autoregressive}.
 * Node-only helpers (files, PNG, MNIST) live in the `genblocks/node` entry.
 *
 * Each namespace is also its own entry (`genblocks/losses`, `genblocks/nets`, ...), and this
 * entry has no import-time side effects of its own, so a bundler keeps only the families a
 * program uses (see the README's install section).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { backends, losses } from 'genblocks';
 *
 * await backends.use('wasm');
 * const loss = losses.gan.nonSaturating.generator(tf.tensor1d([0.5, -2]));
 * ```
 * @module genblocks
 */
import * as autoregressive from './autoregressive/index.js';
import * as backends from './backends/index.js';
import * as data from './data/index.js';
import * as diffusion from './diffusion/index.js';
import * as layers from './layers/index.js';
import * as losses from './losses/index.js';
import * as metrics from './metrics/index.js';
import * as nets from './nets/index.js';
import * as train from './train/index.js';
import * as vae from './vae/index.js';

export { autoregressive, backends, data, diffusion, layers, losses, metrics, nets, train, vae };
export {
  ArgumentError,
  BackendError,
  CheckpointError,
  ConfigError,
  DTypeError,
  GenblocksError,
  NonFiniteLossError,
  ShapeError,
} from './errors.js';
export type { ArgumentErrorDetails, CheckpointErrorDetails } from './errors.js';
export { version } from './version.js';
