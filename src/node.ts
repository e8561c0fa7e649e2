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

export { version } from './version.js';
