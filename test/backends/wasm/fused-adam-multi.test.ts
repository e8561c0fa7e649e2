/**
 * The multi-variable fused Adam kernel on wasm (`FUSED_ADAM_MULTI_KERNEL`, what `train.fusedAdam`
 * and `train.adamW` run: one call per step): each variable's new value and moments equal, bit for
 * bit, what the per-variable kernel (`FUSED_ADAM_KERNEL`, itself bit for bit `tf.train.adam`:
 * test/train/optim/fused-adam.test.ts) writes for it alone, with its own decay factor, with and
 * without a gradient scale, with and without the heap kernels; finiteness is marked per
 * variable; nothing leaks; malformed calls are refused.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { FUSED_ADAM_KERNEL, FUSED_ADAM_MULTI_KERNEL } from '../../../src/backends/fused-adam-kernel.js';
import { isKnownFinite } from '../../../src/backends/variable-values.js';
import { setHeapKernelsEnabled } from '../../../src/backends/wasm/heap-kernels.js';
import type { WasmBackend } from '../../../src/backends/wasm/types.js';
import { useTestBackend } from '../../helpers/backends.js';
import { randomArray, rng } from '../parity.js';

beforeAll(async () => {
  await useTestBackend('wasm');
  await tf.setBackend('wasm');
});
afterEach(() => setHeapKernelsEnabled(true));

/** Sizes with every SIMD tail length (n mod 4 = 3, 1, 0, 1, 0) and one over the threads' minimum. */
const SHAPES = [[3], [37, 5], [8, 8], [1], [129, 128]];
/** AdamW-like decay factors, different for every variable (1: not decayed). */
const DECAYS = [1, 0.999, 1, 0.95, 0.9999];
const ATTRS = { beta1: 0.9, beta2: 0.99, epsilon: 1e-3, learningRate: 0.01 };

/** Per variable: value, m, v (m, v from earlier steps: nonzero) and gradient; the bias-correction scalars and a scale. */
function makeInputs(seed: number): { groups: tf.Tensor[][]; c1: tf.Scalar; c2: tf.Scalar; scale: tf.Scalar } {
  const r = rng(seed);
  const groups = SHAPES.map((shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const [w, m, g] = [0, 1, 2].map(() => tf.tensor(randomArray(r, n), shape));
    const v = tf.tensor(
      randomArray(r, n).map((x) => x * x),
      shape,
    ); // second moments are non-negative
    return [w!, m!, v, g!];
  });
  return { groups, c1: tf.scalar(1 - 0.9 ** 3), c2: tf.scalar(1 - 0.99 ** 3), scale: tf.scalar(0.3) };
}

const bits = (t: tf.Tensor) => Buffer.from((t.dataSync() as Float32Array).slice().buffer);

