/**
 * Correctness of every GAN loss against the float64 references in `reference.ts` (the papers'
 * formulas; PyTorch's BCE-with-logits definition for the sigmoid losses), on cpu and wasm,
 * including logits of magnitude 50+ where a naive log(sigmoid(x)) is -Infinity.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { losses } from '../../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../../helpers/backends.js';
import { expectClose, values } from '../../helpers/memory.js';
import { numericGradient, reduceTerms, REFERENCES } from './reference.js';

type AnyLoss = losses.AnyGanLoss;
const LOSSES: Record<string, AnyLoss> = {
  minimax: losses.gan.minimax,
  nonSaturating: losses.gan.nonSaturating,
  leastSquares: losses.gan.leastSquares,
  wasserstein: losses.gan.wasserstein,
  hinge: losses.gan.hinge,
  relativisticAverage: losses.gan.relativisticAverage,
};
const SIGMOID_LOSSES = ['minimax', 'nonSaturating', 'relativisticAverage'];

// Moderate and extreme logits (|x| ≥ 50: naive log(sigmoid(x)) underflows to -Infinity in float32).
const REAL = [-80, -55, -3.25, -0.75, 0.125, 0.5, 2.5, 60, 95];
const FAKE = [90, 52, -2.5, 1.75, 0.25, -0.5, -4, -61, -100];
const FAKE_SHORT = [3.5, -0.25, 70, -65, 1.5]; // a different batch size

function generatorCall(loss: AnyLoss, r: tf.Tensor, f: tf.Tensor, options?: losses.GanLossOptions): tf.Tensor {
  return loss.relativistic ? loss.generator(r, f, options) : loss.generator(f, options);
}

describe.each(TEST_BACKENDS)('GAN losses on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  describe.each(Object.keys(LOSSES))('%s', (name) => {
    const loss = LOSSES[name]!;
    const ref = REFERENCES[name]!;
    const fakeValues = loss.relativistic ? FAKE : FAKE_SHORT; // unequal batches where allowed

    it.each(['mean', 'sum'] as const)('discriminator with reduction %s matches the float64 reference to 1e-5', (reduction) => {
      const value = tf.tidy(() => values(loss.discriminator(tf.tensor1d(REAL), tf.tensor1d(fakeValues), { reduction })));
      expectClose(value, reduceTerms(ref.discriminator(REAL, fakeValues), reduction), 1e-5, 0);
    });

    it.each(['mean', 'sum'] as const)('generator with reduction %s matches the float64 reference to 1e-5', (reduction) => {
      const value = tf.tidy(() => values(generatorCall(loss, tf.tensor1d(REAL), tf.tensor1d(FAKE), { reduction })));
      expectClose(value, reduceTerms(ref.generator(REAL, FAKE), reduction), 1e-5, 0);
    });

    it("reduction 'none' gives each element's value, exact even for tiny terms at extreme logits", () => {
      const d = tf.tidy(() => values(loss.discriminator(tf.tensor1d(REAL), tf.tensor1d(FAKE), { reduction: 'none' })));
      const g = tf.tidy(() => values(generatorCall(loss, tf.tensor1d(REAL), tf.tensor1d(FAKE), { reduction: 'none' })));
      // atol 1e-30 only lets exact zeros (hinge, relu) pass; every other element must be within 1e-5 relative.
      expectClose(d, reduceTerms(ref.discriminator(REAL, FAKE), 'none'), 1e-5, 1e-30);
      expectClose(g, reduceTerms(ref.generator(REAL, FAKE), 'none'), 1e-5, 1e-30);
    });

    it('gradients are finite and match the float64 reference derivative', () => {
      const [dReal, dFake] = tf.tidy(() =>
        tf
          .grads((r: tf.Tensor, f: tf.Tensor) => loss.discriminator(r, f))([tf.tensor1d(REAL), tf.tensor1d(fakeValues)])
          .map(values),
      );
      const refD = (r: number[], f: number[]) => reduceTerms(ref.discriminator(r, f), 'mean')[0]!;
      for (const g of [dReal!, dFake!]) expect(g.every(Number.isFinite)).toBe(true);
      // FD of the float64 reference: absolute noise ~1e-9, so atol 1e-7.
      expectClose(
        dReal!,
        numericGradient((r) => refD(r, fakeValues), REAL),
        1e-5,
        1e-7,
      );
      expectClose(
        dFake!,
        numericGradient((f) => refD(REAL, f), fakeValues),
        1e-5,
        1e-7,
      );

      const [gReal, gFake] = tf.tidy(() =>
        tf
          .grads((r: tf.Tensor, f: tf.Tensor) => tf.add(generatorCall(loss, r, f), tf.mul(0, tf.sum(r))))([
            tf.tensor1d(REAL),
            tf.tensor1d(FAKE),
          ])
          .map(values),
      );
      const refG = (r: number[], f: number[]) => reduceTerms(ref.generator(r, f), 'mean')[0]!;
      expect([...gReal!, ...gFake!].every(Number.isFinite)).toBe(true);
      expectClose(
        gReal!,
        numericGradient((r) => refG(r, FAKE), REAL),
        1e-5,
        1e-7,
      );
      expectClose(
        gFake!,
        numericGradient((f) => refG(REAL, f), FAKE),
        1e-5,
        1e-7,
      );
    });

    if (SIGMOID_LOSSES.includes(name)) {
      it('one-sided label smoothing uses the target 1 - s for real logits only', () => {
        const value = tf.tidy(() =>
          values(loss.discriminator(tf.tensor1d(REAL), tf.tensor1d(fakeValues), { labelSmoothing: 0.1 } as never)),
        );
        expectClose(value, reduceTerms(ref.discriminator(REAL, fakeValues, 0.1), 'mean'), 1e-5, 0);
        const plain = tf.tidy(() => values(loss.discriminator(tf.tensor1d(REAL), tf.tensor1d(fakeValues))));
        expect(Math.abs(value[0]! - plain[0]!)).toBeGreaterThan(1e-3); // smoothing changes the value
      });
    }
  });

  describe('sigmoid losses at extreme logits', () => {
    // d/dx softplus(-x) = -σ(-x); d/dx softplus(x) = σ(x): exact float64 values, compared relatively.
    const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
    const f = [-100, -80, -50, 50, 80, 100];

    it('nonSaturating.generator gradient is -σ(-f)/n even where it is 1e-44 or 1', () => {
      const g = tf.tidy(() => values(tf.grad((x: tf.Tensor) => losses.gan.nonSaturating.generator(x))(tf.tensor1d(f))));
      // σ(-100)/6 ≈ 6e-45 is a float32 subnormal: compared with atol at that scale.
      expectClose(
        g,
        f.map((x) => -sigmoid(-x) / f.length),
        1e-5,
        1e-44,
      );
    });

    it('minimax.generator is finite where log(1 - sigmoid(f)) is -Infinity in float32', () => {
      const naive = tf.tidy(() => values(tf.mean(tf.log(tf.sub(1, tf.sigmoid(tf.tensor1d(f)))))));
      expect(naive[0]).toBe(-Infinity); // the naive formula really fails here
      const value = tf.tidy(() => values(losses.gan.minimax.generator(tf.tensor1d(f))));
      expectClose(value, [-f.reduce((s, x) => s + Math.log1p(Math.exp(-Math.abs(x))) + Math.max(x, 0), 0) / f.length], 1e-5, 0);
      const g = tf.tidy(() => values(tf.grad((x: tf.Tensor) => losses.gan.minimax.generator(x))(tf.tensor1d(f))));
      expectClose(
        g,
        f.map((x) => -sigmoid(x) / f.length),
        1e-5,
        1e-44,
      );
    });
  });
});
