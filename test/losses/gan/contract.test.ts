/**
 * The contract every `losses.gan` pair keeps: scalar output, `reduction: 'none'` shape, the
 * same value for `[b]`, `[b, 1]` and patch-shaped logits, finite gradients, no leaked tensor,
 * and clear errors for wrong shapes and dtypes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { DTypeError, losses, ShapeError } from '../../../src/index.js';
import { useTestBackend } from '../../helpers/backends.js';
import { expectClose, expectNoLeak, values } from '../../helpers/memory.js';

const PAIRS: [string, losses.AnyGanLoss][] = [
  ['minimax', losses.gan.minimax],
  ['nonSaturating', losses.gan.nonSaturating],
  ['leastSquares', losses.gan.leastSquares],
  ['wasserstein', losses.gan.wasserstein],
  ['hinge', losses.gan.hinge],
  ['relativisticAverage', losses.gan.relativisticAverage],
];

function generatorCall(loss: losses.AnyGanLoss, r: tf.Tensor, f: tf.Tensor, options?: losses.GanLossOptions): tf.Tensor {
  return loss.relativistic ? loss.generator(r, f, options) : loss.generator(f, options);
}

// 16 logits, read as [16], [16, 1] or patch-shaped [4, 2, 2, 1].
const REAL = [-60, -3, -1.5, -0.5, -0.25, 0, 0.2, 0.4, 0.9, 1.3, 2, 2.5, 3.75, 7, 20, 75];
const FAKE = [55, 4, 2.25, 0.6, 0.3, 0.1, -0.1, -0.35, -0.8, -1.2, -1.9, -2.6, -3.3, -8, -25, -90];
const SHAPES: [string, number[]][] = [
  ['[b]', [16]],
  ['[b,1]', [16, 1]],
  ['[b,h,w,1]', [4, 2, 2, 1]],
];

beforeAll(async () => {
  await useTestBackend('cpu');
});

describe.each(PAIRS)('losses.gan.%s contract', (name, loss) => {
  const D = `losses\\.gan\\.${name}\\.discriminator`;
  const G = `losses\\.gan\\.${name}\\.generator`;

  it('is named and says whether it is relativistic', () => {
    expect(loss.name).toBe(name);
    expect(loss.relativistic).toBe(name === 'relativisticAverage');
  });

  it.each(SHAPES)('returns float32 scalars for %s logits, equal across shapes', (_label, shape) => {
    const [d, g] = tf.tidy(() => {
      const r = tf.tensor(REAL, shape);
      const f = tf.tensor(FAKE, shape);
      const dLoss = loss.discriminator(r, f);
      const gLoss = generatorCall(loss, r, f);
      for (const t of [dLoss, gLoss]) {
        expect(t.rank).toBe(0);
        expect(t.dtype).toBe('float32');
      }
      return [values(dLoss)[0]!, values(gLoss)[0]!];
    });
    // Same numbers in every layout: the value computed from the flat [16] logits.
    const [d0, g0] = tf.tidy(() => [
      values(loss.discriminator(tf.tensor1d(REAL), tf.tensor1d(FAKE)))[0]!,
      values(generatorCall(loss, tf.tensor1d(REAL), tf.tensor1d(FAKE)))[0]!,
    ]);
    expectClose(d, d0, 1e-6, 0);
    expectClose(g, g0, 1e-6, 0);
  });

  it.each(SHAPES)("reduction 'none' keeps the %s logits shape; its mean and sum are the other reductions", (_label, shape) => {
    tf.tidy(() => {
      const r = tf.tensor(REAL, shape);
      const f = tf.tensor(FAKE, shape);
      const dNone = loss.discriminator(r, f, { reduction: 'none' });
      const gNone = generatorCall(loss, r, f, { reduction: 'none' });
      expect(dNone.shape).toEqual(shape);
      expect(gNone.shape).toEqual(shape);
      expectClose(values(tf.mean(dNone)), values(loss.discriminator(r, f)), 1e-6, 1e-7);
      expectClose(values(tf.sum(dNone)), values(loss.discriminator(r, f, { reduction: 'sum' })), 1e-6, 1e-6);
      expectClose(values(tf.mean(gNone)), values(generatorCall(loss, r, f)), 1e-6, 1e-7);
      expectClose(values(tf.sum(gNone)), values(generatorCall(loss, r, f, { reduction: 'sum' })), 1e-6, 1e-6);
    });
  });

  it('has finite gradients for both logits, also at |logit| = 100', () => {
    tf.tidy(() => {
      const r = tf.tensor1d([...REAL, 100, -100]);
      const f = tf.tensor1d([...FAKE, -100, 100]);
      const dGrads = tf.grads((a: tf.Tensor, b: tf.Tensor) => loss.discriminator(a, b))([r, f]);
      const gGrad = tf.grad((b: tf.Tensor) => generatorCall(loss, r, b))(f);
      for (const g of [...dGrads, gGrad]) {
        expect(values(g).every(Number.isFinite)).toBe(true);
        expect(values(tf.abs(g)).some((v) => v > 0)).toBe(true); // a gradient, not zeros
      }
    });
  });

  it('leaks no tensor, with or without gradients', async () => {
    const r = tf.tensor2d(REAL, [16, 1]);
    const f = tf.tensor2d(FAKE, [16, 1]);
    await expectNoLeak(() => loss.discriminator(r, f));
    await expectNoLeak(() => generatorCall(loss, r, f, { reduction: 'none' }));
    await expectNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => loss.discriminator(a, b))([r, f]));
    await expectNoLeak(() => tf.grad((b: tf.Tensor) => generatorCall(loss, r, b))(f));
    tf.dispose([r, f]);
  });

  it('rejects logits whose non-batch axes differ', () => {
    tf.tidy(() => {
      const call = () => loss.discriminator(tf.zeros([4, 1]), tf.zeros([4, 2]));
      expect(call).toThrow(ShapeError);
      expect(call).toThrow(new RegExp(`^${D}: argument 'fakeLogits' must have the same shape as 'realLogits' \\[4,1\\]`));
      expect(() => loss.discriminator(tf.zeros([4]), tf.zeros([4, 1]))).toThrow(/fakeLogits.*received shape \[4,1\]/);
    });
  });

  it('rejects logits of another rank than 1, 2 or 4', () => {
    tf.tidy(() => {
      expect(() => loss.discriminator(tf.zeros([8, 1, 1]), tf.zeros([8, 1, 1]))).toThrow(
        new RegExp(`^${D}: argument 'realLogits' must have rank 1, 2 or 4, received shape \\[8,1,1\\]`),
      );
      expect(() => generatorCall(loss, tf.zeros([8, 1]), tf.zeros([8, 1, 1]))).toThrow(
        new RegExp(`^${G}: argument 'fakeLogits' must have rank 1, 2 or 4`),
      );
      expect(() => loss.discriminator(tf.scalar(1), tf.scalar(1))).toThrow(/must have rank 1, 2 or 4, received shape \[\]/);
    });
  });

  it('rejects int32 logits with a hint to cast', () => {
    tf.tidy(() => {
      const call = () => loss.discriminator(tf.zeros([4], 'int32'), tf.zeros([4]));
      expect(call).toThrow(DTypeError);
      expect(call).toThrow(
        new RegExp(
          `^${D}: argument 'realLogits' must be a float32 tensor, received int32 tensor of shape \\[4\\]\\. Convert it with tf\\.cast`,
        ),
      );
      expect(() => generatorCall(loss, tf.zeros([4]), tf.zeros([4], 'int32'))).toThrow(
        new RegExp(`^${G}: argument 'fakeLogits' must be a float32 tensor`),
      );
    });
  });

  it('rejects non-tensors and unknown reductions', () => {
    tf.tidy(() => {
      expect(() => loss.discriminator([1, 2] as never, tf.zeros([2]))).toThrow(
        /argument 'realLogits' must be a tf\.Tensor, received array of length 2/,
      );
      expect(() => loss.discriminator(tf.zeros([2]), tf.zeros([2]), { reduction: 'avg' } as never)).toThrow(
        new RegExp(`^${D}: argument 'options\\.reduction' must be one of 'mean', 'sum', 'none', received 'avg'`),
      );
    });
  });

  if (loss.relativistic) {
    it('needs equal batches: a mismatch is an error, never a broadcast', () => {
      tf.tidy(() => {
        expect(() => loss.discriminator(tf.zeros([4]), tf.zeros([3]))).toThrow(
          new RegExp(`^${D}: argument 'fakeLogits' must have the same shape as 'realLogits' \\[4\\], received shape \\[3\\]`),
        );
        expect(() => loss.generator(tf.zeros([4, 1]), tf.zeros([1, 1]))).toThrow(
          new RegExp(`^${G}: argument 'fakeLogits' must have the same shape`),
        );
      });
    });
  } else {
    it("accepts batches of different sizes, except with reduction 'none'", () => {
      tf.tidy(() => {
        expect(loss.discriminator(tf.zeros([4, 1]), tf.zeros([3, 1])).rank).toBe(0);
        expect(() => loss.discriminator(tf.zeros([4, 1]), tf.zeros([3, 1]), { reduction: 'none' })).toThrow(
          new RegExp(`^${D}: argument 'fakeLogits' must have the same batch size as 'realLogits' \\[4,1\\] when reduction is 'none'`),
        );
      });
    });
  }

  if (['minimax', 'nonSaturating', 'relativisticAverage'].includes(name)) {
    it('validates labelSmoothing in [0, 1)', () => {
      tf.tidy(() => {
        const call = (s: unknown) => loss.discriminator(tf.zeros([2]), tf.zeros([2]), { labelSmoothing: s } as never);
        expect(() => call(1)).toThrow(
          new RegExp(`^${D}: argument 'options\\.labelSmoothing' must be a finite number >= 0 and < 1, received 1`),
        );
        expect(() => call(-0.1)).toThrow(/labelSmoothing/);
        expect(call(0).rank).toBe(0);
      });
    });
  }
});