describe('FUSED_ADAM_MULTI_KERNEL on wasm', () => {
  it.each([
    ['heap kernels, with a gradient scale', true, true],
    ['heap kernels, no gradient scale', true, false],
    ['JavaScript, with a gradient scale', false, true],
  ])('%s: every variable bit for bit its own per-variable kernel call', (_, heap, scaled) => {
    setHeapKernelsEnabled(heap);
    const { groups, c1, c2, scale } = makeInputs(900);
    const shared = { oneMinusAccBeta1: c1, oneMinusAccBeta2: c2, ...(scaled ? { gradientScale: scale } : {}) };
    const inputs: tf.NamedTensorMap = { ...shared };
    groups.forEach(([w, m, v, g], i) =>
      Object.assign(inputs, { [`value${i}`]: w, [`firstMoment${i}`]: m, [`secondMoment${i}`]: v, [`gradient${i}`]: g }),
    );
    const multi = tf.engine().runKernel(FUSED_ADAM_MULTI_KERNEL, inputs, { ...ATTRS, decay: DECAYS }) as tf.Tensor[];
    expect(multi).toHaveLength(3 * SHAPES.length);
    groups.forEach(([w, m, v, g], i) => {
      const single = tf
        .engine()
        .runKernel(
          FUSED_ADAM_KERNEL,
          { value: w!, firstMoment: m!, secondMoment: v!, gradient: g!, ...shared },
          { ...ATTRS, decay: DECAYS[i]! },
        ) as tf.Tensor[];
      single.forEach((expected, k) => {
        const got = multi[3 * i + k]!;
        expect(got.shape).toEqual(SHAPES[i]);
        expect(bits(got).equals(bits(expected)), `variable ${i}, output ${k}`).toBe(true);
      });
      // The step moved every value (a kernel that copied its inputs would pass the comparison above only if both did).
      expect(bits(multi[3 * i]!).equals(bits(w!))).toBe(false);
      tf.dispose(single);
    });
    // Each variable's own decay: the same call with every decay 1 changes the decayed variables only.
    const undecayed = tf.engine().runKernel(FUSED_ADAM_MULTI_KERNEL, inputs, { ...ATTRS, decay: DECAYS.map(() => 1) }) as tf.Tensor[];
    DECAYS.forEach((d, i) => expect(bits(undecayed[3 * i]!).equals(bits(multi[3 * i]!)), `variable ${i}`).toBe(d === 1));
    tf.dispose([...multi, ...undecayed, ...groups.flat(), c1, c2, scale]);
  });

  it.each([
    ['heap kernels', true],
    ['JavaScript', false],
  ])('marks finite the outputs of the variables whose new state is finite, and only those (%s)', (_, heap) => {
    setHeapKernelsEnabled(heap);
    const { groups, c1, c2, scale } = makeInputs(901);
    // A gradient of 1e20 in variable 1 overflows g² (v' = +Infinity) there only.
    const bad = tf.tidy(() => tf.fill(SHAPES[1]!, 1e20));
    const inputs: tf.NamedTensorMap = { oneMinusAccBeta1: c1, oneMinusAccBeta2: c2 };
    groups.forEach(([w, m, v, g], i) =>
      Object.assign(inputs, { [`value${i}`]: w, [`firstMoment${i}`]: m, [`secondMoment${i}`]: v, [`gradient${i}`]: i === 1 ? bad : g }),
    );
    const outs = tf.engine().runKernel(FUSED_ADAM_MULTI_KERNEL, inputs, { ...ATTRS, decay: DECAYS }) as tf.Tensor[];
    expect(outs[3 * 1 + 2]!.dataSync()[0]).toBe(Number.POSITIVE_INFINITY);
    expect(outs.map(isKnownFinite)).toEqual(SHAPES.flatMap((_, i) => [0, 1, 2].map(() => i !== 1)));
    tf.dispose([...outs, ...groups.flat(), bad, c1, c2, scale]);
  });

  it('leaks no tensor and no heap buffer over repeated calls', () => {
    const { groups, c1, c2, scale } = makeInputs(902);
    const inputs: tf.NamedTensorMap = { oneMinusAccBeta1: c1, oneMinusAccBeta2: c2, gradientScale: scale };
    groups.forEach(([w, m, v, g], i) =>
      Object.assign(inputs, { [`value${i}`]: w, [`firstMoment${i}`]: m, [`secondMoment${i}`]: v, [`gradient${i}`]: g }),
    );
    const backend = tf.backend() as unknown as WasmBackend;
    const call = () => tf.dispose(tf.engine().runKernel(FUSED_ADAM_MULTI_KERNEL, inputs, { ...ATTRS, decay: DECAYS }) as tf.Tensor[]);
    call();
    const [tensors, dataIds] = [tf.memory().numTensors, backend.numDataIds()];
    for (let k = 0; k < 3; k++) call();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(backend.numDataIds()).toBe(dataIds);
    tf.dispose([...groups.flat(), c1, c2, scale]);
  });

  it('refuses a call whose decay list and inputs disagree, or whose variable has tensors of different sizes', () => {
    const [w, m, v, g] = [0, 1, 2, 3].map(() => tf.zeros([4]));
    const c = tf.scalar(0.1);
    const one = { oneMinusAccBeta1: c, oneMinusAccBeta2: c, value0: w!, firstMoment0: m!, secondMoment0: v!, gradient0: g! };
    const run = (inputs: tf.NamedTensorMap, decay: unknown) =>
      tf.engine().runKernel(FUSED_ADAM_MULTI_KERNEL, inputs, { ...ATTRS, decay } as unknown as tf.NamedAttrMap);
    expect(() => run(one, [1, 1])).toThrow(
      /GenblocksFusedAdamMulti: expected a decay attribute with one factor per variable.*received decay \[1,1\]/,
    );
    expect(() => run(one, undefined)).toThrow(/GenblocksFusedAdamMulti: expected a decay attribute/);
    const renamed = { ...one, gradient1: g! } as tf.NamedTensorMap;
    delete renamed['gradient0'];
    expect(() => run(renamed, [1])).toThrow(/GenblocksFusedAdamMulti: missing an input of variable 0/);
    const wrongSize = tf.zeros([5]);
    expect(() => run({ ...one, gradient0: wrongSize }, [1])).toThrow(
      /GenblocksFusedAdamMulti: expected float32 inputs of shape \[4\], received float32 \[5\]/,
    );
    tf.dispose([w!, m!, v!, g!, c, wrongSize]);
  });
});
