/**
 * Layer normalization over the last axis on wasm (`LAYER_NORM_KERNEL` and its gradient), read
 * and written in place on the heap. Written with element-wise kernels, a layer norm costs about
 * eight kernels forward and twenty back, two of them `Mean` gradients that build a tensor of
 * ones of the input's shape in JavaScript; a GPT has two per block. Here, per row of `C`
 * values, two passes forward and two back (sums in float64):
 *
 *     μ = mean(x),  σ² = mean((x − μ)²),  r = 1/√(σ² + ε),  x̂ = (x − μ) · r,  y = γ · x̂ + β
 *
 * and, with g = γ · dy,
 *
 *     dx = r · (g − mean(g) − x̂ · mean(g ⊙ x̂)),  dγ = Σ_rows dy ⊙ x̂,  dβ = Σ_rows dy
 *
 * When C is a multiple of 4, genblocks' heap kernels do it in SIMD (sums in four float32
 * lanes per row); otherwise, or without the heap kernels, the loops here (sums in float64).
 *
 * @see https://arxiv.org/abs/1607.06450 (Ba et al. 2016, Layer Normalization)
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';

import { LAYER_NORM_GRAD_KERNEL, LAYER_NORM_KERNEL } from '../layer-norm-kernel.js';
import { heapKernels, heapPointer } from './heap-kernels.js';
import { disposeOnThrow } from './scope.js';
import { attr, sizeOf, type WasmKernelArgs } from './types.js';

/** `[rows, C]` of a float32 input of rank ≥ 1, or an error. */
function rowsAndWidth(t: tf.TensorInfo, kernel: string, arg: string): [number, number] {
  if (t.dtype !== 'float32' || t.shape.length < 1) {
    throw new Error(`${kernel}: expected ${arg} float32 [..., C], received ${t.dtype} [${t.shape.join(',')}]`);
  }
  const width = t.shape[t.shape.length - 1]!;
  return [width === 0 ? 0 : sizeOf(t.shape) / width, width];
}

function checkVector(t: tf.TensorInfo, length: number, kernel: string, arg: string): void {
  if (t.dtype !== 'float32' || sizeOf(t.shape) !== length) {
    throw new Error(`${kernel}: expected ${arg} float32 [${length}], received ${t.dtype} [${t.shape.join(',')}]`);
  }
}

/** The forward kernel: outputs `[y, xHat, r]`. */
export function layerNorm({ inputs, backend, attrs }: WasmKernelArgs): tf.TensorInfo[] {
  const x = inputs.x!;
  const [rows, width] = rowsAndWidth(x, LAYER_NORM_KERNEL, 'x');
  checkVector(inputs.gamma!, width, LAYER_NORM_KERNEL, 'gamma');
  checkVector(inputs.beta!, width, LAYER_NORM_KERNEL, 'beta');
  const epsilon = attr<number>(attrs, 'epsilon');
  const outs = [
    backend.makeOutput([...x.shape], 'float32'),
    backend.makeOutput([...x.shape], 'float32'),
    backend.makeOutput([rows], 'float32'),
  ];
  const kernels = heapKernels(backend);
  if (kernels != null && width % 4 === 0) {
    const p = (t: tf.TensorInfo) => heapPointer(backend, t);
    // The outputs freed if the kernel throws (a worker failing).
    disposeOnThrow(backend, outs, () =>
      kernels.layerNorm(p(x), p(inputs.gamma!), p(inputs.beta!), p(outs[0]!), p(outs[1]!), p(outs[2]!), rows, width, epsilon),
    );
    return outs;
  }
  // Views after makeOutput (an allocation may grow the heap and detach earlier views).
  const xv = backend.typedArrayFromHeap(x) as Float32Array;
  const gv = backend.typedArrayFromHeap(inputs.gamma!) as Float32Array;
  const bv = backend.typedArrayFromHeap(inputs.beta!) as Float32Array;
  const yv = backend.typedArrayFromHeap(outs[0]!) as Float32Array;
  const hv = backend.typedArrayFromHeap(outs[1]!) as Float32Array;
  const rv = backend.typedArrayFromHeap(outs[2]!) as Float32Array;
  for (let row = 0; row < rows; row++) {
    const base = row * width;
    const end = base + width;
    let sum = 0;
    for (let i = base; i < end; i++) sum += xv[i]!;
    const mean = sum / width;
    let squares = 0;
    for (let i = base; i < end; i++) {
      const d = xv[i]! - mean;
      squares += d * d;
    }
    const r = 1 / Math.sqrt(squares / width + epsilon);
    rv[row] = r;
    for (let i = base, k = 0; i < end; i++, k++) {
      const h = Math.fround((xv[i]! - mean) * r);
      hv[i] = h;
      yv[i] = gv[k]! * h + bv[k]!;
    }
  }
  return outs;
}

