/**
 * Tiling a batch of images into one grid image (sample sheets, reconstructions).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { ShapeError } from '../errors.js';
import { assertFloatTensor, assertKnownKeys, assertNumber, assertOneOf, assertPositiveInt, formatShape } from '../validation.js';

const FN = 'data.imageGrid';

/** Options of {@link imageGrid}. @category Data */
export interface ImageGridOptions {
  /** Images per row. Default: `ceil(sqrt(n))`. */
  columns?: number;
  /** Pixels of border between the tiles and around the grid. Default: `2` (as torchvision's `make_grid`). */
  padding?: number;
  /** Value of the border and of empty cells, in the output range [0, 1]. Default: `0` (black). */
  padValue?: number;
  /**
   * Range of the input values: `'[-1,1]'` (tanh generators, `loadMnist`'s default) maps
   * `x ↦ (x + 1) / 2`; `'[0,1]'` (sigmoid decoders) keeps `x`. Either way the result is
   * clipped to [0, 1]. Default: `'[0,1]'`.
   */
  range?: '[-1,1]' | '[0,1]';
}

/**
 * Arranges `n` images `[n, h, w, c]` in a grid of `columns` columns and `ceil(n / columns)`
 * rows, row-major (image `i` at row `floor(i / columns)`, column `i mod columns`), with
 * `padding` pixels of `padValue` between and around the tiles:
 *
 *   H = rows · (h + padding) + padding,  W = columns · (w + padding) + padding
 *
 * Values are mapped from `range` to [0, 1] and clipped, ready for `writePng` from
 * `genblocks/node` or `tf.browser.toPixels`.
 *
 * @param images float32 `[n, h, w, c]`, `c` = 1 (gray), 3 (RGB) or 4 (RGBA).
 * @param options `columns`, `padding`, `padValue`, `range`.
 * @returns float32 `[H, W, c]` in [0, 1].
 * @example
 * ```ts
 * const fakes = generator.predict(tf.randomNormal([64, 100], 0, 1, 'float32', 1)) as tf.Tensor4D;
 * const grid = data.imageGrid(fakes, { columns: 8, range: '[-1,1]' }); // [242, 242, 1]
 * ```
 * @category Data
 */
export function imageGrid(images: tf.Tensor4D, options: ImageGridOptions = {}): tf.Tensor3D {
  assertFloatTensor(images, 'images', FN, 4);
  assertKnownKeys(options, ['columns', 'padding', 'padValue', 'range'], 'options', FN);
  const [n, h, w, c] = images.shape;
  if (n < 1)
    throw new ShapeError({ fn: FN, arg: 'images', expected: 'hold at least one image', received: `shape ${formatShape(images.shape)}` });
  if (![1, 3, 4].includes(c)) {
    throw new ShapeError({
      fn: FN,
      arg: 'images',
      expected: 'have 1, 3 or 4 channels (last axis)',
      received: `shape ${formatShape(images.shape)}`,
    });
  }
  const { columns = Math.ceil(Math.sqrt(n)), padding = 2, padValue = 0, range = '[0,1]' } = options;
  assertPositiveInt(columns, 'options.columns', FN);
  assertNumber(padding, 'options.padding', FN, { min: 0, integer: true });
  assertNumber(padValue, 'options.padValue', FN, { min: 0, max: 1 });
  assertOneOf(range, ['[-1,1]', '[0,1]'] as const, 'options.range', FN);
  const cols = columns;
  const rows = Math.ceil(n / cols);
  return tf.tidy(() => {
    const unit = range === '[-1,1]' ? tf.div(tf.add(images, 1), 2) : images;
    const clipped = tf.clipByValue(unit, 0, 1);
    // Every tile gets `padding` rows/columns of border on its top and left; empty cells are all border.
    const tiles = tf.pad(
      clipped,
      [
        [0, rows * cols - n],
        [padding, 0],
        [padding, 0],
        [0, 0],
      ],
      padValue,
    );
    const th = h + padding;
    const tw = w + padding;
    const grid = tf.reshape(tf.transpose(tf.reshape(tiles, [rows, cols, th, tw, c]), [0, 2, 1, 3, 4]), [rows * th, cols * tw, c]);
    // Close the border on the bottom and right.
    return tf.pad(
      grid,
      [
        [0, padding],
        [0, padding],
        [0, 0],
      ],
      padValue,
    ) as tf.Tensor3D;
  });
}
