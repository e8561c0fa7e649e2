/**
 * The `data` family of genblocks: IDX parsing, mini-batching, image grids, loss curves and
 * k-means clustering.
 * Everything here is browser-safe; file reading and writing live in `genblocks/node`.
 *
 * @module
 */
export { Batches, batches, epochOrder } from './batches.js';
export type { Batch, BatchesOptions } from './batches.js';
export { parseIdx } from './idx.js';
export type { IdxArray, IdxDType, IdxTypedArray } from './idx.js';
export { imageGrid } from './image-grid.js';
export { kMeans } from './k-means.js';
export type { KMeansOptions, KMeansResult } from './k-means.js';
export type { ImageGridOptions } from './image-grid.js';
export { lossCsv, lossPlotSvg } from './loss-curves.js';
export { SequenceBatches, sequenceBatches } from './sequence-batches.js';
export type { SequenceBatchesOptions } from './sequence-batches.js';
export { TextVocabulary, textVocabulary } from './text-vocabulary.js';
export type { TextVocabularyJson } from './text-vocabulary.js';
export type { LossPlotOptions } from './loss-curves.js';
