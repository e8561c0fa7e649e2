/**
 * Each GAN loss pair (discriminator + generator, forward and gradients with respect to both
 * logits) against the same formula written naively in tfjs (log(sigmoid(x)) for the sigmoid
 * losses, no validation) as the baseline. A ratio near 1 means the stable form and the
 * validation cost nothing measurable.
 */
import * as tf from '@tensorflow/tfjs-core';

import { losses } from '../src/index.js';
import { compare, settle, type BenchResult, type BenchSuite } from './harness.js';

type Pair = (r: tf.Tensor, f: tf.Tensor) => tf.Scalar;

const naiveLogSigmoid = (x: tf.Tensor) => tf.log(tf.sigmoid(x));
const naiveLogOneMinusSigmoid = (x: tf.Tensor) => tf.log(tf.sub(1, tf.sigmoid(x)));
const m = (x: tf.Tensor) => tf.mean(x);

/** Discriminator + generator loss, genblocks and hand-written. */
const CASES: { name: string; genblocks: Pair; naive: Pair }[] = [
  {
    name: 'minimax',
    genblocks: (r, f) => tf.add(losses.gan.minimax.discriminator(r, f), losses.gan.minimax.generator(f)),
    naive: (r, f) => tf.add(tf.neg(tf.add(m(naiveLogSigmoid(r)), m(naiveLogOneMinusSigmoid(f)))), m(naiveLogOneMinusSigmoid(f))),
  },
  {
    name: 'nonSaturating',
    genblocks: (r, f) => tf.add(losses.gan.nonSaturating.discriminator(r, f), losses.gan.nonSaturating.generator(f)),
    naive: (r, f) => tf.sub(tf.neg(tf.add(m(naiveLogSigmoid(r)), m(naiveLogOneMinusSigmoid(f)))), m(naiveLogSigmoid(f))),
  },
  {
    name: 'leastSquares',
    genblocks: (r, f) => tf.add(losses.gan.leastSquares.discriminator(r, f), losses.gan.leastSquares.generator(f)),
    naive: (r, f) => tf.mul(0.5, tf.addN([m(tf.square(tf.sub(r, 1))), m(tf.square(f)), m(tf.square(tf.sub(f, 1)))])),
  },
  {
    name: 'wasserstein',
    genblocks: (r, f) => tf.add(losses.gan.wasserstein.discriminator(r, f), losses.gan.wasserstein.generator(f)),
    naive: (r, f) => tf.sub(tf.sub(m(f), m(r)), m(f)),
  },
  {
    name: 'hinge',
    genblocks: (r, f) => tf.add(losses.gan.hinge.discriminator(r, f), losses.gan.hinge.generator(f)),
    naive: (r, f) => tf.sub(tf.add(m(tf.relu(tf.sub(1, r))), m(tf.relu(tf.add(1, f)))), m(f)),
  },
  {
    name: 'relativisticAverage',
    genblocks: (r, f) => tf.add(losses.gan.relativisticAverage.discriminator(r, f), losses.gan.relativisticAverage.generator(r, f)),
    naive: (r, f) => {
      const rf = tf.sub(r, m(f));
      const fr = tf.sub(f, m(r));
      const d = tf.neg(tf.add(m(naiveLogSigmoid(rf)), m(naiveLogOneMinusSigmoid(fr))));
      const g = tf.neg(tf.add(m(naiveLogSigmoid(fr)), m(naiveLogOneMinusSigmoid(rf))));
      return tf.add(d, g);
    },
  },
];

const suite: BenchSuite = {
  name: 'losses',
  async run(ctx) {
    const shapes: number[][] = ctx.quick
      ? [[64, 1]]
      : [
          [64, 1],
          [1024, 1],
          [64, 16, 16, 1],
        ];
    const results: BenchResult[] = [];
    for (const shape of shapes) {
      const r = tf.randomNormal(shape, 0, 2, 'float32', 1);
      const f = tf.randomNormal(shape, 0, 2, 'float32', 2);
      for (const c of CASES) {
        const withGrads = (pair: Pair) => () => settle(() => tf.grads(pair)([r, f]));
        results.push(
          await compare(`${c.name} D+G + grads`, withGrads(c.genblocks), 'naive tfjs formula', withGrads(c.naive), {
            warmup: Math.max(ctx.warmup, 2),
            runs: ctx.runs,
            size: `[${shape.join(',')}]`,
          }),
        );
      }
      tf.dispose([r, f]);
    }
    return results;
  },
};

export default suite;
