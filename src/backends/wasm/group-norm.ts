/**
 * Group normalization on wasm (`GROUP_NORM_KERNEL` and its gradient), read and written in
 * place on the heap. `layers.groupNormalization` otherwise runs `tf.moments` over axes 1 and 3
 * of `[batch, positions, groups, channelsPerGroup]`, its closed-form gradient and the affine
 * γ, β as element-wise kernels: the stock reductions over those axes (and the per-channel sums
 * of γ's and β's gradients, over few channels) transpose first, and each broadcast operation is
 * a pass of its own, about 12 kernels forward and 15 back, which made group normalization cost
 * more than the 3×3 convolutions around it in a small UNet. Here, for each example, one pass
 * for the group means, one for the variances and one writing x̂ and y (sums in float64):
 *
 *     μ = mean(x),  σ² = mean((x − μ)²),  r = 1/√(σ² + ε),  x̂ = (x − μ) · r,  y = γ · x̂ + β
 *
 * and back, with g = γ · dy, one pass for the means and the γ, β gradients and one writing dx:
 *
 *     dx = r · (g − mean(g) − x̂ · mean(g ⊙ x̂)),  dγ = Σ dy ⊙ x̂,  dβ = Σ dy
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';

import { GROUP_NORM_GRAD_KERNEL, GROUP_NORM_KERNEL } from '../group-norm-kernel.js';
import { attr, type WasmKernelArgs } from './types.js';

/** `[batch, positions, groups, channelsPerGroup]` of a rank-4 float32 input, or an error. */
function dims(t: tf.TensorInfo, kernel: string, arg: string): [number, number, number, number] {
  if (t.dtype !== 'float32' || t.shape.length !== 4) {
    throw new Error(`${kernel}: expected ${arg} float32 [batch, positions, groups, channelsPerGroup], received ${t.dtype} [${t.shape}]`);
  }
  return t.shape as [number, number, number, number];
}

/** Checks that `t` is float32 `[channels]`. */
function checkChannels(t: tf.TensorInfo, channels: number, kernel: string, arg: string): void {
  if (t.dtype !== 'float32' || t.shape.length !== 1 || t.shape[0] !== channels) {
    throw new Error(`${kernel}: expected ${arg} float32 [${channels}], received ${t.dtype} [${t.shape}]`);
  }
}

/** The forward kernel: outputs `[y, xHat, r]`. */
export function groupNorm({ inputs, backend, attrs }: WasmKernelArgs): tf.TensorInfo[] {
  const x = inputs.x!;
  const [batch, positions, groups, size] = dims(x, GROUP_NORM_KERNEL, 'x');
  const channels = groups * size;
  checkChannels(inputs.gamma!, channels, GROUP_NORM_KERNEL, 'gamma');
  checkChannels(inputs.beta!, channels, GROUP_NORM_KERNEL, 'beta');
  const epsilon = attr<number>(attrs, 'epsilon');
  const outs = [
    backend.makeOutput([...x.shape], 'float32'),
    backend.makeOutput([...x.shape], 'float32'),
    backend.makeOutput([batch, 1, groups, 1], 'float32'),
  ];
  // Views after makeOutput (an allocation may grow the heap and detach earlier views).
  const xv = backend.typedArrayFromHeap(x) as Float32Array;
  const gv = backend.typedArrayFromHeap(inputs.gamma!) as Float32Array;
  const bv = backend.typedArrayFromHeap(inputs.beta!) as Float32Array;
  const yv = backend.typedArrayFromHeap(outs[0]!) as Float32Array;
  const hv = backend.typedArrayFromHeap(outs[1]!) as Float32Array;
  const rv = backend.typedArrayFromHeap(outs[2]!) as Float32Array;
  const count = positions * size;
  const sum = new Float64Array(groups);
  const mean = new Float64Array(groups);
  const r = new Float64Array(groups);
  for (let n = 0; n < batch; n++) {
    const base = n * positions * channels;
    const end = base + positions * channels;
    sum.fill(0);
    for (let offset = base; offset < end; offset += channels) {
      for (let g = 0, i = offset; g < groups; g++) {
        let s = 0;
        for (let c = 0; c < size; c++, i++) s += xv[i]!;
        sum[g]! += s;
      }
    }
    for (let g = 0; g < groups; g++) mean[g] = sum[g]! / count;
    sum.fill(0);
    for (let offset = base; offset < end; offset += channels) {
      for (let g = 0, i = offset; g < groups; g++) {
        const m = mean[g]!;
        let s = 0;
        for (let c = 0; c < size; c++, i++) {
          const d = xv[i]! - m;
          s += d * d;
        }
        sum[g]! += s;
      }
    }
    for (let g = 0; g < groups; g++) {
      r[g] = 1 / Math.sqrt(sum[g]! / count + epsilon);
      rv[n * groups + g] = r[g]!;
    }
    for (let offset = base; offset < end; offset += channels) {
      for (let g = 0, i = offset, k = 0; g < groups; g++) {
        const m = mean[g]!;
        const rg = r[g]!;
        for (let c = 0; c < size; c++, i++, k++) {
          const h = Math.fround((xv[i]! - m) * rg);
          hv[i] = h;
          yv[i] = gv[k]! * h + bv[k]!;
        }
      }
    }
  }
  return outs;
}

