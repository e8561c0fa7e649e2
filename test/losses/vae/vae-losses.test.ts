/**
 * `losses.vae`: gaussianKl, bernoulliReconstruction, gaussianReconstruction and elbo against
 * float64 references written from the formulas (Kingma & Welling 2014, appendix B; PyTorch's
 * `F.binary_cross_entropy_with_logits` and `GaussianNLLLoss` definitions), on cpu and wasm.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { DTypeError, losses, ShapeError } from '../../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../../helpers/backends.js';
import { expectClose, expectNoLeak, values } from '../../helpers/memory.js';

const { gaussianKl, bernoulliReconstruction, gaussianReconstruction, elbo } = losses.vae;

// Batch of 3, 4 latent units.
const MEAN = [0.5, -1.2, 0, 2.25, -0.3, 0.7, 1.1, -2, 0.05, 0.4, -0.9, 3];
const LOGVAR = [-0.5, 0.3, 0, -2, 1.2, -0.1, 0.4, -1, 0.8, -3, 0.15, 0.6];
// Batch of 3, 2x2 "images"; logits include |x| ≥ 50 (naive log(sigmoid) = -Infinity).
const LOGITS = [-60, 2.5, 0.3, 75, -1.25, 52, -0.4, 4, 0, -55, 1.5, -3.5];
const TARGET = [0, 1, 0.25, 1, 0.5, 0, 1, 0.75, 0.3, 1, 0, 0.9];
const DECODED = [0.1, 0.8, 0.45, 0.9, 0.2, 0.05, 0.7, 0.6, 0.33, 0.9, 0.1, 0.8];

// float64 references
const rows = (a: number[], width: number) => Array.from({ length: a.length / width }, (_, i) => a.slice(i * width, (i + 1) * width));
const sum = (a: number[]) => a.reduce((s, v) => s + v, 0);
const mean = (a: number[]) => sum(a) / a.length;
/** Kingma & Welling 2014, appendix B: -KL = 0.5 Σ (1 + log σ² - μ² - σ²). */
const klPerExample = rows(
  MEAN.map((m, i) => 0.5 * (Math.exp(LOGVAR[i]!) + m * m - 1 - LOGVAR[i]!)),
  4,
).map(sum);
/** PyTorch F.binary_cross_entropy_with_logits: max(x, 0) - x·t + log(1 + exp(-|x|)). */
const bce = (x: number, t: number) => Math.max(x, 0) - x * t + Math.log1p(Math.exp(-Math.abs(x)));
const bcePerExample = rows(
  LOGITS.map((x, i) => bce(x, TARGET[i]!)),
  4,
).map(sum);
/** PyTorch GaussianNLLLoss per element (var = exp(logVar)): 0.5 (log var + (t - μ)²/var) [+ 0.5 log 2π]. */
const gaussianNll = (mu: number, t: number, lv: number, full = false) =>
  0.5 * (lv + (t - mu) ** 2 / Math.exp(lv)) + (full ? 0.5 * Math.log(2 * Math.PI) : 0);
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

