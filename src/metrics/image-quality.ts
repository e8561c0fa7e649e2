/**
 * Full-reference image quality: PSNR and SSIM between reconstructions and originals.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { ArgumentError, ShapeError } from '../errors.js';
import {
  assertFloatTensor,
  assertKnownKeys,
  assertNumber,
  assertOneOf,
  assertPositiveInt,
  assertSameShape,
  formatShape,
} from '../validation.js';

/** `'none'` keeps one value per image, `'mean'` averages them. @category Metrics */
export type ImageReduction = 'none' | 'mean';

/** Options of {@link psnr}. @category Metrics */
export interface PsnrOptions<R extends ImageReduction = ImageReduction> {
  /** Dynamic range of the pixel values, max − min: 1 for [0, 1], 2 for [-1, 1], 255 for bytes. Required. */
  maxValue: number;
  /** `'none'` (default): one value per image `[n]`; `'mean'`: their mean (a scalar). */
  reduction?: R;
}

/** Return type for a reduction: `[n]` per image, or a scalar. @category Metrics */
export type ImageMetricResult<R extends ImageReduction> = R extends 'mean' ? tf.Scalar : tf.Tensor1D;

function checkImages(fn: string, a: unknown, b: unknown): void {
  assertFloatTensor(a, 'a', fn, 4);
  assertFloatTensor(b, 'b', fn, 4);
  assertSameShape(a, b, 'a', 'b', fn);
  if (a.shape.some((s) => s === 0)) {
    throw new ShapeError({ fn, arg: 'a', expected: 'be non-empty', received: `shape ${formatShape(a.shape)}` });
  }
}

function checkMaxValue(fn: string, options: unknown, known: readonly string[]): number {
  if (options === undefined) {
    throw new ArgumentError({
      fn,
      arg: 'options',
      expected: 'give maxValue, the dynamic range of the pixels',
      received: 'undefined',
      hint: 'Pass { maxValue: 1 } for images in [0, 1], { maxValue: 2 } for [-1, 1], { maxValue: 255 } for bytes',
    });
  }
  assertKnownKeys(options, known, 'options', fn);
  const { maxValue } = options as { maxValue?: unknown };
  assertNumber(maxValue, 'options.maxValue', fn, { min: 0, minExclusive: true });
  return maxValue;
}

/**
 * Peak signal-to-noise ratio per image: `PSNR = 10 · log10(maxValue² / MSE)` with the mean
 * squared error over each image's pixels and channels. Identical images give `Infinity`.
 *
 * @see https://en.wikipedia.org/wiki/Peak_signal-to-noise_ratio (no paper; the standard definition)
 * @param a Images `[n, h, w, c]`, float32.
 * @param b Images of the same shape.
 * @param options `maxValue` (required: the pixel range), `reduction` (`'none'` default, or `'mean'`).
 * @returns PSNR in decibels, `[n]` (or a scalar for `reduction: 'mean'`).
 * @example
 * ```ts
 * const db = metrics.psnr(reconstructions, images, { maxValue: 1, reduction: 'mean' });
 * ```
 * @category Metrics
 */
export function psnr<R extends ImageReduction = 'none'>(a: tf.Tensor4D, b: tf.Tensor4D, options: PsnrOptions<R>): ImageMetricResult<R> {
  const fn = 'metrics.psnr';
  checkImages(fn, a, b);
  const maxValue = checkMaxValue(fn, options, ['maxValue', 'reduction']);
  const reduction = options.reduction ?? 'none';
  assertOneOf(reduction, ['none', 'mean'] as const, 'options.reduction', fn);
  return tf.tidy(() => {
    const mse = tf.mean(tf.squaredDifference(a, b), [1, 2, 3]);
    const perImage = tf.mul(tf.sub(Math.log10(maxValue * maxValue), tf.div(tf.log(mse), Math.LN10)), 10);
    return (reduction === 'mean' ? tf.mean(perImage) : perImage) as ImageMetricResult<R>;
  });
}

/** Options of {@link ssim}. @category Metrics */
export interface SsimOptions<R extends ImageReduction = ImageReduction> {
  /** Dynamic range of the pixel values, max − min (the paper's L): 1 for [0, 1], 2 for [-1, 1], 255 for bytes. Required. */
  maxValue: number;
  /** Side of the square Gaussian window. Default 11. */
  windowSize?: number;
  /** Standard deviation of the Gaussian window. Default 1.5. */
  sigma?: number;
  /** K1 of the paper: `C1 = (K1 L)²`. Default 0.01. */
  k1?: number;
  /** K2 of the paper: `C2 = (K2 L)²`. Default 0.03. */
  k2?: number;
  /** `'none'` (default): one value per image `[n]`; `'mean'`: their mean (a scalar). */
  reduction?: R;
}

