/**
 * `genblocks/node`: helpers that need Node's file system or zlib (reading IDX/MNIST files,
 * writing PNG images, saving and loading models in a folder). Browser bundles never import
 * this entry.
 *
 * @example
 * ```ts
 * import { loadMnist, writePng } from 'genblocks/node';
 * ```
 * @module genblocks/node
 */
import './register.js';

export {
  DEFAULT_MAX_WEIGHT_BYTES,
  folderHandler,
  loadModel,
  loadOptimizer,
  loadOptimizerWeights,
  MAX_JSON_BYTES,
  MODEL_JSON,
  OPTIMIZER_JSON,
  OPTIMIZER_WEIGHTS_BIN,
  saveModel,
  saveOptimizer,
  WEIGHTS_BIN,
} from './io/model-folder.js';
export type { FolderHandlerOptions, LoadModelOptions, SaveModelOptions, SaveOptimizerOptions } from './io/model-folder.js';
export { DEFAULT_MAX_IDX_BYTES, readIdx } from './io/idx.js';
export type { ReadIdxOptions } from './io/idx.js';
export { loadMnist } from './io/mnist.js';
export type { LoadMnistOptions, MnistData } from './io/mnist.js';
export { encodePng, writeImageGrid, writePng } from './io/png.js';
export { writeLossCsv, writeLossPlot } from './io/plot.js';
export { fileCheckpointStore } from './io/checkpoint-store.js';
export { version } from './version.js';
