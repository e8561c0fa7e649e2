/**
 * Second-order gradients through every discriminator built here: the gradient-penalty pattern
 * of WGAN-GP / R1, `variableGrads(() => mean((||∇ₓ D(x)||₂ − 1)²))`. It needs gradients for
 * the comparison ops inside leakyReLU's gradient (registered by genblocks' `register` module).
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { backends } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { values } from '../helpers/memory.js';
import { canTrainConv, DISCRIMINATOR_CASES } from './cases.js';

describe.each(TEST_BACKENDS)('gradient penalty through discriminators on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
    // Differentiating ||∇ₓ D(x)|| again needs the comparison ops' gradients (gradientPenalty
    // registers them itself; this test calls tf.grad directly).
    backends.registerSecondOrderGradients();
  });

  it.for(DISCRIMINATOR_CASES)('$name: d/dθ of ||∇ₓ D(x)|| is finite and non-zero', (c, ctx) => {
    if (c.conv && !canTrainConv()) ctx.skip(`${backend} has no Conv2DBackpropFilter kernel (needs genblocks backends.use)`);
    const model = c.build();
    const [x, ...rest] = c.inputs(3);
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => {
      const critic = (xs: tf.Tensor) => {
        const out = [model.apply([xs, ...rest], { training: true })].flat() as tf.Tensor[];
        return tf.sum(out[0]!);
      };
      const gradient = tf.grad(critic)(x!);
      const norms = tf.sqrt(tf.add(tf.sum(tf.square(tf.reshape(gradient, [3, -1])), 1), 1e-12));
      return tf.mean(tf.square(tf.sub(norms, 1))) as tf.Scalar;
    });
    expect(Number.isFinite(values(value)[0]!)).toBe(true);
    const all = Object.values(grads);
    expect(all.length).toBeGreaterThan(0);
    for (const g of all) expect(values(g).every(Number.isFinite)).toBe(true);
    // The penalty depends on the weights: some gradient is non-zero.
    expect(all.some((g) => values(g).some((v) => v !== 0))).toBe(true);
    tf.dispose([value, grads]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x!, ...rest]);
    model.dispose();
  });
});
