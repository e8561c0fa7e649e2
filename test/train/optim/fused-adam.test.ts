/**
 * train.fusedAdam: the same updates as tf.train.adam (exactly: the same float32 operations in the
 * same order) through genblocks' one-pass wasm kernel and through the fallback, state that
 * tf.train.adam can take over, no leaks, and argument errors.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { FUSED_ADAM_KERNEL } from '../../../src/backends/fused-adam-kernel.js';
import { findNonFinite, isKnownFinite } from '../../../src/backends/variable-values.js';
import { setHeapKernelsEnabled } from '../../../src/backends/wasm/heap-kernels.js';
import { train } from '../../../src/index.js';
import { useTestBackend } from '../../helpers/backends.js';
import { expectNoLeak } from '../../helpers/memory.js';
import { randomArray, rng } from '../../backends/parity.js';

beforeAll(async () => {
  await useTestBackend('wasm');
});

afterEach(() => {
  setHeapKernelsEnabled(true);
});

/** Shapes with every SIMD tail length (sizes 3, 185, 64, 1). */
const SHAPES = [[3], [37, 5], [8, 8], [1]];

/** Runs `steps` minimizations of a non-quadratic loss with two optimizers on identical variables. */
function trainBoth(make: () => [tf.Optimizer, tf.Optimizer], steps: number, asList = false): Array<[Float32Array, Float32Array]> {
  const r = rng(11);
  const inits = SHAPES.map((s) =>
    randomArray(
      r,
      s.reduce((a, b) => a * b, 1),
    ),
  );
  const a = SHAPES.map((s, i) => tf.variable(tf.tensor(inits[i]!, s)));
  const b = SHAPES.map((s, i) => tf.variable(tf.tensor(inits[i]!, s)));
  const [optA, optB] = make();
  const loss = (vs: tf.Variable[]) => () => tf.addN(vs.map((v, i) => tf.sum(tf.sin(tf.mul(v, tf.mul(v, i + 1)))))) as tf.Scalar;
  for (let k = 0; k < steps; k++) {
    optA.minimize(loss(a), false, a);
    if (asList) {
      const { grads } = tf.variableGrads(loss(b), b);
      optB.applyGradients(b.map((v) => ({ name: v.name, tensor: grads[v.name]! })));
      tf.dispose(grads);
    } else {
      optB.minimize(loss(b), false, b);
    }
  }
  const out = a.map((v, i) => [v.dataSync() as Float32Array, b[i]!.dataSync() as Float32Array] as [Float32Array, Float32Array]);
  tf.dispose([...a, ...b]);
  optA.dispose();
  optB.dispose();
  return out;
}

