/**
 * Writing image tensors as PNG files in Node (with `pngjs`, an optional peer dependency of
 * `genblocks/node`: `npm install pngjs`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as Pngjs from 'pngjs';

import { imageGrid, type ImageGridOptions } from '../data/image-grid.js';
import { ArgumentError, DTypeError, GenblocksError, ShapeError } from '../errors.js';
import { assertRank, assertTensor, describe, formatShape } from '../validation.js';
import { writeFileAtomic } from './atomic.js';

/**
 * Loads `pngjs`, an optional peer dependency of `genblocks/node` (so that it never reaches a
 * browser install), on first use; throws an error naming the package when it is not installed.
 */
async function loadPngjs(fn: string): Promise<typeof Pngjs> {
  let mod: typeof Pngjs & { default?: typeof Pngjs };
  try {
    mod = (await import('pngjs')) as typeof mod;
  } catch (e) {
    const reason = (e as Error).message.split('\n')[0];
    throw new GenblocksError(
      fn,
      `${fn}: writing PNG files needs the package 'pngjs' (an optional peer dependency of genblocks/node), which could not be loaded (${reason}). Install it: npm install pngjs`,
    );
  }
  return mod.default ?? mod;
}

/** PNG colour types (PNG spec §11.2.2) by number of channels. */
const COLOR_TYPE: Record<number, number> = { 1: 0, 3: 2, 4: 6 };

/**
 * Encodes an image tensor as PNG bytes (8 bits per channel).
 *
 * Accepted images: `[h, w]` or `[h, w, 1]` (gray), `[h, w, 3]` (RGB), `[h, w, 4]` (RGBA);
 * float32 with values in [0, 1] (stored as `round(255 · v)`) or int32 with values 0–255.
 * Values out of range or NaN throw an {@link ArgumentError} rather than being clipped silently:
 * map `[-1, 1]` images first (`data.imageGrid(x, { range: '[-1,1]' })` does).
 *
 * @param image The image, `[h, w]` or `[h, w, c]` with c ∈ {1, 3, 4}.
 * @returns The PNG file's bytes.
 * @example
 * ```ts
 * const png = await encodePng(tf.ones([28, 28, 1]));
 * ```
 * @category Node
 */
export async function encodePng(image: tf.Tensor): Promise<Uint8Array> {
  return encode(image, 'encodePng');
}

async function encode(image: tf.Tensor, fn: string): Promise<Uint8Array> {
  assertTensor(image, 'image', fn);
  assertRank(image, [2, 3], 'image', fn);
  const [height, width, channels = 1] = image.shape as number[];
  if (COLOR_TYPE[channels!] === undefined) {
    throw new ShapeError({
      fn,
      arg: 'image',
      expected: 'have 1, 3 or 4 channels (gray, RGB, RGBA) on its last axis',
      received: `shape ${formatShape(image.shape)}`,
    });
  }
  if (height! < 1 || width! < 1) {
    throw new ShapeError({ fn, arg: 'image', expected: 'have at least one pixel', received: `shape ${formatShape(image.shape)}` });
  }
  if (image.dtype !== 'float32' && image.dtype !== 'int32') {
    throw new DTypeError({
      fn,
      arg: 'image',
      expected: 'be a float32 tensor in [0, 1] or an int32 tensor in 0–255',
      received: describe(image),
    });
  }
  const values = await image.data();
  const bytes = Buffer.alloc(values.length);
  const isFloat = image.dtype === 'float32';
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const ok = isFloat ? v >= 0 && v <= 1 : v >= 0 && v <= 255;
    if (!ok) {
      throw new ArgumentError({
        fn,
        arg: 'image',
        expected: isFloat ? 'hold values in [0, 1]' : 'hold values in 0–255',
        received: `${v} at flat index ${i} of a ${image.dtype} tensor of shape ${formatShape(image.shape)}`,
        hint: isFloat
          ? "Map [-1, 1] images with tf.div(tf.add(x, 1), 2), or tile them with data.imageGrid(x, { range: '[-1,1]' })"
          : undefined,
      });
    }
    bytes[i] = isFloat ? Math.round(v * 255) : v;
  }
  const colorType = COLOR_TYPE[channels!]!;
  const pngjs = await loadPngjs(fn);
  const png = new pngjs.PNG({ width: width!, height: height! });
  png.data = bytes;
  return pngjs.PNG.sync.write(png, { colorType, inputColorType: colorType, inputHasAlpha: channels === 4 } as Pngjs.PackerOptions);
}

/**
 * Writes an image tensor to a PNG file (8 bits per channel), atomically: to a temporary file
 * renamed into place, so a reader never sees half a file. Creates the parent folder.
 *
 * Accepted images: `[h, w]` or `[h, w, 1]` (gray), `[h, w, 3]` (RGB), `[h, w, 4]` (RGBA);
 * float32 in [0, 1] or int32 in 0–255 (see {@link encodePng}). The tensor is not disposed.
 *
 * @param image The image, `[h, w]` or `[h, w, c]` with c ∈ {1, 3, 4}.
 * @param path Destination file, e.g. `'out/samples-epoch-1.png'`.
 * @example
 * ```ts
 * import { writePng } from 'genblocks/node';
 * const grid = data.imageGrid(fakes, { columns: 8, range: '[-1,1]' });
 * await writePng(grid, 'out/samples.png');
 * grid.dispose();
 * ```
 * @category Node
 */
export async function writePng(image: tf.Tensor, path: string): Promise<void> {
  if (typeof path !== 'string' || path === '') {
    throw new ArgumentError({ fn: 'writePng', arg: 'path', expected: 'be a non-empty string', received: describe(path) });
  }
  await writeFileAtomic(path, await encode(image, 'writePng'), 'writePng');
}

/**
 * Tiles a batch of images with `data.imageGrid` and writes the grid as a PNG (atomically);
 * the grid tensor is disposed, `images` is not.
 *
 * @param images float32 `[n, h, w, c]`, c ∈ {1, 3, 4}.
 * @param path Destination PNG file.
 * @param options Grid layout and input range, as `data.imageGrid` (`columns`, `padding`, `padValue`, `range`).
 * @example
 * ```ts
 * await writeImageGrid(fakes, 'out/epoch-3.png', { columns: 10, range: '[-1,1]' });
 * ```
 * @category Node
 */
export async function writeImageGrid(images: tf.Tensor4D, path: string, options: ImageGridOptions = {}): Promise<void> {
  if (typeof path !== 'string' || path === '') {
    throw new ArgumentError({ fn: 'writeImageGrid', arg: 'path', expected: 'be a non-empty string', received: describe(path) });
  }
  const grid = imageGrid(images, options);
  try {
    await writeFileAtomic(path, await encode(grid, 'writeImageGrid'), 'writeImageGrid');
  } finally {
    grid.dispose();
  }
}
