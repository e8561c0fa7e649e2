/**
 * Static types of the losses: scalar results by default, per-element tensors for
 * `reduction: 'none'`, and the `relativistic` discriminant a trainer switches on.
 * (Checked by `tsc` through vitest's expectTypeOf; the runtime assertions back them up.)
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, expectTypeOf, it } from 'vitest';

import { losses } from '../../src/index.js';
import { useTestBackend } from '../helpers/backends.js';

beforeAll(async () => {
  await useTestBackend('cpu');
});

describe('loss types', () => {
  it('return tf.Scalar by default and tf.Tensor for reduction none', () => {
    tf.tidy(() => {
      const r = tf.zeros([4, 1]);
      const f = tf.zeros([4, 1]);
      const d = losses.gan.hinge.discriminator(r, f);
      expectTypeOf(d).toEqualTypeOf<tf.Scalar>();
      const none = losses.gan.nonSaturating.generator(f, { reduction: 'none' });
      expectTypeOf(none).toEqualTypeOf<tf.Tensor>();
      expectTypeOf(losses.gan.relativisticAverage.generator(r, f)).toEqualTypeOf<tf.Scalar>();
      expectTypeOf(losses.vae.gaussianKl(r, f)).toEqualTypeOf<tf.Scalar>();
      expect(d.rank).toBe(0);
      expect(none.shape).toEqual([4, 1]);
    });
  });

  it('lets a trainer tell the two kinds of GAN loss apart by `relativistic`', () => {
    const generatorLoss = (loss: losses.AnyGanLoss, r: tf.Tensor, f: tf.Tensor): tf.Scalar =>
      loss.relativistic ? loss.generator(r, f) : loss.generator(f);
    const all: losses.AnyGanLoss[] = [
      losses.gan.minimax,
      losses.gan.nonSaturating,
      losses.gan.leastSquares,
      losses.gan.wasserstein,
      losses.gan.hinge,
      losses.gan.relativisticAverage,
    ];
    tf.tidy(() => {
      for (const loss of all) expect(generatorLoss(loss, tf.ones([2]), tf.ones([2])).rank).toBe(0);
    });
  });
});
