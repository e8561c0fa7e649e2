/**
 * The `train.sampleGrid()` callback.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { imageGrid } from '../../data/image-grid.js';
import { ConfigError } from '../../errors.js';
import { assertKnownKeys, assertNonNegativeInt, assertOneOf, assertPositiveInt, assertTensor, describe } from '../../validation.js';
import type { Callback, TrainingContext } from './callback.js';

/** When and what a grid was drawn for. @category Training */
export interface SampleGridInfo {
  /** Completed steps. */
  step: number;
  /** Completed epochs. */
  epoch: number;
  /** True for the grid drawn when training ends. */
  final: boolean;
}

/** Options of {@link sampleGrid}. @category Training */
export interface SampleGridOptions {
  /** Draw after every `every` steps. Default: off (only `everyEpoch` / the final grid). */
  every?: number;
  /** Draw after every epoch. Default false. */
  everyEpoch?: boolean;
  /** Draw once more when training ends. Default true. */
  atEnd?: boolean;
  /** Number of samples. Default 64. */
  count?: number;
  /** Images per row of the grid. Default `ceil(sqrt(count))`. */
  columns?: number;
  /** Seed passed to `trainer.sample` every time. Default 0. */
  seed?: number;
  /** Labels for a conditional generator, `[count]` (kept by the caller). */
  labels?: tf.Tensor;
  /** Value range of the samples. Default: the trainer's `sampleRange` (`'[-1,1]'` for GANs, `'[0,1]'` for VAEs), else `'[0,1]'`. */
  range?: '[-1,1]' | '[0,1]';
  /**
   * Receives each grid: `[H, W, c]` in [0, 1] for image samples (rank 4), the samples
   * themselves otherwise. The tensor is disposed when the returned promise settles. In Node,
   * write it with `writePng(grid, path)` from `genblocks/node`; in a browser,
   * `tf.browser.toPixels(grid, canvas)`.
   */
  write: (grid: tf.Tensor, info: SampleGridInfo) => void | Promise<void>;
}

/**
 * Asks the trainer for samples (`await trainer.sample(count, { seed, labels })`) at regular
 * intervals and hands them to `write`, as an image grid for image samples. The seed is the
 * same every time, so a latent-variable trainer draws the same noise and successive grids show
 * how the same points evolve.
 *
 * @param options - `write` (required), `every`, `everyEpoch`, `atEnd`, `count` (64), `columns`, `seed` (0), `labels`, `range`.
 * @returns the callback.
 * @example
 * ```ts
 * import { writePng } from 'genblocks/node';
 * const grids = train.sampleGrid({ every: 500, count: 64, write: (grid, { step }) => writePng(grid, `out/step-${step}.png`) });
 * ```
 * @category Training
 */
export function sampleGrid(options: SampleGridOptions): Callback {
  const fn = 'train.sampleGrid';
  assertKnownKeys(options, ['every', 'everyEpoch', 'atEnd', 'count', 'columns', 'seed', 'labels', 'range', 'write'], 'options', fn);
  if (options === undefined || typeof options.write !== 'function') {
    throw new ConfigError({
      fn,
      arg: 'options.write',
      expected: 'be a function (grid, info) => void | Promise<void>',
      received: describe(options?.write),
      hint: "In Node: write: (grid, { step }) => writePng(grid, `out/${step}.png`) with writePng from 'genblocks/node'",
    });
  }
  const { every, everyEpoch = false, atEnd = true, count = 64, columns, seed = 0, labels, range, write } = options;
  if (every !== undefined) assertPositiveInt(every, 'options.every', fn);
  assertPositiveInt(count, 'options.count', fn);
  if (columns !== undefined) assertPositiveInt(columns, 'options.columns', fn);
  assertNonNegativeInt(seed, 'options.seed', fn);
  if (labels !== undefined) assertTensor(labels, 'options.labels', fn);
  if (range !== undefined) assertOneOf(range, ['[-1,1]', '[0,1]'] as const, 'options.range', fn);
  const draw = async (context: TrainingContext, final: boolean): Promise<void> => {
    const { trainer } = context;
    // Same seed every time: the trainer draws the same noise, so grids show the same points evolve.
    const samples = await trainer.sample(count, labels === undefined ? { seed } : { seed, labels });
    let grid = samples;
    if (samples.rank === 4) {
      grid = tf.tidy(() => imageGrid(samples as tf.Tensor4D, { columns, range: range ?? trainer.sampleRange ?? '[0,1]' }));
      samples.dispose();
    }
    try {
      await write(grid, { step: trainer.step, epoch: trainer.epoch, final });
    } finally {
      grid.dispose();
    }
  };
  return {
    async onStepEnd(step, _logs, context) {
      if (every !== undefined && step % every === 0) await draw(context, false);
    },
    async onEpochEnd(_epoch, _logs, context) {
      if (everyEpoch) await draw(context, false);
    },
    async onTrainEnd(_logs, context) {
      if (atEnd) await draw(context, true);
    },
  };
}
