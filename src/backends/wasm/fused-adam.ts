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
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';

import { FUSED_ADAM_KERNEL } from '../fused-adam-kernel.js';
import { markFinite } from '../variable-values.js';
import { heapKernels, heapPointer } from './heap-kernels.js';
import { attr, sizeOf, type WasmKernelArgs } from './types.js';

const f32 = Math.fround;

/** The wasm kernel function (three outputs). */
export function fusedAdam({ inputs, backend, attrs }: WasmKernelArgs): tf.TensorInfo[] {
  const value = inputs.value!;
  const m = inputs.firstMoment!;
  const v = inputs.secondMoment!;
  const g = inputs.gradient!;
  for (const t of [value, m, v, g]) {
    if (t.dtype !== 'float32' || sizeOf(t.shape) !== sizeOf(value.shape)) {
      throw new Error(`${FUSED_ADAM_KERNEL}: expected float32 inputs of shape [${value.shape}], received ${t.dtype} [${t.shape}]`);
    }
  }
  const beta1 = attr<number>(attrs, 'beta1');
  const beta2 = attr<number>(attrs, 'beta2');
  const c1 = backend.typedArrayFromHeap(inputs.oneMinusAccBeta1!)[0]!;
  const c2 = backend.typedArrayFromHeap(inputs.oneMinusAccBeta2!)[0]!;
  const epsilon = attr<number>(attrs, 'epsilon');
  const negLr = -attr<number>(attrs, 'learningRate');
  const decay = attr<number | undefined>(attrs, 'decay') ?? 1;
  const scaleInput = inputs.gradientScale;
  if (scaleInput !== undefined && (scaleInput.dtype !== 'float32' || sizeOf(scaleInput.shape) !== 1)) {
    throw new Error(`${FUSED_ADAM_KERNEL}: expected a float32 scalar gradientScale, received ${scaleInput.dtype} [${scaleInput.shape}]`);
  }
  // Read on the heap: no synchronization with JavaScript.
  const gradientScale = scaleInput === undefined ? 1 : backend.typedArrayFromHeap(scaleInput)[0]!;
  const n = sizeOf(value.shape);
  const outs = [
    backend.makeOutput([...value.shape], 'float32'),
    backend.makeOutput([...value.shape], 'float32'),
    backend.makeOutput([...value.shape], 'float32'),
  ];
  const markIfFinite = (check: number) => {
    if (check === 0) for (const out of outs) markFinite(out.dataId);
  };
  const kernels = heapKernels(backend);
  if (kernels != null) {
    const p = (t: tf.TensorInfo) => heapPointer(backend, t);
    const check = kernels.adam(
      p(value),
      p(m),
      p(v),
      p(g),
      p(outs[0]!),
      p(outs[1]!),
      p(outs[2]!),
      n,
      beta1,
      1 - beta1,
      beta2,
      1 - beta2,
      c1,
      c2,
      epsilon,
      negLr,
      gradientScale,
      decay,
    );
    markIfFinite(check);
    return outs;
  }
  // Without the heap kernels (no wasm SIMD, or a heap they cannot reach): the same float32 operations in JavaScript.
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
  markIfFinite(check);
  return outs;
}