/** Normalized `size × size` Gaussian window as a depthwise filter `[size, size, channels, 1]`. */
function gaussianWindow(size: number, sigma: number, channels: number): tf.Tensor4D {
  const g = new Float64Array(size);
  const center = (size - 1) / 2;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    g[i] = Math.exp(-((i - center) ** 2) / (2 * sigma * sigma));
    sum += g[i]!;
  }
  const values = new Float32Array(size * size * channels);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      const w = (g[i]! / sum) * (g[j]! / sum);
      for (let c = 0; c < channels; c++) values[(i * size + j) * channels + c] = w;
    }
  }
  return tf.tensor4d(values, [size, size, channels, 1]);
}

/**
 * Structural similarity (SSIM) per image, as defined by Wang et al. (2004): on every
 * `windowSize × windowSize` window (Gaussian weights, σ = 1.5, fully inside the image: "valid"
 * filtering) and every channel,
 *
 * `SSIM = ((2 μₐ μ_b + C1)(2 σ_ab + C2)) / ((μₐ² + μ_b² + C1)(σₐ² + σ_b² + C2))`,
 * `C1 = (K1 L)²`, `C2 = (K2 L)²`,
 *
 * with Gaussian-weighted local means, variances and covariance; the result is the mean over
 * windows and channels (MSSIM). Identical images give 1. Images must be at least `windowSize`
 * pixels high and wide. Wang et al.'s MATLAB code also downsamples large images first; this
 * function does not (like `tf.image.ssim` in TensorFlow).
 *
 * @see https://doi.org/10.1109/TIP.2003.819861 (Wang, Bovik, Sheikh, Simoncelli 2004; no arXiv version)
 * @param a Images `[n, h, w, c]`, float32.
 * @param b Images of the same shape.
 * @param options `maxValue` (required), `windowSize` (11), `sigma` (1.5), `k1` (0.01), `k2` (0.03), `reduction`.
 * @returns Mean SSIM per image `[n]` (or a scalar for `reduction: 'mean'`), at most 1.
 * @example
 * ```ts
 * const s = metrics.ssim(reconstructions, images, { maxValue: 1 }); // [n]
 * ```
 * @category Metrics
 */
export function ssim<R extends ImageReduction = 'none'>(a: tf.Tensor4D, b: tf.Tensor4D, options: SsimOptions<R>): ImageMetricResult<R> {
  const fn = 'metrics.ssim';
  checkImages(fn, a, b);
  const maxValue = checkMaxValue(fn, options, ['maxValue', 'windowSize', 'sigma', 'reduction']);
  const { windowSize = 11, sigma = 1.5, k1 = 0.01, k2 = 0.03 } = options;
  const reduction = options.reduction ?? 'none';
  assertPositiveInt(windowSize, 'options.windowSize', fn);
  assertNumber(sigma, 'options.sigma', fn, { min: 0, minExclusive: true });
  assertNumber(k1, 'options.k1', fn, { min: 0, minExclusive: true });
  assertNumber(k2, 'options.k2', fn, { min: 0, minExclusive: true });
  assertOneOf(reduction, ['none', 'mean'] as const, 'options.reduction', fn);
  const [, h, w, channels] = a.shape;
  if (h < windowSize || w < windowSize) {
    throw new ShapeError({
      fn,
      arg: 'a',
      expected: `have height and width of at least windowSize (${windowSize})`,
      received: `shape ${formatShape(a.shape)}`,
      hint: 'Pass a smaller options.windowSize for small images',
    });
  }
  const c1 = (k1 * maxValue) ** 2;
  const c2 = (k2 * maxValue) ** 2;
  return tf.tidy(() => {
    const window = gaussianWindow(windowSize, sigma, channels);
    const filter = (x: tf.Tensor) => tf.depthwiseConv2d(x as tf.Tensor4D, window, 1, 'valid');
    const muA = filter(a);
    const muB = filter(b);
    const muA2 = tf.square(muA);
    const muB2 = tf.square(muB);
    const muAB = tf.mul(muA, muB);
    // Variances and covariance do not change when each image is shifted by a constant, so they
    // are computed on images centred by their own mean: E[x²] − E[x]² then cancels far less in
    // float32 (a constant image gets exactly 0).
    const centredA = tf.sub(a, tf.mean(a, [1, 2], true));
    const centredB = tf.sub(b, tf.mean(b, [1, 2], true));
    const muCa = filter(centredA);
    const muCb = filter(centredB);
    const varA = tf.sub(filter(tf.square(centredA)), tf.square(muCa));
    const varB = tf.sub(filter(tf.square(centredB)), tf.square(muCb));
    const covAB = tf.sub(filter(tf.mul(centredA, centredB)), tf.mul(muCa, muCb));
    const numerator = tf.mul(tf.add(tf.mul(muAB, 2), c1), tf.add(tf.mul(covAB, 2), c2));
    const denominator = tf.mul(tf.add(tf.add(muA2, muB2), c1), tf.add(tf.add(varA, varB), c2));
    const perImage = tf.mean(tf.div(numerator, denominator), [1, 2, 3]);
    return (reduction === 'mean' ? tf.mean(perImage) : perImage) as ImageMetricResult<R>;
  });
}
