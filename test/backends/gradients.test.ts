/**
 * `registerSecondOrderGradients`: it adds zero gradients for the comparison and logical ops
 * tfjs leaves without one, once, and with them gradients of gradients through leakyRelu,
 * prelu, where, maximum and relu match finite differences of hand-derived float64 references.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { registerSecondOrderGradients, ZERO_GRADIENT_KERNELS } from '../../src/backends/gradients.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { expectClose, expectNoLeak, values } from '../helpers/memory.js';

describe('registerSecondOrderGradients', () => {
  // Runs before anything imports genblocks' entry point (which registers them at import time).
  it('registers exactly the missing gradients, once, and leaves existing ones alone', () => {
    const before = new Map(ZERO_GRADIENT_KERNELS.map((k) => [k, tf.getGradient(k)]));
    expect(before.get('Greater')).toBeUndefined(); // the tfjs 4.22 gap this module fills
    const tfjsGreaterEqual = before.get('GreaterEqual');
    const added = registerSecondOrderGradients();
    expect(added).toEqual(ZERO_GRADIENT_KERNELS.filter((k) => before.get(k) == null));
    expect(added).toEqual(
      expect.arrayContaining(['Greater', 'Less', 'LessEqual', 'Equal', 'NotEqual', 'LogicalAnd', 'LogicalOr', 'LogicalNot']),
    );
    for (const k of ZERO_GRADIENT_KERNELS) expect(tf.getGradient(k), k).toBeDefined();
    if (tfjsGreaterEqual) expect(tf.getGradient('GreaterEqual')).toBe(tfjsGreaterEqual);
    expect(registerSecondOrderGradients()).toEqual([]); // idempotent
  });

  // That `import 'genblocks'` alone registers nothing, and the penalties register them, is
  // checked in a fresh process by test/package/side-effects.test.ts.
  it('is called by importing genblocks/register', async () => {
    await import('../../src/register.js');
    expect(registerSecondOrderGradients()).toEqual([]);
    expect(tf.getGradient('Greater')).toBeDefined();
  });
});

// For f(x) applied element-wise, L(x) = Σ f'(xᵢ)² where f' is tfjs' first-order gradient.
// References: f' derived by hand in float64; ∂L/∂x by central differences of that float64 L.
interface Case {
  name: string;
  f: (x: tf.Tensor) => tf.Tensor;
  /** Hand-derived f'(x), float64. */
  derivative: (x: number) => number;
}
const ALPHA = 0.2;
const PRELU_ALPHA = [0.1, 0.25, 0.3, 0.05, 0.15, 0.2];
const X = [-1.7, -0.6, 0.3, 0.8, 1.4, 2.6]; // no ties at any kink
const CASES: Case[] = [
  // leakyRelu(x² - 1): slope 1 where x² > 1, α elsewhere.
  { name: 'leakyRelu', f: (x) => tf.leakyRelu(tf.sub(tf.square(x), 1), ALPHA), derivative: (x) => 2 * x * (x * x > 1 ? 1 : ALPHA) },
  { name: 'relu', f: (x) => tf.relu(tf.sub(tf.square(x), 1)), derivative: (x) => (x * x > 1 ? 2 * x : 0) },
  {
    name: 'where',
    f: (x) => tf.where(tf.greater(x, 0), tf.square(x), tf.mul(3, tf.square(tf.add(x, 1)))),
    derivative: (x) => (x > 0 ? 2 * x : 6 * (x + 1)),
  },
  { name: 'maximum', f: (x) => tf.maximum(tf.square(x), tf.mul(2, x)), derivative: (x) => (x * x >= 2 * x ? 2 * x : 2) },
  { name: 'minimum', f: (x) => tf.minimum(tf.square(x), tf.add(x, 1)), derivative: (x) => (x * x <= x + 1 ? 2 * x : 1) },
];

function numericGradient(L: (x: number[]) => number, x: number[], h = 1e-6): number[] {
  return x.map((_, i) => {
    const p = x.slice();
    const m = x.slice();
    p[i]! += h;
    m[i]! -= h;
    return (L(p) - L(m)) / (2 * h);
  });
}
const sumOfSquares = (a: number[]) => a.reduce((s, v) => s + v * v, 0);

describe.each(TEST_BACKENDS)('gradients of gradients on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  it.each(CASES)('∂/∂x Σ (∂$name/∂x)² matches finite differences', ({ f, derivative }) => {
    const secondOrder = tf.tidy(() => {
      const firstOrder = (x: tf.Tensor) => tf.grad((y: tf.Tensor) => tf.sum(f(y)))(x);
      return values(tf.grad((x: tf.Tensor) => tf.sum(tf.square(firstOrder(x))))(tf.tensor1d(X)));
    });
    expectClose(
      secondOrder,
      numericGradient((x) => sumOfSquares(x.map(derivative)), X),
      1e-4,
      1e-6,
    );
  });

  it('prelu: second order with respect to both x and alpha matches finite differences', () => {
    // f(x) = prelu(x² - 1, a): f'(x) = 2x · (x² > 1 ? 1 : aᵢ); L = Σ f'(x)².
    const [dx, da] = tf.tidy(() => {
      const L = (x: tf.Tensor, a: tf.Tensor) =>
        tf.sum(tf.square(tf.grad((y: tf.Tensor) => tf.sum(tf.prelu(tf.sub(tf.square(y), 1), a)))(x)));
      return tf
        .grads(L)([tf.tensor1d(X), tf.tensor1d(PRELU_ALPHA)])
        .map(values);
    });
    const reference = (x: number[], a: number[]) => sumOfSquares(x.map((v, i) => 2 * v * (v * v > 1 ? 1 : a[i]!)));
    expectClose(
      dx!,
      numericGradient((x) => reference(x, PRELU_ALPHA), X),
      1e-4,
      1e-6,
    );
    expectClose(
      da!,
      numericGradient((a) => reference(X, a), PRELU_ALPHA),
      1e-4,
      1e-6,
    );
  });

  it('a dense + leakyReLU critic has a finite gradient penalty gradient, without leaks', async () => {
    const w1 = tf.variable(tf.randomNormal([3, 4], 0, 1, 'float32', 1));
    const w2 = tf.variable(tf.randomNormal([4, 1], 0, 1, 'float32', 2));
    const x = tf.randomNormal([5, 3], 0, 1, 'float32', 3);
    const critic = (input: tf.Tensor) => tf.matMul(tf.leakyRelu(tf.matMul(input as tf.Tensor2D, w1), ALPHA), w2);
    const penalty = () => tf.sum(tf.square(tf.grad((input: tf.Tensor) => tf.sum(critic(input)))(x))) as tf.Scalar;
    const { grads } = tf.variableGrads(penalty);
    expect(values(grads[w1.name]!).every(Number.isFinite)).toBe(true);
    expect(values(tf.abs(grads[w1.name]!)).some((v) => v > 0)).toBe(true);
    tf.dispose(grads);
    await expectNoLeak(() => tf.variableGrads(penalty));
    tf.dispose([w1, w2, x]);
  });
});
