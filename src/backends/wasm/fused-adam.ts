/**
 * The one-pass Adam kernel (`FUSED_ADAM_KERNEL`) on wasm. `tf.train.adam` runs fourteen
 * element-wise kernels per variable (each a pass over the parameters and a fresh buffer); this
 * reads the value, both moments and the gradient once and writes the three new tensors, with
 * the same float32 operations in the same order, so the results equal `tf.train.adam`'s:
 *
 *     m' = m·β1 + g·(1−β1),   v' = v·β2 + g²·(1−β2),
 *     w' = (m'/c1) / (√(v'/c2) + ε) · (−lr) + w,   c1 = 1 − β1ᵗ, c2 = 1 − β2ᵗ.
 *
 * In the same pass, the gradient is first multiplied by the optional scalar input
 * `gradientScale` (clipping by global norm: the float32 product clipping would write) and the
 * value by the `decay` attribute (AdamW's `1 − α·λ`), so clipping, decay and the update read
 * and write the parameters once, with the results of the three separate passes.
 *
 * The same pass checks that every value it writes is finite and, when so, marks the three
 * outputs finite (`markFinite`), so that the trainers' check of a step's new state skips them
 * instead of reading the weights and both moments a second time.
 *
 * `FUSED_ADAM_MULTI_KERNEL` is the same update for all of an optimizer's variables in one
 * kernel call (one engine dispatch per step instead of one per variable, and on the threaded
 * build one job for the worker threads: `HeapKernels.adamMany`), each variable's results
 * those of its own `FUSED_ADAM_KERNEL` call.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';

import { FUSED_ADAM_KERNEL, FUSED_ADAM_MULTI_KERNEL } from '../fused-adam-kernel.js';
import { markFinite } from '../variable-values.js';
import { heapKernels, heapPointer } from './heap-kernels.js';
import { disposeOnThrow } from './scope.js';
import { attr, sizeOf, type WasmBackend, type WasmKernelArgs } from './types.js';

const f32 = Math.fround;

/** One variable's tensors of an Adam update, and its decay factor. */
interface AdamGroup {
  value: tf.TensorInfo;
  m: tf.TensorInfo;
  v: tf.TensorInfo;
  g: tf.TensorInfo;
  decay: number;
}

/** The scalars every variable's update shares (`HeapKernels.adam`'s arguments after `n`, less `decay`). */
interface AdamScalars {
  beta1: number;
  beta2: number;
  c1: number;
  c2: number;
  epsilon: number;
  negLr: number;
  gradientScale: number;
}

/** Throws unless the four tensors of `group` are float32 of one size. */
function checkGroup(kernel: string, { value, m, v, g }: AdamGroup): void {
  for (const t of [value, m, v, g]) {
    if (t.dtype !== 'float32' || sizeOf(t.shape) !== sizeOf(value.shape)) {
      throw new Error(`${kernel}: expected float32 inputs of shape [${value.shape}], received ${t.dtype} [${t.shape}]`);
    }
  }
}

/** The scalars of an update from the kernel's inputs and attributes (read on the heap: no synchronization with JavaScript). */
function scalarsOf(kernel: string, { inputs, backend, attrs }: WasmKernelArgs): AdamScalars {
  const scaleInput = inputs.gradientScale;
  if (scaleInput !== undefined && (scaleInput.dtype !== 'float32' || sizeOf(scaleInput.shape) !== 1)) {
    throw new Error(`${kernel}: expected a float32 scalar gradientScale, received ${scaleInput.dtype} [${scaleInput.shape}]`);
  }
  return {
    beta1: attr<number>(attrs, 'beta1'),
    beta2: attr<number>(attrs, 'beta2'),
    c1: backend.typedArrayFromHeap(inputs.oneMinusAccBeta1!)[0]!,
    c2: backend.typedArrayFromHeap(inputs.oneMinusAccBeta2!)[0]!,
    epsilon: attr<number>(attrs, 'epsilon'),
    negLr: -attr<number>(attrs, 'learningRate'),
    gradientScale: scaleInput === undefined ? 1 : backend.typedArrayFromHeap(scaleInput)[0]!,
  };
}

/**
 * The updates of `groups` into fresh outputs (three per group, in order), each group's outputs
 * marked finite when every value it wrote is; the outputs are freed if a heap kernel throws.
 */
