/**
 * Gradient clipping by global norm on wasm (`CLIP_BY_GLOBAL_NORM_KERNEL`) as one dispatch:
 * written with tfjs operations it is a square, a sum and a product per gradient (about 160
 * kernels for a 4-layer GPT's 52 variables, each with the engine's bookkeeping, for a few
 * hundred thousand floats in all). Here, one SIMD pass per gradient for `‖g_i‖²` (float32 lanes;
 * the per-gradient sums are added in float64), then one scaling pass per gradient:
 *
 *     n = √(Σ_i ‖g_i‖²),   g_i ← g_i · maxNorm / max(n, maxNorm)
 *
 * With `scaleOnly`, no scaling pass: the norm and the factor, which the fused Adam kernel
 * applies as it reads each gradient.
 *
 * Without the heap kernels, the same in JavaScript loops.
 *
 * @see https://arxiv.org/abs/1211.5063 (Pascanu et al. 2013, gradient norm clipping)
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';

import { CLIP_BY_GLOBAL_NORM_KERNEL } from '../clip-by-global-norm-kernel.js';
import { heapKernels, heapPointer } from './heap-kernels.js';
import { disposeOnThrow } from './scope.js';
import { attr, sizeOf, type WasmKernelArgs } from './types.js';

/** The wasm kernel function: outputs `[norm, ...clipped]`. */
export function clipByGlobalNorm({ inputs, backend, attrs }: WasmKernelArgs): tf.TensorInfo[] {
  const grads: tf.TensorInfo[] = [];
  for (let i = 0; inputs[String(i)] !== undefined; i++) grads.push(inputs[String(i)]!);
  if (grads.length === 0 || grads.length !== Object.keys(inputs).length || grads.some((g) => g.dtype !== 'float32')) {
    throw new Error(`${CLIP_BY_GLOBAL_NORM_KERNEL}: expected float32 inputs named '0', '1', …, received ${Object.keys(inputs).join(', ')}`);
  }
  const maxNorm = attr<number>(attrs, 'maxNorm');
  const scaleOnly = attr<boolean | undefined>(attrs, 'scaleOnly') === true;
  const norm = backend.makeOutput([], 'float32');
  // With scaleOnly, one output: the clipping factor (the optimizer scales the gradients).
  const outs = scaleOnly ? [backend.makeOutput([], 'float32')] : grads.map((g) => backend.makeOutput([...g.shape], 'float32'));
  // Every output freed if a heap kernel throws (a worker failing).
  return disposeOnThrow(backend, [norm, ...outs], () => {
    const kernels = heapKernels(backend);
    let squares = 0;
    for (const g of grads) {
      if (kernels != null) {
        squares += kernels.sumSquares(heapPointer(backend, g), sizeOf(g.shape));
      } else {
        const v = backend.typedArrayFromHeap(g) as Float32Array;
        for (let i = 0; i < v.length; i++) squares += v[i]! * v[i]!;
      }
    }
    const n = Math.fround(Math.sqrt(squares));
    const scale = Math.fround(maxNorm / Math.max(n, maxNorm));
    (backend.typedArrayFromHeap(norm) as Float32Array)[0] = n;
    if (scaleOnly) {
      (backend.typedArrayFromHeap(outs[0]!) as Float32Array)[0] = scale;
      return [norm, ...outs];
    }
    grads.forEach((g, k) => {
      const size = sizeOf(g.shape);
      if (kernels != null) {
        kernels.scale(heapPointer(backend, g), heapPointer(backend, outs[k]!), size, scale);
        return;
      }
      const v = backend.typedArrayFromHeap(g) as Float32Array;
      const o = backend.typedArrayFromHeap(outs[k]!) as Float32Array;
      for (let i = 0; i < size; i++) o[i] = v[i]! * scale;
    });
    return [norm, ...outs];
  });
}
