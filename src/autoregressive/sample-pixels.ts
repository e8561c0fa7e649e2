/**
 * PixelCNN sampling pixel by pixel, and the targets of its training loss.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import { ArgumentError } from '../errors.js';
import { mulberry32 } from '../random.js';
import { assertFloatTensor, assertKnownKeys, assertNumber, assertPositiveInt, describe } from '../validation.js';
import { drawFrom, tokenDistribution } from './sample-token.js';

/** Options of {@link samplePixels}. @category Autoregressive */
export interface SamplePixelsOptions {
  /** Number of images. Required. */
  n: number;
  /** Seed of the draws (one mulberry32 stream, pixel by pixel, image by image). Default: `Math.random`. */
  seed?: number;
  /** Divides the logits; 0 picks the most likely level. Default 1. */
  temperature?: number;
}

/**
 * The integer levels of images `[B, H, W, 1]` with values in `[0, 1]`: `round(x · (levels − 1))`
 * as int32 `[B, H, W]`, the targets of `losses.autoregressive.crossEntropy` for a
 * {@link nets.pixelCnn}'s logits.
 *
 * @param images Float32 images `[B, H, W, 1]` in `[0, 1]`.
 * @param levels Number of levels (2 for binary images).
 * @returns Int32 levels `[B, H, W]`.
 * @example
 * ```ts
 * const loss = losses.autoregressive.crossEntropy(model.apply(images) as tf.Tensor, autoregressive.pixelTargets(images, 2));
 * ```
 * @category Autoregressive
 */
export function pixelTargets(images: tf.Tensor, levels: number): tf.Tensor3D {
  const fn = 'autoregressive.pixelTargets';
  assertFloatTensor(images, 'images', fn, 4);
  assertNumber(levels, 'levels', fn, { integer: true, min: 2, max: 256 });
  return tf.tidy(() => tf.cast(tf.squeeze(tf.round(tf.mul(tf.clipByValue(images, 0, 1), levels - 1)), [3]), 'int32') as tf.Tensor3D);
}

/**
 * Samples images from a PixelCNN (e.g. {@link nets.pixelCnn}) one pixel at a time in raster
 * order: starting from zeros, for each pixel `i` the model is run on the images so far and
 * pixel `i` of every image is drawn from the softmax of its logits, `xᵢ ~ p(xᵢ | x₁ … xᵢ₋₁)`,
 * then written back as `level / (levels − 1)`. That is `H·W` forward passes over the batch.
 * The draws use {@link sampleToken}'s inverse-CDF rule with one seeded stream, so the same
 * seed gives the same images.
 *
 * @see https://arxiv.org/abs/1601.06759 (van den Oord et al. 2016, §2: sequential generation)
 * @param model A model mapping images `[B, H, W, 1]` in `[0, 1]` to logits `[B, H, W, levels]`.
 * @param options See {@link SamplePixelsOptions}.
 * @returns Images `[n, H, W, 1]`, float32 in `[0, 1]` (the caller disposes them).
 * @example
 * ```ts
 * const images = await autoregressive.samplePixels(model, { n: 16, seed: 1 });
 * ```
 * @category Autoregressive
 */
export async function samplePixels(model: tfl.LayersModel, options: SamplePixelsOptions): Promise<tf.Tensor4D> {
  const fn = 'autoregressive.samplePixels';
  const inputShape = model?.inputs?.[0]?.shape;
  const outputShape = (model?.outputs?.[0]?.shape ?? []) as Array<number | null>;
  if (
    inputShape === undefined ||
    inputShape.length !== 4 ||
    inputShape.slice(1).some((d) => d == null) ||
    outputShape.length !== 4 ||
    outputShape[3] == null
  ) {
    throw new ArgumentError({
      fn,
      arg: 'model',
      expected: 'be a model of images [B, H, W, C] (known sizes) to logits [B, H, W, levels]',
      received: describe(model),
    });
  }
  assertKnownKeys(options, ['n', 'seed', 'temperature'], 'options', fn);
  if (options === undefined) throw new ArgumentError({ fn, arg: 'options', expected: 'be an object with n', received: 'undefined' });
  const { n, seed, temperature = 1 } = options;
  assertPositiveInt(n, 'options.n', fn);
  if (seed !== undefined) assertNumber(seed, 'options.seed', fn, { integer: true });
  assertNumber(temperature, 'options.temperature', fn, { min: 0 });
  const [, h, w, c] = inputShape as [null, number, number, number];
  const levels = outputShape[3]!;
  const random = seed === undefined ? Math.random : mulberry32(seed);
  const pixels = new Float32Array(n * h * w * c);
  for (let p = 0; p < h * w; p++) {
    const row = Math.floor(p / w);
    const col = p % w;
    const logits = tf.tidy(() => {
      const out = model.predict(tf.tensor4d(pixels, [n, h, w, c])) as tf.Tensor;
      return tf.reshape(tf.slice(out, [0, row, col, 0], [n, 1, 1, levels]), [n, levels]);
    });
    const values = await logits.data();
    logits.dispose();
    for (let i = 0; i < n; i++) {
      const level = drawFrom(tokenDistribution(values.subarray(i * levels, (i + 1) * levels), { temperature }), random());
      pixels.fill(level / (levels - 1), ((i * h + row) * w + col) * c, ((i * h + row) * w + col + 1) * c);
    }
  }
  const images = tf.tensor4d(pixels, [n, h, w, c]);
  return images;
}