describe('train.fusedAdam', () => {
  it('registers its kernel on wasm only', () => {
    expect(tf.getKernel(FUSED_ADAM_KERNEL, 'wasm')).toBeDefined();
    expect(tf.getKernel(FUSED_ADAM_KERNEL, 'cpu')).toBeUndefined();
  });

  it.each([
    ['wasm, SIMD kernel', 'wasm', true],
    ['wasm, JavaScript fallback of the kernel', 'wasm', false],
    ['cpu, tf.train.adam operations', 'cpu', true],
  ] as const)('%s: updates equal tf.train.adam bit for bit over 15 steps', async (_label, backend, heap) => {
    await tf.setBackend(backend);
    setHeapKernelsEnabled(heap);
    for (const asList of [false, true]) {
      const pairs = trainBoth(
        () => [tf.train.adam(0.01, 0.5, 0.9), train.fusedAdam({ learningRate: 0.01, beta1: 0.5, beta2: 0.9 })],
        15,
        asList,
      );
      for (const [stock, fused] of pairs) {
        expect(Array.from(fused)).toEqual(Array.from(stock));
      }
    }
  });

  it('matches the cpu backend on wasm with default hyperparameters', async () => {
    await tf.setBackend('cpu');
    const cpu = trainBoth(() => [tf.train.adam(), tf.train.adam()], 5);
    await tf.setBackend('wasm');
    const wasm = trainBoth(() => [train.fusedAdam(), train.fusedAdam()], 5);
    cpu.forEach(([expected], i) => {
      const actual = wasm[i]![0];
      const scale = Math.max(...Array.from(expected, Math.abs));
      const err = Math.max(...Array.from(actual, (x, j) => Math.abs(x - expected[j]!)));
      expect(err / scale).toBeLessThanOrEqual(1e-5);
    });
  });

  it('keeps tf.train.adam state: the same getWeights (iterations, m, v) and class name', async () => {
    await tf.setBackend('wasm');
    const w = tf.variable(tf.tensor1d([0.5, -1, 2, 0.25, 3]));
    const fused = train.fusedAdam({ learningRate: 0.05 });
    const stock = tf.train.adam(0.05);
    for (let i = 0; i < 3; i++) {
      // Same gradients for both: each optimizer gets the gradient at the current (shared) w.
      const { grads } = tf.variableGrads(() => tf.sum(tf.square(tf.sin(w))), [w]);
      const before = w.clone();
      (fused as tf.Optimizer).applyGradients(grads);
      w.assign(before);
      (stock as tf.Optimizer).applyGradients(grads);
      tf.dispose([before, grads]);
    }
    expect(fused.getClassName()).toBe('Adam');
    const [a, b] = [await fused.getWeights(), await stock.getWeights()];
    expect(a.map((t) => t.name)).toEqual(b.map((t) => t.name));
    a.forEach((t, i) => expect(Array.from(t.tensor.dataSync())).toEqual(Array.from(b[i]!.tensor.dataSync())));
    expect(fused.iterations).toBe(3);
    fused.dispose();
    stock.dispose();
    w.dispose();
  });

  it('leaves numTensors unchanged across steps', async () => {
    await tf.setBackend('wasm');
    const v = tf.variable(tf.randomNormal([33, 7], 0, 1, 'float32', 1));
    const opt = train.fusedAdam();
    await expectNoLeak(
      () => {
        opt.minimize(() => tf.sum(tf.square(v)), false, [v]);
      },
      { warmup: 1, repeats: 5 },
    );
    opt.dispose();
    v.dispose();
  });

  it('skips variables without a gradient', async () => {
    await tf.setBackend('wasm');
    const a = tf.variable(tf.tensor1d([1, 2]));
    const b = tf.variable(tf.tensor1d([3, 4]));
    const opt = train.fusedAdam({ learningRate: 0.1 });
    (opt as tf.Optimizer).applyGradients({ [a.name]: tf.tensor1d([1, -1]) });
    expect(Array.from(b.dataSync())).toEqual([3, 4]);
    // First Adam step moves each parameter by about the learning rate against the gradient's sign.
    const moved = Array.from(a.dataSync());
    expect(moved[0]).toBeCloseTo(0.9, 5);
    expect(moved[1]).toBeCloseTo(2.1, 5);
    tf.dispose([a, b]);
    opt.dispose();
  });

  it.each([
    ['SIMD kernel', true],
    ['JavaScript fallback', false],
  ] as const)(
    '%s: marks its outputs finite exactly when every value written is (the trainers then skip reading them)',
    async (_label, heap) => {
      await tf.setBackend('wasm');
      setHeapKernelsEnabled(heap);
      // One step from w = 1, m = v = 0 at t = 1 (c1 = 1 − 0.9, c2 = 1 − 0.999), for sizes with a
      // SIMD body, a scalar tail, or both, and a bad gradient in either part.
      const run = (gradient: Float32Array, firstMoment = new Float32Array(gradient.length)): tf.Tensor[] => {
        const n = gradient.length;
        const inputs = {
          value: tf.fill([n], 1),
          firstMoment: tf.tensor1d(firstMoment),
          secondMoment: tf.zeros([n]),
          gradient: tf.tensor1d(gradient),
          oneMinusAccBeta1: tf.scalar(1 - 0.9),
          oneMinusAccBeta2: tf.scalar(1 - 0.999),
        };
        const outs = tf.engine().runKernel(FUSED_ADAM_KERNEL, inputs, { beta1: 0.9, beta2: 0.999, epsilon: 1e-7, learningRate: 1e-3 });
        tf.dispose(Object.values(inputs));
        return outs as tf.Tensor[];
      };
      for (const n of [1, 4, 7, 8, 13]) {
        const finite = run(new Float32Array(n).fill(0.5));
        expect(finite.map(isKnownFinite)).toEqual([true, true, true]);
        expect(findNonFinite(finite)).toBe(-1);
        tf.dispose(finite);
        for (const at of new Set([0, n - 1, n >> 1])) {
          // g = 1e20: g² = 1e40 overflows float32, so v' = v·β2 + g²·(1 − β2) = +Infinity, while
          // m' = 0.1·g = 1e19 is finite and w' = w − lr·(m'/c1)/(√(v'/c2) + ε) = w − 0 = 1 is
          // finite: only the second moment is bad, and only it gives the step away.
          const huge = new Float32Array(n).fill(0.5);
          huge[at] = 1e20;
          const [w, m, v] = run(huge);
          expect(w!.dataSync()[at]).toBe(1);
          expect(Number.isFinite(m!.dataSync()[at])).toBe(true);
          expect(v!.dataSync()[at]).toBe(Number.POSITIVE_INFINITY);
          expect([w, m, v].map((t) => isKnownFinite(t!))).toEqual([false, false, false]);
          expect(findNonFinite([w!, m!, v!]), `1e20 at ${at} of ${n}`).toBe(2);
          tf.dispose([w!, m!, v!]);
          // A NaN gradient makes all three NaN.
          const nan = new Float32Array(n).fill(0.5);
          nan[at] = Number.NaN;
          const outs = run(nan);
          expect(outs.map(isKnownFinite)).toEqual([false, false, false]);
          expect(findNonFinite(outs)).toBe(0);
          tf.dispose(outs);
          // An infinite first moment with a finite gradient: m' = +Infinity, v' = 0.001·0.25 is
          // finite, and w' = 1 − 0.001·(+Infinity/c1)/(…) = −Infinity (the kernel checks w' and v'
          // only, since a non-finite m' always makes w' non-finite).
          const moment = new Float32Array(n);
          moment[at] = Number.POSITIVE_INFINITY;
          const [w2, m2, v2] = run(new Float32Array(n).fill(0.5), moment);
          expect([w2!.dataSync()[at], m2!.dataSync()[at]]).toEqual([Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY]);
          expect(Number.isFinite(v2!.dataSync()[at])).toBe(true);
          expect([w2, m2, v2].map((t) => isKnownFinite(t!))).toEqual([false, false, false]);
          tf.dispose([w2!, m2!, v2!]);
        }
      }
    },
  );

  it.each([
    [{ learningRate: 0 }, /train\.fusedAdam: argument 'options\.learningRate' must be a positive finite number, received 0/],
    [{ beta1: 1 }, /train\.fusedAdam: argument 'options\.beta1' must be a number in \[0, 1\), received 1/],
    [{ beta2: -0.1 }, /argument 'options\.beta2' must be a number in \[0, 1\)/],
    [{ epsilon: Number.NaN }, /argument 'options\.epsilon' must be a positive finite number/],
  ])('rejects %o', (options, message) => {
    expect(() => train.fusedAdam(options)).toThrow(message);
  });
});
