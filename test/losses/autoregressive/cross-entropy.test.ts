/**
 * losses.autoregressive.crossEntropy against a float64 log-softmax reference (logits up to
 * magnitude 100), reductions, gradients, invalid usage, memory; bitsPerToken and perplexity.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { ArgumentError, DTypeError, losses } from '../../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../../helpers/backends.js';
import { expectClose, expectNoLeak, values } from '../../helpers/memory.js';

const { crossEntropy, bitsPerToken, perplexity } = losses.autoregressive;

/** Float64 −log softmax(x)_y with the max subtracted (independent oracle). */
function nllReference(row: number[], target: number): number {
  const m = Math.max(...row);
  const logZ = m + Math.log(row.reduce((s, x) => s + Math.exp(x - m), 0));
  return logZ - row[target]!;
}

describe.each(TEST_BACKENDS)('losses.autoregressive.crossEntropy on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  // [B=2, T=3, V=4] logits, including ±100 (exp(100) overflows float32 without the max shift).
  const rows = [
    [0.1, -0.3, 2, 0.5],
    [100, -100, 0, 99],
    [-100, -100, -100, -100],
    [3, 3, 3, 3],
    [100, 0, -50, 100],
    [-2.5, 1.25, 0, 7],
  ];
  const targets = [2, 1, 0, 3, 3, 1];

  it('matches float64 log-softmax, including logits of magnitude 100 (mean, sum, none)', () => {
    const expected = rows.map((r, i) => nllReference(r, targets[i]!));
    // Hand check: rows 3 and 2 are uniform over 4 tokens (equal logits, even at −100), so CE = ln 4.
    expect(expected[3]).toBeCloseTo(Math.log(4), 12);
    expect(expected[2]).toBeCloseTo(Math.log(4), 12);
    const logits = tf.tensor3d(rows.flat(), [2, 3, 4]);
    const y = tf.tensor2d(targets, [2, 3], 'int32');
    const none = crossEntropy(logits, y, { reduction: 'none' });
    expect(none.shape).toEqual([2, 3]);
    expectClose(values(none), expected, 1e-6, 1e-5);
    const mean = expected.reduce((s, x) => s + x, 0) / 6;
    expectClose(values(crossEntropy(logits, y)), [mean], 1e-6, 1e-5);
    expectClose(values(crossEntropy(logits, y, { reduction: 'sum' })), [mean * 6], 1e-6, 1e-4);
    tf.dispose([logits, y, none]);
  });

  it('has the softmax-minus-one-hot gradient (/ number of tokens), finite at magnitude 100', () => {
    const logits = tf.tensor2d([rows[1]!, rows[5]!], [2, 4]);
    const y = tf.tensor1d([1, 3], 'int32');
    const g = tf.grad((x: tf.Tensor) => crossEntropy(x, y))(logits);
    // d mean CE / dx = (softmax(x) − onehot(y)) / 2, float64.
    const expected = [rows[1]!, rows[5]!].flatMap((r, i) => {
      const m = Math.max(...r);
      const z = r.reduce((s, x) => s + Math.exp(x - m), 0);
      return r.map((x, j) => (Math.exp(x - m) / z - (j === [1, 3][i] ? 1 : 0)) / 2);
    });
    expectClose(values(g), expected, 1e-5, 1e-6);
    tf.dispose([logits, y, g]);
  });

  it("has the per-token gradients for 'none' (dy per token) and 'sum', in one Softmax and no exponentials of its own", async () => {
    // [B=2, T=3, V=4]: every row above, magnitude 100 included.
    const logits = tf.tensor3d(rows.flat(), [2, 3, 4]);
    const y = tf.tensor2d(targets, [2, 3], 'int32');
    const dy = [0.5, -1, 2, 0.25, 3, -0.75];
    // ∂/∂x_ij of Σ_i dy_i · CE_i = dy_i · (softmax(x_i)_j − [j = y_i]), float64.
    const expected = (weights: number[]) =>
      rows.flatMap((r, i) => {
        const m = Math.max(...r);
        const z = r.reduce((acc, x) => acc + Math.exp(x - m), 0);
        return r.map((x, j) => weights[i]! * (Math.exp(x - m) / z - (j === targets[i] ? 1 : 0)));
      });
    const upstream = tf.tensor2d(dy, [2, 3]);
    const none = tf.grad((x: tf.Tensor) => crossEntropy(x, y, { reduction: 'none' }))(logits, upstream);
    expectClose(values(none), expected(dy), 1e-5, 1e-6);
    const sum = tf.grad((x: tf.Tensor) => crossEntropy(x, y, { reduction: 'sum' }))(logits);
    expectClose(values(sum), expected(dy.map(() => 1)), 1e-5, 1e-6);
    // Targets made and freed inside the differentiated function (as a trainer's loss does) are
    // still there for the backward pass.
    const inner = tf.grad((x: tf.Tensor) => {
      const ids = tf.tensor2d(targets, [2, 3], 'int32');
      const loss = crossEntropy(x, ids);
      ids.dispose();
      return loss;
    })(logits);
    expectClose(values(inner), expected(dy.map(() => 1 / 6)), 1e-5, 1e-6);
    const { kernels } = await tf.profile(() => tf.grad((x: tf.Tensor) => crossEntropy(x, y))(logits));
    const names = kernels.map((k) => k.name);
    expect(names.filter((n) => n === 'Softmax')).toHaveLength(1);
    expect(names).not.toContain('Exp');
    await expectNoLeak(() => tf.grad((x: tf.Tensor) => crossEntropy(x, y))(logits));
    tf.dispose([logits, y, upstream, none, sum, inner]);
  });

  it('rejects float targets, mismatched shapes and unknown reductions; does not leak', async () => {
    const logits = tf.zeros([2, 3, 4]);
    expect(() => crossEntropy(logits, tf.zeros([2, 3]))).toThrow(DTypeError);
    expect(() => crossEntropy(logits, tf.zeros([2, 4], 'int32'))).toThrow(
      /crossEntropy: argument 'targets' must have the shape of 'logits' without its last axis \[2,3\], received shape \[2,4\]/,
    );
    expect(() => crossEntropy(logits, tf.zeros([2, 3], 'int32'), { reduction: 'avg' as never })).toThrow(/reduction' must be one of/);
    const y = tf.zeros([2, 3], 'int32');
    await expectNoLeak(() => crossEntropy(logits, y));
    tf.dispose([logits, y]);
  });

  it("rejects a target id outside [0, V) as an ArgumentError naming 'targets' and the id, forward and under tf.grad, leaking nothing", () => {
    const logits = tf.zeros([2, 3, 4]);
    // V = 4: ids 4 and −1 are outside [0, 4), an error rather than a probability of 0.
    const tooLarge = tf.tensor2d([0, 1, 2, 3, 4, 0], [2, 3], 'int32');
    const negative = tf.tensor2d([0, -1, 2, 3, 1, 0], [2, 3], 'int32');
    const message = (id: number) =>
      new RegExp(
        `^losses\\.autoregressive\\.crossEntropy: argument 'targets' must hold token ids in \\[0, V\\) = \\[0, 4\\), received id ${id}$`,
      );
    const before = tf.memory().numTensors;
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      expect(() => crossEntropy(logits, tooLarge, { reduction })).toThrow(message(4));
      expect(() => crossEntropy(logits, negative, { reduction })).toThrow(message(-1));
    }
    expect(() => crossEntropy(logits, tooLarge)).toThrow(ArgumentError);
    // Inside a gradient (a training step), the same error.
    expect(() => tf.grad((x: tf.Tensor) => crossEntropy(x, tooLarge))(logits)).toThrow(message(4));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([logits, tooLarge, negative]);
  });

  it('rejects an empty batch (a mean over no tokens is NaN) for every reduction', () => {
    const logits = tf.zeros([0, 3, 4]);
    const y = tf.zeros([0, 3], 'int32');
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      expect(() => crossEntropy(logits, y, { reduction })).toThrow(
        /^losses\.autoregressive\.crossEntropy: argument 'targets' must hold at least one example \(a loss of an empty batch is undefined\), received shape \[0,3\]/,
      );
    }
    tf.dispose([logits, y]);
  });
});

describe('bitsPerToken and perplexity', () => {
  it('convert nats: ln 2 nats = 1 bit; perplexity of ln 65 = 65', () => {
    expect(bitsPerToken(Math.LN2)).toBeCloseTo(1, 12);
    expect(bitsPerToken(1.88)).toBeCloseTo(1.88 / 0.6931471805599453, 12);
    expect(perplexity(Math.log(65))).toBeCloseTo(65, 10);
    expect(() => perplexity(Number.NaN)).toThrow(/perplexity: argument 'nats' must be a finite number/);
  });
});
