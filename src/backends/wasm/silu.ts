/**
 * SiLU's gradient on wasm (`SILU_GRAD_KERNEL`) in one SIMD pass (genblocks' heap kernel
 * `siluGrad`), given the forward pass's `s = σ(x)`:
 *
 *     dx = dy · s · (1 + x · (1 − s))
 *
 * tfjs differentiates `x · σ(x)` as about six element-wise kernels (two products, σ's gradient
 * `dy · s · (1 − s)` as three, and a sum), each a full pass over a UNet's activation. Without the
 * heap kernels the same formula runs here in JavaScript (float64, then rounded).
 *
 * @see https://arxiv.org/abs/1702.03118 (Elfwing et al. 2017, SiLU, eq. 3 and its derivative)
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';

import { SILU_GRAD_KERNEL } from '../silu-kernel.js';
import { heapKernels, heapPointer } from './heap-kernels.js';
import { disposeOnThrow } from './scope.js';
import { sizeOf, type WasmKernelArgs } from './types.js';

/** The gradient kernel: `dx = dy · s · (1 + x · (1 − s))` for inputs `dy`, `x`, `s` of one shape. */
export function siluGrad({ inputs, backend }: WasmKernelArgs): tf.TensorInfo {
  const dy = inputs.dy!;
  const x = inputs.x!;
  const s = inputs.s!;
  const n = sizeOf(x.shape);
  for (const [name, t] of [
    ['dy', dy],
    ['x', x],
    ['s', s],
  ] as const) {
    if (t.dtype !== 'float32' || sizeOf(t.shape) !== n) {
      throw new Error(`${SILU_GRAD_KERNEL}: expected ${name} float32 [${x.shape.join(',')}], received ${t.dtype} [${t.shape.join(',')}]`);
    }
  }
  const out = backend.makeOutput([...x.shape], 'float32');
  const kernels = heapKernels(backend);
  if (kernels != null) {
    const p = (t: tf.TensorInfo) => heapPointer(backend, t);
    disposeOnThrow(backend, [out], () => kernels.siluGrad(p(dy), p(x), p(s), p(out), n));
    return out;
  }
  // Views after makeOutput (an allocation may grow the heap and detach them).
  const dv = backend.typedArrayFromHeap(dy) as Float32Array;
  const xv = backend.typedArrayFromHeap(x) as Float32Array;
  const sv = backend.typedArrayFromHeap(s) as Float32Array;
  const ov = backend.typedArrayFromHeap(out) as Float32Array;
  for (let i = 0; i < n; i++) ov[i] = dv[i]! * sv[i]! * (1 + xv[i]! * (1 - sv[i]!));
  return out;
}
