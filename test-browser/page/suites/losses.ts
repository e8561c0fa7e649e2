/**
 * Every loss against the float64 references the Node tests use: the GAN losses against
 * `test/losses/gan/reference.ts` (the papers' formulas; PyTorch's BCE-with-logits definition),
 * with the same inputs and tolerances as `test/losses/gan/losses.test.ts`, and the VAE losses
 * against the formulas of `test/losses/vae/vae-losses.test.ts`.
 */
import * as tf from '@tensorflow/tfjs-core';

import { losses } from '../../../src/index.js';
import { numericGradient, reduceTerms, REFERENCES } from '../../../test/losses/gan/reference.js';
import { assert, assertClose, check, maxRelativeError, read } from '../harness.js';

type AnyLoss = losses.AnyGanLoss;
export const LOSSES: Record<string, AnyLoss> = {
  minimax: losses.gan.minimax,
  nonSaturating: losses.gan.nonSaturating,
  leastSquares: losses.gan.leastSquares,
  wasserstein: losses.gan.wasserstein,
  hinge: losses.gan.hinge,
  relativisticAverage: losses.gan.relativisticAverage,
};
const SIGMOID_LOSSES = ['minimax', 'nonSaturating', 'relativisticAverage'];

// The inputs of test/losses/gan/losses.test.ts: moderate and extreme logits (|x| ≥ 50).
const REAL = [-80, -55, -3.25, -0.75, 0.125, 0.5, 2.5, 60, 95];
const FAKE = [90, 52, -2.5, 1.75, 0.25, -0.5, -4, -61, -100];
const FAKE_SHORT = [3.5, -0.25, 70, -65, 1.5];

export function generatorCall(loss: AnyLoss, r: tf.Tensor, f: tf.Tensor, options?: losses.GanLossOptions): tf.Tensor {
  return loss.relativistic ? loss.generator(r, f, options) : loss.generator(f, options);
}

/** Tolerances: the Node tests' rtol 1e-5 unless the configuration says otherwise. */
export interface LossTolerance {
  rtol: number;
  /** Absolute tolerance of gradient comparisons (Node: 1e-7). */
  gradAtol: number;
  /** Absolute tolerance of `reduction: 'none'` elements (Node: 1e-30, i.e. exact tiny terms). */
  noneAtol: number;
}