describe.each(TEST_BACKENDS)('VAE losses on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  describe('gaussianKl', () => {
    it('is 0.5 Σ (exp(lv) + m² - 1 - lv) per example, averaged or summed over the batch', () => {
      tf.tidy(() => {
        const m = tf.tensor2d(MEAN, [3, 4]);
        const lv = tf.tensor2d(LOGVAR, [3, 4]);
        expectClose(values(gaussianKl(m, lv)), [mean(klPerExample)], 1e-5, 0);
        expectClose(values(gaussianKl(m, lv, { reduction: 'sum' })), [sum(klPerExample)], 1e-5, 0);
        const none = gaussianKl(m, lv, { reduction: 'none' });
        expect(none.shape).toEqual([3]);
        expectClose(values(none), klPerExample, 1e-5, 0);
        // Latent axes beyond the first are summed too: [3, 2, 2] gives the same per-example KL.
        expectClose(values(gaussianKl(tf.reshape(m, [3, 2, 2]), tf.reshape(lv, [3, 2, 2]), { reduction: 'none' })), klPerExample, 1e-5, 0);
        // KL(N(0, 1) ‖ N(0, 1)) = 0
        expect(values(gaussianKl(tf.zeros([2, 3]), tf.zeros([2, 3])))).toEqual([0]);
      });
    });

    it('has gradients m/B and 0.5 (exp(lv) - 1)/B', () => {
      const [gm, glv] = tf.tidy(() =>
        tf
          .grads((m: tf.Tensor, lv: tf.Tensor) => gaussianKl(m, lv))([tf.tensor2d(MEAN, [3, 4]), tf.tensor2d(LOGVAR, [3, 4])])
          .map(values),
      );
      expectClose(
        gm!,
        MEAN.map((m) => m / 3),
        1e-5,
        1e-7,
      );
      expectClose(
        glv!,
        LOGVAR.map((lv) => (0.5 * (Math.exp(lv) - 1)) / 3),
        1e-5,
        1e-7,
      );
    });
  });

  describe('bernoulliReconstruction', () => {
    it('is the summed BCE with logits (PyTorch definition), exact at |logits| ≥ 50', () => {
      tf.tidy(() => {
        const x = tf.tensor3d(LOGITS, [3, 2, 2]);
        const t = tf.tensor3d(TARGET, [3, 2, 2]);
        expectClose(values(bernoulliReconstruction(x, t)), [mean(bcePerExample)], 1e-5, 0);
        expectClose(values(bernoulliReconstruction(x, t, { reduction: 'sum' })), [sum(bcePerExample)], 1e-5, 0);
        expectClose(values(bernoulliReconstruction(x, t, { reduction: 'none' })), bcePerExample, 1e-5, 0);
        // Confident and right: tiny positive loss, not 0 and not NaN (bce(60, 1) = log1p(e^-60) ≈ 8.8e-27).
        expectClose(values(bernoulliReconstruction(tf.tensor2d([[60, -70]]), tf.tensor2d([[1, 0]]))), [bce(60, 1) + bce(-70, 0)], 1e-5, 0);
      });
    });

    it('has the gradient (σ(x) - t)/B, finite at extreme logits', () => {
      const g = tf.tidy(() =>
        values(tf.grad((x: tf.Tensor) => bernoulliReconstruction(x, tf.tensor2d(TARGET, [3, 4])))(tf.tensor2d(LOGITS, [3, 4]))),
      );
      expect(g.every(Number.isFinite)).toBe(true);
      expectClose(
        g,
        LOGITS.map((x, i) => (sigmoid(x) - TARGET[i]!) / 3),
        1e-5,
        1e-9,
      );
    });
  });

  describe('gaussianReconstruction', () => {
    it('with the default logVar 0 is half the summed squared error', () => {
      const expected = rows(
        DECODED.map((m, i) => 0.5 * (TARGET[i]! - m) ** 2),
        4,
      ).map(sum);
      tf.tidy(() => {
        const v = gaussianReconstruction(tf.tensor2d(DECODED, [3, 4]), tf.tensor2d(TARGET, [3, 4]), { reduction: 'none' });
        expectClose(values(v), expected, 1e-5, 0);
      });
    });

    it('matches PyTorch GaussianNLLLoss per element for a fixed and a learned log-variance, with and without the constant', () => {
      tf.tidy(() => {
        const mu = tf.tensor2d(DECODED, [3, 4]);
        const t = tf.tensor2d(TARGET, [3, 4]);
        const fixed = rows(
          DECODED.map((m, i) => gaussianNll(m, TARGET[i]!, -1.5, true)),
          4,
        ).map(sum);
        expectClose(values(gaussianReconstruction(mu, t, { logVar: -1.5, includeConstant: true })), [mean(fixed)], 1e-5, 0);
        const perFeature = [0.2, -0.7, 1.1, -2];
        const learned = rows(
          DECODED.map((m, i) => gaussianNll(m, TARGET[i]!, perFeature[i % 4]!)),
          4,
        ).map(sum);
        const logVar = tf.tensor1d(perFeature);
        expectClose(values(gaussianReconstruction(mu, t, { logVar, reduction: 'sum' })), [sum(learned)], 1e-5, 0);
        // Gradient with respect to a learned log-variance: Σ over the batch of 0.5 (1 - (t - μ)² e^(-lv)) / B.
        const g = values(tf.grad((lv: tf.Tensor) => gaussianReconstruction(mu, t, { logVar: lv }))(logVar));
        const expectedGrad = perFeature.map(
          (lv, j) => sum([0, 1, 2].map((i) => 0.5 * (1 - (TARGET[i * 4 + j]! - DECODED[i * 4 + j]!) ** 2 * Math.exp(-lv)))) / 3,
        );
        expectClose(g, expectedGrad, 1e-5, 1e-7);
      });
    });
  });

  describe('elbo', () => {
    it('returns loss = reconstruction + beta · kl and both parts, as scalars', () => {
      tf.tidy(() => {
        const x = tf.tensor2d(LOGITS, [3, 4]);
        const t = tf.tensor2d(TARGET, [3, 4]);
        const m = tf.tensor2d(MEAN, [3, 4]);
        const lv = tf.tensor2d(LOGVAR, [3, 4]);
        const terms = elbo({ likelihood: 'bernoulli', beta: 4 })(x, t, m, lv);
        for (const v of [terms.loss, terms.reconstruction, terms.kl]) expect(v.rank).toBe(0);
        expectClose(values(terms.reconstruction), [mean(bcePerExample)], 1e-5, 0);
        expectClose(values(terms.kl), [mean(klPerExample)], 1e-5, 0);
        expectClose(values(terms.loss), [mean(bcePerExample) + 4 * mean(klPerExample)], 1e-5, 0);
        // Default: Bernoulli, beta 1.
        expectClose(values(elbo()(x, t, m, lv).loss), [mean(bcePerExample) + mean(klPerExample)], 1e-5, 0);
        const gaussian = elbo({ likelihood: 'gaussian', outputLogVar: 0.5, includeConstant: true, reduction: 'sum' })(
          tf.tensor2d(DECODED, [3, 4]),
          t,
          m,
          lv,
        );
        const nll = sum(DECODED.map((mu, i) => gaussianNll(mu, TARGET[i]!, 0.5, true)));
        expectClose(values(gaussian.loss), [nll + sum(klPerExample)], 1e-5, 0);
      });
    });

    it('leaks no tensor, also with gradients', async () => {
      const x = tf.tensor2d(LOGITS, [3, 4]);
      const t = tf.tensor2d(TARGET, [3, 4]);
      const m = tf.tensor2d(MEAN, [3, 4]);
      const lv = tf.tensor2d(LOGVAR, [3, 4]);
      const loss = elbo({ beta: 0.5 });
      await expectNoLeak(() => loss(x, t, m, lv));
      await expectNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => loss(a, t, b, c).loss)([x, m, lv]));
      const outputLogVar = tf.scalar(0.3);
      await expectNoLeak(() => gaussianReconstruction(m, lv, { logVar: outputLogVar, reduction: 'none' }));
      tf.dispose([x, t, m, lv, outputLogVar]);
    });
  });
});