/** The gradient kernel: outputs `[dx, dGamma, dBeta]`. */
export function groupNormGrad({ inputs, backend }: WasmKernelArgs): tf.TensorInfo[] {
  const dy = inputs.dy!;
  const xHat = inputs.xHat!;
  const [batch, positions, groups, size] = dims(dy, GROUP_NORM_GRAD_KERNEL, 'dy');
  const same = dims(xHat, GROUP_NORM_GRAD_KERNEL, 'xHat');
  if (same.some((d, i) => d !== dy.shape[i])) {
    throw new Error(`${GROUP_NORM_GRAD_KERNEL}: expected xHat of dy's shape [${dy.shape}], received [${xHat.shape}]`);
  }
  const channels = groups * size;
  checkChannels(inputs.gamma!, channels, GROUP_NORM_GRAD_KERNEL, 'gamma');
  const outs = [
    backend.makeOutput([...dy.shape], 'float32'),
    backend.makeOutput([channels], 'float32'),
    backend.makeOutput([channels], 'float32'),
  ];
  const dv = backend.typedArrayFromHeap(dy) as Float32Array;
  const hv = backend.typedArrayFromHeap(xHat) as Float32Array;
  const rv = backend.typedArrayFromHeap(inputs.r!) as Float32Array;
  const gv = backend.typedArrayFromHeap(inputs.gamma!) as Float32Array;
  const ov = backend.typedArrayFromHeap(outs[0]!) as Float32Array;
  const count = positions * size;
  const dGamma = new Float64Array(channels);
  const dBeta = new Float64Array(channels);
  const meanG = new Float64Array(groups);
  const meanGXHat = new Float64Array(groups);
  for (let n = 0; n < batch; n++) {
    const base = n * positions * channels;
    const end = base + positions * channels;
    meanG.fill(0);
    meanGXHat.fill(0);
    for (let offset = base; offset < end; offset += channels) {
      for (let g = 0, i = offset, k = 0; g < groups; g++) {
        let s = 0;
        let sh = 0;
        for (let c = 0; c < size; c++, i++, k++) {
          const d = dv[i]!;
          const h = hv[i]!;
          dGamma[k]! += d * h;
          dBeta[k]! += d;
          const gd = gv[k]! * d;
          s += gd;
          sh += gd * h;
        }
        meanG[g]! += s;
        meanGXHat[g]! += sh;
      }
    }
    for (let g = 0; g < groups; g++) {
      meanG[g]! /= count;
      meanGXHat[g]! /= count;
    }
    for (let offset = base; offset < end; offset += channels) {
      for (let g = 0, i = offset, k = 0; g < groups; g++) {
        const m1 = meanG[g]!;
        const m2 = meanGXHat[g]!;
        const rg = rv[n * groups + g]!;
        for (let c = 0; c < size; c++, i++, k++) ov[i] = rg * (gv[k]! * dv[i]! - m1 - hv[i]! * m2);
      }
    }
  }
  (backend.typedArrayFromHeap(outs[1]!) as Float32Array).set(dGamma);
  (backend.typedArrayFromHeap(outs[2]!) as Float32Array).set(dBeta);
  return outs;
}