function adamUpdates(backend: WasmBackend, groups: readonly AdamGroup[], scalars: AdamScalars): tf.TensorInfo[] {
  const outs = groups.flatMap(({ value }) => [0, 1, 2].map(() => backend.makeOutput([...value.shape], 'float32')));
  return disposeOnThrow(backend, outs, () => {
    const kernels = heapKernels(backend);
    const { beta1, beta2, c1, c2, epsilon, negLr, gradientScale } = scalars;
    let checks: number[];
    if (kernels != null) {
      const p = (t: tf.TensorInfo) => heapPointer(backend, t);
      const calls = groups.map(({ value, m, v, g, decay }, i) => [
        ...[p(value), p(m), p(v), p(g), p(outs[3 * i]!), p(outs[3 * i + 1]!), p(outs[3 * i + 2]!), sizeOf(value.shape)],
        ...[beta1, 1 - beta1, beta2, 1 - beta2, c1, c2, epsilon, negLr, gradientScale, decay],
      ]);
      checks = calls.length === 1 ? [kernels.adam(...(calls[0] as Parameters<typeof kernels.adam>))] : kernels.adamMany(calls);
    } else {
      checks = groups.map((group, i) => adamInJavaScript(backend, group, scalars, outs.slice(3 * i, 3 * i + 3)));
    }
    checks.forEach((check, i) => {
      if (check === 0) for (const out of outs.slice(3 * i, 3 * i + 3)) markFinite(out.dataId);
    });
    return outs;
  });
}

/**
 * Without the heap kernels (no wasm SIMD, or a heap they cannot reach): the same float32
 * operations in JavaScript. Returns `Σ (x − x)` over what it wrote (0 when all finite).
 */
function adamInJavaScript(backend: WasmBackend, group: AdamGroup, scalars: AdamScalars, outs: tf.TensorInfo[]): number {
  const { value, m, v, g, decay } = group;
  const { beta1, beta2, c1, c2, epsilon, negLr, gradientScale } = scalars;
  const n = sizeOf(value.shape);
  const [w, mv, vv, gv] = [value, m, v, g].map((t) => backend.typedArrayFromHeap(t));
  const [ow, om, ov] = outs.map((t) => backend.typedArrayFromHeap(t));
  const [b1, omb1, b2, omb2, e, nlr, d, gs] = [beta1, 1 - beta1, beta2, 1 - beta2, epsilon, negLr, decay, gradientScale].map(f32);
  let check = 0; // Σ (x − x): 0 while every value written is finite
  for (let i = 0; i < n; i++) {
    const gi = f32(gv![i]! * gs!);
    const mi = f32(f32(mv![i]! * b1!) + f32(gi * omb1!));
    const vi = f32(f32(vv![i]! * b2!) + f32(f32(gi * gi) * omb2!));
    const w0 = d === 1 ? w![i]! : f32(w![i]! * d!);
    const wi = f32(f32(f32(f32(mi / c1) / f32(f32(Math.sqrt(f32(vi / c2))) + e!)) * nlr!) + w0);
    om![i] = mi;
    ov![i] = vi;
    ow![i] = wi;
    check += wi - wi + (vi - vi); // a non-finite mi makes wi non-finite (see heap-kernels.wat)
  }
  return check;
}

/** The wasm kernel function of `FUSED_ADAM_KERNEL` (three outputs). */
export function fusedAdam(args: WasmKernelArgs): tf.TensorInfo[] {
  const { inputs, attrs } = args;
  const group: AdamGroup = {
    value: inputs.value!,
    m: inputs.firstMoment!,
    v: inputs.secondMoment!,
    g: inputs.gradient!,
    decay: attr<number | undefined>(attrs, 'decay') ?? 1,
  };
  checkGroup(FUSED_ADAM_KERNEL, group);
  return adamUpdates(args.backend, [group], scalarsOf(FUSED_ADAM_KERNEL, args));
}

/** The wasm kernel function of `FUSED_ADAM_MULTI_KERNEL` (three outputs per variable, in order). */
export function fusedAdamMulti(args: WasmKernelArgs): tf.TensorInfo[] {
  const { inputs, attrs } = args;
  const decays = attr<number[] | undefined>(attrs, 'decay');
  const expected = 3 + 4 * (decays?.length ?? 0) - (inputs.gradientScale === undefined ? 1 : 0);
  if (!Array.isArray(decays) || Object.keys(inputs).length !== expected) {
    throw new Error(
      `${FUSED_ADAM_MULTI_KERNEL}: expected a decay attribute with one factor per variable and four inputs per variable, ` +
        `received decay ${JSON.stringify(decays)} and inputs ${Object.keys(inputs).join(', ')}`,
    );
  }
  const groups = decays.map((decay, i): AdamGroup => {
    const [value, m, v, g] = ['value', 'firstMoment', 'secondMoment', 'gradient'].map((name) => inputs[`${name}${i}`]);
    if (value === undefined || m === undefined || v === undefined || g === undefined) {
      throw new Error(
        `${FUSED_ADAM_MULTI_KERNEL}: missing an input of variable ${i} (value${i}, firstMoment${i}, secondMoment${i}, gradient${i})`,
      );
    }
    const group = { value, m, v, g, decay };
    checkGroup(FUSED_ADAM_MULTI_KERNEL, group);
    return group;
  });
  return adamUpdates(args.backend, groups, scalarsOf(FUSED_ADAM_MULTI_KERNEL, args));
}
