/**
 * GPT-2's tanh-form GELU on wasm (`GELU_KERNEL` and its gradient), one SIMD pass each
 * (genblocks' heap kernels, with Eigen's float tanh as `Tanh` uses; the forward pass keeps the
 * tanh term, so the backward pass computes no tanh). Written with element-wise
 * kernels, GELU costs six passes over the MLP's `[B·T, 4C]` activation forward and about a dozen
 * back (tfjs differentiates each of them), the largest share of a GPT step's time outside its
 * matrix products:
 *
 *     t = tanh(√(2/π) · (x + 0.044715 · x³)),   y = 0.5 · x · (1 + t)
 *     dx = dy · (0.5 · (1 + t) + 0.5 · x · (1 − t²) · √(2/π) · (1 + 3 · 0.044715 · x²))
 *
 * The last `n mod 4` elements, and every element where the heap kernels are unavailable, are
 * computed here in JavaScript with the same formulas (float64, then rounded).
 *
 * @see https://arxiv.org/abs/1606.08415 (Hendrycks & Gimpel 2016, GELU, §2 tanh approximation)
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';

import { GELU_GRAD_KERNEL, GELU_KERNEL } from '../gelu-kernel.js';
import { heapKernels, heapPointer } from './heap-kernels.js';
import { disposeOnThrow } from './scope.js';
import { sizeOf, type WasmKernelArgs } from './types.js';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const CUBIC = 0.044715;

function checkFloat32(t: tf.TensorInfo, kernel: string, arg: string, shape?: readonly number[]): void {
  if (t.dtype !== 'float32' || (shape !== undefined && sizeOf(t.shape) !== sizeOf(shape))) {
    const expected = shape === undefined ? 'float32' : `float32 [${shape.join(',')}]`;
    throw new Error(`${kernel}: expected ${arg} ${expected}, received ${t.dtype} [${t.shape.join(',')}]`);
  }
}

/** The forward kernel: outputs `[y, t]`, `y = gelu(x)` and its tanh term `t`. */
export function gelu({ inputs, backend }: WasmKernelArgs): tf.TensorInfo[] {
  const x = inputs.x!;
  checkFloat32(x, GELU_KERNEL, 'x');
  const n = sizeOf(x.shape);
  const out = backend.makeOutput([...x.shape], 'float32');
  const tanh = backend.makeOutput([...x.shape], 'float32');
  const kernels = heapKernels(backend);
  let start = 0;
  if (kernels != null) {
    // Both outputs freed if the kernel throws (a worker failing).
    const p = (t: tf.TensorInfo) => heapPointer(backend, t);
    disposeOnThrow(backend, [out, tanh], () => kernels.gelu(p(x), p(out), p(tanh), n));
    start = n - (n % 4);
  }
  // Views after makeOutput and the kernel (an allocation may grow the heap and detach them).
  const xv = backend.typedArrayFromHeap(x) as Float32Array;
  const ov = backend.typedArrayFromHeap(out) as Float32Array;
  const tv = backend.typedArrayFromHeap(tanh) as Float32Array;
  for (let i = start; i < n; i++) {
    const v = xv[i]!;
    const t = Math.fround(Math.tanh(SQRT_2_OVER_PI * (v + CUBIC * v * v * v)));
    tv[i] = t;
    ov[i] = 0.5 * v * (1 + t);
  }
  return [out, tanh];
}

/** The gradient kernel: `dx = dy · gelu'(x)`, given the forward kernel's tanh term `t`. */
export function geluGrad({ inputs, backend }: WasmKernelArgs): tf.TensorInfo {
  const dy = inputs.dy!;
  const x = inputs.x!;
  const tanh = inputs.t!;
  checkFloat32(x, GELU_GRAD_KERNEL, 'x');
  checkFloat32(dy, GELU_GRAD_KERNEL, 'dy', x.shape);
  checkFloat32(tanh, GELU_GRAD_KERNEL, 't', x.shape);
  const n = sizeOf(x.shape);
  const out = backend.makeOutput([...x.shape], 'float32');
  const kernels = heapKernels(backend);
  let start = 0;
  if (kernels != null) {
    const p = (t: tf.TensorInfo) => heapPointer(backend, t);
    disposeOnThrow(backend, [out], () => kernels.geluGrad(p(dy), p(x), p(tanh), p(out), n));
    start = n - (n % 4);
  }
  const dv = backend.typedArrayFromHeap(dy) as Float32Array;
  const xv = backend.typedArrayFromHeap(x) as Float32Array;
  const tv = backend.typedArrayFromHeap(tanh) as Float32Array;
  const ov = backend.typedArrayFromHeap(out) as Float32Array;
  for (let i = start; i < n; i++) {
    const v = xv[i]!;
    const t = tv[i]!;
    ov[i] = dv[i]! * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * CUBIC * v * v));
  }
  return out;
}