export async function ganLossChecks(tol: LossTolerance): Promise<void> {
  const { rtol, gradAtol, noneAtol } = tol;
  for (const [name, loss] of Object.entries(LOSSES)) {
    const ref = REFERENCES[name]!;
    const fakeValues = loss.relativistic ? FAKE : FAKE_SHORT;
    for (const reduction of ['mean', 'sum'] as const) {
      await check(`losses.gan.${name}.discriminator (${reduction}) matches the float64 reference`, async () => {
        const value = await read(tf.tidy(() => loss.discriminator(tf.tensor1d(REAL), tf.tensor1d(fakeValues), { reduction })));
        const expected = reduceTerms(ref.discriminator(REAL, fakeValues), reduction);
        assertClose(value, expected, rtol, 0, 'value');
        return { relativeError: maxRelativeError(value, expected) };
      });
      await check(`losses.gan.${name}.generator (${reduction}) matches the float64 reference`, async () => {
        const value = await read(tf.tidy(() => generatorCall(loss, tf.tensor1d(REAL), tf.tensor1d(FAKE), { reduction })));
        const expected = reduceTerms(ref.generator(REAL, FAKE), reduction);
        assertClose(value, expected, rtol, 0, 'value');
        return { relativeError: maxRelativeError(value, expected) };
      });
    }
    await check(`losses.gan.${name} reduction 'none' matches element-wise`, async () => {
      const d = await read(tf.tidy(() => loss.discriminator(tf.tensor1d(REAL), tf.tensor1d(FAKE), { reduction: 'none' })));
      const g = await read(tf.tidy(() => generatorCall(loss, tf.tensor1d(REAL), tf.tensor1d(FAKE), { reduction: 'none' })));
      assertClose(d, reduceTerms(ref.discriminator(REAL, FAKE), 'none'), rtol, noneAtol, 'discriminator');
      assertClose(g, reduceTerms(ref.generator(REAL, FAKE), 'none'), rtol, noneAtol, 'generator');
    });
    await check(`losses.gan.${name} gradients match the float64 reference derivative`, async () => {
      const [dReal, dFake] = await Promise.all(
        tf
          .tidy(() => tf.grads((r: tf.Tensor, f: tf.Tensor) => loss.discriminator(r, f))([tf.tensor1d(REAL), tf.tensor1d(fakeValues)]))
          .map(read),
      );
      const refD = (r: number[], f: number[]) => reduceTerms(ref.discriminator(r, f), 'mean')[0]!;
      assert([...dReal!, ...dFake!].every(Number.isFinite), 'discriminator gradients are finite');
      assertClose(
        dReal!,
        numericGradient((r) => refD(r, fakeValues), REAL),
        rtol,
        gradAtol,
        'd/dReal',
      );
      assertClose(
        dFake!,
        numericGradient((f) => refD(REAL, f), fakeValues),
        rtol,
        gradAtol,
        'd/dFake',
      );
      const [gReal, gFake] = await Promise.all(
        tf
          .tidy(() =>
            tf.grads((r: tf.Tensor, f: tf.Tensor) => tf.add(generatorCall(loss, r, f), tf.mul(0, tf.sum(r))))([
              tf.tensor1d(REAL),
              tf.tensor1d(FAKE),
            ]),
          )
          .map(read),
      );
      const refG = (r: number[], f: number[]) => reduceTerms(ref.generator(r, f), 'mean')[0]!;
      assert([...gReal!, ...gFake!].every(Number.isFinite), 'generator gradients are finite');
      assertClose(
        gReal!,
        numericGradient((r) => refG(r, FAKE), REAL),
        rtol,
        gradAtol,
        'generator d/dReal',
      );
      assertClose(
        gFake!,
        numericGradient((f) => refG(REAL, f), FAKE),
        rtol,
        gradAtol,
        'generator d/dFake',
      );
    });
    if (SIGMOID_LOSSES.includes(name)) {
      await check(`losses.gan.${name} one-sided label smoothing`, async () => {
        const value = await read(
          tf.tidy(() => loss.discriminator(tf.tensor1d(REAL), tf.tensor1d(fakeValues), { labelSmoothing: 0.1 } as never)),
        );
        assertClose(value, reduceTerms(ref.discriminator(REAL, fakeValues, 0.1), 'mean'), rtol, 0, 'smoothed');
      });
    }
  }
}

/** The penalties with the hand-computed values of test/losses/gan/penalties.test.ts. */
export async function penaltyChecks(tol: LossTolerance): Promise<void> {
  const { rtol } = tol;
  // Linear critic D(x) = x·w + b: ∇ₓD = w for every example, ‖w‖ = ‖[3, 4]‖ = 5.
  const w = tf.variable(tf.tensor1d([3, 4]));
  const b = tf.variable(tf.scalar(0.5));
  const linear = (x: tf.Tensor) => tf.add(tf.matMul(x as tf.Tensor2D, tf.reshape(w, [2, 1])), b);
  // Quadratic critic D(x) = 0.5 Σ x² per example: ∇ₓD = x.
  const quadratic = (x: tf.Tensor) =>
    tf.mul(
      0.5,
      tf.sum(
        tf.square(x),
        Array.from({ length: x.rank - 1 }, (_, i) => i + 1),
      ),
    );
  await check('losses.gan.gradientPenalty of a linear critic is weight · (‖w‖ - target)²', async () => {
    const real = tf.tensor2d([
      [1, 2],
      [0, -1],
      [5, 5],
    ]);
    const fake = tf.tensor2d([
      [0, 0],
      [2, 2],
      [-1, 3],
    ]);
    assertClose(await read(losses.gan.gradientPenalty(linear, real, fake)), [10 * (5 - 1) ** 2], rtol, 0, 'default (160)');
    assertClose(
      await read(losses.gan.gradientPenalty(linear, real, fake, { weight: 1, target: 2 })),
      [(5 - 2) ** 2],
      rtol,
      0,
      'weight 1, target 2 (9)',
    );
    tf.dispose([real, fake]);
  });
  await check('losses.gan.gradientPenalty interpolates x̂ = α·real + (1 - α)·fake (rank 4, quadratic critic)', async () => {
    const realValues = [1, -2, 0.5, 3, 0, 1, -1, 2];
    const fakeValues = [0, 1, 2, -1, 4, 0, 0.5, -3];
    const alphaValues = [0.25, 0.8];
    const norms = [0, 1].map((i) =>
      Math.sqrt(
        [0, 1, 2, 3].reduce(
          (sum, j) => sum + (alphaValues[i]! * realValues[i * 4 + j]! + (1 - alphaValues[i]!) * fakeValues[i * 4 + j]!) ** 2,
          0,
        ),
      ),
    );
    const expected = (10 * ((norms[0]! - 1) ** 2 + (norms[1]! - 1) ** 2)) / 2;
    const value = await read(
      tf.tidy(() =>
        losses.gan.gradientPenalty(quadratic, tf.tensor(realValues, [2, 2, 2, 1]), tf.tensor(fakeValues, [2, 2, 2, 1]), {
          alpha: tf.tensor1d(alphaValues),
        }),
      ),
    );
    assertClose(value, [expected], rtol, 0, 'penalty');
  });
  await check('losses.gan.r1Penalty of a linear critic is (γ/2) · ‖w‖²', async () => {
    const real = tf.tensor2d([
      [1, 2],
      [0, -1],
    ]);
    assertClose(await read(losses.gan.r1Penalty(linear, real)), [(10 / 2) * 25], rtol, 0, 'default (125)');
    assertClose(await read(losses.gan.r1Penalty(linear, real, { weight: 0.2 })), [0.1 * 25], rtol, 0, 'weight 0.2');
    real.dispose();
  });
  tf.dispose([w, b]);
}

