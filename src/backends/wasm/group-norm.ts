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
 * Where the channels are a multiple of 4 and genblocks' heap kernels run, the same passes run
 * as SIMD heap kernels (`groupNorm`, `groupNormGrad` in `heap-kernels.wat`: per-channel sums in
 * float32 over the positions, combined per group in float64), split by examples across the heap
 * kernels' threads; the gradient's per-example shares of dγ and dβ are added here in float64, in
 * example order, so the result does not depend on the thread count. These loops in JavaScript,
 * on one thread, made up a fifth of a UNet training step. The JavaScript loops below remain for
 * other channel counts.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';

import { GROUP_NORM_GRAD_KERNEL, GROUP_NORM_KERNEL } from '../group-norm-kernel.js';
import { heapKernels, heapKernelThreads, heapPointer } from './heap-kernels.js';
import { disposeOnThrow } from './scope.js';
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
  const kernels = heapKernels(backend);
  if (kernels != null && channels % 4 === 0 && batch * positions > 0) {
    const scratch = backend.makeOutput([3 * channels * heapKernelThreads(backend)], 'float32');
    const ptr = (t: tf.TensorInfo) => heapPointer(backend, t);
    // The outputs and the scratch freed if the kernel throws (a worker failing).
    disposeOnThrow(backend, [...outs, scratch], () =>
      kernels.groupNorm(
        ...[ptr(x), ptr(inputs.gamma!), ptr(inputs.beta!), ptr(outs[0]!), ptr(outs[1]!), ptr(outs[2]!), ptr(scratch)],
        ...[batch, positions, groups, size, epsilon],
      ),
    );
    backend.disposeData(scratch.dataId);
    return outs;
  }
  // Views after makeOutput (an allocation may grow the heap and detach earlier views).
  const xv = backend.typedArrayFromHeap(x) as Float32Array;
  const gv = backend.typedArrayFromHeap(inputs.gamma!) as Float32Array;
  const bv = backend.typedArrayFromHeap(inputs.beta!) as Float32Array;
  const yv = backend.typedArrayFromHeap(outs[0]!) as Float32Array;
  const hv = backend.typedArrayFromHeap(outs[1]!) as Float32Array;
  const rv = backend.typedArrayFromHeap(outs[2]!) as Float32Array;
  const count = positions * size;
  // Per-channel accumulators over the positions (the inner loop runs along the contiguous
  // channels), combined per group; then per-channel copies of each group's μ and r.
  const acc = new Float64Array(channels);
  const meanC = new Float64Array(channels);
  const rC = new Float64Array(channels);
  for (let n = 0; n < batch; n++) {
    const base = n * positions * channels;
    const end = base + positions * channels;
    acc.fill(0);
    for (let i = base; i < end; i += channels) for (let k = 0; k < channels; k++) acc[k]! += xv[i + k]!;
    for (let g = 0; g < groups; g++) {
      let s = 0;
      for (let k = g * size; k < (g + 1) * size; k++) s += acc[k]!;
      meanC.fill(s / count, g * size, (g + 1) * size);
    }
    acc.fill(0);
    for (let i = base; i < end; i += channels) {
      for (let k = 0; k < channels; k++) {
        const d = xv[i + k]! - meanC[k]!;
        acc[k]! += d * d;
      }
    }
    for (let g = 0; g < groups; g++) {
      let s = 0;
      for (let k = g * size; k < (g + 1) * size; k++) s += acc[k]!;
      const r = 1 / Math.sqrt(s / count + epsilon);
      rv[n * groups + g] = r;
      rC.fill(r, g * size, (g + 1) * size);
    }
    for (let i = base; i < end; i += channels) {
      for (let k = 0; k < channels; k++) {
        const h = Math.fround((xv[i + k]! - meanC[k]!) * rC[k]!);
        hv[i + k] = h;
        yv[i + k] = gv[k]! * h + bv[k]!;
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
  const kernels = heapKernels(backend);
  if (kernels != null && channels % 4 === 0 && batch * positions > 0) {
    const partial = backend.makeOutput([batch, 2, channels], 'float32');
    const scratch = backend.makeOutput([3 * channels * heapKernelThreads(backend)], 'float32');
    const ptr = (t: tf.TensorInfo) => heapPointer(backend, t);
    disposeOnThrow(backend, [...outs, partial, scratch], () =>
      kernels.groupNormGrad(
        ...[ptr(dy), ptr(xHat), ptr(inputs.r!), ptr(inputs.gamma!), ptr(outs[0]!), ptr(partial), ptr(scratch)],
        ...[batch, positions, groups, size],
      ),
    );
    // dβ and dγ: the examples' shares added in float64, in example order.
    const pv = backend.typedArrayFromHeap(partial) as Float32Array;
    const dBeta = new Float64Array(channels);
    const dGamma = new Float64Array(channels);
    for (let n = 0; n < batch; n++) {
      const base = 2 * n * channels;
      for (let k = 0; k < channels; k++) {
        dBeta[k]! += pv[base + k]!;
        dGamma[k]! += pv[base + channels + k]!;
      }
    }
    (backend.typedArrayFromHeap(outs[1]!) as Float32Array).set(dGamma);
    (backend.typedArrayFromHeap(outs[2]!) as Float32Array).set(dBeta);
    backend.disposeData(partial.dataId);
    backend.disposeData(scratch.dataId);
    return outs;
  }
  const dv = backend.typedArrayFromHeap(dy) as Float32Array;
  const hv = backend.typedArrayFromHeap(xHat) as Float32Array;
  const rv = backend.typedArrayFromHeap(inputs.r!) as Float32Array;
  const gv = backend.typedArrayFromHeap(inputs.gamma!) as Float32Array;
  const ov = backend.typedArrayFromHeap(outs[0]!) as Float32Array;
  const count = positions * size;
  const dGamma = new Float64Array(channels);
  const dBeta = new Float64Array(channels);
  // Per-channel Σ γ·dy and Σ γ·dy·x̂ of one example, combined per group into per-channel copies
  // of the group means.
  const accG = new Float64Array(channels);
  const accGXHat = new Float64Array(channels);
  const meanG = new Float64Array(channels);
  const meanGXHat = new Float64Array(channels);
  const rC = new Float64Array(channels);
  for (let n = 0; n < batch; n++) {
    const base = n * positions * channels;
    const end = base + positions * channels;
    accG.fill(0);
    accGXHat.fill(0);
    for (let i = base; i < end; i += channels) {
      for (let k = 0; k < channels; k++) {
        const d = dv[i + k]!;
        const dh = d * hv[i + k]!;
        dBeta[k]! += d;
        dGamma[k]! += dh;
        accG[k]! += d;
        accGXHat[k]! += dh;
      }
    }
    for (let g = 0; g < groups; g++) {
      let s = 0;
      let sh = 0;
      for (let k = g * size; k < (g + 1) * size; k++) {
        s += gv[k]! * accG[k]!;
        sh += gv[k]! * accGXHat[k]!;
      }
      meanG.fill(s / count, g * size, (g + 1) * size);
      meanGXHat.fill(sh / count, g * size, (g + 1) * size);
      rC.fill(rv[n * groups + g]!, g * size, (g + 1) * size);
    }
    for (let i = base; i < end; i += channels) {
      for (let k = 0; k < channels; k++) ov[i + k] = rC[k]! * (gv[k]! * dv[i + k]! - meanG[k]! - hv[i + k]! * meanGXHat[k]!);
    }
  }
  (backend.typedArrayFromHeap(outs[1]!) as Float32Array).set(dGamma);
  (backend.typedArrayFromHeap(outs[2]!) as Float32Array).set(dBeta);
  return outs;
}