describe('VAE losses reject invalid input', () => {
  beforeAll(async () => {
    await useTestBackend('cpu');
  });

  it('names the function, the argument, the expectation and what was received', () => {
    tf.tidy(() => {
      const a = tf.zeros([2, 3]);
      expect(() => gaussianKl(a, tf.zeros([2, 4]))).toThrow(ShapeError);
      expect(() => gaussianKl(a, tf.zeros([2, 4]))).toThrow(
        /^losses\.vae\.gaussianKl: argument 'logVar' must have the same shape as 'mean' \[2,3\], received shape \[2,4\]/,
      );
      expect(() => gaussianKl(tf.zeros([3]), tf.zeros([3]))).toThrow(/argument 'mean' must have rank 2 or more, received shape \[3\]/);
      expect(() => bernoulliReconstruction(a, tf.zeros([2, 3], 'int32'))).toThrow(DTypeError);
      expect(() => bernoulliReconstruction(a, tf.zeros([2, 3], 'int32'))).toThrow(
        /^losses\.vae\.bernoulliReconstruction: argument 'target' must be a float32 tensor, received int32/,
      );
      expect(() => gaussianReconstruction(a, a, { logVar: tf.zeros([4]) })).toThrow(
        /argument 'options\.logVar' must broadcast to the shape of 'mean' \[2,3\], received shape \[4\]/,
      );
      expect(() => gaussianReconstruction(a, a, { logVar: 'x' as never })).toThrow(
        /argument 'options\.logVar' must be a number or a float32 tensor, received 'x'/,
      );
      expect(() => gaussianKl(a, a, { reduction: 'avg' as never })).toThrow(/options\.reduction' must be one of 'mean', 'sum', 'none'/);
      expect(() => elbo({ likelihood: 'poisson' as never })).toThrow(
        /^losses\.vae\.elbo: argument 'options\.likelihood' must be one of 'bernoulli', 'gaussian', received 'poisson'/,
      );
      expect(() => elbo({ beta: -1 })).toThrow(/argument 'options\.beta' must be a finite number >= 0/);
      expect(() => elbo({ outputLogVar: 1 })).toThrow(/argument 'options\.outputLogVar' must be left out with likelihood 'bernoulli'/);
      expect(() => elbo()(a, a, tf.zeros([3, 2]), tf.zeros([3, 2]))).toThrow(
        /^losses\.vae\.elbo: argument 'mean' must have the batch size of 'reconstruction' \[2,3\], received shape \[3,2\]/,
      );
    });
  });
});
