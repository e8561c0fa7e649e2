/**
 * Exponential moving average of a network's weights.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { share } from './state.js';

/**
 * Polyak averages `ema ← decay·ema + (1 − decay)·w` of a list of variables, held as
 * non-trainable variables (Yazıcı et al. 2019 for GAN generators).
 *
 * @internal
 */
export class WeightAverage {
  readonly variables: tf.Variable[];
  private readonly rate: tf.Scalar;

  constructor(
    private readonly source: tf.Variable[],
    readonly decay: number,
  ) {
    this.variables = source.map((v) => tf.variable(v, false));
    this.rate = tf.keep(tf.scalar(1 - decay));
  }

  /** One averaging step (run inside a tidy). */
  update(): void {
    this.source.forEach((w, i) => {
      const avg = this.variables[i]!;
      // ema + (1 - decay)(w - ema) = decay·ema + (1 - decay)·w, with one fewer multiply.
      avg.assign(tf.add(avg, tf.mul(this.rate, tf.sub(w, avg))));
    });
  }

  /** Runs `f` with the averaged values in place of the source variables, then puts the originals back. */
  swapIn<T>(f: () => T): T {
    const originals = this.source.map(share);
    try {
      this.source.forEach((v, i) => v.assign(this.variables[i]!));
      return f();
    } finally {
      this.source.forEach((v, i) => v.assign(originals[i]!));
      tf.dispose(originals);
    }
  }

  /** Puts the averaged values in place and returns a function that puts the originals back. */
  swapInAsync(): () => void {
    const originals = this.source.map(share);
    this.source.forEach((v, i) => v.assign(this.variables[i]!));
    return () => {
      this.source.forEach((v, i) => v.assign(originals[i]!));
      tf.dispose(originals);
    };
  }

  dispose(): void {
    tf.dispose(this.variables);
    this.rate.dispose();
  }
}