// test/losses/vae/vae-losses.test.ts inputs and float64 formulas.
const MEAN = [0.5, -1.2, 0, 2.25, -0.3, 0.7, 1.1, -2, 0.05, 0.4, -0.9, 3];
const LOGVAR = [-0.5, 0.3, 0, -2, 1.2, -0.1, 0.4, -1, 0.8, -3, 0.15, 0.6];
const LOGITS = [-60, 2.5, 0.3, 75, -1.25, 52, -0.4, 4, 0, -55, 1.5, -3.5];
const TARGET = [0, 1, 0.25, 1, 0.5, 0, 1, 0.75, 0.3, 1, 0, 0.9];
const DECODED = [0.1, 0.8, 0.45, 0.9, 0.2, 0.05, 0.7, 0.6, 0.33, 0.9, 0.1, 0.8];
const rows = (a: number[], width: number) => Array.from({ length: a.length / width }, (_, i) => a.slice(i * width, (i + 1) * width));
const sum = (a: number[]) => a.reduce((s, v) => s + v, 0);
/** Kingma & Welling 2014, appendix B: KL = 0.5 Σ (exp(lv) + m² - 1 - lv). */
const klPerExample = rows(
  MEAN.map((m, i) => 0.5 * (Math.exp(LOGVAR[i]!) + m * m - 1 - LOGVAR[i]!)),
  4,
).map(sum);
/** PyTorch F.binary_cross_entropy_with_logits. */
const bce = (x: number, t: number) => Math.max(x, 0) - x * t + Math.log1p(Math.exp(-Math.abs(x)));
const bcePerExample = rows(
  LOGITS.map((x, i) => bce(x, TARGET[i]!)),
  4,
).map(sum);
/** PyTorch GaussianNLLLoss per element with var = exp(lv), including 0.5 log 2π. */
const gaussianNll = (mu: number, t: number, lv: number) => 0.5 * (lv + (t - mu) ** 2 / Math.exp(lv)) + 0.5 * Math.log(2 * Math.PI);