/** The gradient kernel: outputs `[dx, dGamma, dBeta]`. */
export function layerNormGrad({ inputs, backend }: WasmKernelArgs): tf.TensorInfo[] {
  const dy = inputs.dy!;
  const xHat = inputs.xHat!;
  const [rows, width] = rowsAndWidth(dy, LAYER_NORM_GRAD_KERNEL, 'dy');
  if (xHat.dtype !== 'float32' || xHat.shape.length !== dy.shape.length || xHat.shape.some((d, i) => d !== dy.shape[i])) {
    throw new Error(
      `${LAYER_NORM_GRAD_KERNEL}: expected xHat float32 [${dy.shape.join(',')}], received ${xHat.dtype} [${xHat.shape.join(',')}]`,
    );
  }
  checkVector(inputs.r!, rows, LAYER_NORM_GRAD_KERNEL, 'r');
  checkVector(inputs.gamma!, width, LAYER_NORM_GRAD_KERNEL, 'gamma');
  const outs = [
    backend.makeOutput([...dy.shape], 'float32'),
    backend.makeOutput([width], 'float32'),
    backend.makeOutput([width], 'float32'),
  ];
  const kernels = heapKernels(backend);
  if (kernels != null && width % 4 === 0) {
    const p = (t: tf.TensorInfo) => heapPointer(backend, t);
    (backend.typedArrayFromHeap(outs[1]!) as Float32Array).fill(0);
    (backend.typedArrayFromHeap(outs[2]!) as Float32Array).fill(0);
    disposeOnThrow(backend, outs, () =>
      kernels.layerNormGrad(p(dy), p(xHat), p(inputs.r!), p(inputs.gamma!), p(outs[0]!), p(outs[1]!), p(outs[2]!), rows, width),
    );
    return outs;
  }
  const dv = backend.typedArrayFromHeap(dy) as Float32Array;
  const hv = backend.typedArrayFromHeap(xHat) as Float32Array;
  const rv = backend.typedArrayFromHeap(inputs.r!) as Float32Array;
  const gv = backend.typedArrayFromHeap(inputs.gamma!) as Float32Array;
  const ov = backend.typedArrayFromHeap(outs[0]!) as Float32Array;
  const dGamma = new Float64Array(width);
  const dBeta = new Float64Array(width);
  for (let row = 0; row < rows; row++) {
    const base = row * width;
    const end = base + width;
    let sumG = 0;
    let sumGXHat = 0;
    for (let i = base, k = 0; i < end; i++, k++) {
      const d = dv[i]!;
      const h = hv[i]!;
      const g = gv[k]! * d;
      sumG += g;
      sumGXHat += g * h;
      dGamma[k]! += d * h;
      dBeta[k]! += d;
    }
    const meanG = sumG / width;
    const meanGXHat = sumGXHat / width;
    const r = rv[row]!;
    for (let i = base, k = 0; i < end; i++, k++) ov[i] = r * (gv[k]! * dv[i]! - meanG - hv[i]! * meanGXHat);
  }
  (backend.typedArrayFromHeap(outs[1]!) as Float32Array).set(dGamma);
  (backend.typedArrayFromHeap(outs[2]!) as Float32Array).set(dBeta);
  return outs;
}