export async function vaeLossChecks(tol: LossTolerance): Promise<void> {
  const { rtol } = tol;
  await check('losses.vae.gaussianKl matches 0.5 Σ (exp(lv) + m² - 1 - lv) per example', async () => {
    const v = await read(
      tf.tidy(() => losses.vae.gaussianKl(tf.tensor2d(MEAN, [3, 4]), tf.tensor2d(LOGVAR, [3, 4]), { reduction: 'none' })),
    );
    assertClose(v, klPerExample, rtol, 0, 'kl');
  });
  await check('losses.vae.bernoulliReconstruction is the summed BCE with logits, exact at |logits| ≥ 50', async () => {
    const v = await read(
      tf.tidy(() =>
        losses.vae.bernoulliReconstruction(tf.tensor3d(LOGITS, [3, 2, 2]), tf.tensor3d(TARGET, [3, 2, 2]), { reduction: 'none' }),
      ),
    );
    assertClose(v, bcePerExample, rtol, 0, 'bce');
  });
  await check('losses.vae.gaussianReconstruction matches GaussianNLLLoss (fixed logVar, with constant)', async () => {
    const fixed = rows(
      DECODED.map((m, i) => gaussianNll(m, TARGET[i]!, -1.5)),
      4,
    ).map(sum);
    const v = await read(
      tf.tidy(() =>
        losses.vae.gaussianReconstruction(tf.tensor2d(DECODED, [3, 4]), tf.tensor2d(TARGET, [3, 4]), {
          logVar: -1.5,
          includeConstant: true,
          reduction: 'none',
        }),
      ),
    );
    assertClose(v, fixed, rtol, 0, 'nll');
  });
  await check('losses.vae.elbo (bernoulli) = reconstruction + KL', async () => {
    const terms = tf.tidy(() => {
      const t = losses.vae.elbo({ likelihood: 'bernoulli' })(
        tf.tensor2d(LOGITS, [3, 4]),
        tf.tensor2d(TARGET, [3, 4]),
        tf.tensor2d(MEAN, [3, 4]),
        tf.tensor2d(LOGVAR, [3, 4]),
      );
      return tf.stack([t.reconstruction, t.kl]);
    });
    const [rec, kl] = await read(terms);
    assertClose([rec!, kl!], [sum(bcePerExample) / 3, sum(klPerExample) / 3], rtol, 0, 'elbo terms');
  });
}

/** Large logits: beyond exp overflow in float32 (88.7) and up to 1e4. */
export const LARGE = [-1e4, -1000, -100, -88.8, -50, 50, 88.8, 100, 1000, 1e4];
const reversed = (a: number[]) => a.map((x) => -x);

/** max |a - e| / max(|e|, 1): relative for large values, absolute for small ones. */
function mixedError(actual: number[], expected: number[]): number {
  return Math.max(...actual.map((a, i) => (Number.isNaN(a) ? Infinity : Math.abs(a - expected[i]!) / Math.max(Math.abs(expected[i]!), 1))));
}

/**
 * Every loss and its gradients stay finite at large logits, for the logits with
 * |x| ≤ `finiteUpTo`, and (when `rtol` is given) match the float64 reference. The report lists,
 * for every logit magnitude, whether values were finite and the error, so that what happens
 * beyond `finiteUpTo` (float16 textures overflow past 65504) is documented rather than asserted.
 */
export async function largeLogitChecks(label: string, rtol: number | null, finiteUpTo: number): Promise<void> {
  for (const [name, loss] of Object.entries(LOSSES)) {
    const ref = REFERENCES[name]!;
    await check(
      `${label}: losses.gan.${name} values and gradients are finite at |logits| ≤ ${finiteUpTo === Infinity ? '1e4' : finiteUpTo}`,
      async () => {
        const report: Record<string, string> = {};
        for (const magnitude of [50, 88.8, 100, 1000, 1e4]) {
          const r = LARGE.filter((x) => Math.abs(x) === magnitude);
          const f = reversed(r);
          const d = await read(tf.tidy(() => loss.discriminator(tf.tensor1d(r), tf.tensor1d(f), { reduction: 'none' })));
          const g = await read(tf.tidy(() => generatorCall(loss, tf.tensor1d(r), tf.tensor1d(f), { reduction: 'none' })));
          const grads = (
            await Promise.all(
              tf
                .tidy(() =>
                  tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.add(loss.discriminator(a, b), generatorCall(loss, a, b)))([
                    tf.tensor1d(r),
                    tf.tensor1d(f),
                  ]),
                )
                .map(read),
            )
          ).flat();
          const finite = [...d, ...g, ...grads].every(Number.isFinite);
          const expectedD = reduceTerms(ref.discriminator(r, f), 'none');
          const expectedG = reduceTerms(ref.generator(r, f), 'none');
          const error = Math.max(mixedError(d, expectedD), mixedError(g, expectedG));
          report[`|x|=${magnitude}`] = finite
            ? `finite, error ${error.toExponential(1)}`
            : `NON-FINITE (d ${d.join(',')}; g ${g.join(',')}; grads ${grads.join(',')})`;
          if (magnitude <= finiteUpTo) {
            assert(finite, `|logits| = ${magnitude}: non-finite values (d ${d.join(',')}; g ${g.join(',')}; grads ${grads.join(',')})`);
            if (rtol !== null) {
              assertClose(d, expectedD, rtol, 1e-30, `|logits| = ${magnitude}: discriminator`);
              assertClose(g, expectedG, rtol, 1e-30, `|logits| = ${magnitude}: generator`);
            }
          }
        }
        return report;
      },
    );
  }
}
